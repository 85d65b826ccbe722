/**
 * Failed token attempts per client address: a bucket of 10 failures, refilled
 * at 10 a minute. Once it is empty, token requests from that address are a
 * 429 (with Retry-After) without the token being looked at, so guessing
 * tokens costs a minute per ten guesses. Held by this node, as the request
 * limit is. Requests whose address the server cannot tell (the app called
 * in-process) are not limited: one shared bucket would lock everyone out.
 */
import type { Context } from 'hono';
import { rateLimited } from '../kernel/errors.ts';

export const FAILED_AUTH_PER_MINUTE = 10;

interface Bucket {
  tokens: number;
  at: number;
}

export interface FailedAuthLimiter {
  /** Throws 429 while the address has no attempts left. */
  check(c: Context): void;
  /** Counts a failed attempt of the address. */
  failed(c: Context): void;
}

export function failedAuthLimiter(
  addressOf: (c: Context) => string | undefined,
  perMinute = FAILED_AUTH_PER_MINUTE,
  now: () => number = () => performance.now(),
): FailedAuthLimiter {
  const buckets = new Map<string, Bucket>();
  const perMs = perMinute / 60_000;
  const bucket = (addr: string): Bucket => {
    const t = now();
    let b = buckets.get(addr);
    if (!b) {
      if (buckets.size >= 10_000)
        for (const [k, v] of buckets) if (t - v.at > 60_000) buckets.delete(k);
      b = { tokens: perMinute, at: t };
      buckets.set(addr, b);
    }
    b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * perMs);
    b.at = t;
    return b;
  };
  return {
    check(c) {
      const addr = addressOf(c);
      if (addr === undefined) return;
      const b = bucket(addr);
      if (b.tokens < 1) {
        const waitS = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
        c.header('Retry-After', String(waitS));
        throw rateLimited(
          `too many failed token attempts from this address (${perMinute} a minute); retry in ${waitS} s`,
        );
      }
    },
    failed(c) {
      const addr = addressOf(c);
      if (addr !== undefined) bucket(addr).tokens -= 1;
    },
  };
}
