import { describe, expect, it } from 'vitest';
import type { WakeHint } from '../../../../runtime/store/records.ts';
import type { StoreHarness } from './harness.ts';
import { commitOf, eachHarness, sessionMakers } from './helpers.ts';

/**
 * Wake-up hints: the owner is woken on an event (a new event carries itself
 * and the id before it), and the ready hint is sent for a passive session.
 */
export function wakeUpsContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { store } = eachHarness(factory);

    const { claimed } = sessionMakers(() => store);

    it('wakes the owner on an event, and signals ready for a passive session', async () => {
      const { id, lease } = await claimed('n1');
      const woken: string[] = [];
      const hints: (WakeHint | undefined)[] = [];
      let readies = 0;
      const offWake = await store.onWake('n1', (s, hint) => {
        woken.push(s);
        hints.push(hint);
      });
      const offReady = await store.onReady(() => readies++);
      const a = await store.appendEvent(
        id,
        { type: 'input', payload: { message: 'm\nwith a newline' } },
        { idempotencyKey: 'k' },
      );
      const b = await store.appendEvent(id, { type: 'cancel', payload: {} });
      await store.appendEvent(
        id,
        { type: 'input', payload: { message: 'm' } },
        { idempotencyKey: 'k' },
      ); // a repeat
      await waitUntil(() => woken.length === 3);
      if (a.kind !== 'appended' || b.kind !== 'appended') throw new Error('not appended');
      expect(woken).toEqual([id, id, id]);
      // New events carry themselves and the id before them; a repeat carries nothing.
      expect(hints[0]).toMatchObject({
        prevId: '0-0',
        event: { id: a.eventId, type: 'input', payload: { message: 'm\nwith a newline' } },
      });
      expect(hints[1]).toMatchObject({
        prevId: a.eventId,
        event: { id: b.eventId, type: 'cancel', payload: {} },
      });
      expect(hints[0]!.event).toEqual((await store.readEvents(id, '0-0', 1))[0]);
      expect(hints[2]).toBeUndefined();
      await store.commit(
        id,
        lease,
        commitOf({ status: 'WAITING_FOR_USER', lastEventId: b.eventId, release: true }),
      );
      const before = readies;
      await store.appendEvent(id, { type: 'approve', payload: {} });
      await waitUntil(() => readies > before);
      await offWake();
      await offReady();
    });
  });
}

async function waitUntil(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
