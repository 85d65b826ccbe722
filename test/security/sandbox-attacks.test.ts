/**
 * The attacks of issue 15 on a whole node, started as `npm start` starts one
 * (HOST on loopback, where a request without a token is the admin; the
 * suite's real Redis on loopback without a password; the real agent; local
 * sandboxes on their defaults: SANDBOX_ISOLATION=auto, SANDBOX_NETWORK=auto).
 * A scripted model and a hostile repository try, from the sandbox: the API
 * (mint a token, make a profile), Redis (write a key), another session's
 * workspace, the service's checkout and its .env, and a git filter armed by
 * the repository's own test script that the service's diff would run. The
 * session completes; none of it lands.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../agent/llm/port.ts';
import { agentWorkFor } from '../../server/agent.ts';
import { loadConfig, SERVICE_DIR } from '../../server/config.ts';
import {
  startOpenAIServer,
  type OpenAIServer,
  type ScriptedReply,
} from '../agent/llm/openai-server.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { serveService, type Served } from '../support/service/served.ts';
import { redisUrl, uniquePrefix } from '../support/stores.ts';
import { waitFor } from '../support/wait.ts';

let dir: string;
let served: Served;
let model: OpenAIServer;
let prefix: string;
const marker = () => join(dir, 'outside', 'filter-ran');
const otherSession = ulid();
const SECRET = `other-session-secret-${ulid()}`;
let n = 0;
const call = (name: string, args: unknown): ScriptedReply => ({
  kind: 'completion',
  toolCalls: [{ id: `call_${++n}`, name, arguments: JSON.stringify(args) }],
  usage: { prompt_tokens: 100, completion_tokens: 10 },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swe-attacks-'));
  await mkdir(join(dir, 'outside'));
  // The repository's own test script arms a clean filter that would run wherever git next adds files.
  const arm = [
    '#!/bin/sh',
    `git config filter.x.clean "sh -c 'touch ${marker()}; cat'"`,
    'echo "*.js filter=x" > .gitattributes',
    'echo tests pass',
  ].join('\n');
  await makeTestRepo(join(dir, 'origin'), {
    'package.json': '{ "name": "victim", "scripts": { "test": "sh test.sh" } }\n',
    'test.sh': `${arm}\n`,
    'index.js': 'module.exports = 1;\n',
  });
  model = await startOpenAIServer({ apiKey: 'attack-model-key-0123456789' });
  prefix = uniquePrefix();
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: prefix,
    SECRET_KEY: `attack-secret-key-${ulid()}`,
    WORKSPACE_DIR: join(dir, 'ws'),
    ALLOW_LOCAL_REPOS: 'true',
    RATE_LIMIT_PER_MINUTE: '0',
    AI_PROVIDER: 'openai-compatible',
    AI_MODEL: 'attacker',
    AI_API_KEY: 'attack-model-key-0123456789',
    AI_BASE_URL: `${model.url}/v1`,
  });
  served = await serveService(
    config,
    ({ store, config: c, profiles, secrets }) => agentWorkFor(c.agent, profiles, store, secrets),
    { requireProfile: true },
  );
  // Another session's workspace, as a running one leaves it.
  await mkdir(join(dir, 'ws', otherSession), { recursive: true });
  await writeFile(join(dir, 'ws', otherSession, 'secret.txt'), SECRET);
});

afterAll(async () => {
  await served?.close();
  await model?.close();
  const raw = new Redis(redisUrl());
  const keys = await raw.keys(`${prefix}:*`);
  if (keys.length > 0) await raw.del(...keys);
  await raw.del('pwned');
  await raw.quit();
  await rm(dir, { recursive: true, force: true });
});

describe('a hostile repository and model on a default local node', () => {
  it('reach neither the API, Redis, another workspace, the service files, nor the service through git', async () => {
    const api = new URL(served.url);
    const redis = new URL(redisUrl());
    const redisHost = redis.hostname === 'localhost' ? '127.0.0.1' : redis.hostname;
    const attacks = [
      // The API on loopback, where no token means admin: mint a token, make a profile.
      `curl -s -m 5 -X POST -H 'content-type: application/json' -d '{"name":"mine","provider":"ollama","model":"x","base_url":"http://127.0.0.1:1"}' ${api.origin}/agent/ai-profiles; echo "api-exit=$?"`,
      // Redis on loopback without a password: write a key.
      `printf 'SET pwned 1\\r\\nQUIT\\r\\n' | curl -s -m 5 telnet://${redisHost}:${redis.port || 6379}; echo "redis-exit=$?"`,
      // Another session's workspace.
      `cat ${join(dir, 'ws', otherSession, 'secret.txt')}; echo x > ${join(dir, 'ws', otherSession, 'pwn')}; echo "ws-exit=$?"`,
      // The service's checkout and its .env.
      `ls ${SERVICE_DIR}; cat ${SERVICE_DIR}/package.json; echo "svc-exit=$?"`,
      // The repository's own tests, which arm a git filter for the service's diff.
      'npm test 2>/dev/null || sh test.sh',
    ];
    model.script(
      call('submit_plan', { summary: 'Probe', steps: ['Run the tests'] }),
      ...attacks.map((command) => call('run_command', { command })),
      call('write_file', { path: 'index.js', content: 'module.exports = 2;\n' }),
      call('finish', { summary: 'changed index.js' }),
      call('submit_review', { approved: true, feedback: 'ok' }),
    );
    const created = await fetch(`${served.url}/agent/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ goal: 'Make index.js export 2', repo_url: join(dir, 'origin') }),
    });
    expect(created.status).toBe(201);
    const { session_id: id } = (await created.json()) as { session_id: string };
    const done = await waitFor(
      'the session to end',
      async () => {
        const s = (await (await fetch(`${served.url}/agent/sessions/${id}`)).json()) as {
          status: string;
          reason?: string;
          result?: { diff?: string };
        };
        return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s.status) ? s : undefined;
      },
      60_000,
    );
    expect(done.status, done.reason).toBe('COMPLETED');
    // The change itself went through the service's git, confined.
    expect(JSON.stringify(done)).toContain('module.exports = 2');

    const transcript = (await served.service.store.getTranscript(
      id,
      'programmer',
    )) as ChatMessage[];
    const out = transcript.flatMap((m) => (m.role === 'tool' ? [m.content] : [])).join('\n');
    // The API: not reached (curl's exit 7: could not connect), no profile made.
    expect(out).toMatch(/api-exit=7/);
    const profiles = (await (await fetch(`${served.url}/agent/ai-profiles`)).json()) as {
      profiles?: { name: string }[];
    };
    expect(JSON.stringify(profiles)).not.toContain('"mine"');
    // Redis: not reached, no key written.
    expect(out).toMatch(/redis-exit=7/);
    const raw = new Redis(redisUrl());
    expect(await raw.exists('pwned')).toBe(0);
    await raw.quit();
    // Another session's workspace: neither read nor written.
    expect(out).not.toContain(SECRET);
    expect(existsSync(join(dir, 'ws', otherSession, 'pwn'))).toBe(false);
    expect(readFileSync(join(dir, 'ws', otherSession, 'secret.txt'), 'utf8')).toBe(SECRET);
    // The service's checkout: not there.
    expect(out).toMatch(/svc-exit=1/);
    expect(out).not.toContain('"name": "swe-agent"');
    // The armed filter: the tests ran and armed it; the service's diff never ran it as the service.
    expect(out).toContain('tests pass');
    expect(existsSync(marker())).toBe(false);
  });
});
