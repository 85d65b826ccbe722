/**
 * The store port: everything the runtime and the API need from durable storage.
 *
 * Two adapters implement it (Redis, in-process) and one contract suite
 * (`test/runtime/store/contract.ts`) runs against both. The semantics below are the
 * contract; adapters must not add behaviour of their own.
 *
 * Time: every lease and timer deadline is computed by the store from its own
 * clock (Redis `TIME`, or the injected clock of the in-process store), so
 * nodes with skewed clocks still agree on who owns what.
 */

import type { InboxEvent, InboxEventType } from '../../actors/events.ts';
import type { StoredSnapshot } from '../../actors/snapshot.ts';
import type { SessionMode, SessionStatus } from '../../actors/status.ts';
import type { AgentUsage } from '../../actors/work-contract.ts';

export interface Lease {
  nodeId: string;
  epoch: number;
}

export interface SessionRecord {
  id: string;
  goal: string;
  repo_url: string;
  mode: SessionMode;
  /** Limits given at creation (input may raise them later, in the machine's context). */
  budget?: { maxCalls?: number; maxTokens?: number };
  /** The AI profile chosen at creation, if any. */
  profileId?: string;
  /** Profiles for single roles, over `profileId` (e.g. a stronger planner). */
  roleProfiles?: RoleProfiles;
  /** The user who created the session (absent on sessions from before users existed). */
  userId?: string;
  /** The user's limit on RUNNING sessions when the session was created; 0 or absent: none. */
  maxRunning?: number;
  status: SessionStatus;
  /** The machine's state, e.g. `coding` or `preparing.waitingRetry`. */
  phase: string;
  /** Why the session failed or waits; null otherwise. */
  reason: string | null;
  /** JSON result (the change) once produced; null before. */
  result: unknown;
  created_at: number;
  updated_at: number;
  snapshot: StoredSnapshot | null;
  /** Stream id of the last inbox event applied ("0-0" before any). */
  last_event_id: string;
  /** Epoch of the latest claim (0 before the first claim). */
  epoch: number;
  /** Current lease holder, when a lease is held and not expired. */
  owner: { nodeId: string; epoch: number; until: number } | null;
  /** Writes rejected because they came from a stale epoch. */
  fenced_writes: number;
  /**
   * Transitions committed so far: the `n` the next history entry gets. Lets a
   * follower skip reading the history when nothing new was committed. Absent
   * before the first transition, and on records written before it was counted.
   */
  history_count?: number;
}

/** Summary used by listings: the record without the snapshot. */
export type SessionSummary = Omit<SessionRecord, 'snapshot'>;

export interface NewSession {
  id: string;
  goal: string;
  repo_url: string;
  mode: SessionMode;
  /** Per-session agent limits over the node's defaults. */
  budget?: { maxCalls?: number; maxTokens?: number };
  /** The AI profile the session's calls use; the user's, then the global default when absent. */
  profileId?: string;
  roleProfiles?: RoleProfiles;
  userId?: string;
  /** Limit on the user's RUNNING sessions; 0 or absent: none. */
  maxRunning?: number;
}

/** Per-role profile ids; a role without one uses the session's profile. */
export interface RoleProfiles {
  planner?: string;
  programmer?: string;
  reviewer?: string;
}

/** How long the API remembers an `Idempotency-Key`. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * An `Idempotency-Key` as the store keeps it: per user, with the request it
 * was first sent with. Its record is written in the same atomic step as the
 * write it protects (the create, the append), so a retry finds it if and only
 * if that write happened. The same key with another request (another route or
 * body: another `fingerprint`) is refused with `idempotencyKeyReused()` (422)
 * for as long as it is remembered; a request refused otherwise (not found,
 * conflict) leaves no trace of its key.
 *
 * A plain string (tests, internal callers) stands for user `''`, fingerprint
 * `''` and `IDEMPOTENCY_TTL_MS`: remembered, but never checked against the request.
 */
export interface RequestKey {
  userId: string;
  key: string;
  /** Names the request: method, path and body. */
  fingerprint: string;
  /** How long the key is remembered after its first write (the API: `IDEMPOTENCY_TTL_MS`). */
  ttlMs: number;
}

/** What `findRequestKey` knows of a key. */
export type RequestKeyState =
  /** Not remembered, or its request wrote nothing: go on (the write checks again, atomically). */
  | { kind: 'unused' }
  /** Its request's write happened: the session it created or the event it appended. */
  | { kind: 'used'; sessionId: string; eventId?: string }
  /** Remembered with another request. */
  | { kind: 'reused' };

/** A plain string key as a `RequestKey` (see there). */
export function requestKeyOf(key: string | RequestKey): RequestKey {
  return typeof key === 'string'
    ? { userId: '', key, fingerprint: '', ttlMs: IDEMPOTENCY_TTL_MS }
    : key;
}

