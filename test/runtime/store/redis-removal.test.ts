/**
 * Removal on Redis, seen from the keys: after a removal no key under the
 * prefix, and no member or value of one, names the session; a removal that
 * stopped between its two halves (the `{id}` slot, then `{g}`) is finished by
 * a retry or by the sweep's listing; transcripts of roles written before the
 * roles set existed go too.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { RedisStore } from '../../../runtime/store/redis/redis-store.ts';
import { channels, globalKeys, sessionKeys } from '../../../runtime/store/redis/keys.ts';
import { removeKeys } from '../../../runtime/store/redis/removal.ts';
import { defineScripts } from '../../../runtime/store/redis/scripts/index.ts';
import { dumpRedis } from '../../support/store-state.ts';
import { dropPrefix, redisUrl, uniquePrefix } from '../../support/stores.ts';
import { fullSession } from './contract/removal.ts';

let prefix: string;
let raw: Redis;
let store: RedisStore;

beforeEach(async () => {
  prefix = uniquePrefix();
  raw = new Redis(redisUrl());
  defineScripts(raw);
  store = await RedisStore.create({ url: redisUrl(), prefix });
});

afterEach(async () => {
  await store.close();
  await dropPrefix(prefix, raw);
  await raw.quit();
});

/** Every key under the prefix with its value, as one string to search. */
const everything = async () => JSON.stringify(await dumpRedis(raw, prefix));

/** Index entries a crash could have left: a stale lease deadline, ready entry and status entry. */
async function strayEntries(id: string): Promise<void> {
  const g = globalKeys(prefix);
  await raw.zadd(g.leases, 1, id);
  await raw.zadd(g.ready, 1, id);
  await raw.zadd(g.status('RUNNING'), 1, id);
}

/** The first half of a removal alone, as a node that died before the second would leave it. */
const firstHalfOnly = (id: string) =>
  removeKeys({ redis: raw, prefix, g: globalKeys(prefix), ch: channels(prefix) }, id);

describe('removal on Redis', () => {
  it('leaves no key, member or value naming the session, and keeps the other sessions', async () => {
    const { id } = await fullSession(store);
    const kept = await fullSession(store);
    // Parked too (by a limit of 0), and index entries a crash left behind.
    const parked = await fullSession(store, { userId: 'u2' });
    await store.setRunning(parked.id, 'u2', false);
    expect((await store.admit(parked.id, 'u2', 0)).admitted).toBe(false);
    await strayEntries(id);
    await strayEntries(parked.id);
    const before = await everything();
    for (const x of [id, parked.id, kept.id]) expect(before).toContain(x);
    expect(await raw.exists(sessionKeys(prefix, id).transcriptRoles)).toBe(1);

    expect(await store.removeSession(id)).toEqual({ kind: 'removed' });
    expect(await store.removeSession(parked.id)).toEqual({ kind: 'removed' });

    const after = await dumpRedis(raw, prefix);
    const text = JSON.stringify(after);
    expect(text).not.toContain(id);
    expect(text).not.toContain(parked.id);
    expect(text).toContain(kept.id);
    for (const key of Object.keys(after)) expect(key).not.toContain(parked.id);
    // The user's indexes of the other session, and its reservations, are still there.
    const g = globalKeys(prefix);
    expect(await raw.zrange(g.userCreated('u1'), '0', '-1')).toEqual([kept.id]);
    expect(await raw.smembers(g.running('u1'))).toEqual([kept.id]);
    expect(await raw.get(g.requestKey('u1', kept.createKey.key))).toContain(kept.id);
  });

  it('a removal stopped between its halves is finished by a retry', async () => {
    const { id } = await fullSession(store);
    await strayEntries(id);
    expect(await firstHalfOnly(id)).toMatchObject({ kind: 'removed' });
    // Nothing of it can be read any more, but its index entries are left, with the note.
    expect(await store.getSession(id)).toBeNull();
    expect(await store.listSessions({ limit: 10 })).toEqual([]);
    expect((await store.countByStatus()).COMPLETED).toBe(1);
    expect(await raw.exists(sessionKeys(prefix, id).removal)).toBe(1);
    expect(await everything()).toContain(id);

    expect(await store.removeSession(id)).toEqual({ kind: 'not_found' });
    expect(await everything()).not.toContain(id);
    expect((await store.countByStatus()).COMPLETED).toBe(0);
  });

  it('a keyed create retried while its session is half removed finishes the removal and creates a new session, not the removed one again', async () => {
    const { id, createKey } = await fullSession(store);
    expect(await firstHalfOnly(id)).toMatchObject({ kind: 'removed' });
    // The key's reservation still names the removed session: a retry must not bring it back.
    expect(await raw.get(globalKeys(prefix).requestKey('u1', createKey.key))).toContain(id);
    const retry = await store.createSession(
      {
        id: ulid(),
        goal: 'goal',
        repo_url: 'https://example.com/o/r.git',
        mode: 'auto',
        userId: 'u1',
      },
      createKey,
    );
    expect(retry.created).toBe(true);
    expect(retry.record.id).not.toBe(id);
    expect(await store.getSession(id)).toBeNull();
    expect(await everything()).not.toContain(id);
    // The key now names the new session, as on the stores that remove in one step.
    expect(await store.findRequestKey(createKey)).toEqual({
      kind: 'used',
      sessionId: retry.record.id,
    });
  });

  it("a removal stopped between its halves is finished by the sweep's listing", async () => {
    const { id } = await fullSession(store);
    const kept = await fullSession(store);
    expect(await firstHalfOnly(id)).toMatchObject({ kind: 'removed' });
    const now = await store.now();
    expect((await store.listEnded(now + 1, 10)).map((s) => s.id)).toEqual([kept.id]);
    const text = await everything();
    expect(text).not.toContain(id);
    expect(text).toContain(kept.id);
  });

  it('a refused removal changes nothing', async () => {
    const { id } = await fullSession(store, { end: { release: false } });
    const before = await everything();
    expect(await store.removeSession(id)).toEqual({ kind: 'active', status: 'COMPLETED' });
    expect(await everything()).toBe(before);
  });

  it('unlinks transcripts of the roles the agent wrote before the roles set existed', async () => {
    const { id } = await fullSession(store);
    const k = sessionKeys(prefix, id);
    // As an earlier version wrote them: the lists alone.
    await raw.rpush(k.transcript('programmer'), '{"m":1}');
    await raw.rpush(k.transcript('reviewer'), '{"m":2}');
    expect(await store.removeSession(id)).toEqual({ kind: 'removed' });
    expect(await everything()).not.toContain(id);
  });

  it('sends every script only keys of one hash slot', async () => {
    const { id } = await fullSession(store);
    const slots = new Set<string>();
    const monitor = await raw.duplicate().monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      // The server is shared with other test files: only this store's calls.
      const script = ['evalsha', 'eval'].includes(args[0]?.toLowerCase() ?? '');
      if (script && args[3]?.startsWith(`${prefix}:`)) seen.push(args);
    });
    expect(await store.removeSession(id)).toEqual({ kind: 'removed' });
    await store.removeSession(ulid());
    await new Promise((r) => setTimeout(r, 50));
    monitor.disconnect();
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (const args of seen) {
      const n = Number(args[2]);
      const keys = args.slice(3, 3 + n);
      const tags = new Set(keys.map((key) => /\{([^}]*)\}/.exec(key)?.[1]));
      expect(tags.size, keys.join(' ')).toBe(1);
      slots.add([...tags][0]!);
    }
    expect(slots.has('g')).toBe(true);
    expect(slots.has(id)).toBe(true);
  });
});
