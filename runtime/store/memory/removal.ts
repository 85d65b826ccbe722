/**
 * Removing ended sessions from the in-process store: what a retention sweep
 * with a cutoff removes next, and the removal itself, from every map at once
 * (one process: nothing can come between the checks and the deletes).
 */
import { ENDED_STATUSES } from '../../../actors/status.ts';
import type { RemovalResult, SessionSummary } from '../records.ts';
import type { MemoryAdmission } from './admission.ts';
import { type MemoryState, pending, type Session, view } from './state.ts';

const isEnded = (s: string) => (ENDED_STATUSES as readonly string[]).includes(s);

/** Oldest update first, ids breaking ties. */
const byUpdate = (a: Session, b: Session) =>
  a.record.updated_at - b.record.updated_at ||
  (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0);

export async function listEnded(
  st: MemoryState,
  before: number,
  limit: number,
): Promise<SessionSummary[]> {
  if (limit <= 0) return [];
  return [...st.sessions.values()]
    .filter((s) => isEnded(s.record.status) && s.record.updated_at < before)
    .sort(byUpdate)
    .slice(0, limit)
    .map((s) => {
      const { snapshot: _drop, ...summary } = view(st, s);
      return summary;
    });
}

export async function removeSession(
  st: MemoryState,
  admission: MemoryAdmission,
  id: string,
): Promise<RemovalResult> {
  const s = st.sessions.get(id);
  if (!s) return { kind: 'not_found' };
  const { status } = s.record;
  const leased = s.leaseNode !== '' && s.leaseUntil > st.clock();
  if (!isEnded(status) || leased || pending(s)) return { kind: 'active', status };
  st.sessions.delete(id);
  // All of them, not only the keys in its `idem`: an expired entry dropped from there may still be here.
  for (const [key, r] of st.reservations) if (r.sessionId === id) st.reservations.delete(key);
  st.ready.delete(id);
  st.deadlines.delete(id);
  if (s.record.userId !== undefined) admission.forgetSession(id, s.record.userId);
  return { kind: 'removed' };
}
