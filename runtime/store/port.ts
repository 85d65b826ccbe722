/**
 * The store port, by role: one small interface per job, so each consumer
 * names only the slice it uses (the lease renewer `LeaseRenewals`, the auth
 * middleware `Pick<TokenRecords, 'tokenByHash'> & Pick<UserRecords, 'getUser'>`,
 * a session host `HostStore`, the node `NodeStore`), as BullMQ's lock
 * manager works against a narrow worker context. `Store` is all of them: what
 * an adapter implements and the wiring opens.
 *
 * Three adapters implement it (`redis/`, `sqlite/`, `memory/`) and one contract suite
 * (`test/runtime/store/contract/index.ts`) runs against all three. The semantics below
 * are the contract; adapters must not add behaviour of their own.
 *
 * Time: every lease and timer deadline is computed by the store from its own
 * clock (Redis `TIME`, or the injected clock of the in-process store), so
 * nodes with skewed clocks still agree on who owns what.
 */
import type { InboxEvent, InboxEventType } from '../../actors/events.ts';
import type { SessionStatus } from '../../actors/status.ts';
import type { AgentUsage } from '../../actors/work-contract.ts';
import type {
  AdmitResult,
  AppendOptions,
  AppendResult,
  ClaimResult,
  Commit,
  CommitResult,
  HistoryEntry,
  Lease,
  ListQuery,
  NewSession,
  NodeInfo,
  RemovalResult,
  RenewResult,
  RequestKey,
  RequestKeyState,
  SessionRecord,
  SessionSummary,
  StoredProfile,
  StoredToken,
  StoredUser,
  StoreStats,
  TimerSpec,
  WakeHandler,
} from './records.ts';

/** The store's clock. */
export interface StoreClock {
  /** The store's time, ms. */
  now(): Promise<number>;
}

/** New sessions and new events, as the API takes them. */
export interface SessionIntake {
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
}

/** Sessions as they are read: the record, its log, its history. */
export interface SessionReads {
  getSession(id: string): Promise<SessionRecord | null>;
  /** Newest first. */
  listSessions(query: ListQuery): Promise<SessionSummary[]>;
  getLogs(id: string, from?: number, count?: number): Promise<string[]>;
  /** Oldest first; capped to the newest `HISTORY_CAP` entries; only entries with `n >= from` when given. */
  getHistory(id: string, from?: number): Promise<HistoryEntry[]>;
}

/** A session's inbox, as its owner reads it. */
export interface InboxReads {
  /** Events strictly after `afterId`, oldest first. */
  readEvents(id: string, afterId: string, count: number): Promise<InboxEvent[]>;
}

/** Handing sessions out to nodes and taking them back. */
export interface Ownership {
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
  /**
   * Gives the lease up without a commit (graceful shutdown) and, when
   * `requeue`, puts the session on the ready queue so another node continues at once.
   */
  release(id: string, lease: Lease, requeue: boolean): Promise<CommitResult>;
}

/** The lease renewer's one call. */
export interface LeaseRenewals {
  /** Renews many leases in one round trip. */
  renew(
    nodeId: string,
    leases: { id: string; epoch: number }[],
    ttlMs: number,
  ): Promise<RenewResult[]>;
}

/** What the owner of a session writes under its lease, each write fenced by the epoch. */
export interface Commits {
  /** Fenced snapshot write; see `Commit`. */
  commit(id: string, lease: Lease, commit: Commit): Promise<CommitResult>;
  /** Fenced log append outside a commit (progress of long work). */
  appendLogs(id: string, lease: Lease, lines: string[]): Promise<CommitResult>;
  /** Arms a timer unless one with the same key is already armed or fired. */
  scheduleTimer(id: string, lease: Lease, timer: TimerSpec): Promise<CommitResult>;
}

/** Durable timers falling due, delivered by any node. */
export interface TimerDelivery {
  /** Delivers up to `max` due timers into their sessions' inboxes, exactly once each. Returns how many fired. */
  fireDueTimers(max: number): Promise<number>;
}

