/**
 * The local sandbox adapter: one directory per session on this machine,
 * `${root}/${sessionId}`, holding a clone of the session's repository.
 *
 * `create` is idempotent by starting over: an existing workspace for the
 * session is deleted and the repository cloned again (into
 * `${sessionId}.cloning`, renamed into place once complete, so `attach` never
 * sees half a clone). Work kept across a takeover goes through `attach`, or
 * through a checkpoint (`diff()` → `applyDiff()`).
 *
 * The base commit is stored in `.git/swe-base`, which the file tools cannot
 * reach. Each sandbox has its own HOME, `${root}/${sessionId}.home`, so tools
 * that write dotfiles do not write into the repository or the service's home.
 *
 * Commands get a scrubbed environment (no service secrets), a timeout that
 * kills their process group, and capped output. With `isolation`
 * (SANDBOX_ISOLATION) resolving to namespaces, they also run in their own
 * user, PID and mount namespaces (isolation.ts): they cannot see the
 * service's processes, so not its start-up environment, memory or command
 * line either. With `network: 'none'` (SANDBOX_NETWORK) they also get a
 * network namespace of their own and reach no network, this machine's
 * loopback included. They still run as the service's uid on the same file
 * system (and network, unless none): what that user can read (other
 * sessions' workspaces, an ENV_FILE, its home) they can read. Not a boundary
 * for untrusted code: use the daytona adapter for that.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import {
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AppError, badRequest } from '../kernel/errors.ts';
import { redactUrl } from '../kernel/redact.ts';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_OUTPUT_CAP_BYTES,
  runCommand,
  runGit,
  type GitOptions,
} from './exec.ts';
import {
  chooseIsolation,
  type Isolation,
  type IsolationMode,
  type IsolationProbe,
  type NetworkMode,
} from './isolation.ts';
import { directoryBytes, diskBytes, formatBytes } from './disk-usage.ts';
import { confine } from './paths.ts';
import type {
  CommandOptions,
  CommandResult,
  FileEntry,
  Sandbox,
  SandboxProvider,
  SandboxSpec,
  SearchHit,
} from './port.ts';
import { OutputFeed } from './progress.ts';
import { checkRepoUrl } from './repo-url.ts';

export interface LocalSandboxOptions {
  /** Directory holding the workspaces (WORKSPACE_DIR, default `./workspace`). */
  root: string;
  /** Allow `file://` and absolute-path repository URLs (ALLOW_LOCAL_REPOS). */
  allowLocalRepos: boolean;
  /** Cap on a command's combined output; head and tail are kept. Default 64 KiB. */
  outputCapBytes?: number;
  /** Command timeout when the caller gives none. Default 120 s. */
  defaultTimeoutMs?: number;
  /** A clone that takes longer fails (CLONE_TIMEOUT_MS). Default 10 minutes. */
  cloneTimeoutMs?: number;
  /** A clone that grows past this many bytes on disk fails (CLONE_MAX_MB); absent or 0: no limit. */
  cloneMaxBytes?: number;
  /**
   * Most bytes a workspace (the repository with its `.git`, and its HOME) may
   * hold on disk (SANDBOX_MAX_MB): commands are held to it (`runWithinQuota`),
   * writeFile refuses to pass it. Absent or 0: no limit.
   */
  workspaceMaxBytes?: number;
  /**
   * Where commands run (SANDBOX_ISOLATION): `namespaces` (required: without
   * them commands fail), `auto` (namespaces when this machine allows them) or
   * `none`. Default `none`; the service passes its configuration (default `auto`).
   */
  isolation?: IsolationMode;
  /**
   * The network commands reach (SANDBOX_NETWORK): `host` (this machine's) or
   * `none` (a network namespace of their own: nothing, not even this
   * machine's loopback; needs `isolation` resolving to namespaces, else
   * commands fail). Default `host`.
   */
  network?: NetworkMode;
  /** Stands in for the namespace probe (tests). */
  isolationProbe?: () => Promise<IsolationProbe>;
}

