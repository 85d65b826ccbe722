import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { HISTORY_CAP } from '../../../../runtime/store/records.ts';
import type { StoreHarness } from './harness.ts';
import { commitOf, eachHarness, sessionMakers, TTL } from './helpers.ts';

/**
 * What an owner writes under its lease: commits (fenced, repeated safely,
 * with their numbered and capped history), and passivation by a releasing commit.
 */
export function commitsContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { h, store } = eachHarness(factory);

    const { claimed } = sessionMakers(() => store);

    it('commit writes everything at once, fills history, and fences a stale epoch', async () => {
      const { id, lease } = await claimed('n1');
      const ev = await store.appendEvent(id, { type: 'input', payload: { message: 'x' } });
      if (ev.kind !== 'appended') throw new Error(ev.kind);
      const ok = await store.commit(
        id,
        lease,
        commitOf({
          goal: 'new goal',
          phase: 'planning.running',
          reason: 'why',
          result: { diff: 'd' },
          lastEventId: ev.eventId,
          history: [{ event: 'input', from: 'coding.running', to: 'planning.running' }],
          logs: ['a', 'b'],
        }),
      );
      expect(ok).toEqual({ kind: 'ok', released: false });
      const rec = (await store.getSession(id))!;
      expect(rec).toMatchObject({
        goal: 'new goal',
        phase: 'planning.running',
        reason: 'why',
        result: { diff: 'd' },
        last_event_id: ev.eventId,
        status: 'RUNNING',
        snapshot: { v: 1, state: { value: 'coding' } },
      });
      expect(await store.getLogs(id)).toEqual(['a', 'b']);
      expect(await store.getLogs(id, 1)).toEqual(['b']);
      const [hist] = await store.getHistory(id);
      expect(hist).toMatchObject({
        event: 'input',
        from: 'coding.running',
        to: 'planning.running',
        node: 'n1',
        epoch: 1,
      });
      expect(hist!.at).toBeGreaterThan(0);
      // Takeover, then the old owner writes: rejected, counted, nothing changed.
      await h.advance(TTL + 50);
      await store.takeReady(10, TTL);
      expect((await store.claim(id, 'n2', TTL)).kind).toBe('claimed');
      expect(await store.commit(id, lease, commitOf({ goal: 'zombie' }))).toEqual({
        kind: 'fenced',
      });
      expect(await store.appendLogs(id, lease, ['zombie'])).toEqual({ kind: 'fenced' });
      expect(await store.release(id, lease, true)).toEqual({ kind: 'fenced' });
      expect(await store.scheduleTimer(id, lease, { key: 'z', delayMs: 0, payload: {} })).toEqual({
        kind: 'fenced',
      });
      const after = (await store.getSession(id))!;
      expect(after.goal).toBe('new goal');
      expect(after.fenced_writes).toBe(4);
      expect(await store.getLogs(id)).toEqual(['a', 'b']);
      expect((await store.stats()).fenced_writes).toBeGreaterThanOrEqual(4);
    });

    it('a repeated commit (same epoch and seq, a retry after a lost reply) is acknowledged and not written twice', async () => {
      const { id, lease } = await claimed('n1');
      const first = commitOf({
        seq: 7,
        history: [{ event: 'e', from: 'a', to: 'b' }],
        logs: ['once'],
      });
      expect(await store.commit(id, lease, first)).toEqual({ kind: 'ok', released: false });
      expect(await store.commit(id, lease, first)).toEqual({ kind: 'ok', released: false });
      expect(await store.getLogs(id)).toEqual(['once']);
      expect(await store.getHistory(id)).toHaveLength(1);
      // A passivating commit repeated after its release: still acknowledged, as released.
      const last = commitOf({
        seq: 8,
        status: 'WAITING_FOR_USER',
        release: true,
        logs: ['waiting'],
      });
      expect(await store.commit(id, lease, last)).toEqual({ kind: 'ok', released: true });
      expect(await store.commit(id, lease, last)).toEqual({ kind: 'ok', released: true });
      expect(await store.getLogs(id)).toEqual(['once', 'waiting']);
      // The same seq under a later lease is a new commit.
      await store.appendEvent(id, { type: 'input', payload: { message: 'again' } });
      await store.takeReady(10, TTL);
      const next = await store.claim(id, 'n2', TTL);
      if (next.kind !== 'claimed') throw new Error(next.kind);
      expect(await store.commit(id, next.lease, commitOf({ seq: 8, logs: ['new lease'] }))).toEqual(
        { kind: 'ok', released: false },
      );
      expect(await store.getLogs(id)).toEqual(['once', 'waiting', 'new lease']);
      // The old lease's repeat is now fenced.
      expect(await store.commit(id, lease, last)).toEqual({ kind: 'fenced' });
    });

    it('history keeps the newest HISTORY_CAP entries', async () => {
      const { id, lease } = await claimed();
      const history = Array.from({ length: HISTORY_CAP + 5 }, (_, i) => ({
        event: `e${i}`,
        from: 'a',
        to: 'b',
      }));
      await store.commit(id, lease, commitOf({ history }));
      const got = await store.getHistory(id);
      expect(got).toHaveLength(HISTORY_CAP);
      expect(got[0]!.event).toBe('e5');
      expect(got.at(-1)!.event).toBe(`e${HISTORY_CAP + 4}`);
    });

    it('numbers history entries by position in the whole history, kept across trimming, leases and repeats; `from` filters', async () => {
      const { id, lease } = await claimed('n1');
      const entries = (from: number, count: number) =>
        Array.from({ length: count }, (_, i) => ({ event: `e${from + i}`, from: 'a', to: 'b' }));
      expect((await store.getSession(id))?.history_count).toBeUndefined();
      await store.commit(id, lease, commitOf({ history: entries(0, 3) }));
      expect((await store.getSession(id))?.history_count).toBe(3);
      expect((await store.getHistory(id)).map((e) => [e.n, e.event])).toEqual([
        [0, 'e0'],
        [1, 'e1'],
        [2, 'e2'],
      ]);
      expect((await store.getHistory(id, 1)).map((e) => e.n)).toEqual([1, 2]);
      expect(await store.getHistory(id, 3)).toEqual([]);
      // Past the cap: the oldest entries go, the others keep their numbers.
      await store.commit(id, lease, commitOf({ history: entries(3, HISTORY_CAP) }));
      const all = await store.getHistory(id);
      expect(all).toHaveLength(HISTORY_CAP);
      expect(all.every((e, i) => e.n === i + 3 && e.event === `e${i + 3}`)).toBe(true);
      expect(await store.getHistory(id, 0)).toEqual(all);
      expect((await store.getHistory(id, HISTORY_CAP + 1)).map((e) => e.n)).toEqual([
        HISTORY_CAP + 1,
        HISTORY_CAP + 2,
      ]);
      // A repeated commit numbers nothing twice; the next lease continues the count.
      const once = commitOf({ history: entries(HISTORY_CAP + 3, 1) });
      await store.commit(id, lease, once);
      await store.commit(id, lease, once);
      expect(await store.release(id, lease, true)).toEqual({ kind: 'ok', released: true });
      await store.takeReady(10, TTL);
      const next = await store.claim(id, 'n2', TTL);
      if (next.kind !== 'claimed') throw new Error(next.kind);
      await store.commit(id, next.lease, commitOf({ history: entries(HISTORY_CAP + 4, 1) }));
      expect(
        (await store.getHistory(id, HISTORY_CAP + 3)).map((e) => [e.n, e.event, e.node]),
      ).toEqual([
        [HISTORY_CAP + 3, `e${HISTORY_CAP + 3}`, 'n1'],
        [HISTORY_CAP + 4, `e${HISTORY_CAP + 4}`, 'n2'],
      ]);
      expect((await store.getSession(id))?.history_count).toBe(HISTORY_CAP + 5);
      // A payload comes back exactly as written, empty arrays and unicode included.
      const payload = {
        message: 'naïve “quotes” \n',
        list: [],
        nested: { n: 1, ok: true, none: null },
      };
      await store.commit(
        id,
        next.lease,
        commitOf({ history: [{ event: 'input', from: 'a', to: 'b', payload }] }),
      );
      expect((await store.getHistory(id, HISTORY_CAP + 5))[0]).toMatchObject({
        n: HISTORY_CAP + 5,
        event: 'input',
        payload,
      });
      expect((await store.getHistory(id, HISTORY_CAP + 4))[0]).not.toHaveProperty('payload');
      expect(await store.getHistory(ulid(), 0)).toEqual([]);
    });

    it('passivation: release in commit, refused while events are pending; passive sessions are idle until an event', async () => {
      const { id, lease } = await claimed();
      const ev = await store.appendEvent(id, { type: 'input', payload: { message: 'late' } });
      if (ev.kind !== 'appended') throw new Error(ev.kind);
      expect(
        await store.commit(id, lease, commitOf({ status: 'WAITING_FOR_USER', release: true })),
      ).toEqual({ kind: 'ok', released: false });
      expect((await store.getSession(id))?.owner?.nodeId).toBe('n1');
      expect(
        await store.commit(
          id,
          lease,
          commitOf({ status: 'WAITING_FOR_USER', lastEventId: ev.eventId, release: true }),
        ),
      ).toEqual({ kind: 'ok', released: true });
      expect((await store.getSession(id))?.owner).toBeNull();
      await h.advance(TTL + 50);
      const taken = await store.takeReady(10, TTL);
      for (const t of taken) expect(await store.claim(t, 'n2', TTL)).toEqual({ kind: 'idle' });
      const approve = await store.appendEvent(
        id,
        { type: 'approve', payload: {} },
        { allowedStatuses: ['WAITING_FOR_USER'] },
      );
      expect(approve.kind).toBe('appended');
      expect(await store.takeReady(10, TTL)).toContain(id);
      const c = await store.claim(id, 'n2', TTL);
      expect(c.kind === 'claimed' && c.lease.epoch).toBe(2);
    });
  });
}
