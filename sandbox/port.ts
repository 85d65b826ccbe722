/**
 * The sandbox port: where a session's repository is cloned and the agent's
 * tools run. Adapters: `local.ts` (a directory per session on this machine)
 * and `daytona.ts` (a Daytona sandbox per session). One contract suite
 * (`test/sandbox/contract.ts`) runs against both.
 *
 * Paths are relative to the repository root, `/`-separated; anything that
 * would leave the workspace (`..`, absolute paths, symlinks pointing out) is
 * refused with a `sandbox_path` AppError.
 */

export interface SandboxSpec {
  sessionId: string;
  repoUrl: string;
  /** Branch or commit to check out; the default branch when absent. */
  ref?: string;
  /** The clone's progress, a line at a time, as with `CommandOptions.onOutput` (adapters whose SDK shows none give none). */
  onOutput?: (line: string) => void;
  /** Stops the clone when aborted (the session was cancelled): the local adapter kills git and what it started. */
  signal?: AbortSignal;
}

export interface CommandOptions {
  timeoutMs?: number;
  /**
   * The command's output for a person to follow (`progress.ts`): stdout and
   * stderr lines, each stream line-buffered, long lines cut, at most
   * `PROGRESS_LINES_PER_SECOND` a second, then `… (k lines omitted)`. Every
   * call happens before `runCommand` resolves. The local adapter streams as
   * the command runs; Daytona's SDK answers only when the command ends, so
   * its lines come then. The result is the same with or without it.
   */
  onOutput?: (line: string) => void;
}

export interface CommandResult {
  exitCode: number | null;
  /** stdout and stderr interleaved as produced, cut to the cap (head and tail kept, with a marker). */
  output: string;
  timedOut: boolean;
  /** Bytes of output that were cut. */
  truncatedBytes: number;
  /**
   * A limit other than the timeout that the command ran into, worded for the
   * model (the local workspace quota, SANDBOX_MAX_MB). With `exitCode` null
   * the sandbox killed the command for it; otherwise the command ended on its
   * own and left the workspace over the limit.
   */
  killed?: string;
}

export interface FileEntry {
  path: string;
  type: 'file' | 'dir';
  size: number;
}

export interface SearchHit {
  path: string;
  line: number;
  text: string;
}

export interface Sandbox {
  /** Adapter-specific id to re-attach by after a takeover (stored on the session). */
  readonly id: string;
  /** The commit the session started from; diffs are against it. */
  readonly baseCommit: string;
  listFiles(path?: string): Promise<FileEntry[]>;
  readFile(path: string): Promise<string>;
  writeFile(path: string, content: string): Promise<void>;
  /** Replaces exactly one occurrence of `oldText`; refuses when it occurs zero or several times. */
  editFile(path: string, oldText: string, newText: string): Promise<void>;
  searchCode(pattern: string, path?: string): Promise<SearchHit[]>;
  /** Runs a shell command in the repository root, with a timeout and no service secrets in its environment. */
  runCommand(command: string, opts?: CommandOptions): Promise<CommandResult>;
  /** Unified git diff of the work tree (tracked changes and new files) against `baseCommit`. */
  diff(): Promise<string>;
  /** Applies a diff made by `diff()` (a checkpoint) to this sandbox's work tree. */
  applyDiff(diff: string): Promise<void>;
}

export interface SandboxProvider {
  readonly kind: 'local' | 'daytona';
  /** Creates the sandbox and clones the repository into it (idempotent per session: an existing one is reset and reused). */
  create(spec: SandboxSpec): Promise<Sandbox>;
  /** Re-attaches to a session's sandbox after a takeover, by the stored id; null when it is gone. */
  attach(sessionId: string, id: string): Promise<Sandbox | null>;
  /** Deletes the session's sandbox; a missing one is fine. */
  destroy(sessionId: string, id?: string): Promise<void>;
}
