import { fromPromise } from 'xstate';
import type { ServiceMetrics } from '../kernel/service-metrics.ts';
import type {
  SessionActors,
  SessionStoreView,
  WorkFn,
  WorkImplementations,
} from '../actors/work-contract.ts';

/** What hosted work needs of the session's host on this node. */
export interface WorkHost {
  /** Resolves once every change seen so far is committed; rejects if the host stops first. */
  committed(): Promise<void>;
  ready(): Promise<void>;
  workLog(line: string): Promise<void>;
  storeView(): SessionStoreView;
}

/**
 * Turns work functions into the actor logics the machine invokes by name.
 * Each one first waits until the host has committed the transition that
 * started it, so no effect runs on a decision that could still be lost.
 */
export function hostedWork(
  impl: WorkImplementations,
  hostOf: (sessionId: string) => WorkHost | undefined,
  metrics?: ServiceMetrics,
): SessionActors {
  const wrap = <I extends { sessionId: string }, O>(fn: WorkFn<I, O>) =>
    fromPromise<O, I>(async ({ input, signal }) => {
      // Started synchronously inside the actor's start, before the node has
      // registered the host: look it up after one turn.
      await Promise.resolve();
      const host = hostOf(input.sessionId);
      if (!host) throw new Error(`session ${input.sessionId} is not hosted on this node`);
      await host.committed();
      // Cancelled (or replaced by a replan) while its start was being committed: the step must not begin.
      signal.throwIfAborted();
      return fn(input, {
        signal,
        ready: () => host.ready(),
        log: (line) => void host.workLog(line),
        session: host.storeView(),
        ...(metrics ? { metrics } : {}),
      });
    });
  return {
    clone: wrap(impl.clone),
    plan: wrap(impl.plan),
    code: wrap(impl.code),
    review: wrap(impl.review),
  };
}
