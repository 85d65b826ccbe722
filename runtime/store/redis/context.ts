/**
 * What the Redis adapter's role files (`sessions.ts`, `inbox.ts`, `leases.ts`
 * …) share: the connection, and the keys and channels of one prefix. Each of
 * them is a set of functions taking this context; `RedisStore` holds it.
 */
import type { Redis } from 'ioredis';
import { PASSIVE_STATUSES } from '../../../actors/status.ts';
import type { CommitResult } from '../records.ts';
import type { channels, GlobalKeys } from './keys.ts';
import type { Reply } from './scripts/index.ts';

export interface RedisContext {
  redis: Redis;
  /** Prefix of every key and channel (`sessionKeys(prefix, id)`). */
  prefix: string;
  g: GlobalKeys;
  ch: ReturnType<typeof channels>;
}

export const isPassive = (s: string) => (PASSIVE_STATUSES as readonly string[]).includes(s);

/** `not_found`, or `fenced` (counted in the global stats). */
export async function refused(ctx: RedisContext, reply: Reply[]): Promise<CommitResult> {
  if (reply[0] === 'not_found') return { kind: 'not_found' };
  await ctx.redis.incr(ctx.g.fenced);
  return { kind: 'fenced' };
}
