/** An open Daytona sandbox: the session's repository and the agent's tools on it, through the SDK. */
import type { FileInfo, Sandbox as DaytonaSandbox } from '@daytonaio/sdk';
import { AppError, badRequest } from '../kernel/errors.ts';
import { OutputCollector } from './exec.ts';
import { normalizeToolPath } from './paths.ts';
import type { CommandOptions, CommandResult, FileEntry, Sandbox, SearchHit } from './port.ts';
import { OutputFeed } from './progress.ts';
import {
  GIT,
  SEARCH_MAX_HITS,
  DAEMON_TIMEOUT_GRACE_S,
  SERVICE_CALL_TIMEOUT_S,
  PATH_REFUSED,
  refusal,
  confineScript,
  q,
  wrapScript,
} from './daytona-shell.ts';

export interface RepoDeps {
  fail: (what: string, err: unknown) => AppError;
  outputCapBytes: number;
  defaultTimeoutMs: number;
}

export class DaytonaRepo implements Sandbox {
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
