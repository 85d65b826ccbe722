/**
 * Retries for provider calls: backoff with jitter on retryable failures
 * (429, 5xx, timeouts), honouring the provider's Retry-After when it sends
 * one, and stopping at once when the caller's signal aborts. Adapters turn
 * SDK errors into `LlmError`s first; this only looks at `retryable` and
 * `retryAfterMs`.
 */
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

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or the
 * attempts run out (then the last error is thrown). `onRetry` hears about
 * each wait, for the session log.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  opts: {
    policy?: RetryPolicy;
    signal?: AbortSignal;
    onRetry?: (err: LlmError, delayMs: number, n: number) => void;
  } = {},
): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (
        !(err instanceof LlmError) ||
        !err.retryable ||
        n >= policy.maxAttempts ||
        opts.signal?.aborted
      )
        throw err;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const delay = Math.min(policy.maxDelayMs, err.retryAfterMs ?? jittered);
      opts.onRetry?.(err, delay, n);
      await sleep(delay, opts.signal);
    }
  }
}
