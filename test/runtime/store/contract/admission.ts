import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import type { Commit, Lease } from '../../../../runtime/store/records.ts';
import { waitFor } from '../../../support/wait.ts';
import type { StoreHarness } from './harness.ts';
import { eachHarness, REPO, TTL } from './helpers.ts';

/**
 * The store contract of the per-user running limit (`admit`, `setRunning`,
 * `park`): run by `storeContract` (`index.ts`) against every adapter, under a
 * `describe` of its own.
 */
export function admissionContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store admission contract: ${name}`, () => {
    const { h, store } = eachHarness(factory);

    const user = () => `u-${ulid()}`;
    /** A new session, taken off the ready queue and claimed by n1. */
    const claimed = async (): Promise<{ id: string; lease: Lease }> => {
      const { record } = await store.createSession({
        id: ulid(),
        goal: 'g',
        repo_url: REPO,
        mode: 'auto',
        userId: 'u',
        maxRunning: 1,
      });
      expect(await store.takeReady(100, TTL)).toContain(record.id);
      const c = await store.claim(record.id, 'n1', TTL);
      if (c.kind !== 'claimed') throw new Error(`claim → ${c.kind}`);
      return { id: record.id, lease: c.lease };
    };

    it('admits up to the limit and counts; a counted session is admitted again; beyond it, the counted ids come back', async () => {
      const u = user();
      const [a, b, c] = [ulid(), ulid(), ulid()];
      expect(await store.admit(a, u, 2)).toEqual({ admitted: true });
      expect(await store.admit(b, u, 2)).toEqual({ admitted: true });
      expect(await store.admit(a, u, 2)).toEqual({ admitted: true });
      expect(await store.admit(c, u, 2)).toEqual({ admitted: false, running: [a, b].sort() });
      // Users are counted apart; the limit is the caller's.
      expect(await store.admit(c, user(), 2)).toEqual({ admitted: true });
      expect(await store.admit(c, u, 3)).toEqual({ admitted: true });
      expect(await store.admit(ulid(), u, 3)).toEqual({
        admitted: false,
        running: [a, b, c].sort(),
      });
    });

    it('counts with setRunning (idempotent, also beyond the limit) and uncounts', async () => {
      const u = user();
      const [a, b, c] = [ulid(), ulid(), ulid()];
      await store.setRunning(a, u, true);
      await store.setRunning(a, u, true);
      await store.setRunning(b, u, true);
      expect(await store.admit(c, u, 1)).toEqual({ admitted: false, running: [a, b].sort() });
      await store.setRunning(a, u, false);
      await store.setRunning(ulid(), u, false); // never counted: nothing happens
      expect(await store.admit(c, u, 2)).toEqual({ admitted: true });
      expect(await store.admit(ulid(), u, 2)).toEqual({ admitted: false, running: [b, c].sort() });
    });

    it('parks a session off the ready queue with its reason; uncounting a running one queues every parked one again, with a hint', async () => {
      const running = ulid();
      await store.setRunning(running, 'u', true);
      const p1 = await claimed();
      const p2 = await claimed();
      for (const p of [p1, p2]) {
        expect(await store.admit(p.id, 'u', 1)).toEqual({ admitted: false, running: [running] });
        expect(
          await store.park(
            p.id,
            p.lease,
            'waiting: 1 of your sessions is running (limit 1)',
            60_000,
          ),
        ).toEqual({ kind: 'ok', released: true });
        expect(await store.getSession(p.id)).toMatchObject({
          status: 'QUEUED',
          reason: 'waiting: 1 of your sessions is running (limit 1)',
          owner: null,
        });
        await h.advance(5);
      }
      await h.advance(TTL + 50); // past the leases that were given up
      expect(await store.takeReady(100, TTL)).toEqual([]);
      let readies = 0;
      const off = await store.onReady(() => readies++);
      try {
        await store.setRunning(running, 'u', false);
        await waitFor('the ready hint', () => readies > 0, 5000, 10);
      } finally {
        await off();
      }
      expect(await store.takeReady(100, TTL)).toEqual([p1.id, p2.id]); // in the order they began to wait
      // Each one tries admission again: the first one in gets the slot.
      expect(await store.admit(p1.id, 'u', 1)).toEqual({ admitted: true });
      expect(await store.admit(p2.id, 'u', 1)).toEqual({ admitted: false, running: [p1.id] });
      // Nothing is parked twice: once they are queued, a further uncount queues nothing.
      await store.setRunning(p1.id, 'u', true);
      await store.setRunning(ulid(), 'u', false);
      expect(await store.takeReady(100, TTL)).toEqual([p2.id]);
    });

    it('a parked session that becomes counted is not queued again', async () => {
      const running = ulid();
      await store.setRunning(running, 'u', true);
      const p = await claimed();
      expect((await store.admit(p.id, 'u', 1)).admitted).toBe(false);
      await store.park(p.id, p.lease, 'waiting', 60_000);
      await store.setRunning(p.id, 'u', true); // e.g. hosted for a cancel, which ran it
      await store.setRunning(running, 'u', false);
      await h.advance(TTL + 50);
      expect(await store.takeReady(100, TTL)).toEqual([]);
    });

    it('park is fenced; a parked session is handed out again after recheckMs, and the next claim takes a new epoch', async () => {
      const { id, lease } = await claimed();
      expect(await store.park(id, { nodeId: 'n1', epoch: lease.epoch + 1 }, 'x', 200)).toEqual({
        kind: 'fenced',
      });
      expect(await store.park(id, { nodeId: 'n2', epoch: lease.epoch }, 'x', 200)).toEqual({
        kind: 'fenced',
      });
      expect(await store.park(ulid(), lease, 'x', 200)).toEqual({ kind: 'not_found' });
      expect((await store.stats()).fenced_writes).toBeGreaterThanOrEqual(2);
      expect(await store.park(id, lease, 'why', 1000)).toEqual({ kind: 'ok', released: true });
      expect(await store.takeReady(100, TTL)).not.toContain(id);
      await h.advance(1100);
      expect(await store.takeReady(100, TTL)).toContain(id);
      const again = await store.claim(id, 'n2', TTL);
      expect(again).toMatchObject({
        kind: 'claimed',
        lease: { nodeId: 'n2', epoch: lease.epoch + 1 },
        record: { status: 'QUEUED', reason: 'why' },
      });
    });

    it('park is refused while a cancel waits in the inbox (lease and reason kept); other events do not hold it', async () => {
      const { id, lease } = await claimed();
      await store.appendEvent(id, { type: 'input', payload: { message: 'more' } });
      expect(await store.park(id, lease, 'first', 60_000)).toEqual({ kind: 'ok', released: true });
      const c = await store.claim(id, 'n1', TTL);
      if (c.kind !== 'claimed') throw new Error(`claim → ${c.kind}`);
      const cancel = await store.appendEvent(id, { type: 'cancel', payload: {} });
      if (cancel.kind !== 'appended') throw new Error('not appended');
      expect(await store.park(id, c.lease, 'second', 60_000)).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.getSession(id)).toMatchObject({
        reason: 'first',
        owner: { nodeId: 'n1', epoch: c.lease.epoch },
      });
      // Once the cancel is applied (committed), parking is allowed again.
      const applied: Commit = {
        seq: 1,
        snapshot: { v: 1, state: {} },
        status: 'QUEUED',
        phase: 'queued',
        reason: null,
        goal: 'g',
        result: null,
        lastEventId: cancel.eventId,
        history: [],
        logs: [],
        release: false,
      };
      expect((await store.commit(id, c.lease, applied)).kind).toBe('ok');
      expect(await store.park(id, c.lease, 'third', 60_000)).toEqual({
        kind: 'ok',
        released: true,
      });
      expect((await store.getSession(id))?.reason).toBe('third');
    });
  });
}