export interface AppendOptions {
  /** A retried request with the same key is a no-op returning the first event id (`duplicate`); see `RequestKey`. */
  idempotencyKey?: string | RequestKey;
  /** Refuse the append (conflict) unless the session is in one of these statuses. */
  allowedStatuses?: readonly SessionStatus[];
}

export type AppendResult =
  | { kind: 'appended'; eventId: string; duplicate: boolean }
  | { kind: 'not_found' }
  | { kind: 'conflict'; status: SessionStatus };

export type ClaimResult =
  | { kind: 'claimed'; lease: Lease; until: number; record: SessionRecord }
  /** Another node holds a valid lease until `until`. */
  | { kind: 'busy'; until: number }
  /** Passive (or finished) with nothing pending: nothing to run. */
  | { kind: 'idle' }
  | { kind: 'not_found' };

export interface HistoryEntry {
  /** Position in the session's whole history (0 for its first transition), kept when old entries are trimmed. */
  n: number;
  at: number;
  event: string;
  from: string;
  to: string;
  node: string;
  epoch: number;
  /** What the event carried, made safe to show (see `actors/payload.ts`); absent when it carried nothing. */
  payload?: Record<string, unknown>;
}

/** Everything one commit writes, atomically, after checking the lease epoch. */
export interface Commit {
  snapshot: StoredSnapshot;
  status: SessionStatus;
  phase: string;
  reason: string | null;
  goal: string;
  result: unknown;
  /** Id of the last inbox event this snapshot includes. */
  lastEventId: string;
  /** Transitions this commit covers, appended to the capped history. */
  history: Omit<HistoryEntry, 'n' | 'at' | 'node' | 'epoch'>[];
  /** Log lines decided by these transitions, appended to the session log. */
  logs: string[];
  /**
   * Release the lease in the same write (passivation). Refused, and the lease
   * kept, when inbox events after `lastEventId` exist: the owner must apply them.
   */
  release: boolean;
  /**
   * Increasing within one lease. A commit with the seq last written under the
   * same epoch is acknowledged without writing again: a retry after a lost
   * reply must not append its history and logs twice.
   */
  seq: number;
}

export type CommitResult =
  | { kind: 'ok'; released: boolean }
  /** The caller's epoch is stale: the write was rejected and counted. */
  | { kind: 'fenced' }
  | { kind: 'not_found' };

export interface RenewResult {
  id: string;
  /** False when the lease was lost (taken over, or the session vanished). */
  ok: boolean;
  until: number;
  /** Inbox events after the last applied one exist: the owner should read them. */
  pending: boolean;
}

export interface TimerSpec {
  /** Unique per session; scheduling an existing key again changes nothing. */
  key: string;
  delayMs: number;
  /** Appended to the inbox as a `timer` event with this payload when due. */
  payload: Record<string, unknown>;
}

export interface NodeInfo {
  id: string;
  address: string;
  started_at: number;
  version: string;
  active_sessions: number;
  /** Ids of the sessions this node hosts, as of its heartbeat. */
  sessions: string[];
  heartbeat_at: number;
}

export interface ListQuery {
  status?: SessionStatus;
  /** Only this user's sessions. */
  userId?: string;
  limit: number;
  /** Return sessions created strictly before this id (ULIDs sort by time). */
  before?: string;
  /** Only sessions created strictly after this time (ms). */
  createdAfter?: number;
  /** Only sessions created strictly before this time (ms). */
  createdBefore?: number;
}

export interface StoreStats {
  fenced_writes: number;
}

/**
 * A copy of the event that caused a wake-up, with the id of the inbox entry
 * before it. An owner whose last applied id is `prevId` may apply the event
 * without reading the inbox (no gap is possible); any other owner reads. The
 * inbox stays the record: a lost or skipped hint costs a read, never an event.
 */
export interface WakeHint {
  event: InboxEvent;
  prevId: string;
}

/**
 * A model provider profile as stored. Until the AI-profiles API lands (issue
 * 4) tests and operators create them directly. `apiKey` is a secret: never
 * logged, never in a snapshot or an API answer.
 */
export interface StoredProfile {
  id: string;
  name: string;
  isDefault: boolean;
  provider: 'openai' | 'azure' | 'ollama' | 'openai-compatible' | 'gemini';
  model: string;
  apiKey?: string;
  baseUrl?: string;
  apiVersion?: string;
  deployment?: string;
  prices?: { inputPerMTok: number; outputPerMTok: number };
  /** The user who created it (absent: made by the operator, e.g. from AI_* variables). */
  ownerId?: string;
  /** Users it is assigned to, besides its owner: they see and use it, but cannot change it. */
  userIds?: string[];
}

export type UserRole = 'admin' | 'user';

