/**
 * Ownership in the in-process store: handing sessions out (ready queue, then
 * passed lease deadlines), claims with a new epoch, renewals, and giving a
 * lease up without a commit.
 */
import type { ClaimResult, CommitResult, Lease, RenewResult } from '../records.ts';
import { fence, isPassive, type MemoryState, pending, view } from './state.ts';
import { enqueue } from './wake-ups.ts';

export async function takeReady(st: MemoryState, max: number, ttlMs: number): Promise<string[]> {
  const now = st.clock();
  const out: string[] = [];
  for (const [id, at] of [...st.ready].sort((a, b) => a[1] - b[1])) {
    if (out.length >= max || at > now) break;
    st.ready.delete(id);
    out.push(id);
  }
  for (const [id, until] of [...st.deadlines].sort((a, b) => a[1] - b[1])) {
    if (out.length >= max || until > now) break;
    if (!out.includes(id)) out.push(id);
  }
  for (const id of out) st.deadlines.set(id, now + ttlMs);
  return out;
}

export async function claim(
  st: MemoryState,
  id: string,
  nodeId: string,
  ttlMs: number,
): Promise<ClaimResult> {
  const s = st.sessions.get(id);
  if (!s) return { kind: 'not_found' };
  const now = st.clock();
  if (s.leaseNode && s.leaseUntil > now) {
    st.deadlines.set(id, s.leaseUntil);
    return { kind: 'busy', until: s.leaseUntil };
  }
  if (isPassive(s.record.status) && !pending(s)) {
    st.deadlines.delete(id);
    return { kind: 'idle' };
  }
  s.record.epoch++;
  s.leaseNode = nodeId;
  s.leaseUntil = now + ttlMs;
  st.deadlines.set(id, s.leaseUntil);
  return {
    kind: 'claimed',
    lease: { nodeId, epoch: s.record.epoch },
    until: s.leaseUntil,
    record: view(st, s),
  };
}

export async function forget(st: MemoryState, id: string): Promise<void> {
  st.ready.delete(id);
  st.deadlines.delete(id);
}

export async function renew(
  st: MemoryState,
  nodeId: string,
  leases: { id: string; epoch: number }[],
  ttlMs: number,
): Promise<RenewResult[]> {
  const now = st.clock();
  return leases.map(({ id, epoch }) => {
    const s = st.sessions.get(id);
    if (!s || s.leaseNode !== nodeId || s.record.epoch !== epoch) {
      return { id, ok: false, until: s?.leaseUntil ?? 0, pending: false };
    }
    s.leaseUntil = now + ttlMs;
    st.deadlines.set(id, s.leaseUntil);
    return { id, ok: true, until: s.leaseUntil, pending: pending(s) };
  });
}

export async function release(
  st: MemoryState,
  id: string,
  lease: Lease,
  requeue: boolean,
): Promise<CommitResult> {
  const s = st.sessions.get(id);
  const refused = fence(st, s, lease);
  if (refused || !s) return refused ?? { kind: 'not_found' };
  s.leaseNode = '';
  s.leaseUntil = 0;
  if (requeue) enqueue(st, id);
  else if (isPassive(s.record.status)) st.deadlines.delete(id);
  return { kind: 'ok', released: true };
}
