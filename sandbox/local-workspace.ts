/**
 * An open local sandbox: its file tools, commands (under the workspace quota
 * and the isolation the machine allows), the diff and its checkpoint.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppError, badRequest } from '../kernel/errors.ts';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_OUTPUT_CAP_BYTES,
  runCommand,
  runGit,
  type GitOptions,
} from './exec.ts';
import type { Confinement } from './confined.ts';
import { chooseIsolation, type IsolationChoice } from './isolation.ts';
import { diskBytes, formatBytes } from './disk-usage.ts';
import { confine } from './paths.ts';
import type { CommandOptions, FileEntry, Sandbox, SearchHit } from './port.ts';
import {
  type LocalSandboxOptions,
  LIST_FILES_CAP,
  SEARCH_HIT_CAP,
  READ_FILE_MAX_BYTES,
  SEARCH_LINE_MAX,
  DIFF_OUTPUT_MAX_BYTES,
  RESOLV_FILE,
} from './local-options.ts';
import { runWithinQuota, sizeText } from './local-quota.ts';

export function openSandbox(
  sessionId: string,
  dir: string,
  home: string,
  baseCommit: string,
  opts: LocalSandboxOptions,
): Sandbox {
  const tmp = `${dir}.tmp`;
  // The service's git runs confined like the commands, without a network: it never needs one.
  const git = async (args: string[], extra: Omit<GitOptions, 'home'> = {}) =>
    runGit(args, dir, {
      home,
      ...extra,
      confinement: confinementFor(await commandIsolation(opts), dir, home, tmp, opts, true),
    });
  const quota = opts.workspaceMaxBytes ?? 0;
  const workspaceBytes = () => diskBytes([dir, home, tmp]);

  const sandbox: Sandbox = {
    id: sessionId,
    baseCommit,

    async listFiles(path = ''): Promise<FileEntry[]> {
      const p = await confine(dir, path);
      const entries = await readdir(p.abs, { withFileTypes: true }).catch(
        (err: NodeJS.ErrnoException) => {
          throw fsError(err, path);
        },
      );
      const names = entries
        .map((e) => e.name)
        .filter((n) => n !== '.git')
        .sort()
        .slice(0, LIST_FILES_CAP);
      // lstat: a symlink is listed as a file and never followed here.
      return Promise.all(
        names.map(async (name) => {
          const st = await lstat(join(p.abs, name));
          return {
            path: p.rel === '' ? name : `${p.rel}/${name}`,
            type: st.isDirectory() ? 'dir' : 'file',
            size: st.isDirectory() ? 0 : st.size,
          } as const;
        }),
      );
    },

    async readFile(path: string): Promise<string> {
      const p = await confine(dir, path);
      const st = await stat(p.abs).catch((err: NodeJS.ErrnoException) => {
        throw fsError(err, path);
      });
      if (st.isDirectory()) throw badRequest(`${path} is a directory; use listFiles`, 'path');
      if (st.size > READ_FILE_MAX_BYTES)
        throw badRequest(
          `${path} has ${st.size} bytes, more than readFile returns (${READ_FILE_MAX_BYTES}); search it or read parts with a command`,
          'path',
        );
      return readFile(p.abs, 'utf8');
    },

    async writeFile(path: string, content: string): Promise<void> {
      const p = await confine(dir, path);
      if (p.rel === '') throw badRequest('cannot write the repository root', 'path');
      if (quota > 0) {
        const bytes = Buffer.byteLength(content, 'utf8');
        // The file's old content makes room; du counts allocated blocks, so the old size is counted that way too.
        const [used, old] = await Promise.all([
          workspaceBytes(),
          lstat(p.abs).then(
            (st) => (st.isFile() ? st.blocks * 512 : 0),
            () => 0,
          ),
        ]);
        if (used - old + bytes > quota) {
          throw new AppError(
            'payload_too_large',
            413,
            `writeFile ${path}: ${sizeText(bytes)} would take the workspace past its limit of ${formatBytes(quota)} (SANDBOX_MAX_MB); it holds ${sizeText(used)}: delete what you do not need`,
            { field: 'content' },
          );
        }
      }
      await mkdir(dirname(p.abs), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
        throw fsError(err, path);
      });
      // O_NOFOLLOW: a symlink swapped in after the check is refused, not written through.
      const fh = await open(
        p.abs,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
        0o644,
      ).catch((err: NodeJS.ErrnoException) => {
        throw fsError(err, path);
      });
      try {
        await fh.writeFile(content, 'utf8');
      } finally {
        await fh.close();
      }
    },

    async editFile(path: string, oldText: string, newText: string): Promise<void> {
      if (oldText === '')
        throw badRequest(`editFile ${path}: the text to replace is empty`, 'oldText');
      const text = await sandbox.readFile(path);
      const count = text.split(oldText).length - 1;
      if (count !== 1) {
        throw badRequest(
          `editFile ${path}: the text to replace was found ${count} times; it must occur exactly once (add surrounding lines to make it unique)`,
          'oldText',
        );
      }
      const at = text.indexOf(oldText);
      await sandbox.writeFile(path, text.slice(0, at) + newText + text.slice(at + oldText.length));
    },

    async searchCode(pattern: string, path = ''): Promise<SearchHit[]> {
      if (pattern === '') throw badRequest('searchCode: the pattern is empty', 'pattern');
      // A process argument cannot hold a NUL byte: spawn would throw, and the step with it.
      if (pattern.includes('\0'))
        throw badRequest('searchCode: the pattern contains a NUL byte', 'pattern');
      const p = await confine(dir, path);
      // Tracked and untracked (not ignored) files; -I skips binaries; -z keeps odd file names intact.
      const res = await git(
        [
          '--literal-pathspecs',
          'grep',
          '-n',
          '-I',
          '-E',
          '-z',
          '--untracked',
          '--no-color',
          '-e',
          pattern,
          '--',
          p.rel === '' ? '.' : p.rel,
        ],
        {
          okExitCodes: [0, 1, 128],
          cutStdoutAt: SEARCH_HIT_CAP * (SEARCH_LINE_MAX + 300),
        },
      );
      if (res.exitCode === 128)
        throw badRequest(
          `searchCode: ${res.stderr.replace(/^fatal: /, '') || 'invalid pattern'}`,
          'pattern',
        );
      const hits: SearchHit[] = [];
      for (const line of res.stdout.split('\n')) {
        const [file, num, ...rest] = line.split('\0');
        if (file === undefined || num === undefined || rest.length === 0 || !/^\d+$/.test(num))
          continue;
        hits.push({
          path: file,
          line: Number(num),
          text: rest.join('\0').slice(0, SEARCH_LINE_MAX),
        });
        if (hits.length === SEARCH_HIT_CAP) break;
      }
      return hits;
    },

    async runCommand(command: string, o: CommandOptions = {}) {
      if (command.includes('\0'))
        return Promise.reject(
          badRequest('the command contains a NUL byte, which no shell command can', 'command'),
        );
      const c = confinementFor(await commandIsolation(opts), dir, home, tmp, opts, false);
      const run = (script: string, signal?: AbortSignal) =>
        runCommand(script, {
          cwd: dir,
          home,
          timeoutMs: o.timeoutMs ?? opts.defaultTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
          outputCapBytes: opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
          ...(o.onOutput ? { onOutput: o.onOutput } : {}),
          ...(signal ? { signal } : {}),
          isolation: c.isolation,
          network: c.network,
          hidden: c.hidden ?? [],
          ...(c.view ? { view: c.view } : {}),
          ...(c.limits ? { limits: c.limits } : {}),
        });
      return quota > 0 ? runWithinQuota(command, quota, workspaceBytes, run) : run(command);
    },

    /**
     * Stages everything into a throwaway index (a copy of the real one, for its
     * stat cache) and diffs it against the base: new files and deletions are
     * included, ignored files are not, and the repository's own index is untouched.
     */
    async diff(): Promise<string> {
      const index = join(dir, '.git', `swe-diff-index-${randomUUID()}`);
      try {
        // A fresh index holding the base tree, not a copy of the repo's index:
        // a copy is newer than the files, so git trusts its stat data and an
        // edit of the same size in the same second as the checkout goes unseen
        // ("racy git"). Entries read from a tree carry no stat data, so every
        // file's content is compared; tracked files that .gitignore matches stay tracked.
        const env = { GIT_INDEX_FILE: index };
        await git(['read-tree', baseCommit], { env });
        await git(['add', '--all', '--', '.'], { env });
        const res = await git(
          [
            'diff',
            '--cached',
            '--binary',
            '--no-color',
            '--no-ext-diff',
            '--no-textconv',
            '--no-renames',
            '--no-relative',
            '--src-prefix=a/',
            '--dst-prefix=b/',
            baseCommit,
            '--',
          ],
          { env, cutStdoutAt: DIFF_OUTPUT_MAX_BYTES + 1 },
        );
        if (res.cut) {
          throw new AppError(
            'payload_too_large',
            413,
            `the change is larger than ${formatBytes(DIFF_OUTPUT_MAX_BYTES)}; delete generated or binary files (or add them to .gitignore)`,
          );
        }
        return res.stdout;
      } finally {
        await rm(index, { force: true });
        await rm(`${index}.lock`, { force: true });
      }
    },

    async applyDiff(diff: string): Promise<void> {
      if (diff.trim() === '') return;
      try {
        await git(['apply', '--whitespace=nowarn', '-'], { input: diff });
      } catch (err) {
        const why =
          err instanceof Error
            ? err.message.replace(/^git apply failed \(exit \d+\): /, '')
            : String(err);
        throw new AppError(
          'sandbox_failed',
          500,
          `applyDiff: the diff does not apply to session ${sessionId}'s work tree: ${why}`,
          { cause: err },
        );
      }
    },
  };
  return sandbox;
}

