import type { InboxReads, RunningLimit, SessionReads } from './store/port.ts';

/** The store as admission uses it: the inbox (a pending cancel), the counts, the records of counted sessions. */
export type AdmissionStore = InboxReads & RunningLimit & Pick<SessionReads, 'getSession'>;
import type { Lease, SessionRecord } from './store/records.ts';
import type { InboxEvent } from '../actors/events.ts';

/** What to do with a claimed session: host it (with the inbox events already read), or not (it waits, or is gone). */
export type Admission = { host: true; events: InboxEvent[] } | { host: false; reason?: string };

/** Parking again after a refused park (a cancel came in) more often than this hosts the session anyway. */
const PARK_ATTEMPTS = 3;

/** Whether a claimed session must be admitted under its user's running limit before it starts. */
export function isLimited(
  record: SessionRecord,
): record is SessionRecord & { userId: string; maxRunning: number } {
  return record.status === 'QUEUED' && record.userId !== undefined && (record.maxRunning ?? 0) > 0;
}

/** The reason a waiting session shows. */
export function waitingReason(running: number, limit: number): string {
  const are = running === 1 ? 'is' : 'are';
  return `waiting: ${running} of your sessions ${are} running (limit ${limit}); this one starts when one of them ends`;
}

/**
 * Admits a claimed QUEUED session under its user's limit, or parks it with
 * the reason it waits (giving up the lease). A pending `cancel` is let
 * through: a waiting session must be cancellable. Counted sessions that have
 * ended (a crash between their last commit and `setRunning`) are dropped and
 * admission tried once more.
 */
export async function admitOrPark(
  store: AdmissionStore,
  record: SessionRecord & { userId: string; maxRunning: number },
  lease: Lease,
  recheckMs: number,
): Promise<Admission> {
  const { id, userId, maxRunning: limit } = record;
  let events: InboxEvent[] = [];
  for (let attempt = 1; attempt <= PARK_ATTEMPTS; attempt++) {
    events = await store.readEvents(id, record.last_event_id, 100);
    if (events.some((e) => e.type === 'cancel')) return { host: true, events };
    let res = await store.admit(id, userId, limit);
    if (!res.admitted) {
      const stale = await staleIds(store, res.running);
      if (stale.length > 0) {
        await Promise.all(stale.map((s) => store.setRunning(s, userId, false)));
        res = await store.admit(id, userId, limit);
      }
    }
    if (res.admitted) return { host: true, events };
    const reason = waitingReason(res.running.length, limit);
    const parked = await store.park(id, lease, reason, recheckMs);
    if (parked.kind !== 'ok') return { host: false };
    if (parked.released) return { host: false, reason };
    // Refused: a cancel arrived after our read. Read again, and host it.
  }
  return { host: true, events };
}

/** Counted sessions whose record says they no longer run (or are gone). */
async function staleIds(store: AdmissionStore, ids: string[]): Promise<string[]> {
  const records = await Promise.all(ids.map((id) => store.getSession(id)));
  return ids.filter((_, i) => {
    const status = records[i]?.status;
    // QUEUED: admitted, not yet committed by its host.
    return status !== 'RUNNING' && status !== 'QUEUED';
  });
}
