/**
 * Cluster-wide counts on Redis, for metrics: the fenced-write counter and
 * sessions per status, read from the status indexes in one round trip.
 */
import { SESSION_STATUSES, type SessionStatus } from '../../../actors/status.ts';
import type { StoreStats } from '../records.ts';
import type { RedisContext } from './context.ts';
import { exec } from './pipeline.ts';

export async function stats(ctx: RedisContext): Promise<StoreStats> {
  return { fenced_writes: Number((await ctx.redis.get(ctx.g.fenced)) ?? 0) };
}

export async function countByStatus(ctx: RedisContext): Promise<Record<SessionStatus, number>> {
  const p = ctx.redis.pipeline();
  for (const s of SESSION_STATUSES) p.zcard(ctx.g.status(s));
  const counts = await exec(p);
  return Object.fromEntries(SESSION_STATUSES.map((s, i) => [s, Number(counts[i])])) as Record<
    SessionStatus,
    number
  >;
}
