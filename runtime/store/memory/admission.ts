import { compareEventIds, type AdmitResult, type CommitResult, type Lease } from '../records.ts';
import { fence, type MemoryState } from './state.ts';

/**
 * The in-process store's per-user running limit: who is counted as running,
 * and who waits (parked, with the time it first waited). The Redis adapter
 * keeps the same two things in `{g}:running:<user>` and `{g}:parked:<user>`.
 */
export class MemoryAdmission {
  #running = new Map<string, Set<string>>();
  #parked = new Map<string, Map<string, number>>();

  admit(id: string, userId: string, limit: number, now: number): AdmitResult {
    const running = this.#running.get(userId) ?? new Set<string>();
    const parked = this.#parked.get(userId);
    if (running.has(id) || running.size < limit) {
      running.add(id);
      this.#running.set(userId, running);
      parked?.delete(id);
      return { admitted: true };
    }
    const waiting = parked ?? new Map<string, number>();
    if (!waiting.has(id)) waiting.set(id, now);
    this.#parked.set(userId, waiting);
    return { admitted: false, running: [...running].sort() };
  }

  /** Counts the session as running (it is no longer parked then). */
  count(id: string, userId: string): void {
    const running = this.#running.get(userId) ?? new Set<string>();
    running.add(id);
    this.#running.set(userId, running);
    this.#parked.get(userId)?.delete(id);
  }

  /**
   * Drops a removed session from the user's running and parked sets. Unlike
   * `uncount` it promotes no one: an ended session counted as running is a
   * stale entry, and admission already drops those when it meets them.
   */
  forgetSession(id: string, userId: string): void {
    const running = this.#running.get(userId);
    running?.delete(id);
    if (running?.size === 0) this.#running.delete(userId);
    const parked = this.#parked.get(userId);
    parked?.delete(id);
    if (parked?.size === 0) this.#parked.delete(userId);
  }

  /** Both sets, for `MemoryStore.dump`. */
  toJSON(): { running: Map<string, Set<string>>; parked: Map<string, Map<string, number>> } {
    return { running: this.#running, parked: this.#parked };
  }

  /** Uncounts the session and un-parks every other session of the user: returns them with their first waiting time. */
  uncount(id: string, userId: string): [string, number][] {
    const running = this.#running.get(userId);
    running?.delete(id);
    if (running?.size === 0) this.#running.delete(userId);
    const parked = this.#parked.get(userId);
    this.#parked.delete(userId);
    if (!parked) return [];
    parked.delete(id);
    return [...parked];
  }
}

/** Counts the session or not; uncounting puts the sessions it un-parks back on the ready queue, with the hint. */
export async function setRunning(
  st: MemoryState,
  admission: MemoryAdmission,
  id: string,
  userId: string,
  running: boolean,
): Promise<void> {
  if (running) return admission.count(id, userId);
  const promoted = admission.uncount(id, userId);
  for (const [pid, at] of promoted) if (!st.ready.has(pid)) st.ready.set(pid, at);
  if (promoted.length > 0) for (const h of st.readyHandlers) setTimeout(h, 0);
}

export async function park(
  st: MemoryState,
  id: string,
  lease: Lease,
  reason: string,
  recheckMs: number,
): Promise<CommitResult> {
  const s = st.sessions.get(id);
  const refused = fence(st, s, lease);
  if (refused || !s) return refused ?? { kind: 'not_found' };
  const cancel = s.inbox.some(
    (e) => e.type === 'cancel' && compareEventIds(e.id, s.record.last_event_id) > 0,
  );
  if (cancel) return { kind: 'ok', released: false };
  const now = st.clock();
  Object.assign(s.record, { reason, updated_at: now });
  s.leaseNode = '';
  s.leaseUntil = 0;
  st.ready.delete(id);
  st.deadlines.set(id, now + recheckMs);
  return { kind: 'ok', released: true };
}
