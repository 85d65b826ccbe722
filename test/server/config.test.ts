import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig, SERVICE_DIR } from '../../server/config.ts';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../kernel/errors.ts';

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
    expect(c).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      redisUrl: undefined,
      concurrency: 100,
      leaseTtlMs: 3000,
    });
    expect(c.agent).toMatchObject({
      sandboxType: 'local',
      allowLocalRepos: false,
      daytona: undefined,
      maxCalls: 200,
      maxTokens: 2_000_000,
      profile: undefined,
    });
    // Not in the service's checkout: a repository there would inherit its package.json and node_modules.
    expect(c.agent.workspaceDir).toMatch(/\/swe-agent(-\d+)?\/workspaces$/);
    expect(c.agent.workspaceDir.startsWith(SERVICE_DIR)).toBe(false);
    expect(c).toMatchObject({ adminToken: undefined, userMaxRunning: 10, rateLimitPerMinute: 600 });
  });

  it('checks the access settings', () => {
    expect(fails({ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN')).toMatch(/openssl rand/);
    expect(fails({ ADMIN_TOKEN: 'has a space in it, sixteen+' }, 'ADMIN_TOKEN')).not.toContain(
      'has a space in it',
    );
    fails({ USER_MAX_RUNNING_SESSIONS: '-1' }, 'USER_MAX_RUNNING_SESSIONS');
    fails({ RATE_LIMIT_PER_MINUTE: 'lots' }, 'RATE_LIMIT_PER_MINUTE');
    expect(
      loadConfig({
        ADMIN_TOKEN: 'a-long-admin-token-0123',
        USER_MAX_RUNNING_SESSIONS: '0',
        RATE_LIMIT_PER_MINUTE: '0',
      }),
    ).toMatchObject({
      adminToken: 'a-long-admin-token-0123',
      userMaxRunning: 0,
      rateLimitPerMinute: 0,
    });
  });

  it('keeps ended sessions 30 days by default, for ever with 0, and names the fix for a bad value', () => {
    expect(loadConfig({}).sessionRetentionDays).toBe(30);
    expect(loadConfig({ SESSION_RETENTION_DAYS: '0' }).sessionRetentionDays).toBe(0);
    expect(loadConfig({ SESSION_RETENTION_DAYS: ' 7 ' }).sessionRetentionDays).toBe(7);
    for (const bad of ['-1', '1.5', 'thirty', '1e3', '36501']) {
      const message = fails({ SESSION_RETENTION_DAYS: bad }, 'SESSION_RETENTION_DAYS');
      expect(message).toContain(`"${bad}"`);
      expect(message).toContain('0 to keep them for ever');
      expect(message).not.toContain('\n');
    }
  });

  it('names the variable and the fix for every bad value', () => {
    expect(fails({ PORT: 'eighty' }, 'PORT')).toMatch(
      /PORT: "eighty" is not an integer from 0 to 65535/,
    );
    fails({ REDIS_URL: 'localhost:6379' }, 'REDIS_URL');
    fails({ LEASE_TTL_MS: '10' }, 'LEASE_TTL_MS');
    fails({ SANDBOX_TYPE: 'docker' }, 'SANDBOX_TYPE');
    fails({ ALLOW_LOCAL_REPOS: 'maybe' }, 'ALLOW_LOCAL_REPOS');
    fails({ AGENT_MAX_CALLS: '0' }, 'AGENT_MAX_CALLS');
    expect(fails({ SANDBOX_TYPE: 'daytona' }, 'DAYTONA_API_KEY')).toMatch(
      /SANDBOX_TYPE=daytona needs it/,
    );
    fails(
      { SANDBOX_TYPE: 'daytona', DAYTONA_API_KEY: 'k', DAYTONA_SERVER_URL: 'api.daytona.io' },
      'DAYTONA_SERVER_URL',
    );
    fails(
      { SANDBOX_TYPE: 'daytona', DAYTONA_API_KEY: 'k', DAYTONA_API_URL: 'x.io' },
      'DAYTONA_API_URL',
    );
    expect(
      fails(
        {
          SANDBOX_TYPE: 'daytona',
          DAYTONA_API_KEY: 'k',
          DAYTONA_API_URL: 'https://a.example/api',
          DAYTONA_SERVER_URL: 'https://b.example/api',
        },
        'DAYTONA_API_URL',
      ),
    ).toMatch(/differs from DAYTONA_SERVER_URL/);
    expect(fails({ REDIS_URL: 'redis://127.0.0.1:6379' }, 'SECRET_KEY')).toMatch(
      /REDIS_URL needs it/,
    );
    fails({ SECRET_KEY: 'short' }, 'SECRET_KEY');
    fails({ AI_PROVIDER: 'claude' }, 'AI_PROVIDER');
    fails({ AI_PROVIDER: 'openai' }, 'AI_MODEL');
    fails({ AI_PROVIDER: 'openai', AI_MODEL: 'gpt-4o-mini' }, 'AI_API_KEY');
    fails(
      {
        AI_PROVIDER: 'azure',
        AI_MODEL: 'm',
        AI_API_KEY: 'k',
        AI_BASE_URL: 'https://x.openai.azure.com',
      },
      'AI_API_VERSION',
    );
    fails({ AI_PROVIDER: 'openai-compatible', AI_MODEL: 'm', AI_API_KEY: 'k' }, 'AI_BASE_URL');
  });

  it('fills the gaps: HOST, a Redis URL that only looks like one, AI_* without AI_PROVIDER, AI_BASE_URL', () => {
    expect(fails({ HOST: 'http://0.0.0.0' }, 'HOST')).toMatch(/without a scheme or port/);
    fails({ HOST: '0.0.0.0:8000' }, 'HOST');
    for (const host of [
      '0.0.0.0',
      '127.0.0.1',
      'localhost',
      '::',
      '::1',
      '[::1]',
      'agent-1.internal',
    ])
      expect(loadConfig({ HOST: host }).host).toBe(host);
    for (const url of ['redis://', 'redis://:6379', 'redis://host:6379/zero', 'redis://host:port'])
      fails({ REDIS_URL: url, SECRET_KEY: 'a-secret-key-0123456789' }, 'REDIS_URL');
    const bad = fails(
      { REDIS_URL: 'redis://:hunter2@host:6379/x', SECRET_KEY: 'a-secret-key-0123456789' },
      'REDIS_URL',
    );
    expect(bad).not.toContain('hunter2');
    for (const url of [
      'redis://redis:6379',
      'redis://localhost:6379/0',
      'rediss://:pw@h.example:6380/2',
    ]) {
      expect(loadConfig({ REDIS_URL: url, SECRET_KEY: 'a-secret-key-0123456789' }).redisUrl).toBe(
        url,
      );
    }
    expect(fails({ AI_MODEL: 'gpt-4o-mini' }, 'AI_PROVIDER')).toMatch(
      /is not set, but AI_MODEL is/,
    );
    fails({ AI_PROVIDER: 'ollama', AI_MODEL: 'm', AI_BASE_URL: 'localhost:11434' }, 'AI_BASE_URL');
    expect(loadConfig({ LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug');
    fails({ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL');
  });

  it('reads SANDBOX_ISOLATION: auto by default, bubblewrap, namespaces or none, anything else refused with the choices', () => {
    expect(loadConfig({}).agent.sandboxIsolation).toBe('auto');
    expect(loadConfig({ SANDBOX_ISOLATION: 'namespaces' }).agent.sandboxIsolation).toBe(
      'namespaces',
    );
    expect(loadConfig({ SANDBOX_ISOLATION: 'Bubblewrap' }).agent.sandboxIsolation).toBe(
      'bubblewrap',
    );
    expect(loadConfig({ SANDBOX_ISOLATION: ' None ' }).agent.sandboxIsolation).toBe('none');
    expect(fails({ SANDBOX_ISOLATION: 'docker' }, 'SANDBOX_ISOLATION')).toMatch(
      /"docker" is not an isolation mode\. Use auto .*, bubblewrap or namespaces .* or none/,
    );
  });

  it('reads SANDBOX_NETWORK: auto by default, internet, host or none, anything else refused with the choices', () => {
    expect(loadConfig({}).agent.sandboxNetwork).toBe('auto');
    expect(loadConfig({ SANDBOX_NETWORK: 'none' }).agent.sandboxNetwork).toBe('none');
    expect(loadConfig({ SANDBOX_NETWORK: 'internet' }).agent.sandboxNetwork).toBe('internet');
    expect(loadConfig({ SANDBOX_NETWORK: ' Host ' }).agent.sandboxNetwork).toBe('host');
    expect(fails({ SANDBOX_NETWORK: 'loopback' }, 'SANDBOX_NETWORK')).toMatch(
      /"loopback" is not a network mode\. Use auto .*, internet .*slirp4netns.*, none .* or host/,
    );
  });

  it('reads the per-command limits and the extra read-only paths', () => {
    expect(loadConfig({}).agent.sandboxLimits).toEqual({
      memoryBytes: 4096 * 1024 * 1024,
      processes: 1024,
      cpuSeconds: 1800,
    });
    expect(
      loadConfig({
        SANDBOX_MEMORY_MB: '512',
        SANDBOX_MAX_PROCESSES: '0',
        SANDBOX_CPU_SECONDS: '60',
      }).agent.sandboxLimits,
    ).toEqual({ memoryBytes: 512 * 1024 * 1024, processes: 0, cpuSeconds: 60 });
    fails({ SANDBOX_MEMORY_MB: '-1' }, 'SANDBOX_MEMORY_MB');
    fails({ SANDBOX_MAX_PROCESSES: 'many' }, 'SANDBOX_MAX_PROCESSES');
    expect(
      loadConfig({ SANDBOX_READ_PATHS: '/opt/a: /home/me/.cargo' }).agent.sandboxReadPaths,
    ).toEqual(['/opt/a', '/home/me/.cargo']);
    expect(fails({ SANDBOX_READ_PATHS: 'relative/dir' }, 'SANDBOX_READ_PATHS')).toMatch(
      /not an absolute path/,
    );
    fails({ SANDBOX_READ_PATHS: '/' }, 'SANDBOX_READ_PATHS');
  });

  it('keeps workspaces out of the service: WORKSPACE_DIR inside its checkout, or holding it, is refused', () => {
    expect(fails({ WORKSPACE_DIR: `${SERVICE_DIR}/workspace` }, 'WORKSPACE_DIR')).toMatch(
      /inherit the service's package\.json, node_modules and \.env/,
    );
    fails({ WORKSPACE_DIR: dirname(SERVICE_DIR) }, 'WORKSPACE_DIR');
    expect(loadConfig({ XDG_STATE_HOME: '/srv/state' }).agent.workspaceDir).toBe(
      '/srv/state/swe-agent/workspaces',
    );
    expect(loadConfig({ HOME: '/home/u' }).agent.workspaceDir).toBe(
      '/home/u/.local/state/swe-agent/workspaces',
    );
    // The service's own directory is hidden from commands wherever they could see it.
    expect(loadConfig({}).agent.hiddenPaths).toContain(SERVICE_DIR);
    // … and its settings file, wherever ENV_FILE puts it (./.env by default).
    expect(loadConfig({ ENV_FILE: '/etc/swe-agent/agent.env' }).agent.hiddenPaths).toContain(
      '/etc/swe-agent/agent.env',
    );
    expect(loadConfig({}).agent.hiddenPaths).toContain(resolve('.env'));
    // Daytona's workspaces are remote: no local directory is refused for them.
    expect(
      loadConfig({
        SANDBOX_TYPE: 'daytona',
        DAYTONA_API_KEY: 'k',
        WORKSPACE_DIR: `${SERVICE_DIR}/w`,
      }).agent.sandboxType,
    ).toBe('daytona');
  });

  it('reads SANDBOX_MAX_MB and DIFF_MAX_MB in MB (0: no limit); a workspace smaller than the clone it must hold is refused', () => {
    expect(loadConfig({}).agent).toMatchObject({
      sandboxMaxBytes: 4096 * 1024 * 1024,
      diffMaxBytes: 5 * 1024 * 1024,
      cloneMaxBytes: 2048 * 1024 * 1024,
    });
    expect(loadConfig({ SANDBOX_MAX_MB: '0', DIFF_MAX_MB: '0' }).agent).toMatchObject({
      sandboxMaxBytes: 0,
      diffMaxBytes: 0,
    });
    expect(
      loadConfig({ SANDBOX_MAX_MB: '512', CLONE_MAX_MB: '256', DIFF_MAX_MB: '20' }).agent,
    ).toMatchObject({ sandboxMaxBytes: 512 * 1024 * 1024, diffMaxBytes: 20 * 1024 * 1024 });
    fails({ SANDBOX_MAX_MB: '-1' }, 'SANDBOX_MAX_MB');
    fails({ SANDBOX_MAX_MB: '1.5' }, 'SANDBOX_MAX_MB');
    expect(fails({ DIFF_MAX_MB: '1000' }, 'DIFF_MAX_MB')).toMatch(/from 0 to 256/);
    expect(fails({ SANDBOX_MAX_MB: '1024' }, 'SANDBOX_MAX_MB')).toMatch(
      /1024 is less than CLONE_MAX_MB \(2048\)/,
    );
    expect(loadConfig({ SANDBOX_MAX_MB: '1024', CLONE_MAX_MB: '0' }).agent.cloneMaxBytes).toBe(0);
  });

  it('defaults the Daytona server URL, as the user guide marks it optional', () => {
    expect(loadConfig({ SANDBOX_TYPE: 'daytona', DAYTONA_API_KEY: 'k' }).agent.daytona).toEqual({
      apiKey: 'k',
      serverUrl: 'https://app.daytona.io/api',
      image: undefined,
    });
  });

  it("takes the SDK's DAYTONA_API_URL as well as the guide's DAYTONA_SERVER_URL", () => {
    const daytona = (env: Record<string, string>) =>
      loadConfig({ SANDBOX_TYPE: 'daytona', DAYTONA_API_KEY: 'k', ...env }).agent.daytona
        ?.serverUrl;
    expect(daytona({ DAYTONA_API_URL: 'https://d.example/api' })).toBe('https://d.example/api');
    expect(
      daytona({
        DAYTONA_API_URL: 'https://d.example/api',
        DAYTONA_SERVER_URL: 'https://d.example/api',
      }),
    ).toBe('https://d.example/api');
  });

  it("is described in full by the README's Configuration table", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = /^## Configuration\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
    const rows = section.split('\n').filter((l) => /^\|\s*`/.test(l));
    const listed = rows.flatMap((row) =>
      [...(row.split('|')[1] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!),
    );
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(Object.keys(CONFIG_VARIABLES).sort());
  });

  it('takes a default profile from AI_*, with no key needed for Ollama; the key is never in an error', () => {
    expect(loadConfig({ AI_PROVIDER: 'ollama', AI_MODEL: 'llama3.1' }).agent.profile).toEqual({
      provider: 'ollama',
      model: 'llama3.1',
    });
    const azure = loadConfig({
      AI_PROVIDER: 'azure',
      AI_MODEL: 'gpt-4o',
      AI_API_KEY: 'az-SECRET',
      AI_BASE_URL: 'https://x.openai.azure.com',
      AI_API_VERSION: '2024-10-21',
      AI_DEPLOYMENT: 'prod',
    });
    expect(azure.agent.profile).toMatchObject({
      provider: 'azure',
      deployment: 'prod',
      apiVersion: '2024-10-21',
    });
    const msg = fails(
      { AI_PROVIDER: 'azure', AI_MODEL: 'gpt-4o', AI_API_KEY: 'az-SECRET' },
      'AI_BASE_URL',
    );
    expect(msg).not.toContain('az-SECRET');
  });
});

describe('REDIS_PASSWORD', () => {
  it('goes into REDIS_URL (for a compose file or a secret that hands it over apart), with an ACL user too', () => {
    const k = { SECRET_KEY: 'k'.repeat(16) };
    expect(
      loadConfig({ ...k, REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD: 'p@ss/w:rd' }).redisUrl,
    ).toBe('redis://:p%40ss%2Fw%3Ard@redis:6379');
    expect(
      loadConfig({ ...k, REDIS_URL: 'rediss://alice@redis:6380/2', REDIS_PASSWORD: 'pw' }).redisUrl,
    ).toBe('rediss://alice:pw@redis:6380/2');
    expect(
      loadConfig({ ...k, REDIS_URL: 'redis://:pw@redis:6379', REDIS_PASSWORD: 'pw' }).redisUrl,
    ).toBe('redis://:pw@redis:6379');
    expect(() =>
      loadConfig({ ...k, REDIS_URL: 'redis://:one@redis', REDIS_PASSWORD: 'two' }),
    ).toThrow(/^REDIS_PASSWORD: differs from the password in REDIS_URL/);
    expect(() => loadConfig({ REDIS_PASSWORD: 'pw' })).toThrow(
      /^REDIS_PASSWORD: is set, but REDIS_URL is not/,
    );
  });
});
