import { describe, expect, it } from 'vitest';
import type { StoreHarness } from './harness.ts';
import { eachHarness, sessionMakers } from './helpers.ts';

/**
 * Durable timers: fired into the inbox once due, exactly once per key.
 */
export function timersContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { h, store } = eachHarness(factory);

    const { claimed } = sessionMakers(() => store);

    it('durable timers fire into the inbox once due, exactly once per key', async () => {
      const { id, lease } = await claimed();
      expect(
        await store.scheduleTimer(id, lease, {
          key: 't1',
          delayMs: 150,
          payload: { kind: 'retry' },
        }),
      ).toEqual({ kind: 'ok', released: false });
      await store.fireDueTimers(100);
      expect(await store.readEvents(id, '0-0', 10)).toEqual([]);
      await h.advance(200);
      await store.fireDueTimers(100);
      await store.fireDueTimers(100);
      await store.scheduleTimer(id, lease, { key: 't1', delayMs: 0, payload: { kind: 'retry' } }); // re-armed after a restore
      await h.advance(10);
      await store.fireDueTimers(100);
      const events = await store.readEvents(id, '0-0', 10);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'timer', payload: { kind: 'retry', key: 't1' } });
    });
  });
}
