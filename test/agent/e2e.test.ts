/**
 * End to end on real git: a repository with a bug and a failing test, the
 * real agent (planner, programmer, reviewer) through the real `openai` SDK
 * against the scripted wire-protocol server, a real local sandbox, the
 * runtime and its HTTP routes. The returned diff must fix a fresh clone.
 */
import { ulid } from 'ulid';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentWork } from '../../agent/agent-work.ts';
import { chatModelFor } from '../../agent/llm/chat-model.ts';
import { agentDeps } from '../../server/agent.ts';
import { loadConfig } from '../../server/config.ts';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { createSecretBox } from '../../kernel/secret-box.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import { createLocalSandboxProvider } from '../../sandbox/local.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { waitFor } from '../support/wait.ts';
import { startOpenAIServer, type OpenAIServer, type ScriptedReply } from './llm/openai-server.ts';
import { GeminiServer } from './llm/gemini-server.ts';

const exec = promisify(execFile);
const KEY = 'sk-test-e2e-SECRET';
let server: OpenAIServer;
let dir: string;
let origin: string;
let stop: (() => Promise<void>) | undefined;
let n = 0;

const call = (name: string, args: unknown): ScriptedReply => ({
  kind: 'completion',
  toolCalls: [{ id: `call_${++n}`, name, arguments: JSON.stringify(args) }],
  usage: { prompt_tokens: 200, completion_tokens: 20 },
});

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
  dir = await mkdtemp(join(tmpdir(), 'swe-e2e-'));
  origin = await makeTestRepo(join(dir, 'origin'), {
    'package.json': '{ "type": "module" }\n',
    'src/add.js': 'export const add = (a, b) => a - b;\n',
    'test.js':
      "import { add } from './src/add.js';\nif (add(2, 3) !== 5) { console.error('FAIL: add(2, 3) = ' + add(2, 3)); process.exit(1); }\nconsole.log('ok');\n",
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

async function service(budget = { maxCalls: 50, maxTokens: 1_000_000 }) {
  const store = new MemoryStore();
  await store.putProfile({
    id: 'p1',
    name: 'scripted',
    isDefault: true,
    provider: 'openai-compatible',
    model: 'scripted',
    apiKey: KEY,
    baseUrl: `${server.url}/v1`,
  });
  const root = join(dir, `ws${++n}`);
  const work = agentWork({
    sandboxes: createLocalSandboxProvider({ root, allowLocalRepos: true }),
    profile: () => store.defaultProfile(),
    makeModel: chatModelFor,
    budget,
  });
  return started(store, work, root);
}

/** The node's own wiring: sealed profiles, each call's profile resolved per role (the caller stores the profiles). */
async function wiredService(budget = { maxCalls: 50, maxTokens: 1_000_000 }) {
  const store = new MemoryStore();
  const profiles = sealedProfiles(store, await createSecretBox('e2e-profiles-secret'));
  const root = join(dir, `ws${++n}`);
  const work = agentWork(
    agentDeps(loadConfig({}).agent, profiles, store, {
      sandboxes: createLocalSandboxProvider({ root, allowLocalRepos: true }),
      budget,
    }),
  );
  return { ...(await started(store, work, root)), profiles };
}

async function started(store: MemoryStore, work: ReturnType<typeof agentWork>, root: string) {
  const lines: string[] = [];
  const svc = await startInProcess({ store, work, lines, allowLocalRepos: true });
  stop = svc.stop;
  return { ...svc, lines, root };
}

const fix = [
  call('edit_file', { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' }),
  call('run_command', { command: 'node test.js' }),
  call('finish', { summary: 'add() now adds' }),
];
const plan = [
  call('read_file', { path: 'src/add.js' }),
  call('submit_plan', { summary: 'Fix add()', steps: ['Make add() add', 'Run node test.js'] }),
];
const review = [
  call('run_command', { command: 'node test.js' }),
  call('submit_review', { approved: true, feedback: 'Tests pass.' }),
];

/** The session once its status is one of `statuses`. */
async function until(
  svc: { call(method: string, path: string): Promise<{ body: any }> },
  id: string,
  statuses: string[],
): Promise<any> {
  return waitFor(
    `session ${id} to be ${statuses.join(' or ')}`,
    async () => {
      const s = (await svc.call('GET', `/agent/sessions/${id}`)).body;
      return statuses.includes(s.status) ? s : undefined;
    },
    30_000,
    50,
  );
}

async function appliesToFreshClone(diff: string): Promise<string> {
  const clone = join(dir, `check${++n}`);
  await exec('git', ['clone', '--quiet', origin, clone]);
  await writeFile(join(clone, 'change.diff'), diff);
  await exec('git', ['apply', 'change.diff'], { cwd: clone });
  const { stdout } = await exec('node', ['test.js'], { cwd: clone });
  return stdout.trim();
}

describe('the agent end to end', () => {
  it('auto mode: plans, fixes the bug, runs the test, is approved; the diff fixes a fresh clone', async () => {
    const svc = await service();
    server.script(...plan, ...fix, ...review);
    const created = await svc.call('POST', '/agent/sessions', {
      goal: 'Make the test pass',
      repo_url: origin,
    });
    expect(created.status).toBe(201);
    const id = created.body.session_id as string;
    const done = await until(svc, id, ['COMPLETED', 'FAILED']);
    expect(done.status, done.reason).toBe('COMPLETED');
    expect(server.pending(), 'every scripted reply was asked for').toBe(0);
    expect(done.result.diff, done.logs.join('\n')).toContain(
      '+export const add = (a, b) => a + b;',
    );
    expect(await appliesToFreshClone(done.result.diff)).toBe('ok');
    expect(done.logs).toEqual(
      expect.arrayContaining([
        'Cloning repo...',
        'PLANNER: submit_plan Fix add()',
        'PROGRAMMER: edit_file src/add.js',
        'PROGRAMMER: run_command node test.js',
        'REVIEWER: run_command node test.js',
      ]),
    );
    expect(await svc.store.getUsage(id)).toMatchObject({
      calls: 7,
      inputTokens: 1400,
      outputTokens: 140,
    });
    expect(done.result).toMatchObject({
      summary: 'add() now adds',
      files_changed: ['src/add.js'],
      review: { approved: true, feedback: 'Tests pass.' },
      usage: { calls: 7, tokens: 1540, cost: null }, // a scripted model has no price
    });
    const transcript = (await svc.store.getTranscript(id, 'programmer')) as {
      role: string;
      content?: string;
    }[];
    expect(
      transcript.find((m) => m.role === 'tool' && m.content?.startsWith('exit code 0')),
    ).toBeDefined();
    // The session's work ended: its sandbox is gone (the result and checkpoint are in the store).
    await waitFor(
      'the workspace to be removed',
      () => !existsSync(join(svc.root, id)) || undefined,
      10_000,
      20,
    );
    // The key reached the provider and nothing else.
    expect(JSON.stringify(done)).not.toContain(KEY);
    expect(svc.lines.join('\n')).not.toContain(KEY);
  });

  it('review mode: the plan waits for approval, then the work completes', async () => {
    const svc = await service();
    server.script(...plan);
    const created = await svc.call('POST', '/agent/sessions', {
      goal: 'Make the test pass',
      repo_url: origin,
      mode: 'review',
    });
    const id = created.body.session_id as string;
    await waitFor(
      'waiting for approval',
      async () =>
        (await svc.call('GET', `/agent/sessions/${id}`)).body.status === 'WAITING_FOR_USER' ||
        undefined,
      30_000,
      50,
    );
    server.script(...fix, ...review);
    expect((await svc.call('POST', `/agent/sessions/${id}/approve`)).status).toBe(202);
    const done = await until(svc, id, ['COMPLETED', 'FAILED']);
    expect(done.status, done.reason).toBe('COMPLETED');
    expect(server.pending(), 'every scripted reply was asked for').toBe(0);
    expect(await appliesToFreshClone(done.result.diff)).toBe('ok');
  });

  it('input while coding is folded into the goal after the coding step, and the planner replans with it', async () => {
    const svc = await service();
    const before = server.requests.length;
    server.script(
      ...plan,
      call('edit_file', { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' }),
      call('run_command', { command: 'sleep 2 && node test.js' }),
      call('finish', { summary: 'add() now adds' }),
      call('read_file', { path: 'src/add.js' }),
      call('submit_plan', {
        summary: 'Keep the fix; nothing else needed',
        steps: ['Check the tests'],
      }),
      call('run_command', { command: 'node test.js' }),
      call('finish', { summary: 'checked' }),
      ...review,
    );
    const id = (
      await svc.call('POST', '/agent/sessions', { goal: 'Make the test pass', repo_url: origin })
    ).body.session_id as string;
    await waitFor(
      'the programmer to run its command',
      () => server.requests.length - before >= 4 || undefined,
      30_000,
      20,
    );
    expect(
      (
        await svc.call('POST', `/agent/sessions/${id}/input`, {
          message: 'Also keep the code style',
        })
      ).status,
    ).toBe(202);
    const done = await until(svc, id, ['COMPLETED', 'FAILED']);
    expect(done.status, done.reason).toBe('COMPLETED');
    expect(server.pending()).toBe(0);
    expect(done.goal).toBe('Make the test pass\n\nUser input: Also keep the code style');
    const planners = server.requests
      .slice(before)
      .filter((r) => r.body.tools.some((t: any) => t.function.name === 'submit_plan'));
    const tasks = planners.map(
      (r) => r.body.messages.find((m: any) => m.role === 'user').content as string,
    );
    expect(tasks.at(0)).not.toContain('User input');
    expect(tasks.at(-1)).toContain('User input: Also keep the code style');
    expect(await appliesToFreshClone(done.result.diff)).toBe('ok');
  });

  it('with Gemini: the same work, and each model turn (thoughtSignature included) goes back verbatim', async () => {
    const gemini = new GeminiServer({ apiKey: 'AIza-e2e-SECRET', models: ['gemini-2.0-flash'] });
    await gemini.start();
    try {
      const svc = await service();
      await svc.store.putProfile({
        id: 'p1',
        name: 'gemini',
        isDefault: true,
        provider: 'gemini',
        model: 'gemini-2.0-flash',
        apiKey: 'AIza-e2e-SECRET',
        baseUrl: gemini.baseUrl,
      });
      let sig = 0;
      const g = (name: string, args: Record<string, unknown>) => ({
        parts: [{ functionCall: { name, args }, thoughtSignature: `sig-${++sig}` }],
        usage: { promptTokenCount: 100, candidatesTokenCount: 10, totalTokenCount: 110 },
      });
      gemini.script(
        g('read_file', { path: 'src/add.js' }),
        g('submit_plan', { summary: 'Fix add()', steps: ['Make add() add'] }),
        g('edit_file', { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' }),
        g('run_command', { command: 'node test.js' }),
        g('finish', { summary: 'add() now adds' }),
        g('run_command', { command: 'node test.js' }),
        g('submit_review', { approved: true, feedback: 'ok' }),
      );
      const id = (
        await svc.call('POST', '/agent/sessions', { goal: 'Make the test pass', repo_url: origin })
      ).body.session_id as string;
      const done = await waitFor(
        'completion',
        async () => {
          const s = (await svc.call('GET', `/agent/sessions/${id}`)).body;
          return s.status === 'COMPLETED' || s.status === 'FAILED' ? s : undefined;
        },
        30_000,
        50,
      );
      expect(done.status, done.reason).toBe('COMPLETED');
      expect(await appliesToFreshClone(done.result.diff)).toBe('ok');
      expect(done.usage).toMatchObject({ calls: 7, tokens: 770 });
      // The programmer's second request carries its first turn exactly as Gemini sent it.
      const second = gemini.requests[3]!.body;
      expect(second.contents).toContainEqual({
        role: 'model',
        parts: [
          {
            functionCall: {
              name: 'edit_file',
              args: { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' },
            },
            thoughtSignature: 'sig-3',
          },
        ],
      });
    } finally {
      await gemini.stop();
    }
  });

  it("a role's own profile: the planner's calls go to its model and server, the other roles' to the session's, each priced by its profile", async () => {
    const gemini = new GeminiServer({
      apiKey: 'AIza-planner-SECRET',
      models: ['gemini-2.0-flash'],
    });
    await gemini.start();
    try {
      const svc = await wiredService();
      await svc.profiles.put({
        id: 'global',
        name: 'global',
        isDefault: true,
        provider: 'openai-compatible',
        model: 'not-this-one',
        apiKey: KEY,
        baseUrl: `${server.url}/v1`,
      });
      await svc.profiles.put({
        id: 'sess',
        name: 'session',
        isDefault: false,
        provider: 'openai-compatible',
        model: 'session-model',
        apiKey: KEY,
        baseUrl: `${server.url}/v1`,
        prices: { inputPerMTok: 1, outputPerMTok: 2 },
      });
      await svc.profiles.put({
        id: 'plan',
        name: 'planner',
        isDefault: false,
        provider: 'gemini',
        model: 'gemini-2.0-flash',
        apiKey: 'AIza-planner-SECRET',
        baseUrl: gemini.baseUrl,
        prices: { inputPerMTok: 10, outputPerMTok: 100 },
      });
      const g = (name: string, args: Record<string, unknown>) => ({
        parts: [{ functionCall: { name, args } }],
        usage: { promptTokenCount: 100, candidatesTokenCount: 10, totalTokenCount: 110 },
      });
      gemini.script(
        g('read_file', { path: 'src/add.js' }),
        g('submit_plan', { summary: 'Fix add()', steps: ['Make add() add', 'Run node test.js'] }),
      );
      server.script(...fix, ...review);
      const before = server.requests.length;
      // The API does not take per-role profiles yet: the session is created in the store, as the API would.
      // Session ids are ULIDs: the API refuses any other (api/validate.ts).
      const id = ulid();
      await svc.store.createSession({
        id,
        goal: 'Make the test pass',
        repo_url: origin,
        mode: 'auto',
        profileId: 'sess',
        roleProfiles: { planner: 'plan' },
      });
      const done = await until(svc, id, ['COMPLETED', 'FAILED']);
      expect(done.status, done.reason).toBe('COMPLETED');
      expect(gemini.pending).toBe(0);
      expect(server.pending()).toBe(0);
      // The planner's two calls went to Gemini, with its model and key, and offered the planner's tools only.
      expect(gemini.requests.map((r) => r.path)).toEqual(
        Array(2).fill('/v1beta/models/gemini-2.0-flash:generateContent'),
      );
      expect(
        gemini.requests.every((r) => r.headers['x-goog-api-key'] === 'AIza-planner-SECRET'),
      ).toBe(true);
      const plannerTools = gemini.requests[0]!.body.tools.flatMap((t: any) =>
        t.functionDeclarations.map((f: any) => f.name),
      );
      expect(plannerTools).toContain('submit_plan');
      // The programmer's and the reviewer's five calls went to the session's profile.
      const others = server.requests.slice(before);
      expect(others.map((r) => r.body.model)).toEqual(Array(5).fill('session-model'));
      const ends = others
        .map((r) => r.body.tools.map((t: any) => t.function.name))
        .map((names: string[]) =>
          names.find((x) => x === 'finish' || x === 'submit_review' || x === 'submit_plan'),
        );
      expect(ends).toEqual(['finish', 'finish', 'finish', 'submit_review', 'submit_review']);
      // Each call priced by its own profile: 2 × (100 × 10 + 10 × 100) + 5 × (200 × 1 + 20 × 2) micro-USD.
      expect(await svc.store.getUsage(id)).toEqual({
        calls: 7,
        inputTokens: 1200,
        outputTokens: 120,
        costMicros: 4000 + 1200,
      });
      expect(await appliesToFreshClone(done.result.diff)).toBe('ok');
    } finally {
      await gemini.stop();
    }
  });

  it('a profile the session named and that was deleted fails the step with a reason naming it and the role', async () => {
    const svc = await wiredService();
    await svc.profiles.put({
      id: 'global',
      name: 'global',
      isDefault: true,
      provider: 'openai-compatible',
      model: 'scripted',
      apiKey: KEY,
      baseUrl: `${server.url}/v1`,
    });
    const before = server.requests.length;
    const id = ulid();
    await svc.store.createSession({
      id,
      goal: 'Make the test pass',
      repo_url: origin,
      mode: 'auto',
      roleProfiles: { planner: 'deleted-profile' },
    });
    const failed = await until(svc, id, ['FAILED']);
    expect(failed.reason).toBe(
      'planning failed: AI profile deleted-profile, chosen for the planner, no longer exists',
    );
    expect(server.requests.length - before).toBe(0); // no other model stood in
  });

  it('a rejected key fails the session with a reason that names the problem and not the key', async () => {
    const svc = await service();
    const wrong = 'sk-wrong-SECRET-999';
    await svc.store.putProfile({
      id: 'p1',
      name: 'scripted',
      isDefault: true,
      provider: 'openai-compatible',
      model: 'scripted',
      apiKey: wrong,
      baseUrl: `${server.url}/v1`,
    });
    const id = (
      await svc.call('POST', '/agent/sessions', { goal: 'Make the test pass', repo_url: origin })
    ).body.session_id as string;
    const failed = await until(svc, id, ['FAILED']);
    expect(failed.reason).toBe(
      'planning failed: openai-compatible: the API key was rejected (401)',
    );
    expect(JSON.stringify(failed)).not.toContain(wrong);
    expect(svc.lines.join('\n')).not.toContain(wrong);
  });

  it('a session budget that runs out stops it with a reason and keeps the partial diff; input with a higher budget goes on', async () => {
    const svc = await service(); // node default: 50 calls
    server.script(...plan, ...fix); // enough for planning and coding, not for the review
    const before = server.requests.length;
    const created = await svc.call('POST', '/agent/sessions', {
      goal: 'Make the test pass',
      repo_url: origin,
      budget: { max_calls: 5 },
    });
    const id = created.body.session_id as string;
    const failed = await until(svc, id, ['FAILED']);
    expect(failed.reason).toMatch(/^reviewing failed: budget exhausted: 5 of 5 LLM calls/);
    expect(failed.usage).toMatchObject({ calls: 5 });
    expect(server.requests.length - before).toBe(5); // the call over the budget was never made
    expect(server.pending()).toBe(0);
    expect(await appliesToFreshClone(failed.partial_diff)).toBe('ok');
    // More budget, and the session goes on: it replans on its workspace, checks, and is reviewed.
    server.script(
      call('read_file', { path: 'src/add.js' }),
      call('submit_plan', { summary: 'The fix is in; check it', steps: ['Run the test'] }),
      call('run_command', { command: 'node test.js' }),
      call('finish', { summary: 'add() now adds' }),
      ...review,
    );
    const more = await svc.call('POST', `/agent/sessions/${id}/input`, {
      message: 'go on',
      budget: { max_calls: 20 },
    });
    expect(more.status).toBe(202);
    const done = await until(svc, id, ['COMPLETED']);
    expect(done.usage.calls).toBe(11);
    // The failed session's workspace was removed; going on re-created it from the checkpoint.
    expect(done.logs).toContain(
      'Re-creating the workspace from the repository and the last checkpoint...',
    );
    expect(await appliesToFreshClone(done.result.diff)).toBe('ok');
  });
});
