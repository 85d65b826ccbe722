import { describe, expect, it } from 'vitest';
import type { StoreHarness } from './harness.ts';
import { eachHarness, sessionMakers, TTL } from './helpers.ts';

/**
 * Ownership: sessions handed out once by `takeReady`, claims with strictly
 * increasing epochs, renewals, and giving a lease up with a requeue.
 */
export function leasesContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { h, store } = eachHarness(factory);

    const { create, claimed } = sessionMakers(() => store);

    it('takeReady hands a new session out once, and again only after its reservation expires', async () => {
      const r = await create();
      expect(await store.takeReady(10, TTL)).toContain(r.id);
      expect(await store.takeReady(10, TTL)).not.toContain(r.id);
      await h.advance(TTL + 50); // the taker died between take and claim
      expect(await store.takeReady(10, TTL)).toContain(r.id);
    });

    it('claims with strictly increasing epochs; busy while leased; takeover after expiry', async () => {
      const { id, lease } = await claimed('n1');
      expect(lease.epoch).toBe(1);
      const again = await store.claim(id, 'n2', TTL);
      expect(again.kind).toBe('busy');
      expect((await store.getSession(id))?.owner).toMatchObject({ nodeId: 'n1', epoch: 1 });
      await h.advance(TTL + 50);
      expect((await store.getSession(id))?.owner).toBeNull();
      expect(await store.takeReady(10, TTL)).toContain(id); // expired leases are found without a scan
      const c = await store.claim(id, 'n2', TTL);
      expect(c.kind === 'claimed' && c.lease).toEqual({ nodeId: 'n2', epoch: 2 });
    });

    it('renew extends, reports pending events, and reports lost leases', async () => {
      const { id, lease } = await claimed('n1');
      await h.advance(TTL / 2);
      let [r] = await store.renew('n1', [{ id, epoch: 1 }], TTL);
      expect(r).toMatchObject({ id, ok: true, pending: false });
      await h.advance(TTL / 2 + 50); // past the first deadline, within the renewed one
      expect((await store.claim(id, 'n2', TTL)).kind).toBe('busy');
      await store.appendEvent(id, { type: 'input', payload: { message: 'm' } });
      [r] = await store.renew('n1', [{ id, epoch: lease.epoch }], TTL);
      expect(r!.pending).toBe(true);
      await h.advance(TTL + 50);
      await store.takeReady(10, TTL);
      expect((await store.claim(id, 'n2', TTL)).kind).toBe('claimed');
      [r] = await store.renew('n1', [{ id, epoch: lease.epoch }], TTL);
      expect(r!.ok).toBe(false);
    });

    it('release with requeue hands the session to the next taker at once', async () => {
      const { id, lease } = await claimed('n1');
      expect(await store.release(id, lease, true)).toEqual({ kind: 'ok', released: true });
      expect(await store.takeReady(10, TTL)).toContain(id);
      const c = await store.claim(id, 'n2', TTL);
      expect(c.kind === 'claimed' && c.lease).toEqual({ nodeId: 'n2', epoch: 2 });
    });
  });
}
