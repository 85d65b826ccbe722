/** The local sandbox's options and its limits. */
import type { IsolationMode, IsolationProbes, NetworkSetting } from './isolation.ts';
import type { CommandLimits } from './limits.ts';

export interface LocalSandboxOptions {
  /** Directory holding the workspaces (WORKSPACE_DIR). */
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
   * Where commands, and the service's git calls on a workspace, run
   * (SANDBOX_ISOLATION): `bubblewrap` (a mount view of their own),
   * `namespaces` (util-linux namespaces), each required when named (without
   * it commands fail), `auto` (the best of the two this machine runs) or
   * `none`. Default `none`; the service passes its configuration (default `auto`).
   */
  isolation?: IsolationMode;
  /**
   * The network commands reach (SANDBOX_NETWORK): `internet` (out through
   * slirp4netns, not this machine's loopback; bubblewrap), `none` (nothing),
   * `host` (this machine's), or `auto` (internet where it works, else host).
   * Default `host`.
   */
  network?: NetworkSetting;
  /**
   * The service's own data and files (DATA_DIR, its checkout): commands see
   * an empty directory there instead, where they would see it at all.
   */
  hiddenPaths?: readonly string[];
  /** More read-only paths in bubblewrap's view (SANDBOX_READ_PATHS: toolchains outside /usr and /opt). */
  readPaths?: readonly string[];
  /** rlimits per command (SANDBOX_MEMORY_MB, SANDBOX_MAX_PROCESSES, SANDBOX_CPU_SECONDS). Default: none. */
  limits?: CommandLimits;
  /** Stand in for the probes (tests). */
  isolationProbes?: IsolationProbes;
}

/** listFiles lists one directory level, at most this many entries (sorted by name). */
export const LIST_FILES_CAP = 1000;
/** searchCode returns at most this many hits. */
export const SEARCH_HIT_CAP = 200;
/** readFile refuses larger files: the agent should search or run `head`/`sed` instead. */
export const READ_FILE_MAX_BYTES = 1024 * 1024;
export const SEARCH_LINE_MAX = 500;
export const DEFAULT_CLONE_TIMEOUT_MS = 10 * 60_000;
/** How often a clone's size is measured while it runs. */
export const CLONE_SIZE_POLL_MS = 1000;
/**
 * How often a workspace is measured while a command runs under its quota: every
 * second, or ten times as long as the last measurement took (du spends about
 * 80 ms on a clone with a node_modules of 26 000 files), so the watchdog costs
 * a command at most about a tenth of a core.
 */
export const QUOTA_POLL_MS = 1000;
/** diff() refuses a larger change (413, which the finish tool hands to the model) rather than hold more in memory. */
export const DIFF_OUTPUT_MAX_BYTES = 256 * 1024 * 1024;
export const BASE_FILE = 'swe-base';
// Session ids are ULIDs in practice; no dots, so `${id}.home`/`.tmp`/`.cloning` can never be another session.
export const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const GIT_IDENTITY = [
  ['user.name', 'swe-agent'],
  ['user.email', 'swe-agent@localhost'],
  ['commit.gpgsign', 'false'],
] as const;
/** Beside the workspaces: the resolver commands on the `internet` network use (a name no session id can take). */
export const RESOLV_FILE = '.resolv.conf';
