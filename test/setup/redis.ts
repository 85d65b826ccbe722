/** Helpers for tests that use the one Redis found by `redis-global.ts`. */
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';

/** URL of the shared test Redis. */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** A key prefix no other test uses, so test files can share one server. */
export function uniquePrefix(): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `t${Date.now().toString(36)}${random}`;
}

/** A Redis store on the shared server under its own prefix; cleanup closes it and deletes its keys. */
export async function isolatedRedisStore(): Promise<{
  store: RedisStore;
  cleanup(): Promise<void>;
}> {
  const prefix = uniquePrefix();
  const store = await RedisStore.create({ url: redisUrl(), prefix });
  return {
    store,
    async cleanup() {
      await store.close();
      const raw = new Redis(redisUrl());
      const keys = await raw.keys(`${prefix}:*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
    },
  };
}
