import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import type { Sandbox, SandboxProvider } from '../../sandbox/port.ts';
import { PROGRESS_LINES_PER_SECOND } from '../../sandbox/progress.ts';

/** The files of the repository every harness must serve at `repoUrl` (one commit). */
export const CONTRACT_REPO_FILES: Record<string, string> = {
  'README.md': '# Contract repo\nhello world\n',
  'src/a.ts':
    "export const greeting = 'hello';\nexport const first = 'dup';\nexport const second = 'dup';\n",
  'src/b.ts': 'export const b = 2;\n',
  'docs/guide.md': 'Guide\nNothing to see.\n',
  '.gitignore': 'ignored/\n',
};

export interface SandboxHarness {
  provider: SandboxProvider;
  /** A repository holding exactly CONTRACT_REPO_FILES in one commit. */
  repoUrl: string;
  cleanup(): Promise<void>;
}

const ESCAPES = [
  '../x',
  '/etc/passwd',
  'a/../../x',
  '.git/config',
  '.git',
  'src/../.git/HEAD',
  '..',
];

/** Shell snippet printing `gone` or `alive` for the pid in `file`; a zombie counts as gone (init may be slow to reap it). */
const pidState = (file: string) =>
  `pid=$(cat ${file}); if [ -r /proc/$pid/stat ]; then st=$(sed 's/.*) //' /proc/$pid/stat | cut -c1); ` +
  `if [ "$st" = Z ]; then echo gone; else echo alive; fi; else kill -0 $pid 2>/dev/null && echo alive || echo gone; fi`;

/**
 * The sandbox contract. Every adapter runs it from a short test file; the
 * agent's tools rely on exactly these semantics.
 */
