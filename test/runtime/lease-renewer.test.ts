import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { RenewResult } from '../../runtime/store/records.ts';
import type { WorkImplementations } from '../../actors/work-contract.ts';
import { inProcessService } from '../support/in-process.ts';
import { scriptedWork } from '../support/scripted-work.ts';
import { sleep, waitFor } from '../support/wait.ts';

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
  override async renew(
    nodeId: string,
    leases: { id: string; epoch: number }[],
    ttlMs: number,
  ): Promise<RenewResult[]> {
    if (this.outage) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    if (this.hang) return new Promise<never>(() => undefined);
    const res = await super.renew(nodeId, leases, ttlMs);
    if (this.deny) return res.map((r) => ({ ...r, ok: false }));
    if (res.some((r) => r.ok)) this.lastRenewOk = performance.now();
    return res;
  }
}

/** Work that never finishes on its own: the session stays active on the node. */
const parked = (): WorkImplementations => ({
  ...scriptedWork(),
  plan: (_i, ctx) =>
    new Promise((_r, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
    ),
});

describe('lease renewal', () => {
  it.each(['outage', 'hang'] as const)(
    'pauses its actors before their TTL runs out when renewals fail, and resumes them in place after (%s)',
    async (mode) => {
      const ttl = 900;
      const store = new FlakyStore();
      const lines: string[] = [];
      const svc = await inProcessService({ store, work: parked(), leaseTtlMs: ttl, lines });
      stop = svc.stop;
      const { session_id: id } = (
        await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO })
      ).body;
      await waitFor(
        'an active session that was renewed',
        () => svc.node.activeSessions === 1 && store.lastRenewOk > 0,
        5000,
        5,
      );
      store.outage = true; // claims fail from now on in both modes
      store.hang = mode === 'hang';
      if (mode === 'hang') store.outage = false;
      const cut = store.lastRenewOk;
      await waitFor('the actor to be paused', () => svc.node.suspendedSessions === 1, 5000, 5);
      const pausedAfter = performance.now() - cut;
      // Before the lease could have run out anywhere: within the TTL of the last confirmed renewal.
      expect(pausedAfter).toBeLessThan(ttl);
      expect(lines.some((l) => l.includes('lease not confirmed in time; pausing the actor'))).toBe(
        true,
      );
      if (mode === 'outage')
        expect(lines.some((l) => l.includes('lease renewal failed'))).toBe(true);
      // Kept in memory past the TTL, not dropped.
      await sleep(2 * ttl);
      expect(svc.node.activeSessions).toBe(1);
      expect(svc.node.suspendedSessions).toBe(1);
      store.outage = false;
      store.hang = false;
      await waitFor('the actor to resume', () => svc.node.suspendedSessions === 0, 5000, 5);
      expect(lines.some((l) => l.includes('lease confirmed again; resuming the actor'))).toBe(true);
      // The same actor under the same lease: no claim, nothing lost.
      expect(svc.node.activeSessions).toBe(1);
      expect(svc.node.counters.leaseLost).toBe(0);
      expect(svc.node.counters.claims).toBe(1);
      expect((await store.getSession(id))!.epoch).toBe(1);
    },
  );

  it('stops a paused actor when, back in touch, the store says another node claimed it', async () => {
    const store = new FlakyStore();
    const svc = await inProcessService({ store, work: parked(), leaseTtlMs: 600 });
    stop = svc.stop;
    await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    await waitFor('an active session', () => svc.node.activeSessions === 1, 5000, 5);
    store.outage = true;
    await waitFor('the actor to be paused', () => svc.node.suspendedSessions === 1, 5000, 5);
    store.deny = true;
    store.outage = false;
    await waitFor('the actor to be stopped', () => svc.node.activeSessions === 0, 5000, 5);
    expect(svc.node.counters.leaseLost).toBe(1);
  });

  it('holds work at its next step while paused, and lets it go on when resumed', async () => {
    const ttl = 900;
    const store = new FlakyStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reached: string[] = [];
    const work: WorkImplementations = {
      ...scriptedWork(),
      async plan(_input, ctx) {
        await gate;
        reached.push('asked');
        await ctx.ready();
        reached.push('went on');
        return { summary: 'plan', steps: ['1. do it'] };
      },
    };
    const svc = await inProcessService({ store, work, leaseTtlMs: ttl });
    stop = svc.stop;
    const { session_id: id } = (
      await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO })
    ).body;
    await waitFor(
      'an active session that was renewed',
      () => svc.node.activeSessions === 1 && store.lastRenewOk > 0,
      5000,
      5,
    );
    store.outage = true;
    await waitFor('the actor to be paused', () => svc.node.suspendedSessions === 1, 5000, 5);
    release();
    await waitFor('the step to ask', () => reached.length > 0, 5000, 5);
    await sleep(300);
    expect(reached).toEqual(['asked']);
    store.outage = false;
    await waitFor(
      'the session to complete',
      async () => (await store.getSession(id))?.status === 'COMPLETED',
      10_000,
      10,
    );
    expect(reached).toEqual(['asked', 'went on']);
    expect((await store.getSession(id))!.epoch).toBe(1);
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
