/** Cluster-wide counts of the in-process store, for metrics: fenced writes, sessions per status. */
import { SESSION_STATUSES, type SessionStatus } from '../../../actors/status.ts';
import type { StoreStats } from '../records.ts';
import type { MemoryState } from './state.ts';

export async function stats(st: MemoryState): Promise<StoreStats> {
  return { fenced_writes: st.fenced };
}

export async function countByStatus(st: MemoryState): Promise<Record<SessionStatus, number>> {
  const counts = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<
    SessionStatus,
    number
  >;
  for (const s of st.sessions.values()) counts[s.record.status]++;
  return counts;
}
