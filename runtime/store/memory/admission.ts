import type { AdmitResult } from '../records.ts';

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
