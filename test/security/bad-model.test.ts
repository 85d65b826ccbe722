/**
 * A model that behaves badly, through the real agent: the `openai` SDK
 * against the scripted wire-protocol server, a real local sandbox on a real
 * repository, the runtime and its HTTP app. Path and symlink escapes, a fork
 * bomb, enormous outputs, a file and many files filling the workspace past
 * its quota, odd tool names and arguments: each
 * is answered to the model as a tool error (or capped, or killed), nothing
 * outside the workspace is read or written, no process outlives its command,
 * memory stays flat, the service answers `/health` throughout and a
 * well-behaved session beside it completes. A model that insists fails its
 * session with a reason that says what it did.
 *
 * Already covered in test/agent/run-role.test.ts, not repeated here: an
 * unknown tool, arguments that are not JSON or miss a field, `../../etc/passwd`
 * through read_file, a command that never ends.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { agentWork } from '../../agent/agent-work.ts';
import type { ChatMessage } from '../../agent/llm/port.ts';
import { chatModelFor } from '../../agent/llm/chat-model.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { Store } from '../../runtime/store/port.ts';
import { createLocalSandboxProvider } from '../../sandbox/local.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { waitFor } from '../support/wait.ts';
import { startOpenAIServer, type ScriptedReply } from '../agent/llm/openai-server.ts';

const exec = promisify(execFile);
const KEY = 'sk-test-bad-model-KEY';
/** Unique sleep durations, so `ps` finds this run's processes and no one else's. */
const TAG = String(Date.now() % 100_000).padStart(5, '0');
const OUTSIDE_SECRET = `TOP-SECRET-OUTSIDE-${TAG}`;
/** The sandboxes' SANDBOX_MAX_MB. */
const QUOTA_MB = 20;

let dir: string;
let outside: string;
let origin: string;
let n = 0;

const call = (name: string, args: unknown, raw?: string): ScriptedReply & { id: string } => {
  const id = `call_${++n}`;
  return {
    kind: 'completion',
    toolCalls: [{ id, name, arguments: raw ?? JSON.stringify(args) }],
    usage: { prompt_tokens: 100, completion_tokens: 10 },
    id,
  };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swe-bad-model-'));
  outside = join(dir, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), `${OUTSIDE_SECRET}\n`);
  origin = await makeTestRepo(join(dir, 'origin'), {
    'README.md': '# demo\n',
    'src/app.js': 'export const answer = 41;\n',
  });
  // Symlinks in the repository that lead out of it: to a system directory, to a file and a directory of this machine.
  await symlink('/etc', join(origin, 'leak'));
  await symlink(join(outside, 'secret.txt'), join(origin, 'outside-link'));
  await symlink(outside, join(origin, 'outside-dir'));
  const git = [
    '-c',
    'user.name=t',
    '-c',
    'user.email=t@t',
    '-c',
    'commit.gpgsign=false',
    '-c',
    'core.hooksPath=/dev/null',
  ];
  await exec('git', [...git, 'add', '--all'], { cwd: origin });
  await exec('git', [...git, 'commit', '--quiet', '-m', 'symlinks'], { cwd: origin });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A node running the real agent, and two scripted model servers: a session's
 * calls go to the server of its profile, `bad` or `good`.
 */
async function service() {
  const [bad, good] = await Promise.all([
    startOpenAIServer({ apiKey: KEY }),
    startOpenAIServer({ apiKey: KEY }),
  ]);
  const store = new MemoryStore();
  for (const [id, server] of [
    ['bad', bad],
    ['good', good],
  ] as const) {
    await store.putProfile({
      id,
      name: id,
      isDefault: false,
      provider: 'openai-compatible',
      model: id,
      apiKey: KEY,
      baseUrl: `${server.url}/v1`,
    });
  }
  const root = join(dir, `ws${++n}`);
  const work = agentWork({
    sandboxes: createLocalSandboxProvider({
      root,
      allowLocalRepos: true,
      workspaceMaxBytes: QUOTA_MB * 1024 * 1024,
    }),
    profile: async (sessionId) =>
      store.getProfile((await store.getSession(sessionId))?.profileId ?? ''),
    makeModel: chatModelFor,
    budget: { maxCalls: 200, maxTokens: 100_000_000 },
    // The programmer's script is longer than the default 40 turns.
    roleLimits: { maxTurns: 60 },
  });
  const svc = await startInProcess({ store, work, allowLocalRepos: true });
  const start = async (profileId: string, goal: string) => {
    const id = ulid();
    await store.createSession({ id, goal, repo_url: origin, mode: 'auto', profileId });
    return id;
  };
  const ended = (id: string, timeoutMs = 60_000) =>
    waitFor(
      `session ${id} to end`,
      async () => {
        const s = (await svc.call('GET', `/agent/sessions/${id}`)).body;
        return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s.status) ? s : undefined;
      },
      timeoutMs,
      50,
    );
  return {
    ...svc,
    bad,
    good,
    root,
    start,
    ended,
    async stop() {
      await svc.stop();
      await Promise.all([bad.close(), good.close()]);
    },
  };
}

