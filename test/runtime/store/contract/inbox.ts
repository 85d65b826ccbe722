import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import type { StoreHarness } from './harness.ts';
import { eachHarness, sessionMakers } from './helpers.ts';

/**
 * The inbox: events appended in order, refused by status, a keyed repeat
 * answering the first id; read back after an id.
 */
export function inboxContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { store } = eachHarness(factory);

    const { create } = sessionMakers(() => store);

    it('appends events in order; conflict by status; idempotency key returns the first id', async () => {
      const r = await create('review');
      expect(await store.appendEvent(ulid(), { type: 'input', payload: {} })).toEqual({
        kind: 'not_found',
      });
      expect(
        await store.appendEvent(
          r.id,
          { type: 'approve', payload: {} },
          { allowedStatuses: ['WAITING_FOR_USER'] },
        ),
      ).toEqual({ kind: 'conflict', status: 'QUEUED' });
      const a = await store.appendEvent(
        r.id,
        { type: 'input', payload: { message: 'one' } },
        { idempotencyKey: 'k' },
      );
      const b = await store.appendEvent(
        r.id,
        { type: 'input', payload: { message: 'one' } },
        { idempotencyKey: 'k' },
      );
      const c = await store.appendEvent(r.id, { type: 'input', payload: { message: 'two' } });
      if (a.kind !== 'appended' || b.kind !== 'appended' || c.kind !== 'appended')
        throw new Error('not appended');
      expect(b).toEqual({ kind: 'appended', eventId: a.eventId, duplicate: true });
      expect(a.duplicate).toBe(false);
      const all = await store.readEvents(r.id, '0-0', 10);
      expect(all.map((e) => e.payload['message'])).toEqual(['one', 'two']);
      expect(all[0]).toMatchObject({ id: a.eventId, type: 'input' });
      expect((await store.readEvents(r.id, a.eventId, 10)).map((e) => e.id)).toEqual([c.eventId]);
    });
  });
}