/** Wake-up hints: never the carrier of an event, only news that one may be there. */
export interface WakeUps {
  /** Hints only: a lost hint is caught by `renew(...).pending`. */
  onWake(nodeId: string, handler: WakeHandler): Promise<() => Promise<void>>;
  /** Hint that the ready queue has work. */
  onReady(handler: () => void): Promise<() => Promise<void>>;
}

/** AI profiles as stored (keys sealed by `runtime/profiles.ts` before they get here). */
export interface ProfileRecords {
  /** Stores a profile; one stored with `isDefault` clears the flag on the others. */
  putProfile(profile: StoredProfile): Promise<void>;
  getProfile(id: string): Promise<StoredProfile | null>;
  /** The profile marked default, or null. */
  defaultProfile(): Promise<StoredProfile | null>;
  /** All profiles, by name. */
  listProfiles(): Promise<StoredProfile[]>;
  /** Whether a profile was there to delete. */
  deleteProfile(id: string): Promise<boolean>;
}

/** What a session's work keeps outside the snapshot: usage, transcripts, artifacts. */
export interface WorkRecords {
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
}

export interface UserRecords {
  /** Creates or replaces a user. */
  putUser(user: StoredUser): Promise<void>;
  getUser(id: string): Promise<StoredUser | null>;
  /** All users, oldest first. */
  listUsers(): Promise<StoredUser[]>;
  /** Deletes the user and all its tokens; whether the user was there. */
  deleteUser(id: string): Promise<boolean>;
}

/** API tokens, kept as their SHA-256. */
export interface TokenRecords {
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
}

/** The per-user running limit. */
export interface RunningLimit {
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
}

/** The nodes of the cluster, as their heartbeats describe them. */
export interface NodeRegistry {
  heartbeat(node: NodeInfo, ttlMs: number): Promise<void>;
  listNodes(): Promise<NodeInfo[]>;
}

/** Cluster-wide counts, for metrics. */
export interface StoreCounts {
  stats(): Promise<StoreStats>;
  /**
   * Sessions per status, every status present (0 when none), for metrics.
   * Cheap: read from the status indexes in one round trip, so after an index
   * update lost with a node a session may be counted under its old status as
   * well (listings skip such entries; a count cannot).
   */
  countByStatus(): Promise<Record<SessionStatus, number>>;
}

/**
 * Removing ended sessions with everything they own: the retention sweep
 * (`SESSION_RETENTION_DAYS`) and `DELETE /agent/sessions/{id}`. Each removal
 * is small and separate, so a sweep of thousands never blocks the store.
 */
export interface SessionRemoval {
  /**
   * Ended sessions (`ENDED_STATUSES`) last updated strictly before `before`
   * (store ms), oldest update first (ties by id), at most `limit`: what a
   * sweep with that cutoff removes next. A session it lists may still be
   * refused by `removeSession` (an input arrived since). Index entries whose
   * record is gone are skipped (and, where an adapter keeps indexes apart
   * from records, that unfinished removal is finished).
   */
  listEnded(before: number, limit: number): Promise<SessionSummary[]>;
  /**
   * Removes a session and everything it owns: its record, inbox, logs,
   * history, request keys (its own and the user's reservations that name it),
   * timers (and their due entries), usage, transcripts, artifacts, and its
   * entries in every index (listings, status counts, ready queue, leases,
   * running and parked sets). Atomic against `appendEvent`: refused as
   * `active` while the session is not ended, holds a valid lease, or has an
   * event not yet applied (an input that starts it again). `not_found` when
   * there is no record; index entries a crashed removal left behind are
   * cleaned either way, so a retry finishes the job.
   */
  removeSession(id: string): Promise<RemovalResult>;
}

/** Every role: what an adapter implements and the wiring opens and closes. */
export interface Store
  extends StoreClock,
    SessionIntake,
    SessionReads,
    InboxReads,
    Ownership,
    LeaseRenewals,
    Commits,
    TimerDelivery,
    WakeUps,
    ProfileRecords,
    WorkRecords,
    UserRecords,
    TokenRecords,
    RunningLimit,
    NodeRegistry,
    StoreCounts,
    SessionRemoval {
  readonly kind: 'redis' | 'memory' | 'sqlite';
  close(): Promise<void>;
}
