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
import { MemoryAccounts } from './accounts.ts';
import * as admission from './admission.ts';
import * as commits from './commits.ts';
import * as counts from './counts.ts';
import * as inbox from './inbox.ts';
import * as ownership from './leases.ts';
import * as nodes from './nodes.ts';
import * as removal from './removal.ts';
import * as sessions from './sessions.ts';
import { type MemoryState, newState } from './state.ts';
import * as timers from './timers.ts';
import * as wakeUps from './wake-ups.ts';
import * as work from './work-records.ts';

/**
 * The embedded store: one process, everything in Maps. Same semantics as the
 * Redis adapter (the contract suite runs against both), so the runtime cannot
 * tell them apart; it only cannot survive its process or be shared.
 *
 * This class is the surface: each method hands its call to the file of its
 * role, with the state they share (`state.ts`). Every method stays a public
 * method of the class, so a test can override one.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  #st: MemoryState;
  #accounts = new MemoryAccounts();
  #admission = new admission.MemoryAdmission();

  constructor(opts: { clock?: () => number } = {}) {
    this.#st = newState(opts.clock ?? Date.now);
  }

  async now(): Promise<number> {
    return this.#st.clock();
  }

  // Sessions (`sessions.ts`) ---------------------------------------------

  createSession(
    init: NewSession,
    idempotencyKey?: string | RequestKey,
  ): Promise<{ record: SessionRecord; created: boolean }> {
    return sessions.createSession(this.#st, init, idempotencyKey);
  }

  findRequestKey(rk: RequestKey): Promise<RequestKeyState> {
    return sessions.findRequestKey(this.#st, rk);
  }

  getSession(id: string): Promise<SessionRecord | null> {
    return sessions.getSession(this.#st, id);
  }

  listSessions(q: ListQuery): Promise<SessionSummary[]> {
    return sessions.listSessions(this.#st, q);
  }

  getLogs(id: string, from?: number, count?: number): Promise<string[]> {
    return sessions.getLogs(this.#st, id, from, count);
  }

  getHistory(id: string, from?: number): Promise<HistoryEntry[]> {
    return sessions.getHistory(this.#st, id, from);
  }

  // Inbox (`inbox.ts`) ---------------------------------------------------

  appendEvent(
    id: string,
    event: { type: InboxEventType; payload: Record<string, unknown> },
    options?: AppendOptions,
  ): Promise<AppendResult> {
    return inbox.appendEvent(this.#st, id, event, options);
  }

  readEvents(id: string, afterId: string, count: number): Promise<InboxEvent[]> {
    return inbox.readEvents(this.#st, id, afterId, count);
  }

  // Ownership (`leases.ts`) ----------------------------------------------

  takeReady(max: number, ttlMs: number): Promise<string[]> {
    return ownership.takeReady(this.#st, max, ttlMs);
  }

  claim(id: string, nodeId: string, ttlMs: number): Promise<ClaimResult> {
    return ownership.claim(this.#st, id, nodeId, ttlMs);
  }

  forget(id: string): Promise<void> {
    return ownership.forget(this.#st, id);
  }

  renew(
    nodeId: string,
    leases: { id: string; epoch: number }[],
    ttlMs: number,
  ): Promise<RenewResult[]> {
    return ownership.renew(this.#st, nodeId, leases, ttlMs);
  }

  release(id: string, lease: Lease, requeue: boolean): Promise<CommitResult> {
    return ownership.release(this.#st, id, lease, requeue);
  }

  // Commits (`commits.ts`) and timer delivery (`timers.ts`) -----------------

  commit(id: string, lease: Lease, c: Commit): Promise<CommitResult> {
    return commits.commit(this.#st, id, lease, c);
  }

  appendLogs(id: string, lease: Lease, lines: string[]): Promise<CommitResult> {
    return commits.appendLogs(this.#st, id, lease, lines);
  }

  scheduleTimer(id: string, lease: Lease, timer: TimerSpec): Promise<CommitResult> {
    return commits.scheduleTimer(this.#st, id, lease, timer);
  }

  fireDueTimers(max: number): Promise<number> {
    return timers.fireDueTimers(this.#st, max);
  }

  // Wake-ups (`wake-ups.ts`) ---------------------------------------------

  onWake(nodeId: string, handler: WakeHandler): Promise<() => Promise<void>> {
    return wakeUps.onWake(this.#st, nodeId, handler);
  }

  onReady(handler: () => void): Promise<() => Promise<void>> {
    return wakeUps.onReady(this.#st, handler);
  }

  // Agent bookkeeping (`work-records.ts`) ----------------------------------

  putProfile(profile: StoredProfile): Promise<void> {
    return work.putProfile(this.#st, profile);
  }

  getProfile(id: string): Promise<StoredProfile | null> {
    return work.getProfile(this.#st, id);
  }

  defaultProfile(): Promise<StoredProfile | null> {
    return work.defaultProfile(this.#st);
  }

  listProfiles(): Promise<StoredProfile[]> {
    return work.listProfiles(this.#st);
  }

  deleteProfile(id: string): Promise<boolean> {
    return work.deleteProfile(this.#st, id);
  }

  addUsage(id: string, lease: Lease, delta: AgentUsage): Promise<CommitResult> {
    return work.addUsage(this.#st, id, lease, delta);
  }

  getUsage(id: string): Promise<AgentUsage> {
    return work.getUsage(this.#st, id);
  }

  appendTranscript(
    id: string,
    lease: Lease,
    role: string,
    messages: unknown[],
  ): Promise<CommitResult> {
    return work.appendTranscript(this.#st, id, lease, role, messages);
  }

  getTranscript(id: string, role: string): Promise<unknown[]> {
    return work.getTranscript(this.#st, id, role);
  }

  putArtifacts(id: string, lease: Lease, values: Record<string, string>): Promise<CommitResult> {
    return work.putArtifacts(this.#st, id, lease, values);
  }

  getArtifacts(id: string): Promise<Record<string, string>> {
    return work.getArtifacts(this.#st, id);
  }

  // Nodes (`nodes.ts`) ---------------------------------------------------

  heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    return nodes.heartbeat(this.#st, node, ttlMs);
  }

  listNodes(): Promise<NodeInfo[]> {
    return nodes.listNodes(this.#st);
  }

  // Users and API tokens (`accounts.ts`) --------------------------------

  async putUser(user: StoredUser): Promise<void> {
    this.#accounts.putUser(user);
  }

  async getUser(id: string): Promise<StoredUser | null> {
    return this.#accounts.getUser(id);
  }

  async listUsers(): Promise<StoredUser[]> {
    return this.#accounts.listUsers();
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.#accounts.deleteUser(id);
  }

  async putToken(token: StoredToken, opts: { onlyIfUserHasNone?: boolean } = {}): Promise<boolean> {
    return this.#accounts.putToken(token, opts.onlyIfUserHasNone === true);
  }

  async tokenByHash(hash: string): Promise<StoredToken | null> {
    return this.#accounts.tokenByHash(hash);
  }

  async listTokens(userId: string): Promise<StoredToken[]> {
    return this.#accounts.listTokens(userId);
  }

  async deleteToken(userId: string, tokenId: string): Promise<boolean> {
    return this.#accounts.deleteToken(userId, tokenId);
  }

  // Per-user running limit (`admission.ts`) -------------------------------

  async admit(id: string, userId: string, limit: number): Promise<AdmitResult> {
    return this.#admission.admit(id, userId, limit, this.#st.clock());
  }

  setRunning(id: string, userId: string, running: boolean): Promise<void> {
    return admission.setRunning(this.#st, this.#admission, id, userId, running);
  }

  park(id: string, lease: Lease, reason: string, recheckMs: number): Promise<CommitResult> {
    return admission.park(this.#st, id, lease, reason, recheckMs);
  }

  // Counts (`counts.ts`) -------------------------------------------------

  stats(): Promise<StoreStats> {
    return counts.stats(this.#st);
  }

  countByStatus(): Promise<Record<SessionStatus, number>> {
    return counts.countByStatus(this.#st);
  }

  // Removal (`removal.ts`) -----------------------------------------------

  listEnded(before: number, limit: number): Promise<SessionSummary[]> {
    return removal.listEnded(this.#st, before, limit);
  }

  removeSession(id: string): Promise<RemovalResult> {
    return removal.removeSession(this.#st, this.#admission, id);
  }

  /**
   * Everything it holds but users and tokens, as JSON (maps and sets as
   * entry lists): tests scan it for what a removal must not leave behind.
   */
  dump(): string {
    const { clock: _clock, wake: _wake, readyHandlers: _handlers, ...held } = this.#st;
    return JSON.stringify({ ...held, admission: this.#admission }, (_k, v: unknown) =>
      v instanceof Map ? [...v] : v instanceof Set ? [...v] : v,
    );
  }

  async close(): Promise<void> {
    this.#st.wake.clear();
    this.#st.readyHandlers.clear();
  }
}