/** listFiles lists one directory level, at most this many entries (sorted by name). */
export const LIST_FILES_CAP = 1000;
/** searchCode returns at most this many hits. */
export const SEARCH_HIT_CAP = 200;
/** readFile refuses larger files: the agent should search or run `head`/`sed` instead. */
export const READ_FILE_MAX_BYTES = 1024 * 1024;
const SEARCH_LINE_MAX = 500;
export const DEFAULT_CLONE_TIMEOUT_MS = 10 * 60_000;
/** How often a clone's size is measured while it runs. */
const CLONE_SIZE_POLL_MS = 1000;
/**
 * How often a workspace is measured while a command runs under its quota: every
 * second, or ten times as long as the last measurement took (du spends about
 * 80 ms on a clone with a node_modules of 26 000 files), so the watchdog costs
 * a command at most about a tenth of a core.
 */
const QUOTA_POLL_MS = 1000;
/** diff() refuses a larger change (413, which the finish tool hands to the model) rather than hold more in memory. */
const DIFF_OUTPUT_MAX_BYTES = 256 * 1024 * 1024;
const BASE_FILE = 'swe-base';
// Session ids are ULIDs in practice; no dots, so `${id}.home`/`${id}.cloning` can never be another session.
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;
const GIT_IDENTITY = [
  ['user.name', 'swe-agent'],
  ['user.email', 'swe-agent@localhost'],
  ['commit.gpgsign', 'false'],
] as const;

export function createLocalSandboxProvider(opts: LocalSandboxOptions): SandboxProvider {
  const root = resolve(opts.root);
  const realRoot = async () => {
    await mkdir(root, { recursive: true });
    return realpath(root);
  };

  return {
    kind: 'local',

    async create(spec: SandboxSpec): Promise<Sandbox> {
      checkSessionId(spec.sessionId);
      const url = checkRepoUrl(spec.repoUrl, { allowLocalRepos: opts.allowLocalRepos });
      if (spec.ref !== undefined) checkRef(spec.ref);
      const base = await realRoot();
      const dir = join(base, spec.sessionId);
      const tmp = join(base, `${spec.sessionId}.cloning`);
      const home = join(base, `${spec.sessionId}.home`);
      await Promise.all([
        rm(dir, { recursive: true, force: true }),
        rm(tmp, { recursive: true, force: true }),
        rm(home, { recursive: true, force: true }),
      ]);
      await mkdir(home, { recursive: true });
      try {
        await clone(url, tmp, base, opts, spec.onOutput);
        const git = (args: string[]) => runGit(args, tmp, { home });
        if (spec.ref !== undefined) await checkoutRef(tmp, home, spec.ref);
        const head = (await git(['rev-parse', '--verify', 'HEAD^{commit}'])).stdout.trim();
        for (const [key, value] of GIT_IDENTITY) await git(['config', key, value]);
        await writeFile(join(tmp, '.git', BASE_FILE), `${head}\n`);
        await rename(tmp, dir);
        return openSandbox(spec.sessionId, dir, home, head, opts);
      } catch (err) {
        // No sandbox was made, so no destroy() will come for it: leave neither the half clone nor its HOME.
        await Promise.all([
          rm(tmp, { recursive: true, force: true }),
          rm(home, { recursive: true, force: true }),
        ]);
        throw err;
      }
    },

    async attach(sessionId: string, id: string): Promise<Sandbox | null> {
      if (!SESSION_ID.test(sessionId) || id !== sessionId) return null;
      const base = await realRoot();
      const dir = join(base, sessionId);
      const home = join(base, `${sessionId}.home`);
      let head: string;
      try {
        head = (await readFile(join(dir, '.git', BASE_FILE), 'utf8')).trim();
      } catch {
        return null;
      }
      if (!/^[0-9a-f]{40,64}$/.test(head)) return null;
      await mkdir(home, { recursive: true });
      const known = await runGit(['cat-file', '-e', `${head}^{commit}`], dir, {
        home,
        okExitCodes: [0, 1, 128],
      }).catch(() => null);
      if (known === null || known.exitCode !== 0) return null;
      return openSandbox(sessionId, dir, home, head, opts);
    },

    async destroy(sessionId: string): Promise<void> {
      checkSessionId(sessionId);
      const base = await realRoot();
      await Promise.all(
        ['', '.cloning', '.home'].map((suffix) =>
          rm(join(base, sessionId + suffix), { recursive: true, force: true }),
        ),
      );
    },
  };
}

function checkSessionId(sessionId: string): void {
  if (!SESSION_ID.test(sessionId))
    throw badRequest(
      `session id ${JSON.stringify(sessionId)} is not usable as a workspace name (letters, digits, "_", "-")`,
    );
}

