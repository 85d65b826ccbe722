/**
 * Retries for provider calls: backoff with jitter on retryable failures
 * (429, 5xx, timeouts), honouring the provider's Retry-After when it sends
 * one, and stopping at once when the caller's signal aborts. Adapters turn
 * SDK errors into `LlmError`s first; this only looks at `retryable` and
 * `retryAfterMs`.
 */
import { retry } from '../../kernel/backoff.ts';
import { LlmError } from './port.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 20_000 };

/** Parses Retry-After (seconds or an HTTP date) or retry-after-ms; null when absent or unreadable. */
export function retryAfterMs(
  headers: { get(name: string): string | null } | undefined,
  now = Date.now(),
): number | null {
  if (!headers) return null;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms)))
    return Math.max(0, Number(ms));
  const v = headers.get('retry-after');
  if (v === null || v.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or the
 * attempts run out (then the last error is thrown): the service's back-off
 * (`kernel/backoff.ts`) with the policy's figures, a provider's Retry-After
 * taking the place of the computed delay. `onRetry` hears about each wait,
 * for the session log.
 */
export function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  opts: {
    policy?: RetryPolicy;
    signal?: AbortSignal;
    onRetry?: (err: LlmError, delayMs: number, n: number) => void;
  } = {},
): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  const { onRetry } = opts;
  return retry(attempt, {
    backoff: { initialMs: policy.baseDelayMs, maxMs: policy.maxDelayMs },
    maxAttempts: policy.maxAttempts,
    retryable: (err) => err instanceof LlmError && err.retryable,
    delayFor: (err, computed) => (err as LlmError).retryAfterMs ?? computed,
    ...(onRetry ? { onRetry: (err, delay, n) => onRetry(err as LlmError, delay, n) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