export function sandboxContract(name: string, makeProvider: () => Promise<SandboxHarness>): void {
  describe(`sandbox contract: ${name}`, () => {
    let h: SandboxHarness;
    const sessions = new Map<string, string | undefined>();

    const fresh = async (sessionId = `c${ulid()}`): Promise<Sandbox> => {
      const sb = await h.provider.create({ sessionId, repoUrl: h.repoUrl });
      sessions.set(sessionId, sb.id);
      return sb;
    };
    const sh = async (sb: Sandbox, cmd: string) => {
      const r = await sb.runCommand(cmd, { timeoutMs: 30_000 });
      expect(r.exitCode, `${cmd}\n${r.output}`).toBe(0);
      return r.output;
    };

    beforeAll(async () => {
      h = await makeProvider();
    });
    afterAll(async () => {
      for (const [sessionId, id] of sessions) await h.provider.destroy(sessionId, id);
      await h.cleanup();
    });

    describe('create', () => {
      it('clones the repository and reports its base commit', async () => {
        const sb = await fresh();
        expect(sb.baseCommit).toMatch(/^[0-9a-f]{40}$/);
        expect((await sh(sb, 'git rev-parse HEAD')).trim()).toBe(sb.baseCommit);
        expect(await sb.readFile('README.md')).toBe(CONTRACT_REPO_FILES['README.md']);
        expect(await sb.diff()).toBe('');
      });

      it('is idempotent per session: creating again starts over from the base', async () => {
        const sessionId = `c${ulid()}`;
        const first = await fresh(sessionId);
        await first.writeFile('scratch.txt', 'work\n');
        const second = await fresh(sessionId);
        expect(second.baseCommit).toBe(first.baseCommit);
        await expect(second.readFile('scratch.txt')).rejects.toThrow();
        expect(await second.diff()).toBe('');
      });

      it('checks out a given ref, and refuses one the repository does not have', async () => {
        const base = (await fresh()).baseCommit;
        const sessionId = `c${ulid()}`;
        const sb = await h.provider.create({ sessionId, repoUrl: h.repoUrl, ref: base });
        sessions.set(sessionId, sb.id);
        expect(sb.baseCommit).toBe(base);
        await expect(
          h.provider.create({ sessionId: `c${ulid()}`, repoUrl: h.repoUrl, ref: 'no-such-branch' }),
        ).rejects.toThrow(/no-such-branch/);
      });

      it('refuses a repository URL that git would run as a command', async () => {
        for (const repoUrl of ['ext::sh -c touch% /tmp/pwned', '-uupload-pack=touch /tmp/x']) {
          await expect(
            h.provider.create({ sessionId: `c${ulid()}`, repoUrl }),
          ).rejects.toMatchObject({ code: 'sandbox_repo_url', status: 400 });
        }
      });
    });

    describe('file tools', () => {
      let sb: Sandbox;
      beforeAll(async () => {
        sb = await fresh();
      });

      it('lists a directory without .git', async () => {
        const root = await sb.listFiles();
        expect(root).toContainEqual({
          path: 'README.md',
          type: 'file',
          size: CONTRACT_REPO_FILES['README.md']!.length,
        });
        expect(root).toContainEqual(expect.objectContaining({ path: 'src', type: 'dir' }));
        expect(root.map((e) => e.path)).not.toContain('.git');
        const src = (await sb.listFiles('src')).map((e) => e.path);
        expect(src).toEqual(expect.arrayContaining(['src/a.ts', 'src/b.ts']));
        expect(await sb.listFiles('src/')).toEqual(await sb.listFiles('src'));
      });

      it('reads, writes (creating parent directories) and overwrites files', async () => {
        expect(await sb.readFile('src/b.ts')).toBe('export const b = 2;\n');
        await sb.writeFile('made/deep/file.txt', 'one\n');
        expect(await sb.readFile('made/deep/file.txt')).toBe('one\n');
        await sb.writeFile('made/deep/file.txt', 'two\n');
        expect(await sb.readFile('made/deep/file.txt')).toBe('two\n');
        expect(await sb.listFiles('made')).toContainEqual(
          expect.objectContaining({ path: 'made/deep', type: 'dir' }),
        );
        expect(await sh(sb, 'cat made/deep/file.txt')).toBe('two\n');
        await expect(sb.readFile('no/such/file.txt')).rejects.toThrow();
      });

      it('edits exactly one occurrence, and refuses zero or several', async () => {
        await sb.writeFile('edit.txt', 'alpha\nbeta\nbeta\n');
        await sb.editFile('edit.txt', 'alpha', 'ALPHA $& $1');
        expect(await sb.readFile('edit.txt')).toBe('ALPHA $& $1\nbeta\nbeta\n');
        await expect(sb.editFile('edit.txt', 'gamma', 'x')).rejects.toMatchObject({
          status: 400,
          message: expect.stringMatching(/\b0 times\b/),
        });
        await expect(sb.editFile('edit.txt', 'beta', 'x')).rejects.toMatchObject({
          status: 400,
          message: expect.stringMatching(/\b2 times\b/),
        });
        expect(await sb.readFile('edit.txt')).toBe('ALPHA $& $1\nbeta\nbeta\n');
      });

      it('searches tracked and new files, with a path filter', async () => {
        expect(await sb.searchCode('greeting')).toEqual([
          { path: 'src/a.ts', line: 1, text: "export const greeting = 'hello';" },
        ]);
        const hel = (await sb.searchCode('hel+o')).map((x) => x.path);
        expect(hel).toEqual(expect.arrayContaining(['README.md', 'src/a.ts']));
        expect(await sb.searchCode('greeting', 'docs')).toEqual([]);
        expect(await sb.searchCode('dup', 'src')).toHaveLength(2);
        await sb.writeFile('fresh/new.txt', 'first line\n--needle-- here\n');
        expect(await sb.searchCode('--needle--')).toEqual([
          { path: 'fresh/new.txt', line: 2, text: '--needle-- here' },
        ]);
        expect(await sb.searchCode('nothing-matches-this-zzz')).toEqual([]);
      });
    });

    describe('path confinement', () => {
      let sb: Sandbox;
      beforeAll(async () => {
        sb = await fresh();
      });

      it.each(ESCAPES)('refuses %j in every file tool', async (path) => {
        const refused = {
          code: 'sandbox_path',
          status: 400,
          message: expect.stringContaining(path),
        };
        await expect(sb.readFile(path)).rejects.toMatchObject(refused);
        await expect(sb.writeFile(path, 'x')).rejects.toMatchObject(refused);
        await expect(sb.editFile(path, 'a', 'b')).rejects.toMatchObject(refused);
        await expect(sb.listFiles(path)).rejects.toMatchObject(refused);
        await expect(sb.searchCode('x', path)).rejects.toMatchObject(refused);
      });

      it('refuses NUL bytes', async () => {
        await expect(sb.readFile('README.md\0.txt')).rejects.toMatchObject({
          code: 'sandbox_path',
          status: 400,
        });
        await expect(sb.writeFile('a\0b', 'x')).rejects.toMatchObject({
          code: 'sandbox_path',
          status: 400,
        });
      });

      it('refuses symlinks that lead out of the workspace or into .git, anywhere along the path', async () => {
        const outside = `/tmp/swe-contract-outside-${ulid()}`;
        await sh(
          sb,
          `ln -s /etc etc-link && ln -s ../.. up && ln -s ${outside} out-file && ln -s .git git-link && ln -s src src-link`,
        );
        const refused = { code: 'sandbox_path', status: 400 };
        await expect(sb.readFile('etc-link/passwd')).rejects.toMatchObject(refused);
        await expect(sb.listFiles('etc-link')).rejects.toMatchObject(refused);
        await expect(sb.writeFile('etc-link/swe-contract', 'x')).rejects.toMatchObject(refused);
        await expect(sb.searchCode('root', 'etc-link')).rejects.toMatchObject(refused);
        await expect(sb.listFiles('up')).rejects.toMatchObject(refused);
        await expect(sb.readFile('git-link/config')).rejects.toMatchObject(refused);
        await expect(sb.writeFile('git-link/hooks/pre-commit', 'x')).rejects.toMatchObject(refused);
        // The final component is a symlink to a missing file outside: writing would create it.
        await expect(sb.writeFile('out-file', 'x')).rejects.toMatchObject(refused);
        expect((await sb.runCommand(`test -e ${outside}`)).exitCode).not.toBe(0);
        // A symlink that stays inside is fine.
        expect(await sb.readFile('src-link/b.ts')).toBe('export const b = 2;\n');
      });
    });

    describe('runCommand', () => {
      let sb: Sandbox;
      beforeAll(async () => {
        sb = await fresh();
      });

      it('runs in the repository root and reports exit code and interleaved output', async () => {
        const r = await sb.runCommand('echo out; echo err >&2; cat README.md; exit 3');
        expect(r).toMatchObject({ exitCode: 3, timedOut: false, truncatedBytes: 0 });
        expect(r.output).toContain('out\n');
        expect(r.output).toContain('err\n');
        expect(r.output).toContain('hello world');
        expect(await sb.runCommand('true')).toEqual({
          exitCode: 0,
          output: '',
          timedOut: false,
          truncatedBytes: 0,
        });
      });

      it('kills a command that never ends when its timeout passes', async () => {
        const t0 = Date.now();
        const r = await sb.runCommand('sleep 1000', { timeoutMs: 1000 });
        expect(r.timedOut).toBe(true);
        expect(r.exitCode).not.toBe(0);
        expect(Date.now() - t0).toBeLessThan(10_000);
      });

      it('kills the whole process group on timeout, children included', async () => {
        const t0 = Date.now();
        const r = await sb.runCommand("sh -c 'sleep 1000 & echo $! > child.pid; exec sleep 1000'", {
          timeoutMs: 1500,
        });
        expect(r.timedOut).toBe(true);
        expect(Date.now() - t0).toBeLessThan(10_000);
        let state = '';
        for (let i = 0; i < 40 && state !== 'gone'; i++) {
          state = (await sh(sb, pidState('child.pid'))).trim();
          if (state !== 'gone') await new Promise((r) => setTimeout(r, 100));
        }
        expect(state).toBe('gone');
      });

      it('hands its output to onOutput a line at a time, before it resolves; the result is the same', async () => {
        const lines: string[] = [];
        const r = await sb.runCommand('echo one; echo two >&2; echo; printf three', {
          timeoutMs: 30_000,
          onOutput: (l) => lines.push(l),
        });
        expect(r).toMatchObject({ exitCode: 0, timedOut: false });
        expect(r.output).toContain('one\n');
        // stdout and stderr are separate pipes on some adapters: their relative order is not fixed.
        expect([...lines].sort()).toEqual(['one', 'three', 'two']);
      });

      it('lets at most PROGRESS_LINES_PER_SECOND lines a second through to onOutput, then says how many it left out', async () => {
        const lines: string[] = [];
        const r = await sb.runCommand('seq 1 500', {
          timeoutMs: 30_000,
          onOutput: (l) => lines.push(l),
        });
        expect(r.output.trim().split('\n')).toHaveLength(500);
        const note = /^… \((\d+) lines omitted\)$/.exec(lines[lines.length - 1]!);
        expect(note, lines.join('\n')).not.toBeNull();
        const shown = lines.slice(0, -1);
        expect(shown.slice(0, 3)).toEqual(['1', '2', '3']);
        expect(shown.length + Number(note![1])).toBe(500);
        // 500 short lines take far less than a second to print, so one window's worth (two at a boundary).
        expect(shown.length).toBeLessThanOrEqual(2 * PROGRESS_LINES_PER_SECOND);
      });

      it('cuts output over the cap, keeping head and tail around a marker', async () => {
        const r = await sb.runCommand(
          "echo START; head -c 3000000 /dev/zero | tr '\\0' a; echo; echo END",
        );
        expect(r.exitCode).toBe(0);
        expect(r.truncatedBytes).toBeGreaterThan(0);
        expect(r.output.length).toBeLessThan(3_000_000);
        expect(r.output.startsWith('START\n')).toBe(true);
        expect(r.output.trimEnd().endsWith('END')).toBe(true);
        expect(r.output).toMatch(
          new RegExp(`\\[\\.\\.\\. ${r.truncatedBytes} bytes cut \\.\\.\\.\\]`),
        );
      });
    });

    describe('diff and checkpoints', () => {
      it('diffs modified, new, deleted and binary files against the base, leaving the index alone', async () => {
        const sb = await fresh();
        await sb.editFile('README.md', 'hello world', 'hello sandbox');
        await sb.writeFile('new/file.txt', 'brand new\n');
        await sb.writeFile('ignored/cache.txt', 'not part of the work\n');
        await sh(sb, "rm src/b.ts && printf '\\000\\001\\002binary' > data.bin");
        const d = await sb.diff();
        expect(d).toContain('diff --git a/README.md b/README.md');
        expect(d).toContain('+hello sandbox');
        expect(d).toMatch(/diff --git a\/new\/file\.txt b\/new\/file\.txt\nnew file mode/);
        expect(d).toMatch(/diff --git a\/src\/b\.ts b\/src\/b\.ts\ndeleted file mode/);
        expect(d).toContain('GIT binary patch');
        expect(d).not.toContain('ignored/cache.txt');
        expect(await sb.diff()).toBe(d);
        // The repository's own index is untouched: nothing staged, new files still untracked.
        expect(await sh(sb, 'git diff --cached --name-only')).toBe('');
        expect(await sh(sb, 'git status --porcelain')).toContain('?? new/');
      });

      it('sees an edit of the same size made right after the clone (no stale stat data: "racy git")', async () => {
        // Same length, same second as the checkout: git must compare contents, not trust size and mtime.
        for (let i = 0; i < 3; i++) {
          const sb = await fresh();
          const text = await sb.readFile('README.md');
          const flipped = text.replace(/[a-z]/, (ch) =>
            ch === 'z' ? 'y' : String.fromCharCode(ch.charCodeAt(0) + 1),
          );
          expect(flipped.length).toBe(text.length);
          await sb.writeFile('README.md', flipped);
          expect(await sb.diff()).toContain('README.md');
        }
      });

      it('round-trips a checkpoint: diff, apply to a fresh sandbox of the base, same diff', async () => {
        const sb = await fresh();
        await sb.editFile('src/a.ts', "'hello'", "'hi'");
        await sb.writeFile('added/x.ts', 'export const x = 1;\n');
        await sh(sb, "rm docs/guide.md && printf '\\000\\377binary' > blob.bin");
        const d = await sb.diff();

        const other = await fresh();
        expect(other.baseCommit).toBe(sb.baseCommit);
        await other.applyDiff(d);
        expect(await other.diff()).toBe(d);
        expect(await other.readFile('added/x.ts')).toBe('export const x = 1;\n');
        await expect(other.readFile('docs/guide.md')).rejects.toThrow();
        expect(await sh(other, 'od -An -tx1 blob.bin')).toBe(await sh(sb, 'od -An -tx1 blob.bin'));
        await other.applyDiff('');
        // Applying twice does not apply.
        await expect(other.applyDiff(d)).rejects.toMatchObject({ code: 'sandbox_failed' });
        await expect(other.applyDiff('not a diff\n')).rejects.toMatchObject({
          code: 'sandbox_failed',
        });
      });
    });

    describe('attach and destroy', () => {
      it('attaches to an existing sandbox and returns null for an unknown one', async () => {
        const sessionId = `c${ulid()}`;
        const sb = await fresh(sessionId);
        await sb.writeFile('kept.txt', 'still here\n');
        const again = await h.provider.attach(sessionId, sb.id);
        expect(again).not.toBeNull();
        expect(again!.id).toBe(sb.id);
        expect(again!.baseCommit).toBe(sb.baseCommit);
        expect(await again!.readFile('kept.txt')).toBe('still here\n');
        expect(await again!.diff()).toBe(await sb.diff());
        expect(await h.provider.attach(`c${ulid()}`, `unknown-${ulid()}`)).toBeNull();
      });

      it('destroys a sandbox; destroying a missing one is fine', async () => {
        const sessionId = `c${ulid()}`;
        const sb = await fresh(sessionId);
        await h.provider.destroy(sessionId, sb.id);
        expect(await h.provider.attach(sessionId, sb.id)).toBeNull();
        await h.provider.destroy(sessionId, sb.id);
        sessions.delete(sessionId);
      });
    });
  });
}
