import type { InboxEventType } from './events.ts';

export type SessionStatus =
  | 'QUEUED'
  | 'RUNNING'
  | 'WAITING_FOR_USER'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED';

export const SESSION_STATUSES: readonly SessionStatus[] = [
  'QUEUED',
  'RUNNING',
  'WAITING_FOR_USER',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
];

export type SessionMode = 'auto' | 'review';

/** Statuses in which a session holds no lease and no memory on any node. */
export const PASSIVE_STATUSES: readonly SessionStatus[] = [
  'WAITING_FOR_USER',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
];

/** Statuses in which a session's work has ended (input may still start it again). */
export const ENDED_STATUSES: readonly SessionStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** Statuses in which each event is accepted from a client; the API answers anything else with a 409. */
export const ACCEPTS: Readonly<Record<InboxEventType, readonly SessionStatus[]>> = {
  approve: ['WAITING_FOR_USER'],
  input: ['QUEUED', 'RUNNING', 'WAITING_FOR_USER', 'COMPLETED', 'FAILED'],
  cancel: ['QUEUED', 'RUNNING', 'WAITING_FOR_USER'],
  // Never from a client: the store's timer loop delivers timers.
  timer: [],
};

interface SnapshotLike {
  value: unknown;
  status?: string;
  error?: unknown;
  context?: unknown;
  hasTag(tag: string): boolean;
}

/** What the record shows of a snapshot, besides the snapshot itself. */
export interface ShownState {
  status: SessionStatus;
  phase: string;
  /** Why it failed or waits; an actor that crashed says so (`internal error: …`). */
  reason: string | null;
  goal: string;
  result: unknown;
}

export function describeSnapshot(snapshot: SnapshotLike): ShownState {
  const context = snapshot.context as { goal: string; reason: string | null; result: unknown };
  const crashed = snapshot.status === 'error';
  return {
    status: crashed ? 'FAILED' : deriveStatus(snapshot),
    phase: derivePhase(snapshot),
    reason: crashed ? `internal error: ${String(snapshot.error)}` : context.reason,
    goal: context.goal,
    result: context.result ?? null,
  };
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
