import { idempotencyKeyReused } from '../../../kernel/errors.ts';
import { checkArtifacts, checkRole, encodeMessage, usageIncrement } from '../bookkeeping.ts';
import type { Store } from '../port.ts';
import {
  HISTORY_CAP,
  TRANSCRIPT_CAP,
  compareEventIds,
  requestKeyOf,
  type RequestKey,
  type RequestKeyState,
  type AppendOptions,
  type AppendResult,
  type ClaimResult,
  type Commit,
  type CommitResult,
  type HistoryEntry,
  type Lease,
  type ListQuery,
  type NewSession,
  type NodeInfo,
  type RenewResult,
  type SessionRecord,
  type SessionSummary,
  type StoreStats,
  type StoredProfile,
  type TimerSpec,
  type WakeHandler,
  type WakeHint,
  type StoredToken,
  type StoredUser,
} from '../records.ts';
import { PASSIVE_STATUSES, SESSION_STATUSES, type SessionStatus } from '../../../actors/status.ts';
import type { AgentUsage } from '../../../actors/work-contract.ts';
import type { InboxEvent, InboxEventType } from '../../../actors/events.ts';
import { MemoryAccounts } from './accounts.ts';
import { MemoryAdmission } from './admission.ts';
import type { AdmitResult } from '../records.ts';

interface Session {
  record: Omit<SessionRecord, 'owner'>;
  leaseNode: string;
  leaseUntil: number;
  /** `epoch:seq` of the last commit written (see `Commit.seq`). */
  commitTag: string;
  inbox: InboxEvent[];
  logs: string[];
  history: HistoryEntry[];
  /** Transitions ever committed: the next history entry's `n`. */
  historyN: number;
  /** Request keys recorded with this session's writes, as the Redis adapter's `idem` hash. */
  idem: Map<string, KeyRecord>;
  timers: Map<string, { payload: Record<string, unknown>; due: number; state: 'armed' | 'fired' }>;
  usage: {
    calls: number;
    inputTokens: number;
    outputTokens: number;
    costMicros: number;
    costUnknown: boolean;
  };
  /** Role → messages as JSON text, as the Redis adapter keeps them. */
  transcripts: Map<string, string[]>;
  artifacts: Map<string, string>;
}

/** A request key's record with the write it protects: its answer (the event id; '' for a create). */
interface KeyRecord {
  until: number;
  fingerprint: string;
  answer: string;
}

/** A user's request key, as one map key (the user id escaped, as in Redis). */
const keyName = (rk: RequestKey) => `${encodeURIComponent(rk.userId)}:${rk.key}`;

const copy = <T>(v: T): T => structuredClone(v);
/** A copy without the keys set to undefined: absent fields stay absent, as in Redis. */
const defined = <T extends object>(v: T): T =>
  Object.fromEntries(Object.entries(copy(v)).filter(([, x]) => x !== undefined)) as T;
const isPassive = (s: string) => (PASSIVE_STATUSES as readonly string[]).includes(s);

