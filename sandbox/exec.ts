/**
 * Process running for the local sandbox: agent commands through `/bin/sh`
 * in their own process group (so a timeout kills every descendant), and the
 * service's own git calls without a shell. Both get an environment built from
 * an allow-list: the service's secrets (REDIS_URL, SECRET_KEY, *_API_KEY,
 * DAYTONA_*) never reach a child process.
 */
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../kernel/errors.ts';
import type { MountView } from './bubblewrap.ts';
import { killGroup, spawnConfined, type Confinement } from './confined.ts';
import type { Isolation, NetworkMode } from './isolation-types.ts';
import { limitHit, type CommandLimits } from './limits.ts';
import type { CommandResult } from './port.ts';
import { OutputFeed } from './progress.ts';

export const DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024;
export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

/** Variables copied from the service's environment when set; nothing else is. */
const PASSED_THROUGH = ['PATH', 'LANG', 'LC_ALL', 'TERM', 'TZ'] as const;

/** The whole environment of a sandbox child: the allow-list, HOME, and non-interactive git/CI flags. */
export function sandboxEnv(
  home: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  env['PATH'] ??= '/usr/local/bin:/usr/bin:/bin';
  env['HOME'] = home;
  env['GIT_TERMINAL_PROMPT'] = '0';
  env['CI'] = 'true';
  return { ...env, ...extra };
}

/** Keeps the first and last `cap / 2` bytes of a stream and counts what falls between. */
export class OutputCollector {
  readonly #headCap: number;
  readonly #tailCap: number;
  #head: Buffer[] = [];
  #headLen = 0;
  #tail: Buffer[] = [];
  #tailLen = 0;
  #total = 0;

  constructor(cap: number) {
    this.#headCap = Math.ceil(cap / 2);
    this.#tailCap = Math.floor(cap / 2);
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    const room = this.#headCap - this.#headLen;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.#head.push(part);
      this.#headLen += part.length;
      chunk = chunk.subarray(part.length);
    }
    if (chunk.length === 0 || this.#tailCap === 0) return;
    this.#tail.push(chunk);
    this.#tailLen += chunk.length;
    // Drop whole chunks that are no longer needed to hold the last #tailCap bytes.
    while (
      this.#tail.length > 1 &&
      this.#tailLen - (this.#tail[0] as Buffer).length >= this.#tailCap
    ) {
      this.#tailLen -= (this.#tail.shift() as Buffer).length;
    }
  }

