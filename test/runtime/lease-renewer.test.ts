import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../kernel/clock.ts';
import { createLogger } from '../../kernel/logger.ts';
import { type LeasedHost, LeaseRenewer } from '../../runtime/lease-renewer.ts';
import type { LeaseRenewals } from '../../runtime/store/port.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { RenewResult } from '../../runtime/store/records.ts';
import type { WorkImplementations } from '../../actors/work-contract.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { fakeWork, scriptedWork } from '../support/fake-work.ts';
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
const parked = () => fakeWork({ hold: 'plan' }).work;

describe('lease renewal', () => {
  it.each(['outage', 'hang'] as const)(
    'pauses its actors before their TTL runs out when renewals fail, and resumes them in place after (%s)',
    async (mode) => {
      const ttl = 900;
      const store = new FlakyStore();
      const lines: string[] = [];
      const svc = await startInProcess({ store, work: parked(), leaseTtlMs: ttl, lines });
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
    const svc = await startInProcess({ store, work: parked(), leaseTtlMs: 600 });
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
    const svc = await startInProcess({ store, work, leaseTtlMs: ttl });
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
    const svc = await startInProcess({ store, work: parked(), leaseTtlMs: 600 });
    stop = svc.stop;
    await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    await waitFor('an active session', () => svc.node.activeSessions === 1, 5000, 5);
    store.deny = true;
    await waitFor('the actor to be stopped', () => svc.node.activeSessions === 0, 5000, 5);
    expect(svc.node.counters.leaseLost).toBe(1);
  });
});

/** A hosted session as the renewer sees it, recording what it was told. */
class FakeHost implements LeasedHost {
  readonly lease = { nodeId: 'n1', epoch: 1 };
  status: 'running' | 'suspended' | 'stopped' = 'running';
  lastConfirmed: number;
  wakes = 0;
  readonly id: string;
  constructor(id: string, confirmedAt: number) {
    this.id = id;
    this.lastConfirmed = confirmedAt;
  }
  get holding() {
    return this.status !== 'stopped';
  }
  get running() {
    return this.status === 'running';
  }
  get suspended() {
    return this.status === 'suspended';
  }
  confirmLease(at: number) {
    this.lastConfirmed = at;
  }
  suspend() {
    if (this.status === 'running') this.status = 'suspended';
  }
  resume(at: number) {
    this.status = 'running';
    this.lastConfirmed = at;
  }
  stop() {
    this.status = 'stopped';
  }
  wake() {
    this.wakes++;
  }
}

/** Renewals answered as the test says: confirmed, refused, failed or never. */
function scriptedRenewals() {
  const calls: number[] = [];
  let mode: 'ok' | 'deny' | 'fail' | 'hang' | 'pending' = 'ok';
  const renewals: LeaseRenewals = {
    async renew(_node, leases) {
      calls.push(leases.length);
      if (mode === 'fail') throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      if (mode === 'hang') return new Promise<never>(() => undefined);
      return leases.map((l) => ({
        id: l.id,
        ok: mode !== 'deny',
        until: 0,
        pending: mode === 'pending',
      }));
    },
  };
  return { renewals, calls, set: (m: typeof mode) => (mode = m) };
}

describe('lease renewal on a simulated clock', () => {
  const TTL = 900;
  const start = (hosts: FakeHost[], clock: SimulatedClock, store: LeaseRenewals) => {
    const renewer = new LeaseRenewer({
      store,
      nodeId: 'n1',
      ttlMs: TTL,
      logger: createLogger({ write: () => undefined }),
      hosts: () => hosts,
      clock,
    });
    renewer.start();
    return renewer;
  };

  it('renews every lease in one call per third of the TTL, and confirms them as of the call', async () => {
    const clock = new SimulatedClock();
    const hosts = [new FakeHost('a', 0), new FakeHost('b', 0)];
    const s = scriptedRenewals();
    const renewer = start(hosts, clock, s.renewals);
    await clock.advance(TTL / 3);
    expect(s.calls).toEqual([2]);
    expect(hosts.map((h) => h.lastConfirmed)).toEqual([TTL / 3, TTL / 3]);
    await clock.advance(TTL);
    expect(s.calls).toEqual([2, 2, 2, 2]);
    expect(hosts.every((h) => h.running)).toBe(true);
    renewer.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it.each(['fail', 'hang'] as const)(
    'pauses an actor before its TTL runs out when renewals %s, renews it sooner, and resumes it when confirmed',
    async (mode) => {
      const clock = new SimulatedClock();
      const host = new FakeHost('a', 0);
      const s = scriptedRenewals();
      const renewer = start([host], clock, s.renewals);
      s.set(mode);
      let pausedAt = -1;
      for (let t = 0; t < 2 * TTL && pausedAt < 0; t += 10) {
        await clock.advance(10);
        if (host.suspended) pausedAt = clock.now();
      }
      // Before the lease could have run out anywhere: within the TTL of the last confirmation.
      expect(pausedAt).toBeGreaterThan(0);
      expect(pausedAt - host.lastConfirmed).toBeLessThan(TTL);
      expect(pausedAt - host.lastConfirmed).toBeGreaterThanOrEqual(TTL - renewer.marginMs);
      // Suspended, it is renewed on the watchdog's beat, not every TTL/3.
      const before = s.calls.length;
      await clock.advance(TTL);
      expect(host.suspended).toBe(true);
      expect(s.calls.length - before).toBeGreaterThan(3);
      s.set('ok');
      // Within one renewal interval (a hung call holds the next one back for at most 0.8 of it).
      await clock.advance(TTL / 3);
      expect(host.running).toBe(true);
      expect(host.lastConfirmed).toBeGreaterThan(pausedAt);
      renewer.stop();
    },
  );

  it('stops an actor whose lease the store no longer confirms, and wakes one with pending events', async () => {
    const clock = new SimulatedClock();
    const a = new FakeHost('a', 0);
    const s = scriptedRenewals();
    const renewer = start([a], clock, s.renewals);
    s.set('pending');
    await clock.advance(TTL / 3);
    expect(a.wakes).toBe(1);
    s.set('deny');
    await clock.advance(TTL / 3);
    expect(a.status).toBe('stopped');
    renewer.stop();
  });
});
