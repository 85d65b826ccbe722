/**
 * The SQLite adapter of the store port: the embedded default, durable in one
 * file of a data directory (`DATA_DIR`), through Node's (and Deno's) built-in
 * `node:sqlite`. Same semantics as the Redis and in-process adapters (the
 * contract suite runs against all three); it cannot be shared by nodes.
 *
 * Every method is one transaction (`db.ts`), committed to the write-ahead log
 * with `synchronous = FULL` before it resolves: a SIGKILL loses nothing that
 * was acknowledged. Wake-ups are in-process, as one node owns the directory.
 *
 * This class is the surface: each method hands its call to the file of its
 * role with the context they share.
 */
import type { InboxEvent, InboxEventType } from '../../../actors/events.ts';
import type { SessionStatus } from '../../../actors/status.ts';
import type { AgentUsage } from '../../../actors/work-contract.ts';
import type { Store } from '../port.ts';
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
} from '../records.ts';
import * as accounts from './accounts.ts';
import * as admission from './admission.ts';
import * as commits from './commits.ts';
import * as counts from './counts.ts';
import type { SqliteContext } from './db.ts';
import * as inbox from './inbox.ts';
import * as ownership from './leases.ts';
import * as nodes from './nodes.ts';
import { openDb } from './open.ts';
import * as removal from './removal.ts';
import * as sessions from './sessions.ts';
import * as timers from './timers.ts';
import * as wakeUps from './wake-ups.ts';
import * as work from './work-records.ts';

export interface SqliteStoreOptions {
  /** The data directory; created (0700) if missing. */
  dir: string;
  /** The store's clock (default `Date.now`). */
  clock?: () => number;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  /** The database file, for the start-up line. */
  readonly file: string;
  /** Leases found in the file at open: sessions a dead process was running, queued again at once. */
  readonly orphansReleased: number;
  #ctx: SqliteContext;
  #unlock: () => void;
  #closed = false;

