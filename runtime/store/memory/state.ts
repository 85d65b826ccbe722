/**
 * What the in-process store keeps, in one object holding the maps that every
 * role file (`sessions.ts`, `inbox.ts`, `leases.ts` …) works on, and the
 * helpers more than one of them uses. One process: each store method runs to
 * its end before another starts, so every method is atomic by itself.
 */
import type { InboxEvent } from '../../../actors/events.ts';
import { PASSIVE_STATUSES } from '../../../actors/status.ts';
import {
  compareEventIds,
  type CommitResult,
  type HistoryEntry,
  type Lease,
  type NodeInfo,
  type SessionRecord,
  type StoredProfile,
  type WakeHandler,
} from '../records.ts';

export interface Session {
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
export interface KeyRecord {
  until: number;
  fingerprint: string;
  answer: string;
}

/** Everything the store keeps but users, tokens and the running limit (`accounts.ts`, `admission.ts`). */
export interface MemoryState {
  clock: () => number;
  sessions: Map<string, Session>;
  /** Request key → the first request's fingerprint and session (the Redis adapter's reservations in `{g}`). */
  reservations: Map<string, { fingerprint: string; sessionId: string; until: number }>;
  ready: Map<string, number>;
  deadlines: Map<string, number>;
  nodes: Map<string, { info: NodeInfo; ttlMs: number }>;
  profiles: Map<string, StoredProfile>;
  wake: Map<string, Set<WakeHandler>>;
  readyHandlers: Set<() => void>;
  fenced: number;
  lastEventMs: number;
  lastEventSeq: number;
}

export function newState(clock: () => number): MemoryState {
  return {
    clock,
    sessions: new Map(),
    reservations: new Map(),
    ready: new Map(),
    deadlines: new Map(),
    nodes: new Map(),
    profiles: new Map(),
    wake: new Map(),
    readyHandlers: new Set(),
    fenced: 0,
    lastEventMs: 0,
    lastEventSeq: 0,
  };
}

export const copy = <T>(v: T): T => structuredClone(v);
/** A copy without the keys set to undefined: absent fields stay absent, as in Redis. */
export const defined = <T extends object>(v: T): T =>
  Object.fromEntries(Object.entries(copy(v)).filter(([, x]) => x !== undefined)) as T;
export const isPassive = (s: string) => (PASSIVE_STATUSES as readonly string[]).includes(s);

export function view(st: MemoryState, s: Session): SessionRecord {
  const now = st.clock();
  const owner =
    s.leaseNode && s.leaseUntil > now
      ? { nodeId: s.leaseNode, epoch: s.record.epoch, until: s.leaseUntil }
      : null;
  // Like Redis, counted from the first commit that brings transitions.
  return copy({ ...s.record, owner, ...(s.historyN > 0 ? { history_count: s.historyN } : {}) });
}

export function pending(s: Session): boolean {
  const last = s.inbox[s.inbox.length - 1];
  return last !== undefined && compareEventIds(last.id, s.record.last_event_id) > 0;
}

export function fence(st: MemoryState, s: Session | undefined, lease: Lease): CommitResult | null {
  if (!s) return { kind: 'not_found' };
  if (s.leaseNode !== lease.nodeId || s.record.epoch !== lease.epoch) {
    s.record.fenced_writes++;
    st.fenced++;
    return { kind: 'fenced' };
  }
  return null;
}

export function nextEventId(st: MemoryState): string {
  const ms = Math.max(st.clock(), st.lastEventMs);
  st.lastEventSeq = ms === st.lastEventMs ? st.lastEventSeq + 1 : 0;
  st.lastEventMs = ms;
  return `${ms}-${st.lastEventSeq}`;
}
