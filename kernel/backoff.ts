/**
 * The one retry policy of the service: exponential back-off with "equal
 * jitter" (half the delay fixed, half random), capped. Store writes that
 * wait out an outage, model calls that meet a rate limit and the Redis
 * client's reconnects all use it, with their own figures.
 */
import { type Clock, sleep } from './clock.ts';

export interface Backoff {
  /** The delay before the second attempt (before jitter), ms. */
  initialMs: number;
  /** No delay is longer, ms. */
  maxMs: number;
}

/**
 * The wait before attempt `attempt + 1` (`attempt` ≥ 1 failed so far):
 * `min(max, initial · 2^(attempt−1))`, of which a random half. Spread so
 * that many callers failing together do not retry together.
 */
export function backoffDelay(
  policy: Backoff,
  attempt: number,
  random: () => number = Math.random,
): number {
  const capped = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return capped / 2 + random() * (capped / 2);
}

export interface RetryOptions {
  backoff: Backoff;
  /** Attempts in all, the first included; unlimited when absent. */
  maxAttempts?: number;
  /** Whether a failure may be retried (default: every failure). */
  retryable?: (err: unknown, attempt: number) => boolean;
  /** The delay to use instead of the computed one (a server's Retry-After); never above `maxMs`. */
  delayFor?: (err: unknown, computedMs: number) => number;
  /** Hears of each failure that will be retried, before the wait. */
  onRetry?: (err: unknown, delayMs: number, attempt: number) => void;
  /** Ends the wait and the retries: `retry` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Cuts the current wait short (the store is back): the next attempt goes at once. */
  hurry?: Hurry;
  clock?: Clock;
  random?: () => number;
}

/**
 * Runs `attempt` until it succeeds, fails with an error that may not be
 * retried, or the attempts run out; then the last error is thrown.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const max = opts.maxAttempts ?? Number.POSITIVE_INFINITY;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= max || opts.signal?.aborted || (opts.retryable && !opts.retryable(err, n)))
        throw err;
      const computed = backoffDelay(opts.backoff, n, opts.random);
      const delay = Math.min(
        opts.backoff.maxMs,
        opts.delayFor ? opts.delayFor(err, computed) : computed,
      );
      opts.onRetry?.(err, delay, n);
      await wait(delay, opts);
    }
  }
}

function wait(ms: number, opts: RetryOptions): Promise<void> {
  const { hurry } = opts;
  if (!hurry) return sleep(ms, opts);
  const early = new AbortController();
  const stop = hurry.add(() => early.abort());
  const signal = opts.signal ? AbortSignal.any([opts.signal, early.signal]) : early.signal;
  return sleep(ms, { signal, ...(opts.clock ? { clock: opts.clock } : {}) }).then(
    () => {
      stop();
    },
    (err: unknown) => {
      stop();
      // Hurried: go on at once. Aborted by the caller's signal: give up.
      if (opts.signal?.aborted) throw err;
    },
  );
}

/** Wakes every retry waiting on it, at once (e.g. when the store answers again). */
export class Hurry {
  #waiting = new Set<() => void>();

  /** Registers a waiter; returns the function that unregisters it. */
  add(wake: () => void): () => void {
    this.#waiting.add(wake);
    return () => {
      this.#waiting.delete(wake);
    };
  }

  now(): void {
    for (const wake of [...this.#waiting]) wake();
  }
}
