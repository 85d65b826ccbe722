import type { PromiseActorLogic } from 'xstate';
import type { ServiceMetrics } from '../kernel/service-metrics.ts';

/**
 * The work each state invokes, by name. Inputs are persisted with the
 * snapshot (an in-flight invocation restarts with the same input after a
 * restore), so they stay small and JSON-safe. `key` is the effect key
 * `${sessionId}:${name}:${step}`: stable across restarts, distinct per
 * invocation, so effects can be made idempotent.
 */
export interface CloneInput {
  sessionId: string;
  repoUrl: string;
  key: string;
}
export type CloneOutput = Record<string, never>;

/** Per-session limits over the node's defaults (AGENT_MAX_CALLS, AGENT_MAX_TOKENS); input may raise them. */
export interface BudgetOverride {
  maxCalls?: number;
  maxTokens?: number;
}

export interface PlanInput {
  sessionId: string;
  goal: string;
  repoUrl: string;
  key: string;
  budget?: BudgetOverride;
}
export interface PlanOutput {
  summary: string;
  steps: string[];
}

export interface CodeInput {
  sessionId: string;
  goal: string;
  plan: PlanOutput;
  iteration: number;
  /** The reviewer's feedback from the last rejected round, if any. */
  feedback: string | null;
  key: string;
  budget?: BudgetOverride;
}
export interface CodeOutput {
  summary: string;
  diff: string;
}

export interface ReviewInput {
  sessionId: string;
  goal: string;
  plan: PlanOutput;
  diff: string;
  /** 0 for the first review of a plan, +1 after each rejection. */
  round: number;
  key: string;
  budget?: BudgetOverride;
}
export interface ReviewOutput {
  approved: boolean;
  feedback: string;
}

// A type alias, not an interface: setup() needs the implicit index signature.
export type SessionActors = {
  clone: PromiseActorLogic<CloneOutput, CloneInput>;
  plan: PromiseActorLogic<PlanOutput, PlanInput>;
  code: PromiseActorLogic<CodeOutput, CodeInput>;
  review: PromiseActorLogic<ReviewOutput, ReviewInput>;
};

export type WorkName = keyof SessionActors;

/** What a session's LLM calls have used, all roles together. */
export interface AgentUsage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Micro-USD; null once any call had no known price. */
  costMicros: number | null;
}

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

/** A transient failure (network, rate limit): the step is retried after a durable back-off. */
export function isRetryable(err: unknown): boolean {
  return (
    typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true
  );
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { message?: unknown }).message === 'string'
  ) {
    return (err as { message: string }).message;
  }
  return String(err);
}
