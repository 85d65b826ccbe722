/**
 * Requests per minute per user, as a token bucket held by this node: a burst
 * of up to a tenth of the minute's allowance, refilled evenly. Behind a load
 * balancer over N nodes a user gets up to N times the limit; a shared
 * counter in Redis would cost a round trip on every request for little gain.
 * The local admin (loopback, no token) is the operator and is not limited.
 */
import type { MiddlewareHandler } from 'hono';
import { rateLimited } from '../kernel/errors.ts';
import type { AppEnv } from './principal.ts';

interface Bucket {
  tokens: number;
  at: number;
}

export function rateLimit(
  perMinute: number,
  now: () => number = () => performance.now(),
): MiddlewareHandler<AppEnv> {
  const buckets = new Map<string, Bucket>();
  const capacity = Math.max(10, Math.ceil(perMinute / 10));
  const perMs = perMinute / 60_000;
  return async (c, next) => {
    const p = c.get('principal');
    if (perMinute <= 0 || !p || p.via === 'local') return next();
    const t = now();
    let b = buckets.get(p.userId);
    if (!b) {
      // Forget idle users now and then, so the map stays as small as the active set.
      if (buckets.size >= 10_000)
        for (const [k, v] of buckets) if (t - v.at > 60_000) buckets.delete(k);
      b = { tokens: capacity, at: t };
      buckets.set(p.userId, b);
    }
    b.tokens = Math.min(capacity, b.tokens + (t - b.at) * perMs);
    b.at = t;
    if (b.tokens < 1) {
      const waitS = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
      c.header('Retry-After', String(waitS));
      throw rateLimited(
        `rate limit: ${perMinute} requests per minute per user; retry in ${waitS} s`,
      );
    }
    b.tokens -= 1;
    return next();
  };
}
