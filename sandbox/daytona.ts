/**
 * The Daytona adapter: one remote Daytona sandbox per session, driven through
 * the official SDK. The repository is cloned into `<workDir>/repo`; the base
 * commit is pinned as the ref `refs/swe-agent/base` inside that clone, so a
 * node that takes a session over recovers it from the sandbox itself (and the
 * ref keeps the base reachable whatever the agent does to its branches).
 *
 * Paths are confined as in the local adapter (`sandbox/paths.ts`): first
 * textually here (`normalizeToolPath`), then inside the sandbox, where the
 * files live: one script per file operation walks the path component by
 * component, follows every existing symlink and answers the resolved path, or
 * refuses one that leaves the repository, reaches into `.git` or dangles. The
 * operation then uses the resolved path. (The check and the operation are two
 * calls, so a command running concurrently in the sandbox could swap a
 * component in between; the agent's tools run one at a time.)
 */
import { Daytona, type FileInfo, type Sandbox as DaytonaSandbox } from '@daytonaio/sdk';
import { AppError, badRequest, isAppError } from '../kernel/errors.ts';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_OUTPUT_CAP_BYTES, OutputCollector } from './exec.ts';
import { normalizeToolPath } from './paths.ts';
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
import { cutSecret } from '../kernel/redact.ts';

export interface DaytonaProviderOptions {
  apiKey: string;
  serverUrl: string;
  target?: string;
  /** Base image for new sandboxes; Daytona's default snapshot when absent. */
  image?: string;
  allowLocalRepos?: boolean;
  outputCapBytes?: number;
  defaultTimeoutMs?: number;
}

export const SESSION_LABEL = 'swe-agent/session';
const BASE_REF = 'refs/swe-agent/base';
// The service's own git calls must not run hooks or an fsmonitor the agent may have configured.
const GIT = 'git -c core.hooksPath=/dev/null -c core.fsmonitor=false';
const SEARCH_MAX_HITS = 2000;
// Seconds of grace the daemon's own timeout gives the in-sandbox `timeout` before it kills the shell.
const DAEMON_TIMEOUT_GRACE_S = 5;
const SERVICE_CALL_TIMEOUT_S = 300;
// Exit code of the in-sandbox path check when it refuses a path; its output is then one of REFUSALS' keys.
const PATH_REFUSED = 86;
// Worded as `sandbox/paths.ts` words them.
const REFUSALS: Record<string, string> = {
  dangling: 'goes through a dangling symlink',
  outside: 'goes through a symlink that points outside the workspace',
  git: 'resolves into .git, which the sandbox tools do not touch',
  leaves: 'leaves the workspace',
};

