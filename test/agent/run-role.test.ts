/**
 * The role loop with real parts: the real `openai` SDK through our adapter
 * against the local wire-protocol server playing a scripted model, and a
 * real local sandbox on a real git repository.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Budget } from '../../agent/budget.ts';
import { runRole, type RoleRunOptions } from '../../agent/run-role.ts';
import { createOpenAIChatModel } from '../../agent/llm/openai.ts';
import type { ChatMessage } from '../../agent/llm/port.ts';
import { createLocalSandboxProvider } from '../../sandbox/local.ts';
import type { Sandbox } from '../../sandbox/port.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { startOpenAIServer, type OpenAIServer, type ScriptedReply } from './llm/openai-server.ts';

const KEY = 'sk-test-agent-key';
let server: OpenAIServer;
let dir: string;
let repo: string;
let sandbox: Sandbox;
let n = 0;

const call = (name: string, args: unknown, raw?: string): ScriptedReply => ({
  kind: 'completion',
  toolCalls: [{ id: `call_${++n}`, name, arguments: raw ?? JSON.stringify(args) }],
  usage: { prompt_tokens: 100, completion_tokens: 10 },
});

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
  dir = await mkdtemp(join(tmpdir(), 'swe-role-'));
  repo = await makeTestRepo(join(dir, 'origin'), {
    'src/add.js': 'export const add = (a, b) => a - b;\n',
    'README.md': '# demo\n',
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  const provider = createLocalSandboxProvider({ root: join(dir, 'ws'), allowLocalRepos: true });
  sandbox = await provider.create({ sessionId: `s${++n}`, repoUrl: repo });
});

function options(
  over: Partial<RoleRunOptions> = {},
): RoleRunOptions & { lines: string[]; transcript: ChatMessage[] } {
  const lines: string[] = [];
  const transcript: ChatMessage[] = [];
  return {
    role: 'programmer',
    model: createOpenAIChatModel(
      {
        provider: 'openai-compatible',
        model: 'scripted',
        apiKey: KEY,
        baseUrl: `${server.url}/v1`,
      },
      { timeoutMs: 5000 },
    ),
    sandbox,
    system: 'You are the programmer.',
    task: 'Fix add().',
    budget: new Budget({ maxCalls: 50, maxTokens: 1_000_000 }),
    signal: new AbortController().signal,
    costOf: () => 0.001,
    log: (l) => lines.push(l),
    record: (m) => transcript.push(...m),
    lines,
    transcript,
    ...over,
  };
}

describe('a role run', () => {
  it('edits, runs a command and finishes; every call is charged and logged', async () => {
    server.script(
      call('read_file', { path: 'src/add.js' }),
      call('edit_file', { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' }),
      call('run_command', {
        command:
          'node -e "import(\'./src/add.js\').then(m => process.exit(m.add(2, 2) === 4 ? 0 : 1))"',
      }),
      call('finish', { summary: 'add() adds' }),
    );
    const o = options();
    const out = await runRole(o);
    expect(out.terminal).toMatchObject({ name: 'finish', args: { summary: 'add() adds' } });
    // finish hands on the change it checked: the step stores that one.
    expect(out.terminal.name === 'finish' && out.terminal.diff).toMatch(
      /^diff --git a\/src\/add\.js b\/src\/add\.js\n[\s\S]*\+export const add = \(a, b\) => a \+ b;\n$/,
    );
    expect(await sandbox.readFile('src/add.js')).toBe('export const add = (a, b) => a + b;\n');
    expect(o.budget.spent).toMatchObject({ calls: 4, inputTokens: 400, outputTokens: 40 });
    expect(o.lines).toContain('PROGRAMMER: edit_file src/add.js');
    const toolReplies = o.transcript.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(toolReplies[2]).toMatch(/^exit code 0/);
    // The model saw its tools, and each tool result answers its call.
    const last = server.requests.at(-1)!.body;
    expect(last.tools.map((t: any) => t.function.name)).toEqual([
      'list_files',
      'read_file',
      'search_code',
      'write_file',
      'edit_file',
      'run_command',
      'finish',
    ]);
    expect(last.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: `call_${n - 1}` });
  });

  it('gives bad calls back to the model as tool errors: unknown tool, invalid JSON, schema, path escape', async () => {
    server.script(
      call('delete_everything', {}),
      call('read_file', null, '{"path": '),
      call('write_file', { path: 'x.txt' }),
      call('read_file', { path: '../../etc/passwd' }),
      call('finish', { summary: 'gave up nicely' }),
    );
    const o = options();
    await runRole(o);
    const replies = o.transcript
      .filter((m): m is Extract<ChatMessage, { role: 'tool' }> => m.role === 'tool')
      .map((m) => m.content);
    expect(replies[0]).toMatch(
      /^error: unknown tool "delete_everything" for the programmer; available: list_files/,
    );
    expect(replies[1]).toMatch(/^error: the arguments are not valid JSON/);
    expect(replies[2]).toBe(
      'error: invalid arguments for write_file: arguments.content is required',
    );
    expect(replies[3]).toMatch(/^error: .*\.\.\/\.\.\/etc\/passwd/);
    expect(replies[3]).not.toContain('root:');
  });

  it('a command that never ends is killed at its timeout and the model is told', async () => {
    server.script(
      call('run_command', { command: 'sleep 100', timeout_s: 1 }),
      call('finish', { summary: 'done' }),
    );
    const o = options();
    const t0 = performance.now();
    await runRole(o);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(o.transcript.find((m) => m.role === 'tool')).toMatchObject({
      content: expect.stringMatching(/^timed out after 1 s \(killed\)/),
    });
  });

  it('finish refuses a change over the size limit, naming its largest files; the programmer deletes them and finishes', async () => {
    server.script(
      call('edit_file', { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' }),
      call('run_command', {
        command:
          'mkdir -p build && head -c 150000 /dev/urandom > build/bundle.bin && head -c 40000 /dev/urandom > build/map.bin',
      }),
      call('finish', { summary: 'add() adds' }),
      call('run_command', { command: 'rm -r build' }),
      call('finish', { summary: 'add() adds' }),
    );
    const o = options({ limits: { maxDiffBytes: 100 * 1024 } });
    const out = await runRole(o);
    const replies = o.transcript.filter((m) => m.role === 'tool').map((m) => m.content);
    // Random bytes grow by a quarter in a binary diff (base 85): about 190 KB and 50 KB.
    expect(replies[2]).toMatch(
      /^error: the change is 2\d\d(\.\d)? KB, over the 100 KB limit \(DIFF_MAX_MB\)\. Largest files in it: build\/bundle\.bin \(1\d\d(\.\d)? KB\), build\/map\.bin \(\d\d(\.\d)? KB\), src\/add\.js \(\d+ bytes\)\. Delete generated, downloaded or binary files that are not part of the change \(or add them to \.gitignore\), then call finish again\.$/,
    );
    expect(o.lines).toContainEqual(
      expect.stringMatching(
        /^ {2}refused: the change is 2\d\d(\.\d)? KB, over the 100 KB limit \(DIFF_MAX_MB\)$/,
      ),
    );
    expect(replies[4]).toBe('finished');
    expect(out.terminal).toMatchObject({ name: 'finish', args: { summary: 'add() adds' } });
    const diff = out.terminal.name === 'finish' ? out.terminal.diff : undefined;
    expect(diff).toContain('+export const add = (a, b) => a + b;');
    expect(diff).not.toContain('build/');
  });

  it('the planner has no tool that writes', async () => {
    server.script(
      call('write_file', { path: 'x', content: 'y' }),
      call('submit_plan', { summary: 's', steps: ['one'] }),
    );
    const o = options({ role: 'planner' });
    const out = await runRole(o);
    expect(out.terminal).toEqual({ name: 'submit_plan', args: { summary: 's', steps: ['one'] } });
    expect(o.transcript.find((m) => m.role === 'tool')).toMatchObject({
      content: expect.stringMatching(/^error: unknown tool "write_file" for the planner/),
    });
    await expect(sandbox.readFile('x')).rejects.toThrow();
  });

  it('stops when the same failing call repeats', async () => {
    server.script(...Array.from({ length: 3 }, () => call('read_file', { path: 'missing.txt' })));
    await expect(runRole(options())).rejects.toMatchObject({
      code: 'agent_stuck',
      message: expect.stringMatching(
        /repeated the same failing call 3 times: read_file missing.txt/,
      ),
    });
  });

  it('checks the budget before every call: the call over the limit is not made', async () => {
    server.script(
      call('list_files', {}),
      call('list_files', { path: 'src' }),
      call('finish', { summary: 'never reached' }),
    );
    const before = server.requests.length;
    const o = options({ budget: new Budget({ maxCalls: 2, maxTokens: 1_000_000 }) });
    await expect(runRole(o)).rejects.toMatchObject({
      code: 'budget_exhausted',
      message: expect.stringMatching(/2 of 2 LLM calls/),
    });
    expect(server.requests.length - before).toBe(2);
    expect(server.pending()).toBe(1);
    // The unused reply is still queued: a run with budget left consumes it.
    await runRole(options({ budget: new Budget({ maxCalls: 5, maxTokens: 1_000_000 }) }));
  });

  it('stops on tokens too', async () => {
    server.script(call('list_files', {}));
    const o = options({ budget: new Budget({ maxCalls: 50, maxTokens: 100 }) });
    await expect(runRole(o)).rejects.toMatchObject({
      code: 'budget_exhausted',
      message: expect.stringMatching(/110 of 100 tokens/),
    });
  });
});