export interface StoredUser {
  id: string;
  name: string;
  role: UserRole;
  createdAt: number;
  /** The profile this user's sessions use when they name none. */
  defaultProfileId?: string;
  /** Limit on this user's RUNNING sessions; the node's default when absent; 0: none. */
  maxRunning?: number;
}

/** An API token as stored: its SHA-256, never the token itself. */
export interface StoredToken {
  id: string;
  userId: string;
  name: string;
  /** SHA-256 of the token, lowercase hex. */
  hash: string;
  /** The token's first characters (e.g. "swa_Ab12"), to recognise it in a list. */
  prefix: string;
  createdAt: number;
}

/** Answer of `admit`. */
export type AdmitResult =
  | { admitted: true }
  /** Parked: the user's running sessions (ids) fill the limit. */
  | { admitted: false; running: string[] };

/** Newest transcript messages kept per session and role. */
export const TRANSCRIPT_CAP = 2000;

/** Called with a session id when an event for a session this node owns arrives; new events come with their hint. */
export type WakeHandler = (sessionId: string, hint?: WakeHint) => void;

export interface Store {
  readonly kind: 'redis' | 'memory';

  /** The store's clock, ms. */
  now(): Promise<number>;

  // Sessions -------------------------------------------------------------
  /**
   * Creates a QUEUED session, indexes it and puts it on the ready queue.
   * Idempotent by id, and by key: a key remembered with the same request
   * answers its session (`created: false`, and the indexes a lost reply may
   * have left out are written again); the first request's id wins even if its
   * write never happened. Throws `idempotencyKeyReused()` for another request.
   */
  createSession(
    init: NewSession,
    idempotencyKey?: string | RequestKey,
  ): Promise<{ record: SessionRecord; created: boolean }>;
  /**
   * Whether a key's write happened, to answer a retry before any other work.
   * Changes nothing, except that a create found this way has its indexes
   * re-added (a reply lost after the create may have left them out), as a
   * retried `createSession` would.
   */
  findRequestKey(key: RequestKey): Promise<RequestKeyState>;
  getSession(id: string): Promise<SessionRecord | null>;
  /** Newest first. */
  listSessions(query: ListQuery): Promise<SessionSummary[]>;
  getLogs(id: string, from?: number, count?: number): Promise<string[]>;
  /** Oldest first; capped to the newest `HISTORY_CAP` entries; only entries with `n >= from` when given. */
  getHistory(id: string, from?: number): Promise<HistoryEntry[]>;

