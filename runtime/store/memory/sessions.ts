/**
 * Sessions of the in-process store: creating them, the request keys that
 * protect a create or an append (as the Redis adapter's reservations in `{g}`
 * and `idem` hashes), and reading records, listings, logs and history.
 */
import { idempotencyKeyReused } from '../../../kernel/errors.ts';
import {
  requestKeyOf,
  type HistoryEntry,
  type ListQuery,
  type NewSession,
  type RequestKey,
  type RequestKeyState,
  type SessionRecord,
  type SessionSummary,
} from '../records.ts';
import { copy, defined, type MemoryState, type Session, view } from './state.ts';
import { enqueue } from './wake-ups.ts';

/** A user's request key, as one map key (the user id escaped, as in Redis). */
const keyName = (rk: RequestKey) => `${encodeURIComponent(rk.userId)}:${rk.key}`;

export async function createSession(
  st: MemoryState,
  init: NewSession,
  idempotencyKey?: string | RequestKey,
): Promise<{ record: SessionRecord; created: boolean }> {
  const rk = idempotencyKey === undefined ? undefined : requestKeyOf(idempotencyKey);
  // The first request's id wins, as in the Redis adapter (where its write may not have happened).
  const id = rk ? reservedFor(st, rk, init.id) : init.id;
  const existing = st.sessions.get(id);
  if (existing) {
    if (rk) keyAnswer(st, existing, rk);
    return { record: view(st, existing), created: false };
  }
  const now = st.clock();
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
  st.sessions.set(id, s);
  if (rk) remember(st, s, rk, '');
  enqueue(st, id);
  return { record: view(st, s), created: true };
}

export async function findRequestKey(st: MemoryState, rk: RequestKey): Promise<RequestKeyState> {
  const r = reservation(st, rk);
  if (!r) return { kind: 'unused' };
  if (r.fingerprint !== rk.fingerprint) return { kind: 'reused' };
  const seen = st.sessions.get(r.sessionId)?.idem.get(keyName(rk));
  if (!seen || seen.until <= st.clock()) return { kind: 'unused' };
  if (seen.fingerprint !== rk.fingerprint) return { kind: 'reused' };
  return {
    kind: 'used',
    sessionId: r.sessionId,
    ...(seen.answer ? { eventId: seen.answer } : {}),
  };
}

function reservation(st: MemoryState, rk: RequestKey) {
  const r = st.reservations.get(keyName(rk));
  return r && r.until > st.clock() ? r : undefined;
}

/** The session the first request with this key is for (`sessionId` when there is none); throws for another request. */
export function reservedFor(st: MemoryState, rk: RequestKey, sessionId: string): string {
  const r = reservation(st, rk);
  if (r && r.fingerprint !== rk.fingerprint) throw idempotencyKeyReused();
  return r?.sessionId ?? sessionId;
}

/** The answer recorded with the session's write for this key, or null; throws for another request. */
export function keyAnswer(st: MemoryState, s: Session, rk: RequestKey): string | null {
  const seen = s.idem.get(keyName(rk));
  if (!seen || seen.until <= st.clock()) return null;
  if (seen.fingerprint !== rk.fingerprint) throw idempotencyKeyReused();
  return seen.answer;
}

/** Records the key with the write it protects (and reserves it, if that is still to do). */
export function remember(st: MemoryState, s: Session, rk: RequestKey, answer: string): void {
  const now = st.clock();
  const until = now + rk.ttlMs;
  if (!reservation(st, rk)) {
    // Oldest first: drop the expired ones at the front (TTLs are all the same in practice).
    for (const [k, r] of st.reservations) {
      if (r.until > now) break;
      st.reservations.delete(k);
    }
    // Deleted first, so that it goes to the back (an expired one may still be in the map).
    st.reservations.delete(keyName(rk));
    st.reservations.set(keyName(rk), {
      fingerprint: rk.fingerprint,
      sessionId: s.record.id,
      until,
    });
  }
  for (const [k, r] of s.idem) if (r.until <= now) s.idem.delete(k);
  s.idem.set(keyName(rk), { until, fingerprint: rk.fingerprint, answer });
}

export async function getSession(st: MemoryState, id: string): Promise<SessionRecord | null> {
  const s = st.sessions.get(id);
  return s ? view(st, s) : null;
}

export async function listSessions(st: MemoryState, q: ListQuery): Promise<SessionSummary[]> {
  // Newest first by (created_at, id); the cursor is the last id of the previous page.
  const newer = (a: Session['record'], b: Session['record']) =>
    b.created_at - a.created_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
  const cursor = q.before === undefined ? undefined : st.sessions.get(q.before)?.record;
  return [...st.sessions.values()]
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
      const { snapshot: _drop, ...rest } = view(st, s);
      return rest;
    });
}

export async function getLogs(
  st: MemoryState,
  id: string,
  from = 0,
  count?: number,
): Promise<string[]> {
  const logs = st.sessions.get(id)?.logs ?? [];
  return logs.slice(from, count === undefined ? undefined : from + count);
}

export async function getHistory(
  st: MemoryState,
  id: string,
  from?: number,
): Promise<HistoryEntry[]> {
  const all = st.sessions.get(id)?.history ?? [];
  return copy(from === undefined ? all : all.filter((e) => e.n >= from));
}
