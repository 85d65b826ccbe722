/**
 * The same service on Deno: `deno task check` type-checks the Deno entry and
 * the app modules, and `deno task start` serves the real agent on Redis. A
 * session runs from QUEUED to COMPLETED on the Deno node (clone, plan, edit,
 * command, review, diff) against the scripted model server in this process,
 * then SIGTERM stops the node cleanly. Deno comes from the `deno` npm package
 * (a devDependency); without it these tests fail, they never skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl, uniquePrefix } from '../support/stores.ts';
import { TEST_SECRET_KEY } from '../support/service/processes.ts';
import { freePort } from '../support/net.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { waitFor } from '../support/wait.ts';
import {
  startOpenAIServer,
  type OpenAIServer,
  type ScriptedReply,
} from '../agent/llm/openai-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEY = 'sk-test-deno-SECRET';

/** The deno executable of the `deno` npm package (its platform package holds the binary). */
function denoBinary(): string {
  try {
    const api = createRequire(import.meta.url)('deno/install_api.cjs') as { runInstall(): string };
    return api.runInstall();
  } catch (err) {
    throw new Error(
      `deno is not installed: run \`npm ci\` (the \`deno\` devDependency brings the binary for this platform): ${(err as Error).message}`,
    );
  }
}

/** Runs deno with `args` in the project root; resolves with its exit code and output. */
function runDeno(
  args: string[],
  env: Record<string, string> = {},
): {
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: string | null }>;
} {
  const child = spawn(denoBinary(), args, {
    cwd: ROOT,
    // Its own process group, so a failed test can kill `deno task` and the server it started.
    detached: true,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      NO_COLOR: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output, exited };
}

/** Reads an event stream (which stays open) until `until` arrives, then hangs up. */
async function readEvents(url: string, until: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(until)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

let n = 0;
const call = (name: string, args: unknown): ScriptedReply => ({
  kind: 'completion',
  toolCalls: [{ id: `call_${++n}`, name, arguments: JSON.stringify(args) }],
  usage: { prompt_tokens: 100, completion_tokens: 10 },
});

describe('deno task check', () => {
  it('type-checks the Deno entry and the app modules', async () => {
    const run = runDeno(['task', 'check']);
    const { code } = await run.exited;
    expect(code, `deno task check failed:\n${run.output.join('\n')}`).toBe(0);
  }, 180_000);
});

describe('deno task start', () => {
  let model: OpenAIServer;
  let dir: string;
  let origin: string;
  let server: ReturnType<typeof runDeno> | undefined;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    model = await startOpenAIServer({ apiKey: KEY });
    dir = await mkdtemp(join(tmpdir(), 'swe-deno-'));
    origin = await makeTestRepo(join(dir, 'origin'), {
      'package.json': '{ "type": "module" }\n',
      'src/add.js': 'export const add = (a, b) => a - b;\n',
      'test.js':
        "import { add } from './src/add.js';\nif (add(2, 3) !== 5) process.exit(1);\nconsole.log('ok');\n",
    });
  });

  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null)
      process.kill(-server.child.pid!, 'SIGKILL');
    await model?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    const raw = new Redis(redisUrl());
    const keys = await raw.keys(`${prefix}:*`);
    if (keys.length > 0) await raw.del(...keys);
    await raw.quit();
  });

  it('serves the agent on Redis, runs a session to COMPLETED, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = runDeno(['task', 'start'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: prefix,
      SECRET_KEY: TEST_SECRET_KEY,
      NODE_ID: 'deno-smoke',
      LEASE_TTL_MS: '1000',
      ALLOW_LOCAL_REPOS: 'true',
      SANDBOX_TYPE: 'local',
      WORKSPACE_DIR: join(dir, 'workspace'),
    });
    const started = Date.now();
    const logs = () => server!.output.slice(-30).join('\n');
    const died = server.exited.then(({ code }) => {
      throw new Error(`deno task start exited (${code}) before answering /health:\n${logs()}`);
    });
    died.catch(() => undefined);
    await Promise.race([
      waitFor(
        'the Deno node to answer /health',
        async () => (await fetch(`${url}/health`).catch(() => null))?.ok === true,
        60_000,
        100,
      ),
      died,
    ]);
    const startupMs = Date.now() - started;

    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: res.status, headers: res.headers, text: await res.text() };
    };
    expect(JSON.parse((await api('GET', '/health')).text)).toEqual({ ok: true });
    const page = await api('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text.toLowerCase()).toContain('<!doctype html>');
    const spec = await api('GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(JSON.parse(spec.text)).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });

    // The profile goes through the Deno node: its key is sealed there with SECRET_KEY.
    const profile = await api('POST', '/agent/ai-profiles', {
      name: 'scripted',
      provider: 'openai-compatible',
      model: 'scripted',
      api_key: KEY,
      base_url: `${model.url}/v1`,
    });
    expect(profile.status, profile.text).toBe(201);
    expect(profile.text).not.toContain(KEY);
    model.script(
      call('read_file', { path: 'src/add.js' }),
      call('submit_plan', { summary: 'Fix add()', steps: ['Make add() add'] }),
      call('edit_file', { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' }),
      call('run_command', { command: 'node test.js' }),
      call('finish', { summary: 'add() now adds' }),
      call('run_command', { command: 'node test.js' }),
      call('submit_review', { approved: true, feedback: 'ok' }),
    );
    const created = await api('POST', '/agent/sessions', {
      goal: 'Make the test pass',
      repo_url: origin,
      mode: 'auto',
      ai_profile_id: JSON.parse(profile.text).id,
    });
    expect(created.status, created.text).toBe(201);
    const { session_id: id, status } = JSON.parse(created.text) as {
      session_id: string;
      status: string;
    };
    expect(status).toBe('QUEUED');

    const session = await waitFor(
      `session ${id} to finish on Deno`,
      async () => {
        const s = JSON.parse((await api('GET', `/agent/sessions/${id}`)).text);
        return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s.status) ? s : undefined;
      },
      60_000,
      100,
    );
    expect(session.status, `${session.reason}\n${logs()}`).toBe('COMPLETED');
    expect(session.logs).toContain('Cloning repo...');
    expect(session.result.diff).toContain('+export const add = (a, b) => a + b;');
    expect(model.pending()).toBe(0);
    const history = JSON.parse((await api('GET', `/agent/sessions/${id}/history`)).text)
      .history as { to: string; node: string }[];
    expect(history.at(-1)).toMatchObject({ to: 'completed', node: 'deno-smoke' });
    const sessionMs = Date.now() - started - startupMs;
    // A streamed answer (SSE through Deno.serve) and the ELK layout (elkjs under Deno).
    const events = await readEvents(`${url}/agent/sessions/${id}/events`, 'event: end');
    expect(events).toMatch(/event: end\ndata: \{"status":"COMPLETED"\}/);
    const chart = await api('GET', '/agent/chart');
    expect(chart.status).toBe(200);
    expect(JSON.parse(chart.text)).toMatchObject({
      machine: expect.any(Object),
      layout: expect.any(Object),
    });

    // `deno task` passes SIGTERM on to the server, which hands its sessions back and exits 0.
    const stopAt = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit, logs()).toEqual({ code: 0, signal: null });
    expect(server.output.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    expect(server.output.join('\n')).not.toContain(KEY);
    console.info(
      `deno smoke: startup ${startupMs} ms, session ${sessionMs} ms, stop ${Date.now() - stopAt} ms`,
    );
  }, 180_000);
});