export function createDaytonaSandboxProvider(opts: DaytonaProviderOptions): SandboxProvider {
  const redact = (s: string) => cutSecret(s, opts.apiKey);
  const fail = (what: string, err: unknown): AppError => {
    if (isAppError(err)) return err;
    const status = (err as { statusCode?: number }).statusCode;
    const raw = redact(err instanceof Error ? err.message : String(err));
    const hint = status === 401 || status === 403 ? ' (check DAYTONA_API_KEY)' : '';
    // No `cause`: SDK errors carry request details, and the key must not travel with the error.
    return new AppError(
      'sandbox_failed',
      502,
      `Daytona: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${raw}${hint}`,
    );
  };
  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw fail(what, err);
    }
  };

  let client: Daytona | undefined;
  const daytona = (): Daytona => {
    // Built lazily so a bad key or URL surfaces as a sandbox error, not at startup.
    client ??= guard0(
      () =>
        new Daytona({
          apiKey: opts.apiKey,
          apiUrl: opts.serverUrl,
          ...(opts.target ? { target: opts.target } : {}),
          // Polling instead of the SDK's websocket event stream: one less long-lived connection per node.
          useDeprecatedPolling: true,
          otelEnabled: false,
        }),
    );
    return client;
  };
  const guard0 = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw fail('configuring the client', err);
    }
  };

  const findBySession = (sessionId: string) =>
    guard('listing sandboxes', async () => {
      for await (const sb of daytona().list({ labels: { [SESSION_LABEL]: sessionId } })) return sb;
      return null;
    });

  const getById = (id: string) =>
    guard('getting the sandbox', async () => {
      try {
        return await daytona().get(id);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return null;
        throw err;
      }
    });

  const ensureStarted = (sb: DaytonaSandbox) =>
    guard('starting the sandbox', async () => {
      // Daytona stops idle sandboxes; a taken-over session must wake its own up.
      if (sb.state !== 'started') await sb.start(120);
    });

  const open = async (sb: DaytonaSandbox, baseCommit: string, repoDir: string): Promise<Sandbox> =>
    new DaytonaRepo(sb, baseCommit, repoDir, {
      fail,
      outputCapBytes: opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
      defaultTimeoutMs: opts.defaultTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    });

  const repoDirOf = (sb: DaytonaSandbox) =>
    guard(
      'reading the work dir',
      async () => `${(await sb.getWorkDir())!.replace(/\/+$/, '')}/repo`,
    );

  return {
    kind: 'daytona',

    async create(spec: SandboxSpec): Promise<Sandbox> {
      const url = checkRepoUrl(spec.repoUrl, { allowLocalRepos: opts.allowLocalRepos ?? false });
      let sb = await findBySession(spec.sessionId);
      if (sb) {
        await ensureStarted(sb);
      } else {
        const labels = { [SESSION_LABEL]: spec.sessionId };
        const image = opts.image;
        sb = await guard('creating the sandbox', () =>
          image
            ? daytona().create({ image, labels }, { timeout: 300 })
            : daytona().create({ labels }, { timeout: 300 }),
        );
      }
      const repoDir = await repoDirOf(sb);
      const probe = new DaytonaRepo(sb, '', repoDir, {
        fail,
        outputCapBytes: Infinity,
        defaultTimeoutMs: 0,
      });
      // Reuse means reset: whatever a previous attempt left behind is thrown away before cloning again.
      await probe.script(`rm -rf ${q(repoDir)}`, 'clearing the old clone');
      const isCommit = spec.ref !== undefined && /^[0-9a-f]{7,40}$/i.test(spec.ref);
      await guard('cloning the repository', () =>
        sb.git.clone(
          url,
          repoDir,
          isCommit ? undefined : spec.ref,
          isCommit ? spec.ref : undefined,
        ),
      );
      const out = await probe.script(
        `cd ${q(repoDir)} && ${GIT} update-ref ${BASE_REF} HEAD && ${GIT} rev-parse ${BASE_REF}`,
        'recording the base commit',
      );
      return open(sb, out.trim(), repoDir);
    },

    async attach(sessionId: string, id: string): Promise<Sandbox | null> {
      let sb = await getById(id);
      // An id that now names another session's sandbox is as good as gone.
      if (sb && sb.labels?.[SESSION_LABEL] !== sessionId) sb = null;
      sb ??= await findBySession(sessionId);
      if (!sb) return null;
      await ensureStarted(sb);
      const repoDir = await repoDirOf(sb);
      const probe = new DaytonaRepo(sb, '', repoDir, {
        fail,
        outputCapBytes: Infinity,
        defaultTimeoutMs: 0,
      });
      const r = await probe.exec(
        `cd ${q(repoDir)} && ${GIT} rev-parse --verify --quiet '${BASE_REF}^{commit}'`,
        SERVICE_CALL_TIMEOUT_S,
        'reading the base commit',
      );
      // No clone or no base: the sandbox cannot continue the session.
      if (r.exitCode !== 0) return null;
      return open(sb, r.output.trim(), repoDir);
    },

    async destroy(sessionId: string, id?: string): Promise<void> {
      const found = new Map<string, DaytonaSandbox>();
      if (id !== undefined) {
        const sb = await getById(id);
        if (sb && sb.labels?.[SESSION_LABEL] === sessionId) found.set(sb.id, sb);
      }
      const byLabel = await findBySession(sessionId);
      if (byLabel) found.set(byLabel.id, byLabel);
      for (const sb of found.values()) {
        await guard('deleting the sandbox', async () => {
          try {
            await daytona().delete(sb);
          } catch (err) {
            if ((err as { statusCode?: number }).statusCode !== 404) throw err;
          }
        });
      }
    },
  };
}

interface RepoDeps {
  fail: (what: string, err: unknown) => AppError;
  outputCapBytes: number;
  defaultTimeoutMs: number;
}

class DaytonaRepo implements Sandbox {
  readonly id: string;
  readonly baseCommit: string;
  readonly #sb: DaytonaSandbox;
  readonly #dir: string;
  readonly #deps: RepoDeps;

  constructor(sb: DaytonaSandbox, baseCommit: string, dir: string, deps: RepoDeps) {
    this.id = sb.id;
    this.baseCommit = baseCommit;
    this.#sb = sb;
    this.#dir = dir;
    this.#deps = deps;
  }