/**
 * How a workspace's commands (or, with `forGit`, the service's git calls on
 * it) are confined: the chosen isolation with the sandbox's view and limits.
 * Git gets no network under bubblewrap; under namespaces it gets the
 * commands' (the files are shared there anyway).
 */
export function confinementFor(
  choice: IsolationChoice,
  dir: string,
  home: string,
  tmp: string,
  opts: LocalSandboxOptions,
  forGit: boolean,
): Confinement {
  const network = forGit && choice.isolation === 'bubblewrap' ? 'none' : choice.network;
  const hidden = opts.hiddenPaths ?? [];
  return {
    isolation: choice.isolation,
    network,
    hidden,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(choice.isolation === 'bubblewrap'
      ? {
          view: {
            workspace: dir,
            home,
            tmp,
            readPaths: opts.readPaths ?? [],
            hidden,
            ...(network === 'internet' ? { resolvConf: join(dirname(dir), RESOLV_FILE) } : {}),
          },
        }
      : {}),
  };
}

/** What a command runs in; an isolation (or network) required but unavailable fails the command rather than run it without. */
export async function commandIsolation(opts: LocalSandboxOptions): Promise<IsolationChoice> {
  try {
    return await chooseIsolation(
      opts.isolation ?? 'none',
      opts.network ?? 'host',
      opts.isolationProbes,
      opts.hiddenPaths ?? [],
    );
  } catch (err) {
    throw new AppError('sandbox_failed', 500, `cannot run commands: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function fsError(err: NodeJS.ErrnoException, path: string): AppError {
  if (err.code === 'ENOENT')
    return new AppError('not_found', 404, `no such file or directory: ${path}`);
  if (err.code === 'ENOTDIR')
    return badRequest(`${path}: a component of the path is not a directory`, 'path');
  if (err.code === 'EISDIR') return badRequest(`${path} is a directory`, 'path');
  if (err.code === 'ELOOP')
    return new AppError('sandbox_path', 400, `path ${JSON.stringify(path)} is a symlink`);
  return new AppError('sandbox_failed', 500, `${path}: ${err.message}`, { cause: err });
}