describe('deno task start without Redis', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Starts the Deno node on DATA_DIR and waits for /health. */
  async function start(port: number) {
    const run = runDeno(['task', 'start'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(dir, 'data'),
      NODE_ID: 'deno-embedded',
      WORKSPACE_DIR: join(dir, 'workspace'),
    });
    const died = run.exited.then(({ code }) => {
      throw new Error(`deno task start exited (${code}):\n${run.output.slice(-30).join('\n')}`);
    });
    died.catch(() => undefined);
    await Promise.race([
      waitFor(
        'the Deno node to answer /health',
        async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true,
        60_000,
        100,
      ),
      died,
    ]);
    return run;
  }

  it('keeps profiles and sessions in the embedded SQLite store across a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'swe-deno-embedded-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const post = (path: string, body: unknown) =>
      fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    let run = await start(port);
    try {
      expect(run.output.join('\n')).toMatch(/store: sqlite in \S+\/data /);
      const profile = await post('/agent/ai-profiles', {
        name: 'kept on deno',
        provider: 'openai-compatible',
        model: 'scripted',
        api_key: KEY,
        base_url: 'http://127.0.0.1:9/v1',
        is_default: true,
      });
      expect(profile.status).toBe(201);
      const created = await post('/agent/sessions', {
        goal: 'kept goal',
        repo_url: 'https://example.com/o/r.git',
        mode: 'review',
      });
      expect(created.status).toBe(201);
      const { session_id: id } = (await created.json()) as { session_id: string };
      run.child.kill('SIGTERM');
      expect((await run.exited).code).toBe(0);

      run = await start(port);
      const profiles = await (await fetch(`${url}/agent/ai-profiles`)).json();
      expect(JSON.stringify(profiles)).toContain('kept on deno');
      const session = await (await fetch(`${url}/agent/sessions/${id}`)).json();
      expect(session).toMatchObject({ goal: 'kept goal', mode: 'review' });
      expect(run.output.join('\n')).not.toContain(KEY);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 180_000);
});
