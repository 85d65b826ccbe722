import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import type { StoreHarness } from './harness.ts';
import { commitOf, eachHarness, REPO, sessionMakers, TTL } from './helpers.ts';

/**
 * Sessions as created and read: the record and its fields, idempotent creates,
 * counts by status, and listings (newest first, by status, time window, cursor).
 */
export function sessionsContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { h, store } = eachHarness(factory);

    const { create, claimed } = sessionMakers(() => store);

    it('creates a QUEUED session with its fields; create is idempotent by id and by key', async () => {
      const id = ulid();
      const a = await store.createSession({ id, goal: 'g', repo_url: REPO, mode: 'review' });
      expect(a.created).toBe(true);
      expect(a.record).toMatchObject({
        id,
        goal: 'g',
        repo_url: REPO,
        mode: 'review',
        status: 'QUEUED',
        phase: 'queued',
        reason: null,
        result: null,
        snapshot: null,
        last_event_id: '0-0',
        epoch: 0,
        owner: null,
        fenced_writes: 0,
      });
      expect(a.record.created_at).toBeGreaterThan(0);
      expect(
        (await store.createSession({ id, goal: 'other', repo_url: REPO, mode: 'auto' })).created,
      ).toBe(false);
      expect((await store.getSession(id))?.goal).toBe('g');
      const k1 = await store.createSession(
        { id: ulid(), goal: 'k', repo_url: REPO, mode: 'auto' },
        'key-1',
      );
      const k2 = await store.createSession(
        { id: ulid(), goal: 'k', repo_url: REPO, mode: 'auto' },
        'key-1',
      );
      expect(k2.record.id).toBe(k1.record.id);
      expect(k2.created).toBe(false);
      expect(await store.getSession(ulid())).toBeNull();
      // A budget given at creation is kept with the record; none means none.
      const b = await store.createSession({
        id: ulid(),
        goal: 'b',
        repo_url: REPO,
        mode: 'auto',
        budget: { maxCalls: 7 },
        profileId: 'p9',
      });
      expect((await store.getSession(b.record.id))?.budget).toEqual({ maxCalls: 7 });
      expect((await store.getSession(b.record.id))?.profileId).toBe('p9');
      expect((await store.getSession(id))?.budget).toBeUndefined();
    });

    it('counts sessions by status, every status present', async () => {
      const zero = {
        QUEUED: 0,
        RUNNING: 0,
        WAITING_FOR_USER: 0,
        COMPLETED: 0,
        FAILED: 0,
        CANCELLED: 0,
      };
      expect(await store.countByStatus()).toEqual(zero);
      const a = await claimed();
      await create();
      await create();
      expect(await store.countByStatus()).toEqual({ ...zero, QUEUED: 3 });
      await store.commit(a.id, a.lease, commitOf({ status: 'RUNNING' }));
      expect(await store.countByStatus()).toEqual({ ...zero, QUEUED: 2, RUNNING: 1 });
      await store.commit(a.id, a.lease, commitOf({ status: 'COMPLETED', release: true }));
      expect(await store.countByStatus()).toEqual({ ...zero, QUEUED: 2, COMPLETED: 1 });
    });

    it('lists within a creation-time window, alone or with a status and a cursor', async () => {
      const a = await create();
      await h.advance(20);
      const b = await create();
      await h.advance(20);
      const c = await create();
      const ids = (rows: { id: string }[]) =>
        rows.map((r) => r.id).filter((id) => [a.id, b.id, c.id].includes(id));
      expect(ids(await store.listSessions({ limit: 50, createdAfter: a.created_at }))).toEqual([
        c.id,
        b.id,
      ]);
      expect(ids(await store.listSessions({ limit: 50, createdBefore: c.created_at }))).toEqual([
        b.id,
        a.id,
      ]);
      expect(
        ids(
          await store.listSessions({
            limit: 50,
            createdAfter: a.created_at,
            createdBefore: c.created_at,
            status: 'QUEUED',
          }),
        ),
      ).toEqual([b.id]);
      expect(
        ids(await store.listSessions({ limit: 50, createdAfter: a.created_at, before: c.id })),
      ).toEqual([b.id]);
    });

    it('lists newest first, by status, with a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push((await create()).id);
        await h.advance(2);
      }
      expect((await store.listSessions({ limit: 10 })).map((s) => s.id)).toEqual(
        [...ids].reverse(),
      );
      expect((await store.listSessions({ limit: 2, before: ids[2]! })).map((s) => s.id)).toEqual([
        ids[1],
        ids[0],
      ]);
      const { lease } = await (async () => {
        await store.takeReady(100, TTL);
        const c = await store.claim(ids[0]!, 'n1', TTL);
        if (c.kind !== 'claimed') throw new Error(c.kind);
        return c;
      })();
      await store.commit(ids[0]!, lease, commitOf({ status: 'COMPLETED', release: true }));
      expect(
        (await store.listSessions({ limit: 10, status: 'COMPLETED' })).map((s) => s.id),
      ).toEqual([ids[0]]);
      expect((await store.listSessions({ limit: 10, status: 'QUEUED' })).map((s) => s.id)).toEqual([
        ids[3],
        ids[2],
        ids[1],
      ]);
      expect((await store.listSessions({ limit: 10 }))[0]).not.toHaveProperty('snapshot');
    });
  });
}