/** Command lines of this machine's live processes that contain `needle`. */
async function processesWith(needle: string): Promise<string[]> {
  const { stdout } = await exec('ps', ['-eo', 'pid=,stat=,args=']);
  return stdout.split('\n').filter((l) => l.includes(needle) && !/^\s*\d+\s+Z/.test(l));
}

/** The tool answers of a role's transcript, by call id. */
async function toolReplies(store: Store, id: string, role: string): Promise<Map<string, string>> {
  const transcript = (await store.getTranscript(id, role)) as ChatMessage[];
  return new Map(
    transcript.flatMap((m) => (m.role === 'tool' ? [[m.toolCallId, m.content] as const] : [])),
  );
}

type Step = { label: string; reply: ReturnType<typeof call>; expect: RegExp };
const step = (label: string, reply: ReturnType<typeof call>, expectation: RegExp): Step => ({
  label,
  reply,
  expect: expectation,
});

describe('a model that behaves badly', () => {
  it('is contained call by call: escapes refused, processes killed, output capped; the session completes and the service stays healthy', async () => {
    const svc = await service();
    const { bad, good } = svc;
    try {
      const planner: Step[] = [
        step(
          'planner reads an absolute path',
          call('read_file', { path: '/etc/shadow' }),
          /^error: path "\/etc\/shadow" is absolute/,
        ),
        step(
          'planner lists through a symlink',
          call('list_files', { path: 'leak' }),
          /^error: path "leak" goes through a symlink that points outside the workspace/,
        ),
        step(
          'plan',
          call('submit_plan', { summary: 'Bump the answer', steps: ['Edit src/app.js'] }),
          /^plan submitted$/,
        ),
      ];
      const programmer: Step[] = [
        step(
          '.. to /etc/passwd, deeper',
          call('read_file', { path: 'src/../../../../../../etc/passwd' }),
          /^error: path .* leaves the workspace/,
        ),
        step(
          'write above the workspace',
          call('write_file', { path: '../escape.txt', content: 'x' }),
          /^error: path "\.\.\/escape\.txt" leaves the workspace/,
        ),
        step(
          'write an absolute path',
          call('write_file', { path: join(outside, 'abs.txt'), content: 'x' }),
          /^error: path ".*abs\.txt" is absolute/,
        ),
        step(
          'edit .git/config',
          call('edit_file', {
            path: '.git/config',
            old_text: '[core]',
            new_text: '[core]\n\tfsmonitor = touch /tmp/x',
          }),
          /^error: path "\.git\/config" is inside \.git/,
        ),
        step(
          'edit .GIT/config',
          call('edit_file', { path: 'src/../.GIT/config', old_text: '[core]', new_text: 'x' }),
          /^error: path .* is inside \.git/,
        ),
        step(
          'list the parent',
          call('list_files', { path: '..' }),
          /^error: path "\.\." leaves the workspace/,
        ),
        step(
          'search the parent',
          call('search_code', { pattern: 'root', path: '../..' }),
          /^error: path "\.\.\/\.\." leaves the workspace/,
        ),
        step(
          'NUL in a path',
          call('read_file', { path: 'README.md\u0000/../../etc/passwd' }),
          /^error: path .* contains a NUL byte/,
        ),
        step(
          'read /etc through a symlink',
          call('read_file', { path: 'leak/passwd' }),
          /^error: path "leak\/passwd" goes through a symlink that points outside the workspace/,
        ),
        step(
          'read a file outside through a symlink',
          call('read_file', { path: 'outside-link' }),
          /^error: path "outside-link" goes through a symlink that points outside/,
        ),
        step(
          'overwrite it through the symlink',
          call('write_file', { path: 'outside-link', content: 'overwritten' }),
          /^error: path "outside-link" goes through a symlink/,
        ),
        step(
          'edit it through the symlink',
          call('edit_file', { path: 'outside-link', old_text: 'TOP', new_text: 'x' }),
          /^error: path "outside-link" goes through a symlink/,
        ),
        step(
          'create a file in a linked directory',
          call('write_file', { path: 'outside-dir/new.txt', content: 'x' }),
          /^error: path "outside-dir\/new\.txt" goes through a symlink/,
        ),
        step(
          'search through a symlink',
          call('search_code', { pattern: 'SECRET', path: 'outside-dir' }),
          /^error: path "outside-dir" goes through a symlink/,
        ),
        step(
          'plant a dangling symlink',
          call('run_command', {
            command: `ln -s ${join(outside, 'planted.txt')} planted && ln -s .git/config gitcfg`,
          }),
          /^exit code 0/,
        ),
        step(
          'write through the dangling symlink',
          call('write_file', { path: 'planted', content: 'x' }),
          /^error: path "planted" goes through a dangling symlink/,
        ),
        step(
          'write into .git through a symlink',
          call('write_file', { path: 'gitcfg', content: '[core]\n\tfsmonitor = touch /tmp/x\n' }),
          /^error: path "gitcfg" resolves into \.git/,
        ),
        step(
          'fork bomb, killed at its timeout',
          call('run_command', {
            command: `for i in $(seq 200); do sleep 29.${TAG} & done; wait`,
            timeout_s: 2,
          }),
          /^timed out after 2 s \(killed\)/,
        ),
        step(
          'background processes left behind',
          call('run_command', {
            command: `for i in $(seq 50); do sleep 28.${TAG} & done; echo started`,
          }),
          /^exit code 0\nstarted\n$/,
        ),
        step(
          '100 MB on stdout',
          call('run_command', {
            command: "head -c 100000000 /dev/zero | tr '\\0' x; echo; echo the end",
          }),
          /^exit code 0\nx\{\d+\}\n\[\.\.\. \d+ characters cut \.\.\.\]\nx\{\d+\}\nthe end\n$/,
        ),
        step(
          '50 MB of lines',
          call('run_command', { command: "yes 'a line of output' | head -c 50000000" }),
          /^exit code 0\n(a line of output\n){100,}[\s\S]*\[\.\.\. \d+ characters cut \.\.\.\]\n[\s\S]*(a line of output\n){100,}/,
        ),
        // 30 MB into a 20 MB workspace: the file stops at what is left (about 20 MB), the shell goes on, the model is told.
        step(
          'a file larger than the quota',
          call('run_command', {
            command:
              'head -c 30000000 /dev/urandom > big.bin; echo "$(($(wc -c < big.bin) / 1000000)) MB"',
          }),
          /^exit code 0; the workspace is over its limit of 20 MB \(SANDBOX_MAX_MB\): writes past it fail \("File too large"\); delete what you do not need\n(.*File size limit exceeded\n)?(19|20) MB\n$/,
        ),
        step(
          'delete it',
          call('run_command', { command: 'rm big.bin' }),
          /^exit code 0; the workspace was over its limit of 20 MB \(SANDBOX_MAX_MB\) when the command started[^\n]*; it is under the limit now\n$/,
        ),
        // No single file is large: the watchdog measures the workspace every second and kills the loop (about 10 MB/s).
        step(
          'many files past the quota',
          call('run_command', {
            command: `i=0; while :; do i=$((i+1)); head -c 500000 /dev/zero > fill$i; sleep 0.05; done`,
          }),
          /^killed: the workspace grew past its limit of 20 MB \(SANDBOX_MAX_MB\); delete what you do not need\n$/,
        ),
        // What the loop wrote: past the quota by at most about a second of writing. Then under it again.
        step(
          'clean up',
          call('run_command', {
            command: 'echo "$(($(cat fill* | wc -c) / 1000000)) MB"; rm -f fill* planted gitcfg',
          }),
          /^exit code 0; the workspace was over its limit of 20 MB [^\n]*; it is under the limit now\n(2\d|3[0-5]) MB\n$/,
        ),
        step(
          'a tool named __proto__',
          call('__proto__', {}),
          /^error: unknown tool "__proto__" for the programmer/,
        ),
        step(
          'a tool named constructor',
          call('constructor', { path: 'x' }),
          /^error: unknown tool "constructor"/,
        ),
        step('a tool named toString', call('toString', {}), /^error: unknown tool "toString"/),
        step(
          'arguments: null',
          call('read_file', null, 'null'),
          /^error: invalid arguments for read_file: arguments must be an object$/,
        ),
        step(
          'arguments: an array',
          call('read_file', null, '["README.md"]'),
          /^error: invalid arguments for read_file: arguments must be an object$/,
        ),
        step(
          'arguments: a string',
          call('read_file', null, '"README.md"'),
          /^error: invalid arguments for read_file: arguments must be an object$/,
        ),
        step(
          'arguments: a number',
          call('read_file', null, '123'),
          /^error: invalid arguments for read_file: arguments must be an object$/,
        ),
        step(
          'arguments: 10 000 levels deep',
          call('read_file', null, `{"path":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
          /^error: invalid arguments for read_file: arguments\.path must be a string$/,
        ),
        step(
          'arguments: __proto__',
          call('read_file', null, '{"path":"README.md","__proto__":{"polluted":"yes"}}'),
          /^error: invalid arguments for read_file: arguments\.__proto__ is not a known field/,
        ),
        step(
          'arguments: constructor',
          call(
            'read_file',
            null,
            '{"path":"README.md","constructor":{"prototype":{"polluted":"yes"}}}',
          ),
          /^error: invalid arguments for read_file: arguments\.constructor is not a known field/,
        ),
        step(
          'arguments: toString',
          call('run_command', null, '{"command":"true","toString":1}'),
          /^error: invalid arguments for run_command: arguments\.toString is not a known field/,
        ),
        step(
          'a pattern with a NUL byte',
          call('search_code', null, '{"pattern":"\\ud800\\u0000"}'),
          /^error: searchCode: the pattern contains a NUL byte$/,
        ),
        step(
          'a command with a NUL byte',
          call('run_command', null, '{"command":"echo a\\u0000b"}'),
          /^error: the command contains a NUL byte/,
        ),
        step(
          'the real change',
          call('edit_file', { path: 'src/app.js', old_text: '41', new_text: '42' }),
          /^edited src\/app\.js$/,
        ),
        step('finish', call('finish', { summary: 'answer is 42' }), /^finished$/),
      ];
      const reviewer: Step[] = [
        step(
          'approve',
          call('submit_review', { approved: true, feedback: 'ok' }),
          /^review submitted$/,
        ),
      ];
      bad.script(...[...planner, ...programmer, ...reviewer].map((s) => s.reply));
      good.script(
        call('submit_plan', { summary: 'Bump', steps: ['Edit'] }),
        call('edit_file', {
          path: 'README.md',
          old_text: '# demo',
          new_text: '# demo, well behaved',
        }),
        call('finish', { summary: 'done' }),
        call('submit_review', { approved: true, feedback: 'ok' }),
      );

      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      let slowestHealth = 0;
      let healthFailures = 0;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        const t0 = performance.now();
        void Promise.resolve(svc.app.request('/health')).then((r) => {
          slowestHealth = Math.max(slowestHealth, performance.now() - t0);
          if (r.status !== 200) healthFailures++;
        });
      }, 25);
      let hostile: any;
      let neighbour: any;
      let badId = '';
      let goodId = '';
      try {
        badId = await svc.start('bad', 'Make the answer 42');
        // A well-behaved session starts once the bad one is busy with its fork bomb.
        await waitFor(
          'the fork bomb to be running',
          () => bad.requests.length >= planner.length + 18 || undefined,
          30_000,
          20,
        );
        // ps sees them (so it would see survivors too).
        await waitFor(
          'the fork bomb in ps',
          async () => (await processesWith(`sleep 29.${TAG}`)).length >= 100 || undefined,
          5000,
          50,
        );
        goodId = await svc.start('good', 'Improve the README');
        [hostile, neighbour] = await Promise.all([svc.ended(badId), svc.ended(goodId)]);
      } finally {
        clearInterval(sampler);
      }

      expect(hostile.status, hostile.reason).toBe('COMPLETED');
      expect(neighbour.status, neighbour.reason).toBe('COMPLETED');
      expect(neighbour.result.diff).toContain('+# demo, well behaved');
      expect(bad.pending(), 'every scripted call was made').toBe(0);

      // Each call answered as it should be.
      for (const [role, steps] of [
        ['planner', planner],
        ['programmer', programmer],
        ['reviewer', reviewer],
      ] as const) {
        const replies = await toolReplies(svc.store, badId, role);
        for (const s of steps)
          expect(
            replies.get(s.reply.id)?.replace(/x{200,}/g, (m) => `x{${m.length}}`),
            s.label,
          ).toMatch(s.expect);
        for (const reply of replies.values()) {
          // Each answer within the role's cap (12 000 characters) and its marker, however much the command printed.
          expect(reply.length).toBeLessThan(12_100);
          expect(reply).not.toContain(OUTSIDE_SECRET);
          expect(reply).not.toMatch(/root:x?:0:0/);
        }
      }
      // The change is the real one only: nothing the model planted, no big file.
      expect(hostile.result.files_changed).toEqual(['src/app.js']);

      // Nothing outside the workspace was read into the log, written or created.
      expect(hostile.logs.join('\n')).not.toContain(OUTSIDE_SECRET);
      expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe(`${OUTSIDE_SECRET}\n`);
      expect((await readdir(outside)).sort()).toEqual(['secret.txt']);
      expect(existsSync(join(svc.root, 'escape.txt')) || existsSync(join(dir, 'escape.txt'))).toBe(
        false,
      );
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();

      // No process outlived its command.
      await waitFor(
        'the fork bomb and the leftovers to be gone',
        async () =>
          (await processesWith(`sleep 29.${TAG}`)).length +
            (await processesWith(`sleep 28.${TAG}`)).length ===
            0 || undefined,
        5000,
        50,
      );

      // The session log says what the quota did.
      expect(
        hostile.logs.some((l: string) =>
          /^\s*killed: the workspace grew past its limit of 20 MB \(SANDBOX_MAX_MB\)/.test(l),
        ),
      ).toBe(true);

      // The session log stayed readable: rate-limited, lines cut, no control characters.
      expect(hostile.logs.length).toBeLessThan(600);
      for (const line of hostile.logs as string[]) {
        expect(line.length).toBeLessThan(1000);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: asserts that no control characters reach the log
        expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
      }

      // Memory stayed flat while 150 MB of output went by (the collector keeps the head and tail only).
      const grewMb = (rssPeak - rssBefore) / 1024 / 1024;
      expect(grewMb, `RSS grew by ${grewMb.toFixed(0)} MB`).toBeLessThan(100);
      // The service answered throughout.
      expect(healthFailures).toBe(0);
      expect(slowestHealth, 'slowest /health during the session, ms').toBeLessThan(1000);
      console.log(
        `bad model: ${planner.length + programmer.length + reviewer.length} hostile or odd calls contained; RSS +${grewMb.toFixed(0)} MB at most; slowest /health ${slowestHealth.toFixed(0)} ms`,
      );
    } finally {
      await svc.stop();
    }
  });

  it('a model that insists on an escape, or sends a call without a name, fails its session with a reason that says what it did; the service goes on', async () => {
    const svc = await service();
    const { bad, good } = svc;
    try {
      const again = () => call('read_file', { path: '/etc/passwd' });
      bad.script(
        call('submit_plan', { summary: 'Read the passwords', steps: ['Read /etc/passwd'] }),
        again(),
        again(),
        again(),
      );
      const id = await svc.start('bad', 'Read /etc/passwd');
      const failed = await svc.ended(id);
      expect(failed.status).toBe('FAILED');
      expect(failed.reason).toBe(
        'coding failed: the programmer repeated the same failing call 3 times: read_file /etc/passwd → error: path "/etc/passwd" is absolute; use a path relative to the repository root',
      );
      expect(failed.logs.at(-1)).toBe(`Session failed: ${failed.reason}`);
      expect((await svc.call('GET', '/health')).status).toBe(200);
      // The node takes the next session as if nothing happened.
      good.script(
        call('submit_plan', { summary: 's', steps: ['x'] }),
        call('finish', { summary: 'nothing to do' }),
        call('submit_review', { approved: true, feedback: 'ok' }),
      );
      const next = await svc.ended(await svc.start('good', 'Nothing'));
      expect(next.status, next.reason).toBe('COMPLETED');
      // A tool call without a name is not a call the adapter can hand on: the step fails, saying so.
      bad.script(call('submit_plan', { summary: 's', steps: ['x'] }), call('', {}));
      const nameless = await svc.ended(await svc.start('bad', 'Call nothing'));
      expect(nameless.status).toBe('FAILED');
      expect(nameless.reason).toBe(
        'coding failed: openai-compatible: bad sent a malformed tool call (no function name)',
      );
    } finally {
      await svc.stop();
    }
  });
});
