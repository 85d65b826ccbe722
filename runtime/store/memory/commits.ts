/**
 * What the owner of a session writes under its lease in the in-process
 * store, each write fenced by the epoch: commits (snapshot, history, logs,
 * optional release), log appends, and timers armed.
 */
import {
  HISTORY_CAP,
  type Commit,
  type CommitResult,
  type Lease,
  type TimerSpec,
} from '../records.ts';
import { copy, fence, type MemoryState, pending } from './state.ts';

export async function commit(
  st: MemoryState,
  id: string,
  lease: Lease,
  c: Commit,
): Promise<CommitResult> {
  const s = st.sessions.get(id);
  if (s && s.record.epoch === lease.epoch && s.commitTag === `${lease.epoch}:${c.seq}`) {
    return { kind: 'ok', released: s.leaseNode === '' };
  }
  const refused = fence(st, s, lease);
  if (refused || !s) return refused ?? { kind: 'not_found' };
  s.commitTag = `${lease.epoch}:${c.seq}`;
  const now = st.clock();
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
  if (c.release && !pending(s)) {
    s.leaseNode = '';
    s.leaseUntil = 0;
    st.deadlines.delete(id);
    released = true;
  }
  return { kind: 'ok', released };
}

export async function appendLogs(
  st: MemoryState,
  id: string,
  lease: Lease,
  lines: string[],
): Promise<CommitResult> {
  const s = st.sessions.get(id);
  const refused = fence(st, s, lease);
  if (refused || !s) return refused ?? { kind: 'not_found' };
  s.logs.push(...lines);
  return { kind: 'ok', released: false };
}

export async function scheduleTimer(
  st: MemoryState,
  id: string,
  lease: Lease,
  timer: TimerSpec,
): Promise<CommitResult> {
  const s = st.sessions.get(id);
  const refused = fence(st, s, lease);
  if (refused || !s) return refused ?? { kind: 'not_found' };
  if (!s.timers.has(timer.key)) {
    s.timers.set(timer.key, {
      payload: { ...copy(timer.payload), key: timer.key },
      due: st.clock() + timer.delayMs,
      state: 'armed',
    });
  }
  return { kind: 'ok', released: false };
}
