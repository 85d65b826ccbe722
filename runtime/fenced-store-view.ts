/**
 * The store as a host's work sees it (`SessionStoreView`): reads of the
 * session, and writes fenced by the host's lease. The writes are retried
 * while the store is out of reach, like commits, so a step survives an
 * outage instead of failing on its bookkeeping. At least once: a usage write
 * whose answer was lost may count twice.
 */
import type { SessionStoreView } from '../actors/work-contract.ts';
import type { WorkRecords } from './store/port.ts';
import type { CommitResult, Lease } from './store/records.ts';

export interface FencedViewContext {
  store: WorkRecords;
  sessionId: string;
  lease: Lease;
  /** Runs a write until the store answers; null when the host stopped meanwhile. */
  retrying(what: string, write: () => Promise<CommitResult>): Promise<CommitResult | null>;
  /** A write was refused for a stale epoch: another node owns the session now. */
  fenced(): void;
}

export function fencedStoreView(ctx: FencedViewContext): SessionStoreView {
  const { store, sessionId: id, lease } = ctx;
  const fenced = async (write: () => Promise<CommitResult>, what: string) => {
    const res = await ctx.retrying(what, write);
    if (!res) throw new Error(`${what} abandoned: session ${id} is no longer hosted here`);
    if (res.kind === 'ok') return;
    if (res.kind === 'fenced') ctx.fenced();
    throw new Error(`${what} refused (${res.kind}): session ${id} is no longer hosted here`);
  };
  return {
    getUsage: () => store.getUsage(id),
    addUsage: (delta) => fenced(() => store.addUsage(id, lease, delta), 'recording usage'),
    appendTranscript: (role, messages) =>
      fenced(() => store.appendTranscript(id, lease, role, messages), 'storing the transcript'),
    getArtifacts: () => store.getArtifacts(id),
    putArtifacts: (values) =>
      fenced(() => store.putArtifacts(id, lease, values), 'storing work state'),
  };
}
