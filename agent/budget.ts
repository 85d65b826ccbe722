import { AppError } from '../kernel/errors.ts';
import type { Usage } from './llm/port.ts';

export interface BudgetLimits {
  /** Most LLM calls for the session, all roles together. */
  maxCalls: number;
  /** Most tokens (input + output) for the session. */
  maxTokens: number;
}

export interface Spent {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** USD; null while any call's price is unknown. */
  cost: number | null;
}

export const NOTHING_SPENT: Spent = { calls: 0, inputTokens: 0, outputTokens: 0, cost: 0 };

/**
 * The session's spending against its limits. Checked before every call (a
 * call that would start over the limit is not made) and charged after it,
 * every role and every call counted.
 */
export class Budget {
  readonly limits: BudgetLimits;
  #spent: Spent;

  constructor(limits: BudgetLimits, spent: Spent = NOTHING_SPENT) {
    this.limits = limits;
    this.#spent = { ...spent };
  }

  get spent(): Spent {
    return { ...this.#spent };
  }

  /** Throws `budget_exhausted` when no further call may be made. */
  check(): void {
    const s = this.#spent;
    const tokens = s.inputTokens + s.outputTokens;
    if (s.calls >= this.limits.maxCalls) {
      throw new AppError(
        'budget_exhausted',
        402,
        `budget exhausted: ${s.calls} of ${this.limits.maxCalls} LLM calls used; send input with a higher max_calls to go on`,
      );
    }
    if (tokens >= this.limits.maxTokens) {
      throw new AppError(
        'budget_exhausted',
        402,
        `budget exhausted: ${tokens} of ${this.limits.maxTokens} tokens used; send input with a higher max_tokens to go on`,
      );
    }
  }

  charge(usage: Usage, cost: number | null): void {
    const s = this.#spent;
    s.calls += 1;
    s.inputTokens += usage.inputTokens;
    s.outputTokens += usage.outputTokens;
    s.cost = s.cost === null || cost === null ? null : s.cost + cost;
  }
}
