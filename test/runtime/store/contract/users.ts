import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import type { Store } from '../../../../runtime/store/port.ts';
import type { NewSession, StoredToken } from '../../../../runtime/store/records.ts';
import type { SessionStatus } from '../../../../actors/status.ts';
import type { StoreHarness } from './harness.ts';
import { eachHarness, REPO, TTL } from './helpers.ts';

const token = (id: string, userId: string, hash: string, createdAt: number): StoredToken => ({
  id,
  userId,
  name: `token ${id}`,
  hash,
  prefix: `swa_${id}`,
  createdAt,
});

/** Claims a session and commits it into `status`. */
async function moveTo(store: Store, id: string, status: SessionStatus): Promise<void> {
  await store.takeReady(100, TTL);
  const c = await store.claim(id, 'n1', TTL);
  if (c.kind !== 'claimed') throw new Error(`claim → ${c.kind}`);
  const commit = {
    seq: 1,
    snapshot: { v: 1, state: {} },
    status,
    phase: 'done',
    reason: null,
    goal: 'goal',
    result: null,
    lastEventId: '0-0',
    history: [],
    logs: [],
    release: true,
  };
  expect(await store.commit(id, c.lease, commit)).toMatchObject({ kind: 'ok' });
}

/**
 * The part of the store contract about users: who owns a session, listing
 * one user's sessions, users, and API tokens. Run by `storeContract`
 * (`index.ts`) under the contract's `describe` name, against every adapter.
 */
