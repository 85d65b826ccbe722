/**
 * What the store keeps and answers: sessions, leases, commits, inbox events,
 * timers, profiles, users and tokens, as the port (`port.ts`) speaks of them.
 */
import type { InboxEvent } from '../../actors/events.ts';
import type { StoredSnapshot } from '../../actors/snapshot.ts';
import type { SessionMode, SessionStatus } from '../../actors/status.ts';

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

/** Answer of `removeSession`; `active` names the status the session is in (ended, but leased or with an event waiting, says so too). */
export type RemovalResult =
  | { kind: 'removed' }
  | { kind: 'not_found' }
  | { kind: 'active'; status: SessionStatus };

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
  /** The settings that change what a session does, as this node runs them (name → value); absent from nodes before they were published. */
  settings?: Record<string, string>;
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

/** Newest history entries kept per session. */
export const HISTORY_CAP = 500;

/** Compares two stream-style ids `"<ms>-<seq>"`. */
export function compareEventIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am === bm ? as - bs : am - bm;
}