  /** The kept text, with a marker line where bytes were cut, and how many were. */
  result(): { output: string; truncatedBytes: number } {
    const head = Buffer.concat(this.#head);
    let tail = Buffer.concat(this.#tail);
    if (tail.length > this.#tailCap) tail = tail.subarray(tail.length - this.#tailCap);
    const cut = this.#total - head.length - tail.length;
    if (cut === 0)
      return { output: Buffer.concat([head, tail]).toString('utf8'), truncatedBytes: 0 };
    const marker = `${head.length > 0 && head[head.length - 1] !== 0x0a ? '\n' : ''}[... ${cut} bytes cut ...]\n`;
    return { output: head.toString('utf8') + marker + tail.toString('utf8'), truncatedBytes: cut };
  }
}

export interface RunCommandOptions {
  cwd: string;
  /** HOME for the command: a per-sandbox directory, never the service's. */
  home: string;
  timeoutMs?: number;
  outputCapBytes?: number;
  /** Output lines as they come (see `CommandOptions.onOutput`). */
  onOutput?: (line: string) => void;
  /** Kills the whole group when aborted, like the timeout; the result's `killed` is the abort's reason (the workspace quota's watchdog). */
  signal?: AbortSignal;
  /**
   * `bubblewrap`: the shell runs in a mount view of its own (`view`, bubblewrap.ts);
   * `namespaces`: in its own user, PID and mount namespaces (isolation.ts). Default `none`.
   */
  isolation?: Isolation;
  /**
   * `none`: in a network namespace of its own, reaching nothing (needs bubblewrap or
   * namespaces); `internet`: routed out through slirp4netns, not to this machine's
   * loopback (needs bubblewrap). Default `host`.
   */
  network?: NetworkMode;
  /** With namespaces or bubblewrap: paths the command must not see (an empty tmpfs over each). */
  hidden?: readonly string[];
  /** With bubblewrap: what the command sees (its workspace is `cwd`'s). */
  view?: MountView;
  /** rlimits for the shell and all it starts; the result's `killed` names one that ended it. */
  limits?: CommandLimits;
}

/** Refuses a network the isolation cannot give, rather than run the command on the machine's. */
function checkNetwork(isolation: Isolation, network: NetworkMode): AppError | undefined {
  if (network === 'none' && isolation === 'none')
    return new AppError(
      'sandbox_failed',
      500,
      "cannot run the command: network 'none' needs isolation 'namespaces' or 'bubblewrap'",
    );
  if (network === 'internet' && isolation !== 'bubblewrap')
    return new AppError(
      'sandbox_failed',
      500,
      "cannot run the command: network 'internet' needs isolation 'bubblewrap'",
    );
  return undefined;
}

/**
 * Runs `command` with `/bin/sh -c` in a new process group. On timeout the
 * whole group is SIGKILLed. When the shell exits, whatever it left running in
 * its group is killed too: a command's background processes do not outlive it
 * (they would hold the output pipe open and escape every timeout). An abort
 * of `signal` while the shell runs kills the group as the timeout does.
 * With `isolation: 'namespaces'` the group is `unshare` and the shell (pid 1
 * of its namespace); killing them kills every process in the namespace, even
 * those that left the group, and the exit code is the shell's. `network:
 * 'none'` without namespaces is refused (`sandbox_failed`), never run with
 * the network.
 */
export async function runCommand(command: string, opts: RunCommandOptions): Promise<CommandResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await runCommandOnce(command, opts);
    if (attempt >= SETUP_ATTEMPTS || !failedSetup(r.exitCode, r.output)) return r;
  }
}

/**
 * bubblewrap sometimes fails to set up a new network namespace's loopback
 * (`bwrap: loopback: Failed RTM_NEWADDR: …`, seen under load with many
 * namespaces made at once). It fails before the program starts, so nothing
 * ran: such a start is tried again, up to this many times in all.
 */
const SETUP_ATTEMPTS = 3;
const failedSetup = (exitCode: number | null, output: string) =>
  exitCode === 1 && /^bwrap: loopback: [^\n]*\n?$/.test(output);

function runCommandOnce(command: string, opts: RunCommandOptions): Promise<CommandResult> {
  const cap = opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const isolation = opts.isolation ?? 'none';
  const network = opts.network ?? 'host';
  const refused = checkNetwork(isolation, network);
  if (refused !== undefined) return Promise.reject(refused);
  const confinement: Confinement = {
    isolation,
    network,
    hidden: opts.hidden ?? [],
    ...(opts.view ? { view: opts.view } : {}),
    ...(opts.limits ? { limits: opts.limits } : {}),
  };
  return new Promise((resolve, reject) => {
    const confined = spawnConfined(['/bin/sh', '-c', command], confinement, {
      cwd: opts.cwd,
      env: sandboxEnv(opts.home),
      stdin: 'ignore',
    });
    const { child } = confined;
    const file =
      isolation === 'bubblewrap' ? 'bwrap' : isolation === 'namespaces' ? 'unshare' : '/bin/sh';
    let setupFailed: Error | undefined;
    confined.started.catch((err: Error) => {
      setupFailed = err;
      killGroup(child.pid);
    });
    const stdout = child.stdout as Readable;
    const stderr = child.stderr as Readable;
    const out = new OutputCollector(cap);
    const feed = opts.onOutput ? new OutputFeed(opts.onOutput) : undefined;
    stdout.on('data', (c: Buffer) => {
      out.push(c);
      feed?.write('stdout', c);
    });
    stderr.on('data', (c: Buffer) => {
      out.push(c);
      feed?.write('stderr', c);
    });
    let timedOut = false;
    let exitCode: number | null = null;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    let exited = false;
    let killed: string | undefined;
    const stop = () => {
      if (exited || settled) return;
      const why = opts.signal?.reason;
      killed ??= why instanceof Error ? why.message : String(why);
      killGroup(child.pid);
    };
    if (opts.signal?.aborted) stop();
    else opts.signal?.addEventListener('abort', stop, { once: true });
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      opts.signal?.removeEventListener('abort', stop);
      confined.release();
      feed?.end();
      if (setupFailed !== undefined) {
        return reject(
          new AppError(
            'sandbox_failed',
            500,
            `cannot run the command: its network could not be set up: ${setupFailed.message}`,
            { cause: setupFailed },
          ),
        );
      }
      const { output, truncatedBytes } = out.result();
      const stopped = timedOut || killed !== undefined;
      const limit = stopped ? undefined : limitHit(exitCode, output, opts.limits);
      if (limit !== undefined) killed = limit;
      resolve({
        exitCode: stopped ? null : exitCode,
        output,
        timedOut,
        truncatedBytes,
        ...(killed !== undefined ? { killed } : {}),
      });
    };
    child.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      confined.release();
      reject(
        new AppError('sandbox_failed', 500, `cannot start ${file}: ${err.message}`, { cause: err }),
      );
    });
    child.on('exit', (code) => {
      exitCode = code;
      exited = true;
      killGroup(child.pid);
      // A grandchild that left the group (setsid) may still hold the pipes: stop waiting for it.
      graceTimer = setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
        finish();
      }, 1000);
    });
    child.on('close', finish);
  });
}

