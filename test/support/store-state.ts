/**
 * What a store holds, as one comparable value: every session (record, logs,
 * inbox, history, artifacts, usage), user, token and profile, through the
 * store port; and, for Redis, every key under a prefix with its value. Tests
 * compare a state before and after a request that must change nothing, and
 * scan a dump for values that must never be stored.
 */
import type { Redis } from 'ioredis';
import type { Store } from '../../runtime/store/port.ts';

/** The records behind the API, read through the port (any adapter). */
export async function storeState(store: Store): Promise<string> {
  const sessions = [];
  for (const s of await store.listSessions({ limit: 100_000 })) {
    const [record, logs, events, history, artifacts, usage] = await Promise.all([
      store.getSession(s.id),
      store.getLogs(s.id),
      store.readEvents(s.id, '0-0', 100_000),
      store.getHistory(s.id),
      store.getArtifacts(s.id),
      store.getUsage(s.id),
    ]);
    sessions.push({ record, logs, events, history, artifacts, usage });
  }
  const users = await store.listUsers();
  const tokens = await Promise.all(users.map((u) => store.listTokens(u.id)));
  const profiles = await store.listProfiles();
  return JSON.stringify({ sessions, users, tokens, profiles });
}

export type RedisValue = string | string[] | Record<string, string> | [string, string[]][];

const READ: Record<string, (key: string) => string[]> = {
  string: (k) => ['get', k],
  hash: (k) => ['hgetall', k],
  list: (k) => ['lrange', k, '0', '-1'],
  set: (k) => ['smembers', k],
  zset: (k) => ['zrange', k, '0', '-1', 'WITHSCORES'],
  stream: (k) => ['xrange', k, '-', '+'],
};

/** Every key under `prefix:` with its type and value: strings, hashes, lists, sets, sorted sets (with scores) and streams. */
export async function dumpRedis(
  redis: Redis,
  prefix: string,
): Promise<Record<string, { type: string; value: RedisValue }>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const sorted = [...new Set(keys)].sort();
  // Two pipelined round trips, however many keys: the fuzz test dumps after every case.
  const types = ((await redis.pipeline(sorted.map((k) => ['type', k])).exec()) ?? []).map(([, t]) =>
    String(t),
  );
  const reads = sorted.map((key, i) => READ[types[i]!]?.(key) ?? ['exists', key]);
  const values = (await redis.pipeline(reads).exec()) ?? [];
  const out: Record<string, { type: string; value: RedisValue }> = {};
  sorted.forEach((key, i) => {
    const type = types[i]!;
    let value = values[i]?.[1] as RedisValue;
    // Big sets and hashes come back in hash-table order, which rehashing changes.
    if (type === 'set') value = [...(value as string[])].sort();
    if (type === 'hash')
      value = Object.fromEntries(
        Object.entries(value as Record<string, string>).sort(([a], [b]) =>
          a < b ? -1 : a > b ? 1 : 0,
        ),
      );
    if (!(type in READ)) value = `(${type})`;
    out[key] = { type, value };
  });
  return out;
}
