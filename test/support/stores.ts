/**
 * A fresh store of either kind for generated tests, with a way to read all
 * it holds: through the port for the embedded store, every key under the
 * prefix for Redis (what the port does not show, too).
 */
import { Redis } from 'ioredis';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { Store } from '../../runtime/store/port.ts';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { redisUrl, uniquePrefix } from '../setup/redis.ts';
import { dumpRedis, storeState } from './store-state.ts';

export type StoreKind = 'memory' | 'redis';

export interface OpenedStore {
  store: Store;
  /** Everything stored, as one comparable string. */
  state(): Promise<string>;
  close(): Promise<void>;
}

export async function openStore(kind: StoreKind): Promise<OpenedStore> {
  if (kind === 'memory') {
    const store = new MemoryStore();
    return { store, state: () => storeState(store), close: async () => undefined };
  }
  const prefix = uniquePrefix();
  const store = await RedisStore.create({ url: redisUrl(), prefix });
  const raw = new Redis(redisUrl());
  return {
    store,
    state: async () => JSON.stringify(await dumpRedis(raw, prefix)),
    async close() {
      await store.close();
      const keys = await raw.keys(`${prefix}:*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
    },
  };
}
