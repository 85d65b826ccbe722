import type { PromiseActorLogic } from 'xstate';

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
