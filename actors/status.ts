import type { SessionStatus } from '../runtime/store/port.ts';

interface SnapshotLike {
  value: unknown;
  status?: string;
  hasTag(tag: string): boolean;
}

/** The session status the API shows, from the machine's tags. */
export function deriveStatus(snapshot: SnapshotLike): SessionStatus {
  if (snapshot.status === 'error') return 'FAILED';
  if (snapshot.hasTag('cancelled')) return 'CANCELLED';
  if (snapshot.hasTag('failed')) return 'FAILED';
  if (snapshot.hasTag('completed')) return 'COMPLETED';
  if (snapshot.hasTag('waiting')) return 'WAITING_FOR_USER';
  if (snapshot.hasTag('running')) return 'RUNNING';
  return 'QUEUED';
}

/** The active state as a dotted path, e.g. `coding.running` or `awaitingApproval`. */
export function derivePhase(snapshot: Pick<SnapshotLike, 'value'>): string {
  const path: string[] = [];
  let v: unknown = snapshot.value;
  while (typeof v === 'object' && v !== null) {
    const [k, child] = Object.entries(v)[0] ?? [];
    if (k === undefined) break;
    path.push(k);
    v = child;
  }
  if (typeof v === 'string') path.push(v);
  return path.join('.');
}
