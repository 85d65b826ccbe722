/**
 * The Daytona adapter through the real `@daytonaio/sdk`, over HTTP, against a
 * local fake of the control plane and toolbox (`daytona-server.ts`) whose
 * sandboxes are real directories: clones, commands and git really run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../kernel/errors.ts';
import { createDaytonaSandboxProvider, SESSION_LABEL } from '../../sandbox/daytona.ts';
import type { Sandbox } from '../../sandbox/port.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { CONTRACT_REPO_FILES, sandboxContract } from './contract.ts';
import { startFakeDaytona, type FakeDaytona } from './daytona-server.ts';

const API_KEY = 'dtn_test_key_4f9a2c7e1b';
let fake: FakeDaytona;
let originDir: string;
let originHead: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const provider = (extra: { apiKey?: string; outputCapBytes?: number } = {}) =>
  createDaytonaSandboxProvider({
    apiKey: extra.apiKey ?? API_KEY,
    serverUrl: fake.url,
    allowLocalRepos: true,
    outputCapBytes: extra.outputCapBytes,
  });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  fake = await startFakeDaytona({ apiKey: API_KEY });
  originDir = await mkdtemp(join(tmpdir(), 'daytona-origin-'));
  git(originDir, 'init', '-q', '-b', 'main');
  await writeFile(join(originDir, 'README.md'), '# demo\nhello world\n');
  await writeFile(join(originDir, 'gone.txt'), 'to be deleted\n');
  await mkdir(join(originDir, 'src'));
  await writeFile(
    join(originDir, 'src', 'util.ts'),
    'export const answer = 42;\nexport const other = 7;\n',
  );
  git(originDir, 'add', '-A');
  git(originDir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');
  originHead = git(originDir, 'rev-parse', 'HEAD');
});

afterAll(async () => {
  await fake?.close();
  if (originDir) await rm(originDir, { recursive: true, force: true });
});

describe('daytona sandbox adapter (real SDK, fake server)', () => {
  let sb: Sandbox;

  it('creates a sandbox labelled with the session and clones the repository', async () => {
    sb = await provider().create({ sessionId: 'sess-1', repoUrl: originDir });
    expect(fake.sandboxes.get(sb.id)?.labels[SESSION_LABEL]).toBe('sess-1');
    expect(sb.baseCommit).toBe(originHead);
    expect(await sb.readFile('README.md')).toBe('# demo\nhello world\n');
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/sandbox')).toBe(true);
    expect(fake.requests.some((r) => r.path === `/toolbox/${sb.id}/git/clone`)).toBe(true);
    expect(fake.requests.every((r) => r.authorized)).toBe(true);
  });

  it('reads, writes, edits, lists and searches files', async () => {
    await sb.writeFile('notes/new.txt', 'brand new\n');
    expect(await sb.readFile('notes/new.txt')).toBe('brand new\n');
    await sb.editFile('src/util.ts', 'answer = 42', 'answer = 43');
    expect(await sb.readFile('src/util.ts')).toContain('answer = 43');
    const ambiguous = await rejection(sb.editFile('src/util.ts', 'export const', 'x'));
    expect(isAppError(ambiguous) && ambiguous.status < 500).toBe(true);
    const missingText = await rejection(sb.editFile('src/util.ts', 'not there', 'x'));
    expect(isAppError(missingText) && missingText.status < 500).toBe(true);
    const missingFile = await rejection(sb.readFile('nope.txt'));
    expect(
      isAppError(missingFile) && missingFile.code === 'sandbox_path' && missingFile.status === 404,
    ).toBe(true);

    const root = await sb.listFiles();
    expect(root.map((e) => e.path)).toEqual(['README.md', 'gone.txt', 'notes', 'src']);
    expect(root.find((e) => e.path === 'src')?.type).toBe('dir');
    expect(root.find((e) => e.path === 'README.md')).toEqual({
      path: 'README.md',
      type: 'file',
      size: 19,
    });
    expect((await sb.listFiles('src')).map((e) => e.path)).toEqual(['src/util.ts']);

    expect(await sb.searchCode('answer = [0-9]+')).toEqual([
      { path: 'src/util.ts', line: 1, text: 'export const answer = 43;' },
    ]);
    expect(await sb.searchCode('brand', 'notes')).toEqual([
      { path: 'notes/new.txt', line: 1, text: 'brand new' },
    ]);
    expect(await sb.searchCode('no-such-text-anywhere')).toEqual([]);
  });

  it('runs a command in the repository root and reports exit code and output', async () => {
    const r = await sb.runCommand('echo out; ls README.md; echo "it\'s $((6*7))" >&2; exit 3');
    expect(r).toMatchObject({ exitCode: 3, timedOut: false, truncatedBytes: 0 });
    expect(r.output).toBe("out\nREADME.md\nit's 42\n");
    // The command travels as an opaque script: no env is sent, and nothing of the key.
    const execs = fake.requests.filter((q) => q.path.endsWith('/process/execute'));
    expect(execs.length).toBeGreaterThan(0);
    for (const q of execs) {
      expect((q.body as { envs?: unknown }).envs).toBeUndefined();
      expect(JSON.stringify(q.body)).not.toContain(API_KEY);
    }
  });

  it('caps long output, keeping head and tail with a marker', async () => {
    const small = await provider({ outputCapBytes: 100 }).attach('sess-1', sb.id);
    const r = await small!.runCommand(
      'echo START; i=0; while [ $i -lt 500 ]; do echo line$i; i=$((i+1)); done; echo END',
    );
    expect(r.exitCode).toBe(0);
    expect(r.truncatedBytes).toBeGreaterThan(0);
    expect(r.output.startsWith('START\n')).toBe(true);
    expect(r.output.endsWith('END\n')).toBe(true);
    expect(r.output).toMatch(/\[\.\.\. \d+ bytes cut \.\.\.\]/);
  });

  it('kills a command that exceeds its timeout and keeps its output so far', async () => {
    const started = Date.now();
    const r = await sb.runCommand('echo before; sleep 10; echo after', { timeoutMs: 700 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.output).toContain('before');
    expect(r.output).not.toContain('after');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses paths that leave the workspace or touch .git', async () => {
    for (const p of ['../outside.txt', '/etc/passwd', 'src/../../x', '.git/config', 'src/.GIT/x']) {
      const err = await rejection(sb.readFile(p));
      expect(isAppError(err) && err.code === 'sandbox_path', p).toBe(true);
      const werr = await rejection(sb.writeFile(p, 'x'));
      expect(isAppError(werr) && werr.code === 'sandbox_path', p).toBe(true);
    }
    const lerr = await rejection(sb.listFiles('..'));
    expect(isAppError(lerr) && lerr.code === 'sandbox_path').toBe(true);
  });

  let checkpoint = '';
  it('diffs new, modified and deleted files against the base commit', async () => {
    await sb.runCommand('rm gone.txt');
    checkpoint = await sb.diff();
    expect(checkpoint).toContain('diff --git a/notes/new.txt b/notes/new.txt\nnew file mode');
    expect(checkpoint).toContain('diff --git a/gone.txt b/gone.txt\ndeleted file mode');
    expect(checkpoint).toContain('-export const answer = 42;\n+export const answer = 43;');
    // The agent's own index is left alone.
    expect((await sb.runCommand('git status --porcelain')).output).toContain('?? notes/');
  });

  it('round-trips a checkpoint into a second sandbox', async () => {
    const other = await provider().create({ sessionId: 'sess-2', repoUrl: originDir });
    expect(other.id).not.toBe(sb.id);
    expect(await other.diff()).toBe('');
    await other.applyDiff(checkpoint);
    expect(await other.diff()).toBe(checkpoint);
    expect(await other.readFile('notes/new.txt')).toBe('brand new\n');
  });

  it('re-attaches after a takeover: same sandbox, same base commit', async () => {
    const again = await provider().attach('sess-1', sb.id);
    expect(again?.id).toBe(sb.id);
    expect(again?.baseCommit).toBe(originHead);
    expect(await again!.readFile('notes/new.txt')).toBe('brand new\n');
    // A stale id falls back to the session label; an unknown session has none.
    expect((await provider().attach('sess-1', 'sbx-gone'))?.id).toBe(sb.id);
    expect(await provider().attach('sess-unknown', 'sbx-gone')).toBeNull();
    // Another session's sandbox id is not this session's sandbox.
    expect((await provider().attach('sess-2', sb.id))?.id).not.toBe(sb.id);
  });

  it('reuses and resets the session sandbox on a second create', async () => {
    const before = fake.requests.filter((r) => r.method === 'POST' && r.path === '/sandbox').length;
    const again = await provider().create({ sessionId: 'sess-2', repoUrl: originDir });
    expect(fake.requests.filter((r) => r.method === 'POST' && r.path === '/sandbox').length).toBe(
      before,
    );
    expect(await again.diff()).toBe('');
  });

  it('destroys the sandbox; destroying it again is fine', async () => {
    await provider().destroy('sess-1', sb.id);
    expect(fake.requests.some((r) => r.method === 'DELETE' && r.path === `/sandbox/${sb.id}`)).toBe(
      true,
    );
    expect(await provider().attach('sess-1', sb.id)).toBeNull();
    await provider().destroy('sess-1', sb.id);
  });

  it('refuses a repository URL the policy does not allow', async () => {
    const p = createDaytonaSandboxProvider({ apiKey: API_KEY, serverUrl: fake.url });
    const err = await rejection(p.create({ sessionId: 'sess-3', repoUrl: originDir }));
    expect(isAppError(err) && err.code === 'sandbox_repo_url').toBe(true);
  });

  it('a wrong API key fails clearly, without the key in the error', async () => {
    const wrongKey = 'dtn_wrong_key_9e8d7c6b5a';
    const err = await rejection(
      provider({ apiKey: wrongKey }).create({ sessionId: 'sess-4', repoUrl: originDir }),
    );
    expect(isAppError(err) && err.code === 'sandbox_failed').toBe(true);
    const e = err as Error;
    expect(e.message).toContain('401');
    expect(e.message).toContain('DAYTONA_API_KEY');
    for (const text of [
      e.message,
      JSON.stringify(e),
      String(e.stack),
      JSON.stringify((e as { cause?: unknown }).cause ?? null),
    ]) {
      expect(text).not.toContain(wrongKey);
      expect(text).not.toContain(API_KEY);
    }
    expect(fake.requests.some((r) => !r.authorized)).toBe(true);
  });
});

describe('daytona path confinement inside the sandbox', () => {
  let sb: Sandbox;
  const execCount = () =>
    fake.requests.filter((r) => r.path === `/toolbox/${sb.id}/process/execute`).length;
  const refused = async (p: Promise<unknown>, path: string, why: RegExp) => {
    const err = await rejection(p);
    expect(isAppError(err) && err.code === 'sandbox_path' && err.status === 400, String(err)).toBe(
      true,
    );
    expect((err as Error).message).toContain(JSON.stringify(path));
    expect((err as Error).message).toMatch(why);
  };

  beforeAll(async () => {
    sb = await provider().create({ sessionId: 'sess-links', repoUrl: originDir });
    const r = await sb.runCommand(
      'ln -s /etc etc-link && ln -s src src-link && ln -s src/util.ts util-link && ln -s src/../.git git-via && ln -s loop-b loop-a && ln -s loop-a loop-b ' +
        `&& mkdir -p "odd dir" && printf x > "odd dir/it's q .txt" && ln -s "odd dir" odd-link && ln -s missing-in-repo dangling`,
    );
    expect(r.exitCode, r.output).toBe(0);
  });
  afterAll(async () => {
    await provider().destroy('sess-links', sb?.id);
  });

  it('refuses escapes with the same messages as the local adapter, naming the path', async () => {
    await refused(
      sb.readFile('etc-link/passwd'),
      'etc-link/passwd',
      /points outside the workspace/,
    );
    await refused(sb.writeFile('git-via/config', 'x'), 'git-via/config', /resolves into \.git/);
    await refused(sb.listFiles('git-via'), 'git-via', /resolves into \.git/);
    await refused(sb.readFile('git-via'), 'git-via', /resolves into \.git/);
    await refused(sb.readFile('loop-a'), 'loop-a', /dangling symlink/);
    await refused(sb.writeFile('dangling', 'x'), 'dangling', /dangling symlink/);
    await refused(
      sb.writeFile('dangling/below.txt', 'x'),
      'dangling/below.txt',
      /dangling symlink/,
    );
    await refused(sb.searchCode('root', 'etc-link/'), 'etc-link/', /points outside the workspace/);
    expect((await sb.runCommand('test -e missing-in-repo')).exitCode).not.toBe(0);
  });

  it('works through symlinks that stay inside, on the resolved path', async () => {
    expect(await sb.readFile('src-link/util.ts')).toContain('answer = 42');
    expect((await sb.listFiles('src-link')).map((e) => e.path)).toEqual(['src/util.ts']);
    expect(await sb.searchCode('answer', 'src-link')).toEqual([
      { path: 'src/util.ts', line: 1, text: 'export const answer = 42;' },
    ]);
    await sb.editFile('util-link', 'answer = 42', 'answer = 44');
    expect(await sb.readFile('src/util.ts')).toContain('answer = 44');
    expect((await sb.runCommand('test -L util-link')).exitCode).toBe(0);
    expect(await sb.readFile(`odd-link/it's q .txt`)).toBe('x');
    await sb.writeFile('odd-link/new name .txt', 'y');
    expect((await sb.runCommand('cat "odd dir/new name .txt"')).output).toBe('y');
  });

  it('costs one round trip per file operation, none for the root or for a search', async () => {
    let before = execCount();
    await sb.readFile('README.md');
    expect(execCount() - before).toBe(1);
    before = execCount();
    await sb.editFile('README.md', 'hello world', 'hello there');
    expect(execCount() - before).toBe(1);
    before = execCount();
    await sb.listFiles();
    expect(execCount() - before).toBe(0);
    before = execCount();
    await sb.searchCode('hello', 'src-link');
    expect(execCount() - before).toBe(1);
    before = execCount();
    await rejection(sb.readFile('../x'));
    expect(execCount() - before).toBe(0);
  });
});

// The shared contract, against its own fake server and a repository of CONTRACT_REPO_FILES.
sandboxContract('daytona', async () => {
  const server = await startFakeDaytona({ apiKey: API_KEY });
  const dir = await mkdtemp(join(tmpdir(), 'daytona-contract-'));
  const repoUrl = await makeTestRepo(join(dir, 'origin'), CONTRACT_REPO_FILES);
  const provider = createDaytonaSandboxProvider({
    apiKey: API_KEY,
    serverUrl: server.url,
    allowLocalRepos: true,
  });
  return {
    provider,
    repoUrl,
    async cleanup() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
