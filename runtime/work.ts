import { fromPromise } from 'xstate';
import type {
  CloneInput,
  CloneOutput,
  CodeInput,
  CodeOutput,
  PlanInput,
  PlanOutput,
  ReviewInput,
  ReviewOutput,
  SessionActors,
} from '../actors/index.ts';
import type { SessionHost } from './session-host.ts';
import type { AgentUsage } from './store/port.ts';
import type { ServiceMetrics } from './service-metrics.ts';

/**
 * The session's bookkeeping outside its snapshot, as a work step sees it:
 * writes are fenced by the host's lease (a stale host's write is refused and
 * the host dropped; the step then fails with an error saying so).
 */
export interface SessionStoreView {
  getUsage(): Promise<AgentUsage>;
  addUsage(delta: AgentUsage): Promise<void>;
  appendTranscript(role: string, messages: unknown[]): Promise<void>;
  getArtifacts(): Promise<Record<string, string>>;
  putArtifacts(values: Record<string, string>): Promise<void>;
}

/** What a work step gets besides its input. */
export interface WorkContext {
  /** Aborted when the session's actor stops on this node (handoff, fencing, shutdown). */
  signal: AbortSignal;
  /**
   * Resolves when the work may act on the session: at once, unless the node
   * lost touch with the store and paused the session; rejects once the
   * session is no longer hosted here. Work awaits it between its effects.
   */
  ready(): Promise<void>;
  /** Appends a progress line to the session's log as it happens. */
  log(line: string): void;
  session: SessionStoreView;
  /** The node's metrics, for the work's model calls and commands; absent when nothing is measured. */
  metrics?: ServiceMetrics;
}

export type WorkFn<I, O> = (input: I, ctx: WorkContext) => Promise<O>;

/** The real work of each state, provided by the agent (or by tests). */
export interface WorkImplementations {
  clone: WorkFn<CloneInput, CloneOutput>;
  plan: WorkFn<PlanInput, PlanOutput>;
  code: WorkFn<CodeInput, CodeOutput>;
  review: WorkFn<ReviewInput, ReviewOutput>;
  /** Cleanup once the session's work has ended (completed, failed, cancelled), with the lease held. */
  ended?(sessionId: string, session: SessionStoreView): Promise<void>;
}

/**
 * Turns work functions into the actor logics the machine invokes by name.
 * Each one first waits until the host has committed the transition that
 * started it, so no effect runs on a decision that could still be lost.
 */
export function hostedWork(
  impl: WorkImplementations,
  hostOf: (sessionId: string) => SessionHost | undefined,
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

/**
 * The work used until the LLM agent is configured: every session fails at its
 * first step with a reason that says so, instead of pretending to work.
 */
export const unconfiguredWork: WorkImplementations = {
  clone: () =>
    Promise.reject(
      new Error(
        'no agent is configured on this node: the LLM agent (planner, programmer, reviewer) is not available yet',
      ),
    ),
  plan: () => Promise.reject(new Error('no agent is configured on this node')),
  code: () => Promise.reject(new Error('no agent is configured on this node')),
  review: () => Promise.reject(new Error('no agent is configured on this node')),
};