export interface GitOptions {
  /** Written to git's stdin. */
  input?: string;
  /** Added to the allow-listed environment (e.g. GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** HOME for git; the default is the service's HOME only for clones, see local.ts. */
  home: string;
  timeoutMs?: number;
  /** Exit codes that are not failures (`git grep` exits 1 on no match). */
  okExitCodes?: number[];
  /** Fail when stdout grows beyond this many bytes (kills git). */
  maxStdoutBytes?: number;
  /** Instead: stop reading at this many bytes, kill git and succeed with what was read (`cut: true`). */
  cutStdoutAt?: number;
  /** Sees stderr as it comes (a clone's progress). */
  onStderr?: (chunk: Buffer) => void;
  /** Kills git when aborted; the failure gives the abort's reason (a clone over its size limit). */
  signal?: AbortSignal;
  /**
   * Where git runs: the sandbox's confinement for every call on a workspace,
   * so that what a command wrote into `.git` (a filter, an fsmonitor, an
   * alias, a hook path) runs, if at all, inside the sandbox. Absent: as the
   * service (the clone, which needs the service's credentials).
   */
  confinement?: Confinement;
  /** No file git writes may grow past this many bytes (RLIMIT_FSIZE through prlimit): a clone's size limit. */
  fileSizeLimit?: number;
}

export interface GitResult {
  /** null when git was killed because its output reached `cutStdoutAt`. */
  exitCode: number | null;
  cut: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs `git` without a shell. Hooks and fsmonitor are switched off: the agent
 * can write `.git/config` from its commands, and these calls must not run
 * what it put there. Fails with `sandbox_failed` on an exit code not in
 * `okExitCodes`, naming the git subcommand and quoting its stderr.
 */
export async function runGit(args: string[], cwd: string, opts: GitOptions): Promise<GitResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runGitOnce(args, cwd, opts);
    } catch (err) {
      const said = err instanceof AppError ? err.message : '';
      if (attempt >= SETUP_ATTEMPTS || !/failed \(exit 1\): bwrap: loopback: [^\n]*$/.test(said))
        throw err;
    }
  }
}

function runGitOnce(args: string[], cwd: string, opts: GitOptions): Promise<GitResult> {
  const full = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', ...args];
  const okCodes = opts.okExitCodes ?? [0];
  const maxOut = opts.maxStdoutBytes ?? 256 * 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const what = `git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? ''}`.trim();
  return new Promise((resolve, reject) => {
    const program = ['git', ...full];
    if (opts.fileSizeLimit !== undefined)
      program.unshift('prlimit', `--fsize=${opts.fileSizeLimit}`, '--');
    const confined = spawnConfined(
      program,
      opts.confinement ?? { isolation: 'none', network: 'host' },
      { cwd, env: sandboxEnv(opts.home, opts.env), stdin: 'pipe' },
    );
    const { child } = confined;
    const stdin = child.stdin as Writable;
    const stdout = child.stdout as Readable;
    const stderr = child.stderr as Readable;
    let setupFailed: Error | undefined;
    confined.started.catch((e: Error) => {
      setupFailed = e;
      killGroup(child.pid);
    });
    const out: Buffer[] = [];
    let outLen = 0;
    const err = new OutputCollector(16 * 1024);
    let problem: string | undefined;
    let cut = false;
    stdout.on('data', (c: Buffer) => {
      if (cut) return;
      if (opts.cutStdoutAt !== undefined && outLen + c.length >= opts.cutStdoutAt) {
        out.push(c.subarray(0, opts.cutStdoutAt - outLen));
        outLen = opts.cutStdoutAt;
        cut = true;
        killGroup(child.pid);
        return;
      }
      outLen += c.length;
      if (outLen > maxOut) {
        problem ??= `output exceeded ${maxOut} bytes`;
        killGroup(child.pid);
        return;
      }
      out.push(c);
    });
    stderr.on('data', (c: Buffer) => {
      err.push(c);
      opts.onStderr?.(c);
    });
    const timer = setTimeout(() => {
      problem ??= `timed out after ${timeoutMs} ms`;
      killGroup(child.pid);
    }, timeoutMs);
    const stop = () => {
      const why = opts.signal?.reason;
      problem ??= `stopped: ${why instanceof Error ? why.message : String(why)}`;
      killGroup(child.pid);
    };
    if (opts.signal?.aborted) stop();
    else opts.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      confined.release();
      reject(new AppError('sandbox_failed', 500, `cannot start git: ${e.message}`, { cause: e }));
    });
    // git may leave helpers (ssh, remote-https) behind in its group; `close` waits for the pipes.
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      confined.release();
      if (setupFailed !== undefined)
        return reject(
          new AppError('sandbox_failed', 500, `${what}: ${setupFailed.message}`, {
            cause: setupFailed,
          }),
        );
      const stderr = err.result().output.trim();
      if (problem !== undefined)
        return reject(new AppError('sandbox_failed', 500, `${what} ${problem}`));
      if (cut)
        return resolve({
          exitCode: null,
          cut,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr,
        });
      if (code === null || !okCodes.includes(code)) {
        return reject(
          new AppError(
            'sandbox_failed',
            500,
            `${what} failed (${code === null ? `signal ${killedBy ?? 'unknown'}` : `exit ${code}`}): ${stderr || 'no message'}`,
          ),
        );
      }
      resolve({ exitCode: code, cut, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    stdin.on('error', () => {
      // EPIPE when git exits before reading all input; its exit code tells the story.
    });
    stdin.end(opts.input ?? '');
  });
}
