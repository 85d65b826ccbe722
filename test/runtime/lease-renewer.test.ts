import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../runtime/store/memory.ts';
import type { RenewResult } from '../../runtime/store/port.ts';
import type { WorkImplementations } from '../../runtime/work.ts';
import { inProcessService } from '../support/in-process.ts';
import { scriptedWork } from '../support/scripted-work.ts';
import { waitFor } from '../support/wait.ts';

const REPO = 'https://example.com/o/r.git';
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** A memory store that can be cut off (renewals and claims fail) or can deny leases. */
class FlakyStore extends MemoryStore {
  outage = false;
  override async takeReady(max: number, ttlMs: number): Promise<string[]> {
    if (this.outage) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    return super.takeReady(max, ttlMs);
  }
  lastRenewOk = 0;
  deny = false;
  /** Renewals that never answer (a Redis that stopped responding). */
  hang = false;
  override async renew(nodeId: string, leases: { id: string; epoch: number }[], ttlMs: number): Promise<RenewResult[]> {
    if (this.outage) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    if (this.hang) return new Promise<never>(() => undefined);
    const res = await super.renew(nodeId, leases, ttlMs);
    if (this.deny) return res.map((r) => ({ ...r, ok: false }));
    if (res.some((r) => r.ok)) this.lastRenewOk = performance.now();
    return res;
  }
}

/** Work that never finishes on its own: the session stays active on the node. */
const parked = (): WorkImplementations => ({ ...scriptedWork(), plan: (_i, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) });

describe('lease renewal', () => {
  it.each(['outage', 'hang'] as const)('stops its actors before their TTL runs out when renewals fail (%s)', async (mode) => {
    const ttl = 900;
    const store = new FlakyStore();
    const lines: string[] = [];
    const svc = await inProcessService({ store, work: parked(), leaseTtlMs: ttl, lines });
    stop = svc.stop;
    await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    await waitFor('an active session that was renewed', () => svc.node.activeSessions === 1 && store.lastRenewOk > 0, 5000, 5);
    store.outage = true; // claims fail from now on in both modes
    store.hang = mode === 'hang';
    if (mode === 'hang') store.outage = false;
    const cut = store.lastRenewOk;
    await waitFor('the actor to be stopped', () => svc.node.activeSessions === 0, 5000, 5);
    const stoppedAfter = performance.now() - cut;
    // Before the lease could have run out anywhere: within the TTL of the last confirmed renewal.
    expect(stoppedAfter).toBeLessThan(ttl);
    expect(svc.node.counters.leaseLost).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => l.includes('lease not confirmed in time'))).toBe(true);
    if (mode === 'outage') expect(lines.some((l) => l.includes('lease renewal failed'))).toBe(true);
  });

  it('stops an actor at once when the store no longer confirms its lease', async () => {
    const store = new FlakyStore();
    const svc = await inProcessService({ store, work: parked(), leaseTtlMs: 600 });
    stop = svc.stop;
    await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    await waitFor('an active session', () => svc.node.activeSessions === 1, 5000, 5);
    store.deny = true;
    await waitFor('the actor to be stopped', () => svc.node.activeSessions === 0, 5000, 5);
    expect(svc.node.counters.leaseLost).toBe(1);
  });
});
