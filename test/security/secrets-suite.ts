/**
 * Secrets never leak. A node is started the way `npm start` starts one
 * (`startService` with the configuration from the environment, beyond
 * loopback, on Redis or on the embedded SQLite store, with the real agent, local sandboxes and its own
 * logger), with known values planted: the SECRET_KEY, the ADMIN_TOKEN, a
 * Daytona key and a model key in the environment, a user's API token, and
 * the keys of AI profiles made through the API. Three sessions run through
 * the scripted model: one completes, one fails on a rejected key, one runs
 * `env` (and friends) in its sandbox. Then everything an outsider or an
 * operator could see is scanned for the planted values, as they are and
 * base64-, base64url-, hex- and URL-encoded: every log line, every key under
 * the test prefix in Redis (records, snapshots, transcripts, streams,
 * indexes) or every byte of the data directory's files (database, its
 * write-ahead log, pid file), every server-sent event of every session, every API answer's
 * body and headers, and what the sandbox's commands printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '../../agent/llm/port.ts';
import { agentWorkFor } from '../../server/agent.ts';
import { loadConfig } from '../../server/config.ts';
import { startService, type Service } from '../../server/service.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { dumpRedis } from '../support/store-state.ts';
import { redisUrl, uniquePrefix } from '../support/stores.ts';
import {
  startOpenAIServer,
  type OpenAIServer,
  type ScriptedReply,
} from '../agent/llm/openai-server.ts';

const hex = (n: number) => randomBytes(n).toString('hex');
/**
 * The planted values. Most have no credential shape (no `sk-`, `swa_`,
 * `AIza`), so the logger's shape redaction cannot hide a leak: only code that
 * never lets them out passes.
 */
const PLANTED = {
  SECRET_KEY: `secret-key-${hex(16)}`,
  ADMIN_TOKEN: `admin-token-${hex(16)}`,
  DAYTONA_API_KEY: `dtn-key-${hex(16)}`,
  AI_API_KEY: `env-llm-key-${hex(16)}`,
  PROFILE_KEY: `${hex(16)}`,
  WRONG_KEY: `wrong-llm-key-${hex(16)}`,
};
/** Values the repository itself holds (`deploy/leaked.env`): the sandbox can read them, nothing downstream may show them. */
const LEAKED = {
  SECRET_KEY: PLANTED.SECRET_KEY,
  ADMIN_TOKEN: PLANTED.ADMIN_TOKEN,
  AI_API_KEY: PLANTED.AI_API_KEY,
  DAYTONA_API_KEY: PLANTED.DAYTONA_API_KEY,
};
/** Process environment planted for the sandbox's `env` to find, if the allow-list let it through. */
const PLANTED_ENV = {
  SECRET_KEY: PLANTED.SECRET_KEY,
  ADMIN_TOKEN: PLANTED.ADMIN_TOKEN,
  DAYTONA_API_KEY: PLANTED.DAYTONA_API_KEY,
  AI_API_KEY: PLANTED.AI_API_KEY,
  OPENAI_API_KEY: PLANTED.AI_API_KEY,
  REDIS_URL: `redis://:${PLANTED.SECRET_KEY}@127.0.0.1:1/0`,
};

/** A secret as it may appear inside other text: as is, URL-encoded, hex, and base64/base64url at each of the three byte alignments. */
function formsOf(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('hex')]);
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.from('\0'.repeat(k) + secret).toString('base64');
    // Only the characters made of the secret's bits alone, whatever surrounds it.
    const inner = enc.slice(Math.ceil((k * 8) / 6), Math.floor(((k + secret.length) * 8) / 6));
    forms.add(inner);
    forms.add(inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms];
}

function headerLines(headers: Headers): string {
  const out: string[] = [];
  headers.forEach((v, k) => {
    out.push(`${k}: ${v}`);
  });
  return out.join('\n');
}

