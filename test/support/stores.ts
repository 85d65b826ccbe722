/**
 * Stores on the suite's one Redis (found by `test/setup/redis-global.ts`,
 * started by `redis-server.ts`), each under a prefix of its own so test files
 * share the server; and a fresh store of either kind for generated tests,
 * with a way to read all it holds: through the port for the embedded store,
 * every key under the prefix for Redis (what the port does not show, too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { Store } from '../../runtime/store/port.ts';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { SqliteStore } from '../../runtime/store/sqlite/sqlite-store.ts';
import { dumpRedis, storeState } from './store-state.ts';

/** URL of the suite's Redis. */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** A key prefix no other test uses, so test files can share one server. */
export function uniquePrefix(): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `t${Date.now().toString(36)}${random}`;
}

/** Deletes every key under `prefix` on the suite's Redis. */
export async function dropPrefix(prefix: string, raw?: Redis): Promise<void> {
  const client = raw ?? new Redis(redisUrl());
  const keys = await client.keys(`${prefix}:*`);
  if (keys.length > 0) await client.del(...keys);
  if (!raw) await client.quit();
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
      await dropPrefix(prefix);
    },
  };
}

export type StoreKind = 'memory' | 'redis' | 'sqlite';

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
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'swe-store-'));
    const store = new SqliteStore({ dir });
    return {
      store,
      state: () => storeState(store),
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const prefix = uniquePrefix();
  const store = await RedisStore.create({ url: redisUrl(), prefix });
  const raw = new Redis(redisUrl());
  return {
    store,
    state: async () => JSON.stringify(await dumpRedis(raw, prefix)),
    async close() {
      await store.close();
      await dropPrefix(prefix, raw);
      await raw.quit();
    },
  };
}
