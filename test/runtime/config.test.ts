import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../runtime/config.ts';
import { ConfigError } from '../../runtime/errors.ts';

const fails = (env: Record<string, string>, variable: string) => {
  let err: unknown;
  try {
    loadConfig(env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).variable).toBe(variable);
  return (err as ConfigError).message;
};

describe('configuration', () => {
  it('has working defaults: embedded store, local sandbox, no profile', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8000, host: '127.0.0.1', redisUrl: undefined, concurrency: 100, leaseTtlMs: 3000 });
    expect(c.agent).toMatchObject({ sandboxType: 'local', allowLocalRepos: false, daytona: undefined, maxCalls: 200, maxTokens: 2_000_000, profile: undefined });
    expect(c.agent.workspaceDir.endsWith('/workspace')).toBe(true);
    expect(c).toMatchObject({ adminToken: undefined, userMaxRunning: 10, rateLimitPerMinute: 600 });
  });

  it('checks the access settings', () => {
    expect(fails({ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN')).toMatch(/openssl rand/);
    expect(fails({ ADMIN_TOKEN: 'has a space in it, sixteen+' }, 'ADMIN_TOKEN')).not.toContain('has a space in it');
    fails({ USER_MAX_RUNNING_SESSIONS: '-1' }, 'USER_MAX_RUNNING_SESSIONS');
    fails({ RATE_LIMIT_PER_MINUTE: 'lots' }, 'RATE_LIMIT_PER_MINUTE');
    expect(loadConfig({ ADMIN_TOKEN: 'a-long-admin-token-0123', USER_MAX_RUNNING_SESSIONS: '0', RATE_LIMIT_PER_MINUTE: '0' })).toMatchObject({
      adminToken: 'a-long-admin-token-0123', userMaxRunning: 0, rateLimitPerMinute: 0,
    });
  });

  it('names the variable and the fix for every bad value', () => {
    expect(fails({ PORT: 'eighty' }, 'PORT')).toMatch(/PORT: "eighty" is not an integer from 0 to 65535/);
    fails({ REDIS_URL: 'localhost:6379' }, 'REDIS_URL');
    fails({ LEASE_TTL_MS: '10' }, 'LEASE_TTL_MS');
    fails({ SANDBOX_TYPE: 'docker' }, 'SANDBOX_TYPE');
    fails({ ALLOW_LOCAL_REPOS: 'maybe' }, 'ALLOW_LOCAL_REPOS');
    fails({ AGENT_MAX_CALLS: '0' }, 'AGENT_MAX_CALLS');
    expect(fails({ SANDBOX_TYPE: 'daytona' }, 'DAYTONA_API_KEY')).toMatch(/SANDBOX_TYPE=daytona needs it/);
    fails({ SANDBOX_TYPE: 'daytona', DAYTONA_API_KEY: 'k' }, 'DAYTONA_SERVER_URL');
    expect(fails({ REDIS_URL: 'redis://127.0.0.1:6379' }, 'SECRET_KEY')).toMatch(/REDIS_URL needs it/);
    fails({ SECRET_KEY: 'short' }, 'SECRET_KEY');
    fails({ AI_PROVIDER: 'claude' }, 'AI_PROVIDER');
    fails({ AI_PROVIDER: 'openai' }, 'AI_MODEL');
    fails({ AI_PROVIDER: 'openai', AI_MODEL: 'gpt-4o-mini' }, 'AI_API_KEY');
    fails({ AI_PROVIDER: 'azure', AI_MODEL: 'm', AI_API_KEY: 'k', AI_BASE_URL: 'https://x.openai.azure.com' }, 'AI_API_VERSION');
    fails({ AI_PROVIDER: 'openai-compatible', AI_MODEL: 'm', AI_API_KEY: 'k' }, 'AI_BASE_URL');
  });

  it('takes a default profile from AI_*, with no key needed for Ollama; the key is never in an error', () => {
    expect(loadConfig({ AI_PROVIDER: 'ollama', AI_MODEL: 'llama3.1' }).agent.profile).toEqual({ provider: 'ollama', model: 'llama3.1' });
    const azure = loadConfig({ AI_PROVIDER: 'azure', AI_MODEL: 'gpt-4o', AI_API_KEY: 'az-SECRET', AI_BASE_URL: 'https://x.openai.azure.com', AI_API_VERSION: '2024-10-21', AI_DEPLOYMENT: 'prod' });
    expect(azure.agent.profile).toMatchObject({ provider: 'azure', deployment: 'prod', apiVersion: '2024-10-21' });
    const msg = fails({ AI_PROVIDER: 'azure', AI_MODEL: 'gpt-4o', AI_API_KEY: 'az-SECRET' }, 'AI_BASE_URL');
    expect(msg).not.toContain('az-SECRET');
  });
});