/**
 * The embedded store: one process, everything in Maps. Same semantics as the
 * Redis adapter (the contract suite runs against both), so the runtime cannot
 * tell them apart; it only cannot survive its process or be shared.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  #clock: () => number;
  #sessions = new Map<string, Session>();
  /** Request key → the first request's fingerprint and session (the Redis adapter's reservations in `{g}`). */
  #reservations = new Map<string, { fingerprint: string; sessionId: string; until: number }>();
  #ready = new Map<string, number>();
  #deadlines = new Map<string, number>();
  #nodes = new Map<string, { info: NodeInfo; ttlMs: number }>();
  #profiles = new Map<string, StoredProfile>();
  #accounts = new MemoryAccounts();
  #admission = new MemoryAdmission();
  #wake = new Map<string, Set<WakeHandler>>();
  #readyHandlers = new Set<() => void>();
  #fenced = 0;
  #lastEventMs = 0;
  #lastEventSeq = 0;

  constructor(opts: { clock?: () => number } = {}) {
    this.#clock = opts.clock ?? Date.now;
  }

  async now(): Promise<number> {
    return this.#clock();
  }

  #view(s: Session): SessionRecord {
    const now = this.#clock();
    const owner =
      s.leaseNode && s.leaseUntil > now
        ? { nodeId: s.leaseNode, epoch: s.record.epoch, until: s.leaseUntil }
        : null;
    // Like Redis, counted from the first commit that brings transitions.
    return copy({ ...s.record, owner, ...(s.historyN > 0 ? { history_count: s.historyN } : {}) });
  }

  #pending(s: Session): boolean {
    const last = s.inbox[s.inbox.length - 1];
    return last !== undefined && compareEventIds(last.id, s.record.last_event_id) > 0;
  }

  #enqueue(id: string): void {
    if (!this.#ready.has(id)) this.#ready.set(id, this.#clock());
    for (const h of this.#readyHandlers) setTimeout(h, 0);
  }

  /** After an append: wake the valid owner (with the new event, if any), else queue for any node. */
  #notify(id: string, s: Session, hint?: WakeHint): void {
    if (s.leaseNode && s.leaseUntil > this.#clock()) {
      for (const h of this.#wake.get(s.leaseNode) ?? [])
        setTimeout(() => h(id, hint && copy(hint)), 0);
    } else {
      this.#enqueue(id);
    }
  }

  #fence(s: Session | undefined, lease: Lease): CommitResult | null {
    if (!s) return { kind: 'not_found' };
    if (s.leaseNode !== lease.nodeId || s.record.epoch !== lease.epoch) {
      s.record.fenced_writes++;
      this.#fenced++;
      return { kind: 'fenced' };
    }
    return null;
  }

  #nextEventId(): string {
    const ms = Math.max(this.#clock(), this.#lastEventMs);
    this.#lastEventSeq = ms === this.#lastEventMs ? this.#lastEventSeq + 1 : 0;
    this.#lastEventMs = ms;
    return `${ms}-${this.#lastEventSeq}`;
  }

  async createSession(
    init: NewSession,
    idempotencyKey?: string | RequestKey,
  ): Promise<{ record: SessionRecord; created: boolean }> {
    const rk = idempotencyKey === undefined ? undefined : requestKeyOf(idempotencyKey);
    // The first request's id wins, as in the Redis adapter (where its write may not have happened).
    const id = rk ? this.#reservedFor(rk, init.id) : init.id;
    const existing = this.#sessions.get(id);
    if (existing) {
      if (rk) this.#keyAnswer(existing, rk);
      return { record: this.#view(existing), created: false };
    }
    const now = this.#clock();
    const s: Session = {
      record: {
        ...defined(init),
        id,
        status: 'QUEUED',
        phase: 'queued',
        reason: null,
        result: null,
        created_at: now,
        updated_at: now,
        snapshot: null,
        last_event_id: '0-0',
        epoch: 0,
        fenced_writes: 0,
      },
      leaseNode: '',
      leaseUntil: 0,
      commitTag: '',
      inbox: [],
      logs: [],
      history: [],
      historyN: 0,
      idem: new Map(),
      timers: new Map(),
      usage: { calls: 0, inputTokens: 0, outputTokens: 0, costMicros: 0, costUnknown: false },
      transcripts: new Map(),
      artifacts: new Map(),
    };
    this.#sessions.set(id, s);
    if (rk) this.#remember(s, rk, '');
    this.#enqueue(id);
    return { record: this.#view(s), created: true };
  }

  async findRequestKey(rk: RequestKey): Promise<RequestKeyState> {
    const r = this.#reservation(rk);
    if (!r) return { kind: 'unused' };
    if (r.fingerprint !== rk.fingerprint) return { kind: 'reused' };
    const seen = this.#sessions.get(r.sessionId)?.idem.get(keyName(rk));
    if (!seen || seen.until <= this.#clock()) return { kind: 'unused' };
    if (seen.fingerprint !== rk.fingerprint) return { kind: 'reused' };
    return {
      kind: 'used',
      sessionId: r.sessionId,
      ...(seen.answer ? { eventId: seen.answer } : {}),
    };
  }

  #reservation(rk: RequestKey) {
    const r = this.#reservations.get(keyName(rk));
    return r && r.until > this.#clock() ? r : undefined;
  }

  /** The session the first request with this key is for (`sessionId` when there is none); throws for another request. */
  #reservedFor(rk: RequestKey, sessionId: string): string {
    const r = this.#reservation(rk);
    if (r && r.fingerprint !== rk.fingerprint) throw idempotencyKeyReused();
    return r?.sessionId ?? sessionId;
  }

  /** The answer recorded with the session's write for this key, or null; throws for another request. */
  #keyAnswer(s: Session, rk: RequestKey): string | null {
    const seen = s.idem.get(keyName(rk));
    if (!seen || seen.until <= this.#clock()) return null;
    if (seen.fingerprint !== rk.fingerprint) throw idempotencyKeyReused();
    return seen.answer;
  }

  /** Records the key with the write it protects (and reserves it, if that is still to do). */
  #remember(s: Session, rk: RequestKey, answer: string): void {
    const now = this.#clock();
    const until = now + rk.ttlMs;
    if (!this.#reservation(rk)) {
      // Oldest first: drop the expired ones at the front (TTLs are all the same in practice).
      for (const [k, r] of this.#reservations) {
        if (r.until > now) break;
        this.#reservations.delete(k);
      }
      // Deleted first, so that it goes to the back (an expired one may still be in the map).
      this.#reservations.delete(keyName(rk));
      this.#reservations.set(keyName(rk), {
        fingerprint: rk.fingerprint,
        sessionId: s.record.id,
        until,
      });
    }
    for (const [k, r] of s.idem) if (r.until <= now) s.idem.delete(k);
    s.idem.set(keyName(rk), { until, fingerprint: rk.fingerprint, answer });
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const s = this.#sessions.get(id);
    return s ? this.#view(s) : null;
  }

  async listSessions(q: ListQuery): Promise<SessionSummary[]> {
    // Newest first by (created_at, id); the cursor is the last id of the previous page.
    const newer = (a: Session['record'], b: Session['record']) =>
      b.created_at - a.created_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    const cursor = q.before === undefined ? undefined : this.#sessions.get(q.before)?.record;
    return [...this.#sessions.values()]
      .filter(
        (s) =>
          (!q.status || s.record.status === q.status) && (!cursor || newer(s.record, cursor) > 0),
      )
      .filter((s) => q.userId === undefined || s.record.userId === q.userId)
      .filter(
        (s) =>
          (q.createdAfter === undefined || s.record.created_at > q.createdAfter) &&
          (q.createdBefore === undefined || s.record.created_at < q.createdBefore),
      )
      .sort((a, b) => newer(a.record, b.record))
      .slice(0, q.limit)
      .map((s) => {
        const { snapshot: _drop, ...rest } = this.#view(s);
        return rest;
      });
  }

  async getLogs(id: string, from = 0, count?: number): Promise<string[]> {
    const logs = this.#sessions.get(id)?.logs ?? [];
    return logs.slice(from, count === undefined ? undefined : from + count);
  }

  async getHistory(id: string, from?: number): Promise<HistoryEntry[]> {
    const all = this.#sessions.get(id)?.history ?? [];
    return copy(from === undefined ? all : all.filter((e) => e.n >= from));
  }

  async appendEvent(
    id: string,
    event: { type: InboxEventType; payload: Record<string, unknown> },
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const rk =
      options.idempotencyKey === undefined ? undefined : requestKeyOf(options.idempotencyKey);
    if (rk) this.#reservedFor(rk, id);
    const s = this.#sessions.get(id);
    if (!s) return { kind: 'not_found' };
    const first = rk ? this.#keyAnswer(s, rk) : null;
    // '' is a create's record: this key was sent with another request.
    if (first === '') throw idempotencyKeyReused();
    if (first) {
      this.#notify(id, s);
      return { kind: 'appended', eventId: first, duplicate: true };
    }
    if (options.allowedStatuses && !options.allowedStatuses.includes(s.record.status))
      return { kind: 'conflict', status: s.record.status };
    const ev: InboxEvent = {
      id: this.#nextEventId(),
      type: event.type,
      payload: copy(event.payload),
      at: this.#clock(),
    };
    const prevId = s.inbox[s.inbox.length - 1]?.id ?? '0-0';
    s.inbox.push(ev);
    if (rk) this.#remember(s, rk, ev.id);
    this.#notify(id, s, { event: ev, prevId });
    return { kind: 'appended', eventId: ev.id, duplicate: false };
  }

  async readEvents(id: string, afterId: string, count: number): Promise<InboxEvent[]> {
    const inbox = this.#sessions.get(id)?.inbox ?? [];
    return copy(
      inbox.filter((e) => compareEventIds(e.id, afterId) > 0).slice(0, Math.max(0, count)),
    );
  }

  async takeReady(max: number, ttlMs: number): Promise<string[]> {
    const now = this.#clock();
    const out: string[] = [];
    for (const [id, at] of [...this.#ready].sort((a, b) => a[1] - b[1])) {
      if (out.length >= max || at > now) break;
      this.#ready.delete(id);
      out.push(id);
    }
    for (const [id, until] of [...this.#deadlines].sort((a, b) => a[1] - b[1])) {
      if (out.length >= max || until > now) break;
      if (!out.includes(id)) out.push(id);
    }
    for (const id of out) this.#deadlines.set(id, now + ttlMs);
    return out;
  }

  async claim(id: string, nodeId: string, ttlMs: number): Promise<ClaimResult> {
    const s = this.#sessions.get(id);
    if (!s) return { kind: 'not_found' };
    const now = this.#clock();
    if (s.leaseNode && s.leaseUntil > now) {
      this.#deadlines.set(id, s.leaseUntil);
      return { kind: 'busy', until: s.leaseUntil };
    }
    if (isPassive(s.record.status) && !this.#pending(s)) {
      this.#deadlines.delete(id);
      return { kind: 'idle' };
    }
    s.record.epoch++;
    s.leaseNode = nodeId;
    s.leaseUntil = now + ttlMs;
    this.#deadlines.set(id, s.leaseUntil);
    return {
      kind: 'claimed',
      lease: { nodeId, epoch: s.record.epoch },
      until: s.leaseUntil,
      record: this.#view(s),
    };
  }

  async forget(id: string): Promise<void> {
    this.#ready.delete(id);
    this.#deadlines.delete(id);
  }

  async renew(
    nodeId: string,
    leases: { id: string; epoch: number }[],
    ttlMs: number,
  ): Promise<RenewResult[]> {
    const now = this.#clock();
    return leases.map(({ id, epoch }) => {
      const s = this.#sessions.get(id);
      if (!s || s.leaseNode !== nodeId || s.record.epoch !== epoch) {
        return { id, ok: false, until: s?.leaseUntil ?? 0, pending: false };
      }
      s.leaseUntil = now + ttlMs;
      this.#deadlines.set(id, s.leaseUntil);
      return { id, ok: true, until: s.leaseUntil, pending: this.#pending(s) };
    });
  }

  async commit(id: string, lease: Lease, c: Commit): Promise<CommitResult> {
    const s = this.#sessions.get(id);
    if (s && s.record.epoch === lease.epoch && s.commitTag === `${lease.epoch}:${c.seq}`) {
      return { kind: 'ok', released: s.leaseNode === '' };
    }
    const refused = this.#fence(s, lease);
    if (refused || !s) return refused ?? { kind: 'not_found' };
    s.commitTag = `${lease.epoch}:${c.seq}`;
    const now = this.#clock();
    Object.assign(s.record, {
      snapshot: copy(c.snapshot),
      status: c.status,
      phase: c.phase,
      reason: c.reason,
      goal: c.goal,
      result: copy(c.result ?? null),
      last_event_id: c.lastEventId,
      updated_at: now,
    });
    s.logs.push(...c.logs);
    s.history.push(
      ...c.history.map((h) => ({
        ...h,
        n: s.historyN++,
        at: now,
        node: lease.nodeId,
        epoch: lease.epoch,
      })),
    );
    if (s.history.length > HISTORY_CAP) s.history.splice(0, s.history.length - HISTORY_CAP);
    let released = false;
    if (c.release && !this.#pending(s)) {
      s.leaseNode = '';
      s.leaseUntil = 0;
      this.#deadlines.delete(id);
      released = true;
    }
    return { kind: 'ok', released };
  }

  async appendLogs(id: string, lease: Lease, lines: string[]): Promise<CommitResult> {
    const s = this.#sessions.get(id);
    const refused = this.#fence(s, lease);
    if (refused || !s) return refused ?? { kind: 'not_found' };
    s.logs.push(...lines);
    return { kind: 'ok', released: false };
  }

  async release(id: string, lease: Lease, requeue: boolean): Promise<CommitResult> {
    const s = this.#sessions.get(id);
    const refused = this.#fence(s, lease);
    if (refused || !s) return refused ?? { kind: 'not_found' };
    s.leaseNode = '';
    s.leaseUntil = 0;
    if (requeue) this.#enqueue(id);
    else if (isPassive(s.record.status)) this.#deadlines.delete(id);
    return { kind: 'ok', released: true };
  }

  async scheduleTimer(id: string, lease: Lease, timer: TimerSpec): Promise<CommitResult> {
    const s = this.#sessions.get(id);
    const refused = this.#fence(s, lease);
    if (refused || !s) return refused ?? { kind: 'not_found' };
    if (!s.timers.has(timer.key)) {
      s.timers.set(timer.key, {
        payload: { ...copy(timer.payload), key: timer.key },
        due: this.#clock() + timer.delayMs,
        state: 'armed',
      });
    }
    return { kind: 'ok', released: false };
  }

  async fireDueTimers(max: number): Promise<number> {
    const now = this.#clock();
    let fired = 0;
    for (const [id, s] of this.#sessions) {
      for (const t of s.timers.values()) {
        if (fired >= max) return fired;
        if (t.state !== 'armed' || t.due > now) continue;
        t.state = 'fired';
        s.inbox.push({ id: this.#nextEventId(), type: 'timer', payload: copy(t.payload), at: now });
        this.#notify(id, s);
        fired++;
      }
    }
    return fired;
  }

  async onWake(nodeId: string, handler: WakeHandler): Promise<() => Promise<void>> {
    const set = this.#wake.get(nodeId) ?? new Set();
    set.add(handler);
    this.#wake.set(nodeId, set);
    return async () => void set.delete(handler);
  }

  async onReady(handler: () => void): Promise<() => Promise<void>> {
    this.#readyHandlers.add(handler);
    return async () => void this.#readyHandlers.delete(handler);
  }

  async putProfile(profile: StoredProfile): Promise<void> {
    const p = copy(profile);
    p.isDefault = p.isDefault === true;
    if (p.isDefault)
      for (const other of this.#profiles.values()) if (other.id !== p.id) other.isDefault = false;
    this.#profiles.set(p.id, p);
  }

  async getProfile(id: string): Promise<StoredProfile | null> {
    const p = this.#profiles.get(id);
    return p ? copy(p) : null;
  }

  async defaultProfile(): Promise<StoredProfile | null> {
    for (const p of this.#profiles.values()) if (p.isDefault) return copy(p);
    return null;
  }

  async listProfiles(): Promise<StoredProfile[]> {
    return [...this.#profiles.values()]
      .map(copy)
      .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  async deleteProfile(id: string): Promise<boolean> {
    return this.#profiles.delete(id);
  }

  async addUsage(id: string, lease: Lease, delta: AgentUsage): Promise<CommitResult> {
    const d = usageIncrement(delta);
    const s = this.#sessions.get(id);
    const refused = this.#fence(s, lease);
    if (refused || !s) return refused ?? { kind: 'not_found' };
    s.usage.calls += d.calls;
    s.usage.inputTokens += d.inputTokens;
    s.usage.outputTokens += d.outputTokens;
    if (d.cost === null) s.usage.costUnknown = true;
    else s.usage.costMicros += d.cost;
    return { kind: 'ok', released: false };
  }

  async getUsage(id: string): Promise<AgentUsage> {
    const u = this.#sessions.get(id)?.usage;
    if (!u) return { calls: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 };
    return {
      calls: u.calls,
      inputTokens: u.inputTokens,
      outputTokens: u.outputTokens,
      costMicros: u.costUnknown ? null : u.costMicros,
    };
  }

  async appendTranscript(
    id: string,
    lease: Lease,
    role: string,
    messages: unknown[],
  ): Promise<CommitResult> {
    checkRole(role);
    const encoded = messages.map(encodeMessage);
    const s = this.#sessions.get(id);
    const refused = this.#fence(s, lease);
    if (refused || !s) return refused ?? { kind: 'not_found' };
    const list = s.transcripts.get(role) ?? [];
    list.push(...encoded.slice(-TRANSCRIPT_CAP));
    if (list.length > TRANSCRIPT_CAP) list.splice(0, list.length - TRANSCRIPT_CAP);
    s.transcripts.set(role, list);
    return { kind: 'ok', released: false };
  }

  async getTranscript(id: string, role: string): Promise<unknown[]> {
    checkRole(role);
    return (this.#sessions.get(id)?.transcripts.get(role) ?? []).map(
      (m) => JSON.parse(m) as unknown,
    );
  }

  async putArtifacts(
    id: string,
    lease: Lease,
    values: Record<string, string>,
  ): Promise<CommitResult> {
    const entries = checkArtifacts(values);
    const s = this.#sessions.get(id);
    const refused = this.#fence(s, lease);
    if (refused || !s) return refused ?? { kind: 'not_found' };
    for (const [k, v] of entries) s.artifacts.set(k, v);
    return { kind: 'ok', released: false };
  }

  async getArtifacts(id: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.#sessions.get(id)?.artifacts ?? []);
  }

  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    this.#nodes.set(node.id, { info: { ...copy(node), heartbeat_at: this.#clock() }, ttlMs });
  }

  async listNodes(): Promise<NodeInfo[]> {
    const now = this.#clock();
    return [...this.#nodes.values()]
      .filter((n) => now - n.info.heartbeat_at <= n.ttlMs * 3)
      .sort((a, b) => b.info.heartbeat_at - a.info.heartbeat_at)
      .map((n) => copy(n.info));
  }

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

  // Per-user running limit ----------------------------------------------

  async admit(id: string, userId: string, limit: number): Promise<AdmitResult> {
    return this.#admission.admit(id, userId, limit, this.#clock());
  }

  async setRunning(id: string, userId: string, running: boolean): Promise<void> {
    if (running) return this.#admission.count(id, userId);
    const promoted = this.#admission.uncount(id, userId);
    for (const [pid, at] of promoted) if (!this.#ready.has(pid)) this.#ready.set(pid, at);
    if (promoted.length > 0) for (const h of this.#readyHandlers) setTimeout(h, 0);
  }

  async park(id: string, lease: Lease, reason: string, recheckMs: number): Promise<CommitResult> {
    const s = this.#sessions.get(id);
    const refused = this.#fence(s, lease);
    if (refused || !s) return refused ?? { kind: 'not_found' };
    const cancel = s.inbox.some(
      (e) => e.type === 'cancel' && compareEventIds(e.id, s.record.last_event_id) > 0,
    );
    if (cancel) return { kind: 'ok', released: false };
    const now = this.#clock();
    Object.assign(s.record, { reason, updated_at: now });
    s.leaseNode = '';
    s.leaseUntil = 0;
    this.#ready.delete(id);
    this.#deadlines.set(id, now + recheckMs);
    return { kind: 'ok', released: true };
  }

  async stats(): Promise<StoreStats> {
    return { fenced_writes: this.#fenced };
  }

  async countByStatus(): Promise<Record<SessionStatus, number>> {
    const counts = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<
      SessionStatus,
      number
    >;
    for (const s of this.#sessions.values()) counts[s.record.status]++;
    return counts;
  }

  async close(): Promise<void> {
    this.#wake.clear();
    this.#readyHandlers.clear();
  }
}