  constructor(opts: SqliteStoreOptions) {
    const opened = openDb(opts.dir);
    this.file = opened.file;
    this.#unlock = opened.unlock;
    this.#ctx = {
      db: opened.db,
      clock: opts.clock ?? Date.now,
      wake: new Map(),
      readyHandlers: new Set(),
    };
    this.orphansReleased = this.#tx(() => ownership.releaseOrphans(this.#ctx));
  }

  #tx<T>(fn: () => T): T {
    return this.#ctx.db.tx(fn);
  }

  async now(): Promise<number> {
    return this.#ctx.clock();
  }

  // Sessions (`sessions.ts`) ---------------------------------------------

  async createSession(
    init: NewSession,
    idempotencyKey?: string | RequestKey,
  ): Promise<{ record: SessionRecord; created: boolean }> {
    return this.#tx(() => sessions.createSession(this.#ctx, init, idempotencyKey));
  }

  async findRequestKey(rk: RequestKey): Promise<RequestKeyState> {
    return this.#tx(() => sessions.findRequestKey(this.#ctx, rk));
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return sessions.getSession(this.#ctx, id);
  }

  async listSessions(q: ListQuery): Promise<SessionSummary[]> {
    return sessions.listSessions(this.#ctx, q);
  }

  async getLogs(id: string, from?: number, count?: number): Promise<string[]> {
    return sessions.getLogs(this.#ctx, id, from, count);
  }

  async getHistory(id: string, from?: number): Promise<HistoryEntry[]> {
    return sessions.getHistory(this.#ctx, id, from);
  }

  // Inbox (`inbox.ts`) ---------------------------------------------------

  async appendEvent(
    id: string,
    event: { type: InboxEventType; payload: Record<string, unknown> },
    options?: AppendOptions,
  ): Promise<AppendResult> {
    return this.#tx(() => inbox.appendEvent(this.#ctx, id, event, options));
  }

  async readEvents(id: string, afterId: string, count: number): Promise<InboxEvent[]> {
    return inbox.readEvents(this.#ctx, id, afterId, count);
  }

  // Ownership (`leases.ts`) ----------------------------------------------

  async takeReady(max: number, ttlMs: number): Promise<string[]> {
    return this.#tx(() => ownership.takeReady(this.#ctx, max, ttlMs));
  }

  async claim(id: string, nodeId: string, ttlMs: number): Promise<ClaimResult> {
    return this.#tx(() => ownership.claim(this.#ctx, id, nodeId, ttlMs));
  }

  async forget(id: string): Promise<void> {
    this.#tx(() => ownership.forget(this.#ctx, id));
  }

  async renew(
    nodeId: string,
    leases: { id: string; epoch: number }[],
    ttlMs: number,
  ): Promise<RenewResult[]> {
    return this.#tx(() => ownership.renew(this.#ctx, nodeId, leases, ttlMs));
  }

  async release(id: string, lease: Lease, requeue: boolean): Promise<CommitResult> {
    return this.#tx(() => ownership.release(this.#ctx, id, lease, requeue));
  }

  // Commits (`commits.ts`) and timer delivery (`timers.ts`) -----------------

  async commit(id: string, lease: Lease, c: Commit): Promise<CommitResult> {
    return this.#tx(() => commits.commit(this.#ctx, id, lease, c));
  }

  async appendLogs(id: string, lease: Lease, lines: string[]): Promise<CommitResult> {
    return this.#tx(() => commits.appendLogs(this.#ctx, id, lease, lines));
  }

  async scheduleTimer(id: string, lease: Lease, timer: TimerSpec): Promise<CommitResult> {
    return this.#tx(() => commits.scheduleTimer(this.#ctx, id, lease, timer));
  }

  async fireDueTimers(max: number): Promise<number> {
    return this.#tx(() => timers.fireDueTimers(this.#ctx, max));
  }

  // Wake-ups (`wake-ups.ts`) ---------------------------------------------

  onWake(nodeId: string, handler: WakeHandler): Promise<() => Promise<void>> {
    return wakeUps.onWake(this.#ctx, nodeId, handler);
  }

  onReady(handler: () => void): Promise<() => Promise<void>> {
    return wakeUps.onReady(this.#ctx, handler);
  }

  // Agent bookkeeping (`work-records.ts`) ----------------------------------

  async putProfile(profile: StoredProfile): Promise<void> {
    this.#tx(() => work.putProfile(this.#ctx, profile));
  }

  async getProfile(id: string): Promise<StoredProfile | null> {
    return work.getProfile(this.#ctx, id);
  }

  async defaultProfile(): Promise<StoredProfile | null> {
    return work.defaultProfile(this.#ctx);
  }

  async listProfiles(): Promise<StoredProfile[]> {
    return work.listProfiles(this.#ctx);
  }

  async deleteProfile(id: string): Promise<boolean> {
    return this.#tx(() => work.deleteProfile(this.#ctx, id));
  }

  async addUsage(id: string, lease: Lease, delta: AgentUsage): Promise<CommitResult> {
    return this.#tx(() => work.addUsage(this.#ctx, id, lease, delta));
  }

  async getUsage(id: string): Promise<AgentUsage> {
    return work.getUsage(this.#ctx, id);
  }

  async appendTranscript(
    id: string,
    lease: Lease,
    role: string,
    messages: unknown[],
  ): Promise<CommitResult> {
    return this.#tx(() => work.appendTranscript(this.#ctx, id, lease, role, messages));
  }

  async getTranscript(id: string, role: string): Promise<unknown[]> {
    return work.getTranscript(this.#ctx, id, role);
  }

  async putArtifacts(
    id: string,
    lease: Lease,
    values: Record<string, string>,
  ): Promise<CommitResult> {
    return this.#tx(() => work.putArtifacts(this.#ctx, id, lease, values));
  }

  async getArtifacts(id: string): Promise<Record<string, string>> {
    return work.getArtifacts(this.#ctx, id);
  }

  // Nodes (`nodes.ts`) ---------------------------------------------------

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    this.#tx(() => nodes.heartbeat(this.#ctx, node, ttlMs));
  }

  async listNodes(): Promise<NodeInfo[]> {
    return nodes.listNodes(this.#ctx);
  }

  // Users and API tokens (`accounts.ts`) --------------------------------

  async putUser(user: StoredUser): Promise<void> {
    this.#tx(() => accounts.putUser(this.#ctx, user));
  }

  async getUser(id: string): Promise<StoredUser | null> {
    return accounts.getUser(this.#ctx, id);
  }

  async listUsers(): Promise<StoredUser[]> {
    return accounts.listUsers(this.#ctx);
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.#tx(() => accounts.deleteUser(this.#ctx, id));
  }

  async putToken(token: StoredToken, opts: { onlyIfUserHasNone?: boolean } = {}): Promise<boolean> {
    return this.#tx(() => accounts.putToken(this.#ctx, token, opts.onlyIfUserHasNone === true));
  }

  async tokenByHash(hash: string): Promise<StoredToken | null> {
    return accounts.tokenByHash(this.#ctx, hash);
  }

  async listTokens(userId: string): Promise<StoredToken[]> {
    return accounts.listTokens(this.#ctx, userId);
  }

  async deleteToken(userId: string, tokenId: string): Promise<boolean> {
    return this.#tx(() => accounts.deleteToken(this.#ctx, userId, tokenId));
  }

  // Per-user running limit (`admission.ts`) -------------------------------

  async admit(id: string, userId: string, limit: number): Promise<AdmitResult> {
    return this.#tx(() => admission.admit(this.#ctx, id, userId, limit));
  }

  async setRunning(id: string, userId: string, running: boolean): Promise<void> {
    this.#tx(() => admission.setRunning(this.#ctx, id, userId, running));
  }

  async park(id: string, lease: Lease, reason: string, recheckMs: number): Promise<CommitResult> {
    return this.#tx(() => admission.park(this.#ctx, id, lease, reason, recheckMs));
  }

  // Removal (`removal.ts`) -----------------------------------------------

  async listEnded(before: number, limit: number): Promise<SessionSummary[]> {
    return removal.listEnded(this.#ctx, before, limit);
  }

  async removeSession(id: string): Promise<RemovalResult> {
    return this.#tx(() => removal.removeSession(this.#ctx, id));
  }

  // Counts (`counts.ts`) -------------------------------------------------

  async stats(): Promise<StoreStats> {
    return counts.stats(this.#ctx);
  }

  async countByStatus(): Promise<Record<SessionStatus, number>> {
    return counts.countByStatus(this.#ctx);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.wake.clear();
    this.#ctx.readyHandlers.clear();
    this.#ctx.db.close();
    this.#unlock();
  }
}