  // Inbox ------------------------------------------------------------------
  /**
   * Appends an event durably, then wakes the owner (if a valid lease exists)
   * or puts the session on the ready queue. Resolves only once stored. A
   * repeat of a keyed request answers the first event id, whatever the
   * status now; another request with that key throws `idempotencyKeyReused()`.
   */
  appendEvent(
    id: string,
    event: { type: InboxEventType; payload: Record<string, unknown> },
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Events strictly after `afterId`, oldest first. */
  readEvents(id: string, afterId: string, count: number): Promise<InboxEvent[]>;

  // Ownership -----------------------------------------------------------
  /**
   * Reserves up to `max` session ids to try to claim: ready ones first, then
   * ones whose lease deadline has passed. A reserved id is not handed to another
   * node until `ttlMs` passes, so a node dying between take and claim loses nothing.
   */
  takeReady(max: number, ttlMs: number): Promise<string[]>;
  /** Claims the session with a new, strictly greater epoch if no valid lease exists. */
  claim(id: string, nodeId: string, ttlMs: number): Promise<ClaimResult>;
  /** Drops a reservation or lease-deadline entry made by `takeReady` for a session that turned out idle. */
  forget(id: string): Promise<void>;
  /** Renews many leases in one round trip. */
  renew(
    nodeId: string,
    leases: { id: string; epoch: number }[],
    ttlMs: number,
  ): Promise<RenewResult[]>;
  /** Fenced snapshot write; see `Commit`. */
  commit(id: string, lease: Lease, commit: Commit): Promise<CommitResult>;
  /** Fenced log append outside a commit (progress of long work). */
  appendLogs(id: string, lease: Lease, lines: string[]): Promise<CommitResult>;
  /**
   * Gives the lease up without a commit (graceful shutdown) and, when
   * `requeue`, puts the session on the ready queue so another node continues at once.
   */
  release(id: string, lease: Lease, requeue: boolean): Promise<CommitResult>;

  // Durable timers -----------------------------------------------------
  /** Arms a timer unless one with the same key is already armed or fired. */
  scheduleTimer(id: string, lease: Lease, timer: TimerSpec): Promise<CommitResult>;
  /** Delivers up to `max` due timers into their sessions' inboxes, exactly once each. Returns how many fired. */
  fireDueTimers(max: number): Promise<number>;

  // Wake-ups ------------------------------------------------------------
  /** Hints only: a lost hint is caught by `renew(...).pending`. */
  onWake(nodeId: string, handler: WakeHandler): Promise<() => Promise<void>>;
  /** Hint that the ready queue has work. */
  onReady(handler: () => void): Promise<() => Promise<void>>;

  // Agent bookkeeping, outside the snapshot -------------------------------
  /** Stores a profile; one stored with `isDefault` clears the flag on the others. */
  putProfile(profile: StoredProfile): Promise<void>;
  getProfile(id: string): Promise<StoredProfile | null>;
  /** The profile marked default, or null. */
  defaultProfile(): Promise<StoredProfile | null>;
  /** All profiles, by name. */
  listProfiles(): Promise<StoredProfile[]>;
  /** Whether a profile was there to delete. */
  deleteProfile(id: string): Promise<boolean>;
  /** Fenced: adds one or more calls' usage (every call of every role is counted). */
  addUsage(id: string, lease: Lease, delta: AgentUsage): Promise<CommitResult>;
  /** All zeros for a session without calls. */
  getUsage(id: string): Promise<AgentUsage>;
  /** Fenced: appends JSON-safe transcript messages of a role; keeps the newest `TRANSCRIPT_CAP`. */
  appendTranscript(
    id: string,
    lease: Lease,
    role: string,
    messages: unknown[],
  ): Promise<CommitResult>;
  getTranscript(id: string, role: string): Promise<unknown[]>;
  /** Fenced: sets named values of the session's work (sandbox id, checkpoint diff, base commit). */
  putArtifacts(id: string, lease: Lease, values: Record<string, string>): Promise<CommitResult>;
  getArtifacts(id: string): Promise<Record<string, string>>;

  // Users and API tokens ------------------------------------------------
  /** Creates or replaces a user. */
  putUser(user: StoredUser): Promise<void>;
  getUser(id: string): Promise<StoredUser | null>;
  /** All users, oldest first. */
  listUsers(): Promise<StoredUser[]>;
  /** Deletes the user and all its tokens; whether the user was there. */
  deleteUser(id: string): Promise<boolean>;
  /**
   * Stores a token (replacing one with the same id, whose old hash stops
   * working). With `onlyIfUserHasNone`, stores nothing and answers false when
   * the user already has a token: of several nodes starting at once, one wins.
   */
  putToken(token: StoredToken, opts?: { onlyIfUserHasNone?: boolean }): Promise<boolean>;
  /** The token with this hash, or null (unknown or revoked). */
  tokenByHash(hash: string): Promise<StoredToken | null>;
  /** A user's tokens, oldest first. */
  listTokens(userId: string): Promise<StoredToken[]>;
  /** Revokes: the token stops working at once. Whether it was there (and the user's). */
  deleteToken(userId: string, tokenId: string): Promise<boolean>;

  // Per-user running limit ----------------------------------------------
  /**
   * Admission of a session of `userId` to run: admitted when it is already
   * counted as running, or fewer than `limit` are; then it is counted.
   * Otherwise it is parked (not on the ready queue) and the counted ids are
   * returned, so the caller can drop stale ones with `setRunning(…, false)`.
   */
  admit(id: string, userId: string, limit: number): Promise<AdmitResult>;
  /**
   * Counts the session as running or not. Not running also moves every parked
   * session of the user back to the ready queue, to try admission again.
   */
  setRunning(id: string, userId: string, running: boolean): Promise<void>;

  // Waiting for admission -----------------------------------------------
  /**
   * Fenced: a claimed session that was not admitted waits. Sets its `reason`
   * (the status stays QUEUED), gives the lease up, takes it off the ready
   * queue and hands it out again only after `recheckMs` (a safety net: a
   * `setRunning(…, false)` lost in a crash would otherwise strand it) or
   * when `setRunning` promotes it. Refused (`released: false`, lease and
   * reason kept) while an unapplied `cancel` waits in its inbox: the owner
   * must host the session so the cancel is applied.
   */
  park(id: string, lease: Lease, reason: string, recheckMs: number): Promise<CommitResult>;

  // Nodes ---------------------------------------------------------------
  heartbeat(node: NodeInfo, ttlMs: number): Promise<void>;
  listNodes(): Promise<NodeInfo[]>;

  stats(): Promise<StoreStats>;
  /**
   * Sessions per status, every status present (0 when none), for metrics.
   * Cheap: read from the status indexes in one round trip, so after an index
   * update lost with a node a session may be counted under its old status as
   * well (listings skip such entries; a count cannot).
   */
  countByStatus(): Promise<Record<SessionStatus, number>>;
  close(): Promise<void>;
}

/** Newest history entries kept per session. */
export const HISTORY_CAP = 500;

/** Compares two stream-style ids `"<ms>-<seq>"`. */
export function compareEventIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am === bm ? as - bs : am - bm;
}