  /** Runs a shell script in the sandbox; answers the daemon's exit code and combined output. */
  async exec(
    script: string,
    timeoutS: number,
    what: string,
  ): Promise<{ exitCode: number | null; output: string; daemonTimedOut: boolean }> {
    try {
      const r = await this.#sb.process.executeCommand(
        wrapScript(script),
        undefined,
        undefined,
        timeoutS,
      );
      return { exitCode: r.exitCode ?? null, output: r.result ?? '', daemonTimedOut: false };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 408)
        return { exitCode: null, output: '', daemonTimedOut: true };
      throw this.#deps.fail(what, err);
    }
  }

  /** `exec` for the service's own steps: a non-zero exit is a failure. */
  async script(script: string, what: string): Promise<string> {
    const r = await this.exec(script, SERVICE_CALL_TIMEOUT_S, what);
    if (r.exitCode !== 0) {
      throw new AppError(
        'sandbox_failed',
        502,
        `Daytona: ${what} failed (exit ${r.exitCode ?? 'timeout'}): ${r.output.trim().slice(-2000)}`,
      );
    }
    return r.output;
  }

  #abs(rel: string): string {
    return rel === '' ? this.#dir : `${this.#dir}/${rel}`;
  }

  /**
   * Confines a tool path: the textual checks here, then (unless it is the root)
   * one round trip resolving its symlinks inside the sandbox. Answers the
   * resolved path relative to the repository root ('' for the root itself).
   */
  async #confine(path: string): Promise<string> {
    const rel = normalizeToolPath(path);
    if (rel === '') return '';
    // base64: the resolved name travels byte for byte, trailing spaces and newlines included.
    const script = `${confineScript(this.#dir, rel)}\nprintf 'ok:'\nprintf '%s' "$r" | base64 | tr -d '\\n'`;
    const r = await this.exec(script, SERVICE_CALL_TIMEOUT_S, `checking ${rel}`);
    if (r.exitCode === PATH_REFUSED) throw refusal(path, r.output);
    const out = r.output.trim();
    if (r.exitCode !== 0 || !out.startsWith('ok:')) {
      throw new AppError(
        'sandbox_failed',
        502,
        `Daytona: checking ${rel} failed (exit ${r.exitCode ?? 'timeout'}): ${out.slice(-2000)}`,
      );
    }
    return Buffer.from(out.slice(3), 'base64').toString('utf8');
  }

  async listFiles(path?: string): Promise<FileEntry[]> {
    const shown = path ?? '';
    const rel = await this.#confine(shown);
    let infos: FileInfo[];
    try {
      infos = await this.#sb.fs.listFiles(this.#abs(rel));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404)
        throw new AppError('sandbox_path', 404, `no such directory: ${shown || '.'}`);
      throw this.#deps.fail(`listing ${shown || '.'}`, err);
    }
    return infos
      .filter((f) => f.name.toLowerCase() !== '.git')
      .map(
        (f): FileEntry => ({
          path: rel === '' ? f.name : `${rel}/${f.name}`,
          type: f.isDir ? 'dir' : 'file',
          size: f.isDir ? 0 : f.size,
        }),
      )
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Confines a path that must name a file (not the root). */
  async #confineFile(path: string): Promise<string> {
    const notRoot = () =>
      new AppError('sandbox_path', 400, 'the repository root is a directory, not a file');
    if (normalizeToolPath(path) === '') throw notRoot();
    const rel = await this.#confine(path);
    if (rel === '') throw notRoot();
    return rel;
  }

  async #download(path: string, rel: string): Promise<string> {
    try {
      const buf = await this.#sb.fs.downloadFile(this.#abs(rel));
      return buf.toString('utf8');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404)
        throw new AppError('sandbox_path', 404, `no such file: ${path}`);
      throw this.#deps.fail(`reading ${path}`, err);
    }
  }

  async #upload(path: string, rel: string, content: string): Promise<void> {
    try {
      await this.#sb.fs.uploadFile(Buffer.from(content, 'utf8'), this.#abs(rel));
    } catch (err) {
      throw this.#deps.fail(`writing ${path}`, err);
    }
  }

  async readFile(path: string): Promise<string> {
    return this.#download(path, await this.#confineFile(path));
  }

  async writeFile(path: string, content: string): Promise<void> {
    await this.#upload(path, await this.#confineFile(path), content);
  }

  async editFile(path: string, oldText: string, newText: string): Promise<void> {
    if (oldText === '') throw badRequest('old_text must not be empty');
    // One check for the read and the write: both use the same resolved path.
    const rel = await this.#confineFile(path);
    const text = await this.#download(path, rel);
    const first = text.indexOf(oldText);
    let count = 0;
    for (let at = first; at !== -1; at = text.indexOf(oldText, at + oldText.length)) count++;
    if (count !== 1) {
      const hint = count === 0 ? 'nothing was changed' : 'include more context to make it unique';
      throw badRequest(`old_text occurs ${count} times in ${path}, not once; ${hint}`);
    }
    await this.#upload(
      path,
      rel,
      text.slice(0, first) + newText + text.slice(first + oldText.length),
    );
  }

  async searchCode(pattern: string, path?: string): Promise<SearchHit[]> {
    const rel = normalizeToolPath(path ?? '');
    const script = [
      // The path check runs in the same script as the search: no extra round trip.
      rel === '' ? 'r=' : confineScript(this.#dir, rel),
      `cd ${q(this.#dir)} || exit 125`,
      'out=$(mktemp) && err=$(mktemp) || exit 125',
      // -z: NUL after path and line number, so paths with ':' parse; tracked and untracked, not ignored.
      // --literal-pathspecs: the resolved path is a path, not a glob.
      `${GIT} --literal-pathspecs grep -n -z -I -E --untracked --no-color -e ${q(pattern)} -- "\${r:-.}" >"$out" 2>"$err"`,
      'rc=$?',
      `if [ $rc -le 1 ]; then head -n ${SEARCH_MAX_HITS} "$out"; else cat "$err"; fi`,
      'rm -f "$out" "$err"',
      'exit $rc',
    ].join('\n');
    const r = await this.exec(script, SERVICE_CALL_TIMEOUT_S, 'searching the code');
    if (r.exitCode === PATH_REFUSED) throw refusal(path ?? '', r.output);
    if (r.exitCode === 1) return [];
    if (r.exitCode !== 0) throw badRequest(`search failed: ${r.output.trim().slice(0, 500)}`);
    const hits: SearchHit[] = [];
    for (const line of r.output.split('\n')) {
      const [file, num, ...rest] = line.split('\0');
      if (file === undefined || num === undefined || rest.length === 0) continue;
      hits.push({ path: file, line: Number(num), text: rest.join('\0') });
    }
    return hits;
  }

  /**
   * The SDK's `executeCommand` answers only when the command has ended: the
   * `onOutput` lines come then, at once (rate limit and all), not as it runs.
   */
  async runCommand(command: string, opts: CommandOptions = {}): Promise<CommandResult> {
    const timeoutMs = opts.timeoutMs ?? this.#deps.defaultTimeoutMs;
    const seconds = (Math.max(timeoutMs, 1) / 1000).toFixed(3);
    const run = `/bin/sh -c ${q(command)} </dev/null`;
    const script = [
      // One stream, so stdout and stderr interleave as produced.
      'exec 2>&1',
      `cd ${q(this.#dir)} || exit 125`,
      // Only what a build needs; the service's environment never reaches the sandbox.
      'export GIT_TERMINAL_PROMPT=0 CI=true',
      // `timeout` kills the command's whole process group and keeps the output so far; the daemon's own timeout is the fallback.
      `if command -v timeout >/dev/null 2>&1; then timeout -k 1 ${seconds} ${run}; else ${run}; fi`,
    ].join('\n');
    const started = Date.now();
    const r = await this.exec(
      script,
      Math.ceil(timeoutMs / 1000) + DAEMON_TIMEOUT_GRACE_S,
      'running a command',
    );
    // 124 is `timeout`'s own code, 137 its SIGKILL after the grace second; only past the deadline do they mean a timeout.
    const timedOut =
      r.daemonTimedOut ||
      ((r.exitCode === 124 || r.exitCode === 137) && Date.now() - started >= timeoutMs);
    const out = new OutputCollector(this.#deps.outputCapBytes);
    out.push(Buffer.from(r.output, 'utf8'));
    const { output, truncatedBytes } = out.result();
    if (opts.onOutput) {
      const feed = new OutputFeed(opts.onOutput);
      feed.write('stdout', output);
      feed.end();
    }
    return { exitCode: timedOut ? null : r.exitCode, output, timedOut, truncatedBytes };
  }

  async diff(): Promise<string> {
    const script = [
      `cd ${q(this.#dir)} || exit 125`,
      // A throwaway index: `git add -A` there sees new files without touching the agent's own index.
      // It starts empty rather than as a copy of .git/index: a copy gets a new mtime, which defeats git's
      // racy-clean check and can hide a same-size edit made in the same second as the last index write.
      'export GIT_INDEX_FILE="$PWD/.git/swe-agent-diff-index"',
      'rm -f "$GIT_INDEX_FILE"',
      'err=$(mktemp) || exit 125',
      `${GIT} add -A 2>"$err" && ${GIT} diff --cached --binary --no-color --no-ext-diff ${q(this.baseCommit)} 2>"$err"`,
      'rc=$?',
      'if [ $rc -ne 0 ]; then cat "$err"; fi',
      'rm -f "$err" "$GIT_INDEX_FILE"',
      'exit $rc',
    ].join('\n');
    return this.script(script, 'computing the diff');
  }

  async applyDiff(diff: string): Promise<void> {
    if (diff.trim() === '') return;
    const patch = `${this.#dir}/.git/swe-agent-checkpoint.patch`;
    try {
      await this.#sb.fs.uploadFile(Buffer.from(diff, 'utf8'), patch);
    } catch (err) {
      throw this.#deps.fail('uploading the checkpoint', err);
    }
    await this.script(
      `cd ${q(this.#dir)} && ${GIT} apply --binary --whitespace=nowarn ${q(patch)} && rm -f ${q(patch)}`,
      'applying the checkpoint',
    );
  }
}

function refusal(path: string, output: string): AppError {
  const why = REFUSALS[output.trim()] ?? 'cannot be checked';
  return new AppError('sandbox_path', 400, `path ${JSON.stringify(path)} ${why}`);
}

/**
 * A POSIX sh fragment doing in the sandbox what `confine` in `sandbox/paths.ts`
 * does locally, for the normalized, non-empty path `rel`: the repository root is
 * resolved, then each component in turn. An existing symlink is followed to its
 * real path, which must stay inside the root; a dangling one (or a loop) is
 * refused, wherever it is along the path; the first component that does not
 * exist ends the walk, the rest is appended as it is. No resolved prefix may
 * touch `.git` (any case). On success `$r` holds the resolved path relative to
 * the root ('' for the root); on refusal it prints a key of REFUSALS and exits
 * PATH_REFUSED.
 */
function confineScript(dir: string, rel: string): string {
  return [
    `root=$(cd -P ${q(dir)} 2>/dev/null && pwd -P) || { echo 'no repository'; exit 125; }`,
    `refuse() { printf '%s' "$1"; exit ${PATH_REFUSED}; }`,
    'inside() { [ "$1" = "$root" ] && return 0; case "$1" in "$root"/*) return 0;; esac; return 1; }',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    'relof() { if [ "$1" = "$root" ]; then r=; else r=${1#"$root"/}; fi; }',
    'isgit() { case "/$1/" in */.[Gg][Ii][Tt]/*) return 0;; esac; return 1; }',
    'cur=$root',
    `set -- ${rel.split('/').map(q).join(' ')}`,
    'while [ $# -gt 0 ]; do',
    '  n=$cur/$1; shift',
    '  if [ -L "$n" ]; then',
    // -e follows the whole chain: false for a dangling symlink or a loop.
    '    [ -e "$n" ] || refuse dangling',
    // The trailing '.' keeps a target's own trailing newlines from being eaten by $(...).
    '    t=$(readlink -f "$n" 2>/dev/null && echo .) || refuse dangling',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    '    t=${t%??}',
    '    inside "$t" || refuse outside',
    '    cur=$t',
    '  elif [ -e "$n" ]; then',
    '    cur=$n',
    '  else',
    '    cur=$n',
    '    for p in "$@"; do cur=$cur/$p; done',
    '    break',
    '  fi',
    '  relof "$cur"; if isgit "$r"; then refuse git; fi',
    'done',
    'inside "$cur" || refuse leaves',
    'relof "$cur"; if isgit "$r"; then refuse git; fi',
  ].join('\n');
}

/** Single-quotes for the sandbox's POSIX shell. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The toolbox daemon splits a command on spaces and execs it without a shell,
 * knowing quotes but no escapes. A base64 script has neither spaces nor quotes,
 * so any script arrives byte for byte and runs under a real `sh`.
 */
function wrapScript(script: string): string {
  return `sh -c "echo ${Buffer.from(script, 'utf8').toString('base64')} | base64 -d | sh"`;
}