export function usersContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const live = eachHarness(factory);
    const harness = () => live.h;
    const store = () => live.store;

    it("keeps a session's user, role profiles and running limit; absent ones stay absent", async () => {
      const init: NewSession = {
        id: ulid(),
        goal: 'g',
        repo_url: REPO,
        mode: 'auto',
        userId: 'u1',
        roleProfiles: { planner: 'p-big', reviewer: 'p-strict' },
        maxRunning: 2,
      };
      const fields = {
        userId: 'u1',
        roleProfiles: { planner: 'p-big', reviewer: 'p-strict' },
        maxRunning: 2,
      };
      expect((await store().createSession(init)).record).toMatchObject(fields);
      expect(await store().getSession(init.id)).toMatchObject(fields);
      expect((await store().listSessions({ limit: 10, userId: 'u1' }))[0]).toMatchObject({
        id: init.id,
        ...fields,
      });
      // A limit of 0 (none) is still a value given.
      const zero = await store().createSession({
        id: ulid(),
        goal: 'g',
        repo_url: REPO,
        mode: 'auto',
        userId: 'u1',
        maxRunning: 0,
      });
      expect((await store().getSession(zero.record.id))?.maxRunning).toBe(0);
      const plain = await store().createSession({
        id: ulid(),
        goal: 'g',
        repo_url: REPO,
        mode: 'auto',
        userId: undefined,
      });
      for (const rec of [
        plain.record,
        await store().getSession(plain.record.id),
        (await store().listSessions({ limit: 10 })).find((s) => s.id === plain.record.id),
      ]) {
        expect(rec).toBeDefined();
        expect(rec).not.toHaveProperty('userId');
        expect(rec).not.toHaveProperty('roleProfiles');
        expect(rec).not.toHaveProperty('maxRunning');
      }
    });

    it("lists one user's sessions, newest first, with status, time window and cursor", async () => {
      const made: Record<string, { id: string; created_at: number }> = {};
      for (const [name, userId] of [
        ['a1', 'ua'],
        ['b1', 'ub'],
        ['a2', 'ua'],
        ['a3', 'ua'],
        ['n1', undefined],
        ['b2', 'ub'],
      ] as const) {
        made[name] = (
          await store().createSession({
            id: ulid(),
            goal: name,
            repo_url: REPO,
            mode: 'auto',
            ...(userId ? { userId } : {}),
          })
        ).record;
        await harness().advance(20);
      }
      const [a1, b1, a2, a3, b2] = [
        made['a1']!,
        made['b1']!,
        made['a2']!,
        made['a3']!,
        made['b2']!,
      ];
      await moveTo(store(), a2.id, 'COMPLETED');
      await moveTo(store(), b1.id, 'COMPLETED');
      const ids = async (
        q: Omit<Parameters<Store['listSessions']>[0], 'limit'> & { limit?: number },
      ) => (await store().listSessions({ limit: 50, ...q })).map((s) => s.id);
      expect(await ids({ userId: 'ua' })).toEqual([a3.id, a2.id, a1.id]);
      expect(await ids({ userId: 'ub' })).toEqual([b2.id, b1.id]);
      expect(await ids({ userId: 'nobody' })).toEqual([]);
      expect(await ids({ userId: 'ua', limit: 2 })).toEqual([a3.id, a2.id]);
      expect(await ids({ userId: 'ua', limit: 2, before: a2.id })).toEqual([a1.id]);
      expect(await ids({ userId: 'ua', createdAfter: a1.created_at })).toEqual([a3.id, a2.id]);
      expect(await ids({ userId: 'ua', createdBefore: a3.created_at })).toEqual([a2.id, a1.id]);
      expect(
        await ids({ userId: 'ua', createdAfter: a1.created_at, createdBefore: a3.created_at }),
      ).toEqual([a2.id]);
      // With a status: both the rarer status (COMPLETED) and the commoner one (QUEUED).
      expect(await ids({ userId: 'ua', status: 'COMPLETED' })).toEqual([a2.id]);
      expect(await ids({ userId: 'ub', status: 'COMPLETED' })).toEqual([b1.id]);
      expect(await ids({ userId: 'ua', status: 'QUEUED' })).toEqual([a3.id, a1.id]);
      expect(await ids({ userId: 'ua', status: 'QUEUED', before: a3.id })).toEqual([a1.id]);
      expect(await ids({ userId: 'ua', status: 'QUEUED', createdAfter: a1.created_at })).toEqual([
        a3.id,
      ]);
      expect(await ids({ userId: 'ua', status: 'RUNNING' })).toEqual([]);
      expect((await ids({})).length).toBe(6);
    });

    it('stores users, lists them oldest first, replaces and deletes them', async () => {
      const ann = {
        id: 'u1',
        name: 'Ann',
        role: 'admin' as const,
        createdAt: 200,
        defaultProfileId: 'p1',
        maxRunning: 3,
      };
      const bob = { id: 'u2', name: 'Bob', role: 'user' as const, createdAt: 100, maxRunning: 0 };
      expect(await store().listUsers()).toEqual([]);
      await store().putUser(ann);
      await store().putUser(bob);
      expect(await store().getUser('u1')).toEqual(ann);
      expect(await store().getUser('u2')).toEqual(bob);
      expect(await store().getUser('nobody')).toBeNull();
      expect((await store().listUsers()).map((u) => u.id)).toEqual(['u2', 'u1']);
      await store().putUser({ ...bob, name: 'Bobby', maxRunning: 5 });
      expect(await store().getUser('u2')).toEqual({ ...bob, name: 'Bobby', maxRunning: 5 });
      expect(await store().listUsers()).toHaveLength(2);
      const got = (await store().getUser('u1'))!;
      got.name = 'changed';
      expect((await store().getUser('u1'))!.name).toBe('Ann');
      expect(await store().deleteUser('u2')).toBe(true);
      expect(await store().deleteUser('u2')).toBe(false);
      expect(await store().getUser('u2')).toBeNull();
      expect((await store().listUsers()).map((u) => u.id)).toEqual(['u1']);
    });

    it('finds tokens by hash; a replaced token drops its old hash; revoking works only for its user', async () => {
      const t1 = token('t1', 'u1', 'h1', 20);
      const t2 = token('t2', 'u1', 'h2', 10);
      expect(await store().putToken(t1)).toBe(true);
      expect(await store().putToken(t2)).toBe(true);
      expect(await store().tokenByHash('h1')).toEqual(t1);
      expect(await store().tokenByHash('unknown')).toBeNull();
      expect(await store().listTokens('u1')).toEqual([t2, t1]);
      expect(await store().listTokens('u2')).toEqual([]);
      // Same id, new hash: the old hash stops working.
      const t1b = { ...t1, hash: 'h1b', name: 'rotated' };
      expect(await store().putToken(t1b)).toBe(true);
      expect(await store().tokenByHash('h1')).toBeNull();
      expect(await store().tokenByHash('h1b')).toEqual(t1b);
      expect(await store().listTokens('u1')).toEqual([t2, t1b]);
      // Another user's id: refused, nothing changes.
      expect(await store().deleteToken('u2', 't1')).toBe(false);
      expect(await store().tokenByHash('h1b')).toEqual(t1b);
      expect(await store().deleteToken('u1', 't1')).toBe(true);
      expect(await store().deleteToken('u1', 't1')).toBe(false);
      expect(await store().tokenByHash('h1b')).toBeNull();
      expect(await store().listTokens('u1')).toEqual([t2]);
      // A token given to another user under the same id leaves the first user's list.
      const moved = { ...t2, userId: 'u2' };
      await store().putToken(moved);
      expect(await store().listTokens('u1')).toEqual([]);
      expect(await store().listTokens('u2')).toEqual([moved]);
      expect(await store().tokenByHash('h2')).toEqual(moved);
    });

    it('stores a token only if the user has none when asked, so one first token wins', async () => {
      expect(await store().putToken(token('a', 'u1', 'ha', 1), { onlyIfUserHasNone: true })).toBe(
        true,
      );
      expect(await store().putToken(token('b', 'u1', 'hb', 2), { onlyIfUserHasNone: true })).toBe(
        false,
      );
      expect(await store().tokenByHash('hb')).toBeNull();
      expect((await store().listTokens('u1')).map((t) => t.id)).toEqual(['a']);
      // Other users are not counted; without the option a second token is fine.
      expect(await store().putToken(token('c', 'u2', 'hc', 3), { onlyIfUserHasNone: true })).toBe(
        true,
      );
      expect(await store().putToken(token('d', 'u1', 'hd', 4))).toBe(true);
      // Once all are revoked, the user has none again.
      await store().deleteToken('u1', 'a');
      await store().deleteToken('u1', 'd');
      expect(await store().putToken(token('e', 'u1', 'he', 5), { onlyIfUserHasNone: true })).toBe(
        true,
      );
    });

    it("deleting a user deletes its tokens, and no one else's", async () => {
      await store().putUser({ id: 'u1', name: 'Ann', role: 'user', createdAt: 1 });
      await store().putUser({ id: 'u2', name: 'Bob', role: 'user', createdAt: 2 });
      await store().putToken(token('t1', 'u1', 'h1', 1));
      await store().putToken(token('t2', 'u1', 'h2', 2));
      await store().putToken(token('t3', 'u2', 'h3', 3));
      expect(await store().deleteUser('u1')).toBe(true);
      expect(await store().tokenByHash('h1')).toBeNull();
      expect(await store().tokenByHash('h2')).toBeNull();
      expect(await store().listTokens('u1')).toEqual([]);
      expect(await store().tokenByHash('h3')).toMatchObject({ id: 't3', userId: 'u2' });
      expect(await store().putToken(token('t4', 'u1', 'h4', 4), { onlyIfUserHasNone: true })).toBe(
        true,
      );
    });
  });
}