/** The whole suite, on one store. */
export function secretsSuite(kind: 'redis' | 'sqlite'): void {
  let dir: string;
  let origin: string;
  let envModel: OpenAIServer;
  let adaModel: OpenAIServer;
  let service: Service;
  let prefix: string;
  const logLines: string[] = [];
  const saved: Record<string, string | undefined> = {};
  let n = 0;

  const call = (name: string, args: unknown): ScriptedReply => ({
    kind: 'completion',
    toolCalls: [{ id: `call_${++n}`, name, arguments: JSON.stringify(args) }],
    usage: { prompt_tokens: 100, completion_tokens: 10 },
  });

  beforeAll(async () => {
    for (const [k, v] of Object.entries(PLANTED_ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    // The service's own logger writes with console.log; its first-token banner goes to console.error.
    for (const method of ['log', 'error', 'warn', 'info'] as const) {
      vi.spyOn(console, method).mockImplementation(
        (...args: unknown[]) => void logLines.push(args.map(String).join(' ')),
      );
    }
    dir = await mkdtemp(join(tmpdir(), 'swe-secrets-'));
    origin = await makeTestRepo(join(dir, 'origin'), {
      'README.md': '# demo\n',
      'src/app.js': 'export const answer = 41;\n',
      // The service's secrets where a command can read them: a repository that holds a copy of
      // the operator's settings (or, without the boundary, the service's own .env). What the
      // sandbox gives back is redacted before the model, the transcript or the log sees it.
      'deploy/leaked.env': `${Object.entries(LEAKED)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    });
    [envModel, adaModel] = await Promise.all([
      startOpenAIServer({ apiKey: PLANTED.AI_API_KEY }),
      startOpenAIServer({ apiKey: PLANTED.PROFILE_KEY }),
    ]);
    prefix = uniquePrefix();
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '0',
      ...(kind === 'redis'
        ? { REDIS_URL: redisUrl(), REDIS_PREFIX: prefix }
        : { DATA_DIR: join(dir, 'data') }),
      LOG_LEVEL: 'debug',
      SECRET_KEY: PLANTED.SECRET_KEY,
      ADMIN_TOKEN: PLANTED.ADMIN_TOKEN,
      // In the environment as an operator may leave it, unused with local sandboxes: still a secret.
      DAYTONA_API_KEY: PLANTED.DAYTONA_API_KEY,
      SANDBOX_TYPE: 'local',
      WORKSPACE_DIR: join(dir, 'ws'),
      ALLOW_LOCAL_REPOS: 'true',
      RATE_LIMIT_PER_MINUTE: '0',
      AI_PROVIDER: 'openai-compatible',
      AI_MODEL: 'env-model',
      AI_API_KEY: PLANTED.AI_API_KEY,
      AI_BASE_URL: `${envModel.url}/v1`,
    });
    service = await startService(
      config,
      ({ store, config: c, profiles, secrets }) => agentWorkFor(c.agent, profiles, store, secrets),
      { requireProfile: true },
    );
  });

  afterAll(async () => {
    await service?.stop();
    await Promise.all([envModel?.close(), adaModel?.close()]);
    vi.restoreAllMocks();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (kind === 'redis') {
      const raw = new Redis(redisUrl());
      const keys = await raw.keys(`${prefix}:*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
    }
    await rm(dir, { recursive: true, force: true });
  });

  /** Everything the store holds, as text: every key under the prefix, or every byte of the data directory. */
  async function storeDump(): Promise<{ what: string; text: string; count: string }> {
    if (kind === 'redis') {
      const raw = new Redis(redisUrl());
      const text = JSON.stringify(await dumpRedis(raw, prefix));
      await raw.quit();
      return { what: 'Redis', text, count: `${Object.keys(JSON.parse(text)).length} Redis keys` };
    }
    const data = join(dir, 'data');
    const files = await readdir(data);
    const parts = await Promise.all(files.map((f) => readFile(join(data, f))));
    const bytes = parts.reduce((sum, p) => sum + p.length, 0);
    return {
      what: `the data directory (${files.join(', ')})`,
      text: parts.map((p) => p.toString('latin1')).join('\n'),
      count: `${files.length} data files (${(bytes / 1024).toFixed(0)} KiB)`,
    };
  }

  describe(`secrets never leak (${kind} store)`, () => {
    it('not into logs, the store, event streams, API answers or the sandbox, across a completed, a failed and an `env` session', async () => {
      /** Everything a client saw: bodies and headers, with the one answer allowed to show a secret set apart. */
      const seen: { what: string; text: string }[] = [];
      const api = async (
        token: string | undefined,
        method: string,
        path: string,
        body?: unknown,
      ) => {
        const res = await service.app.request(path, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        seen.push({
          what: `${method} ${path} → ${res.status}`,
          text: `${headerLines(res.headers)}\n\n${text}`,
        });
        return {
          status: res.status,
          body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
        };
      };
      /** A session's event stream from the start until its `end` event. */
      const stream = async (token: string, id: string): Promise<string> => {
        const ctl = new AbortController();
        const res = await service.app.request(`/agent/sessions/${id}/events`, {
          headers: { authorization: `Bearer ${token}` },
          signal: ctl.signal,
        });
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        let text = '';
        const deadline = setTimeout(() => ctl.abort(), 60_000);
        try {
          while (!text.includes('event: end\n')) {
            const { value, done } = await reader.read();
            if (done) break;
            text += decoder.decode(value, { stream: true });
          }
        } finally {
          clearTimeout(deadline);
          ctl.abort();
          await reader.cancel().catch(() => undefined);
        }
        seen.push({ what: `SSE ${id}`, text: `${headerLines(res.headers)}\n\n${text}` });
        return text;
      };
      const ADMIN = PLANTED.ADMIN_TOKEN;

      // Beyond loopback: nothing without a token.
      expect((await api(undefined, 'GET', '/agent/me')).status).toBe(401);
      const ada = (await api(ADMIN, 'POST', '/agent/users', { name: 'ada' })).body;
      const created = await api(ADMIN, 'POST', `/agent/users/${ada.id}/tokens`, { name: 'laptop' });
      // The one answer that shows a token: its creation. It is checked for the other secrets, not this one.
      const tokenAnswer = seen.pop()!;
      const TOKEN = created.body.token as string;
      expect(TOKEN).toMatch(/^swa_/);
      const secrets: Record<string, string> = { ...PLANTED, USER_TOKEN: TOKEN };

      const profile = (
        await api(TOKEN, 'POST', '/agent/ai-profiles', {
          name: 'mine',
          provider: 'openai-compatible',
          model: 'ada-model',
          api_key: PLANTED.PROFILE_KEY,
          base_url: `${adaModel.url}/v1`,
        })
      ).body;
      const wrong = (
        await api(TOKEN, 'POST', '/agent/ai-profiles', {
          name: 'wrong',
          provider: 'openai-compatible',
          model: 'ada-model',
          api_key: PLANTED.WRONG_KEY,
          base_url: `${adaModel.url}/v1`,
        })
      ).body;
      expect(profile.api_key_hint).toBe(`…${PLANTED.PROFILE_KEY.slice(-4)}`);
      const test = (await api(TOKEN, 'POST', `/agent/ai-profiles/${wrong.id}/test`)).body;
      expect(test).toMatchObject({ ok: false, error: { code: 'llm_auth' } });

      // 1. Completes, with ada's profile; its programmer runs `env` too.
      adaModel.script(
        call('submit_plan', { summary: 'Bump the answer', steps: ['Edit src/app.js'] }),
        call('edit_file', { path: 'src/app.js', old_text: '41', new_text: '42' }),
        call('run_command', { command: 'env' }),
        call('finish', { summary: 'answer is 42' }),
        call('submit_review', { approved: true, feedback: 'ok' }),
      );
      const done = (
        await api(TOKEN, 'POST', '/agent/sessions', {
          goal: 'Make the answer 42',
          repo_url: origin,
          ai_profile_id: profile.id,
        })
      ).body.session_id as string;
      await stream(TOKEN, done);

      // 2. Fails: the provider refuses the key (and, like OpenAI, quotes it back in its error).
      const failed = (
        await api(TOKEN, 'POST', '/agent/sessions', {
          goal: 'Anything',
          repo_url: origin,
          ai_profile_id: wrong.id,
        })
      ).body.session_id as string;
      await stream(TOKEN, failed);

      // 3. The admin's session on the environment's profile: the sandbox shows what it can of its environment.
      const probes = [
        'env',
        'printenv',
        'set',
        "tr '\\0' '\\n' < /proc/self/environ",
        "tr '\\0' '\\n' < /proc/$PPID/environ",
        'git config --list --show-origin',
        'cat "$HOME/.gitconfig" 2>/dev/null; ls -la "$HOME"',
        'cat deploy/leaked.env',
      ];
      envModel.script(
        call('submit_plan', { summary: 'Look around', steps: ['Print the environment'] }),
        ...probes.map((command) => call('run_command', { command })),
        call('read_file', { path: 'deploy/leaked.env' }),
        call('finish', { summary: 'looked' }),
        call('submit_review', { approved: true, feedback: 'ok' }),
      );
      const envSession = (
        await api(ADMIN, 'POST', '/agent/sessions', {
          goal: 'Print the environment',
          repo_url: origin,
        })
      ).body.session_id as string;
      await stream(ADMIN, envSession);

      // Everything the API shows about them and about the service, to both callers.
      for (const [token, id] of [
        [TOKEN, done],
        [TOKEN, failed],
        [ADMIN, envSession],
      ] as const) {
        for (const path of ['', '/history', '/chart'])
          await api(token, 'GET', `/agent/sessions/${id}${path}`);
      }
      for (const token of [TOKEN, ADMIN]) {
        for (const path of [
          '/agent/sessions',
          '/agent/ai-profiles',
          `/agent/ai-profiles/${profile.id}`,
          '/agent/me',
          `/agent/users/${ada.id}`,
          `/agent/users/${ada.id}/tokens`,
        ])
          await api(token, 'GET', path);
      }
      for (const path of ['/agent/users', '/agent/nodes', '/metrics', '/ready', '/health'])
        await api(ADMIN, 'GET', path);

      const detail = async (id: string) => (await api(ADMIN, 'GET', `/agent/sessions/${id}`)).body;
      const [one, two, three] = [
        await detail(done),
        await detail(failed),
        await detail(envSession),
      ];
      expect(one.status, one.reason).toBe('COMPLETED');
      expect(two.status).toBe('FAILED');
      expect(two.reason).toMatch(/^planning failed: .*key was rejected \(401\)/);
      expect(three.status, three.reason).toBe('COMPLETED');

      // What the sandbox printed: the tool answers in the transcripts, and the progress lines in the logs.
      const transcripts = (await service.store.getTranscript(done, 'programmer')).concat(
        await service.store.getTranscript(envSession, 'programmer'),
      ) as ChatMessage[];
      const sandboxOutput = transcripts
        .flatMap((m) => (m.role === 'tool' ? [m.content] : []))
        .join('\n');
      // The commands did run: their output is there, with the sandbox's own HOME and nothing of the service's.
      expect(sandboxOutput).toMatch(/^GIT_TERMINAL_PROMPT=0$/m);
      expect(sandboxOutput).toMatch(/^HOME=.*\.home$/m);
      expect(sandboxOutput).not.toMatch(
        /^(SECRET_KEY|ADMIN_TOKEN|REDIS_URL|DAYTONA_API_KEY|AI_API_KEY|OPENAI_API_KEY)=(?!\[redacted\])/m,
      );
      // The leaked file was read, by a command and by read_file, and every value in it redacted.
      for (const name of Object.keys(LEAKED))
        expect(sandboxOutput.split(`${name}=[redacted]`).length - 1, name).toBe(2);
      // What the model was sent: nothing of the service's secrets either (the provider never gets them).
      const sentToModel = envModel.requests.map((r) => JSON.stringify(r.body)).join('\n');
      expect(sentToModel).toContain('[redacted]');

      // The scan.
      const { what: storeWhat, text: dump, count } = await storeDump();
      if (kind === 'redis') expect(dump).toContain(`${prefix}:{g}:profiles`);
      // The sealed profile key is in the database, not in the clear.
      else expect(dump).toContain('openai-compatible');
      const haystacks: { what: string; text: string }[] = [
        ...logLines.map((text, i) => ({ what: `log line ${i}`, text })),
        { what: storeWhat, text: dump },
        ...seen,
        { what: 'the token answer', text: tokenAnswer.text.split(TOKEN).join('<the new token>') },
        { what: 'sandbox output', text: sandboxOutput },
        { what: 'the requests sent to the model', text: sentToModel },
        { what: 'the transcripts', text: JSON.stringify(transcripts) },
        ...[one, two, three].map((s, i) => ({
          what: `session ${i + 1} logs`,
          text: s.logs.join('\n'),
        })),
      ];
      const leaks: string[] = [];
      for (const [name, secret] of Object.entries(secrets)) {
        for (const form of formsOf(secret)) {
          for (const h of haystacks)
            if (h.text.includes(form))
              leaks.push(
                `${name} (as ${form === secret ? 'is' : JSON.stringify(form)}) in ${h.what}`,
              );
        }
      }
      expect(leaks).toEqual([]);
      const scanned = haystacks.reduce((sum, h) => sum + h.text.length, 0);
      // console is captured as the service's log: the summary goes to stdout directly.
      process.stdout.write(
        `secrets: ${Object.keys(secrets).length} planted values × ${formsOf(PLANTED.SECRET_KEY).length} forms, none found in ${logLines.length} log lines, ${count}, ${seen.length} API answers and streams, ${(scanned / 1024).toFixed(0)} KiB in all\n`,
      );
    });
  });
}