function checkRef(ref: string): void {
  // A ref that looks like an option, or holds bytes git's ref syntax forbids, never reaches git.
  if (
    ref === '' ||
    ref.startsWith('-') ||
    ref.length > 256 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: git refuses control characters in ref names, so does this check
    /[\s\x00-\x1f\x7f~^:?*[\\]|\.\.|@\{/.test(ref)
  ) {
    throw badRequest(`ref ${JSON.stringify(ref)} is not a branch, tag or commit name`, 'ref');
  }
}

/**
 * Clones with the service's HOME (and ssh agent) so its ssh keys and credential
 * helpers work; remote helpers (`ext::`) are off, and `file://` only when allowed.
 * With `onOutput`, git reports its progress, fed to it line by line. A clone
 * is stopped at its time limit, and at its size limit: its `.git` (where the
 * download lands) is measured every second while git runs, the whole work
 * tree once at the end.
 */
async function clone(
  url: string,
  into: string,
  cwd: string,
  opts: LocalSandboxOptions,
  onOutput?: (line: string) => void,
): Promise<void> {
  const allowLocal = opts.allowLocalRepos;
  const serviceHome = process.env['HOME'] ?? cwd;
  const env: Record<string, string> = {};
  if (process.env['SSH_AUTH_SOCK'] !== undefined)
    env['SSH_AUTH_SOCK'] = process.env['SSH_AUTH_SOCK'];
  // The server's paths are nobody's business: "Cloning into 'workspace'...".
  const feed = onOutput
    ? new OutputFeed((line) => onOutput(line.split(into).join('workspace')))
    : undefined;
  const args = [
    '-c',
    'protocol.ext.allow=never',
    '-c',
    `protocol.file.allow=${allowLocal ? 'always' : 'never'}`,
    'clone',
    feed ? '--progress' : '--quiet',
    '--no-hardlinks',
    '--',
    url,
    into,
  ];
  const max = opts.cloneMaxBytes ?? 0;
  const tooLarge = () =>
    new AppError(
      'sandbox_failed',
      502,
      `the repository is larger than the limit of ${formatBytes(max)} (CLONE_MAX_MB)`,
    );
  const sizeLimit = new AbortController();
  let measuring = false;
  const watch =
    max > 0
      ? setInterval(() => {
          if (measuring) return;
          measuring = true;
          void directoryBytes(join(into, '.git'))
            .then((bytes) => {
              if (bytes > max) sizeLimit.abort(tooLarge());
            })
            .finally(() => {
              measuring = false;
            });
        }, CLONE_SIZE_POLL_MS)
      : undefined;
  try {
    await runGit(args, cwd, {
      home: serviceHome,
      env,
      timeoutMs: opts.cloneTimeoutMs ?? DEFAULT_CLONE_TIMEOUT_MS,
      signal: sizeLimit.signal,
      ...(feed ? { onStderr: (c: Buffer) => feed.write('stderr', c) } : {}),
    });
    if (max > 0 && (await directoryBytes(into)) > max) throw tooLarge();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new AppError(
      'sandbox_failed',
      502,
      `cannot clone ${redactUrl(url)}: ${feed ? withoutProgress(why) : why}`,
      { cause: err },
    );
  } finally {
    clearInterval(watch);
    feed?.end();
  }
}

/** git's complaints (`fatal:`, `error:`) without the progress lines around them, when there are any. */
function withoutProgress(message: string): string {
  // runGit words failures `git clone failed (exit N): <stderr>`.
  const at = message.indexOf('): ');
  if (at === -1) return message;
  const complaints = message
    .slice(at + 3)
    .split(/\r\n|\n|\r/)
    .filter((l) => /^(fatal|error|warning):/.test(l.trim()));
  return complaints.length > 0 ? `${message.slice(0, at + 3)}${complaints.join('\n')}` : message;
}

/** A remote branch becomes a local branch of the same name; a tag or commit is checked out detached. */
async function checkoutRef(dir: string, home: string, ref: string): Promise<void> {
  const resolves = async (rev: string) =>
    (
      await runGit(
        ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`],
        dir,
        { home, okExitCodes: [0, 1, 128] },
      )
    ).exitCode === 0;
  if (await resolves(`refs/remotes/origin/${ref}`)) {
    await runGit(['checkout', '--quiet', '-B', ref, `refs/remotes/origin/${ref}`, '--'], dir, {
      home,
    });
  } else if (await resolves(ref)) {
    await runGit(['checkout', '--quiet', '--detach', ref, '--'], dir, { home });
  } else {
    throw badRequest(
      `ref ${JSON.stringify(ref)} is not a branch, tag or commit of the repository`,
      'ref',
    );
  }
}

function openSandbox(
  sessionId: string,
  dir: string,
  home: string,
  baseCommit: string,
  opts: LocalSandboxOptions,
): Sandbox {
  const git = (args: string[], extra: Omit<GitOptions, 'home'> = {}) =>
    runGit(args, dir, { home, ...extra });
  const quota = opts.workspaceMaxBytes ?? 0;
  const workspaceBytes = () => diskBytes([dir, home]);

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
      const isolation = await commandIsolation(opts);
      const run = (script: string, signal?: AbortSignal) =>
        runCommand(script, {
          cwd: dir,
          home,
          timeoutMs: o.timeoutMs ?? opts.defaultTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
          outputCapBytes: opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
          ...(o.onOutput ? { onOutput: o.onOutput } : {}),
          ...(signal ? { signal } : {}),
          isolation,
          network: opts.network ?? 'host',
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

/** What a command runs in; namespaces (or network none) required but unavailable fails the command rather than run it without. */
async function commandIsolation(opts: LocalSandboxOptions): Promise<Isolation> {
  try {
    return (
      await chooseIsolation(opts.isolation ?? 'none', opts.network ?? 'host', opts.isolationProbe)
    ).isolation;
  } catch (err) {
    throw new AppError('sandbox_failed', 500, `cannot run commands: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Runs a command under the workspace quota. The shell's file size limit
 * (`ulimit -f`, RLIMIT_FSIZE: a write past it fails with EFBIG, or kills the
 * writer with SIGXFSZ, "File size limit exceeded") is what is left of the
 * quota, so one huge file stops at once. A watchdog measures the workspace
 * every second and kills the command's group once it holds more than the
 * quota (many files). A last measurement tells the model when the command
 * ended over it. A command that starts over the quota may shrink the
 * workspace, not grow it: its files are held to one block, and the watchdog
 * kills it past the size it started with.
 */
async function runWithinQuota(
  command: string,
  quota: number,
  measure: () => Promise<number>,
  run: (script: string, signal: AbortSignal) => Promise<CommandResult>,
): Promise<CommandResult> {
  const used = await measure();
  const limit = Math.max(quota, used);
  // 512-byte blocks (POSIX: dash, bash as sh, busybox), one more than what is left: a file
  // stopped by the limit leaves the workspace just over the quota, which the last measurement sees.
  const blocks = Math.floor(Math.max(0, quota - used) / 512) + 1;
  const over = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const watch = (delay: number) => {
    timer = setTimeout(() => {
      const t0 = performance.now();
      void measure().then((bytes) => {
        if (done) return;
        if (bytes > limit)
          over.abort(
            new Error(
              `the workspace grew past its limit of ${formatBytes(quota)} (SANDBOX_MAX_MB); delete what you do not need`,
            ),
          );
        else watch(Math.max(QUOTA_POLL_MS, 10 * (performance.now() - t0)));
      });
    }, delay);
  };
  watch(QUOTA_POLL_MS);
  let r: CommandResult;
  try {
    // On the command's own first line: the shell's line numbers in its errors stay the model's.
    r = await run(`ulimit -f ${blocks}; ${command}`, over.signal);
  } finally {
    done = true;
    clearTimeout(timer);
  }
  if (r.killed !== undefined || r.timedOut) return r;
  const limitText = `its limit of ${formatBytes(quota)} (SANDBOX_MAX_MB)`;
  if ((await measure()) > quota)
    return {
      ...r,
      killed: `the workspace is over ${limitText}: writes past it fail ("File too large"); delete what you do not need`,
    };
  // Deleting and writing in one command: the writes were held to the size the command started with.
  if (used > quota)
    return {
      ...r,
      killed: `the workspace was over ${limitText} when the command started, so no file it wrote could grow past 512 bytes; it is under the limit now`,
    };
  return r;
}

/** A byte count for a message: `3.2 MB`, `12.5 KB`, `300 bytes`. */
function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
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
