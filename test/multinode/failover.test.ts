import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { redisUrl, uniquePrefix } from '../support/stores.ts';
import { Cluster } from '../support/service/processes.ts';
import { expectedDiff, occurrences } from '../support/expected.ts';
import { sleep, waitFor } from '../support/wait.ts';

// Three node processes on one Redis, a scripted agent with delays, real signals.
let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function ownerCounts(c: Cluster, ids: string[]): Promise<Map<string, string[]>> {
  const owned = new Map<string, string[]>();
  for (const id of ids) {
    const s = await c.session(id);
    if (s.status === 'RUNNING' && s.owner)
      owned.set(s.owner.node_id, [...(owned.get(s.owner.node_id) ?? []), id]);
  }
  return owned;
}

describe('multi-node', () => {
  it('SIGKILL of an owner: its sessions resume elsewhere and complete with the undisturbed diff', async () => {
    cluster = new Cluster(redisUrl(), uniquePrefix(), { leaseTtlMs: 1000, delayMs: 400 });
    await cluster.add(3);
    const goals = Array.from({ length: 12 }, (_, i) => `kill test goal ${i}`);
    const ids = await Promise.all(goals.map((g) => cluster!.create(g)));
    const [victimId, victimSessions] = await waitFor('a node owning running sessions', async () => {
      const owned = [...(await ownerCounts(cluster!, ids)).entries()].sort(
        (a, b) => b[1].length - a[1].length,
      );
      return owned[0] && owned[0][1].length >= 2 ? owned[0] : undefined;
    });
    await cluster.byId(victimId)!.kill();
    const done = await cluster.waitStatus(ids, ['COMPLETED', 'FAILED'], 60_000);
    for (const [i, s] of done.entries()) {
      expect(s.status, `${s.id}: ${s.reason}`).toBe('COMPLETED');
      expect(s.result.diff).toBe(expectedDiff(goals[i]!));
    }
    for (const id of victimSessions) {
      const s = done.find((d) => d.id === id)!;
      expect(s.epoch).toBeGreaterThanOrEqual(2); // claimed again after the kill
    }
  });

  it('SIGSTOP past the TTL: another node takes over, the zombie drops its actors and nothing it does lands', async () => {
    cluster = new Cluster(redisUrl(), uniquePrefix(), { leaseTtlMs: 800, delayMs: 600 });
    await cluster.add(3);
    const goals = Array.from({ length: 9 }, (_, i) => `pause test goal ${i}`);
    const ids = await Promise.all(
      goals.map((g) => cluster!.create(g, 'auto', 'https://example.com/org/pause.git')),
    );
    const [zombieId, zombieSessions] = await waitFor('a node owning running sessions', async () => {
      const owned = [...(await ownerCounts(cluster!, ids)).entries()].sort(
        (a, b) => b[1].length - a[1].length,
      );
      return owned[0] && owned[0][1].length >= 2 ? owned[0] : undefined;
    });
    const zombie = cluster.byId(zombieId)!;
    zombie.signal('SIGSTOP');
    // Wait until every session it held has a newer owner.
    await waitFor(
      "takeover of the paused node's sessions",
      async () => {
        const views = await Promise.all(zombieSessions.map((id) => cluster!.session(id)));
        return views.every(
          (v) => (v.owner && v.owner.node_id !== zombieId) || v.status === 'COMPLETED',
        );
      },
      30_000,
    );
    await sleep(1500); // the zombie's in-flight work finishes while it is paused
    zombie.signal('SIGCONT');
    // Its watchdog sees leases unconfirmed for too long and stops the actors;
    // a write that got out first is fenced by the store. Either way they go.
    await waitFor(
      'the zombie to drop its stale actors',
      () => (zombie.output.some((l) => l.includes('session actor dropped')) ? true : undefined),
      20_000,
    );
    const store = await RedisStore.create({ url: redisUrl(), prefix: cluster.prefix });
    try {
      const done = await cluster.waitStatus(ids, ['COMPLETED', 'FAILED'], 60_000);
      // Nothing the zombie wrote landed after the takeover: its entries all
      // precede the first entry of a newer epoch.
      for (const id of zombieSessions) {
        const history = await store.getHistory(id);
        const firstNewer = history.findIndex((h) => h.node !== zombieId);
        expect(firstNewer, `${id} was taken over`).toBeGreaterThan(-1);
        expect(
          history.slice(firstNewer).filter((h) => h.node === zombieId),
          `${id}: zombie entries after the takeover`,
        ).toEqual([]);
      }
      for (const [i, s] of done.entries()) {
        expect(s.status, `${s.id}: ${s.reason}`).toBe('COMPLETED');
        expect(s.result.diff).toBe(expectedDiff(goals[i]!));
      }
      const node = await waitFor(
        'the zombie to report no active sessions',
        async () => {
          const n = (await store.listNodes()).find((x) => x.id === zombieId);
          return n && n.active_sessions === 0 ? n : undefined;
        },
        10_000,
      );
      expect(node.active_sessions).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("a lease lost in the store (a Redis failover dropping renewals): the old owner's next write is fenced, counted, and it drops the actor", async () => {
    // Long TTLs: neither the watchdog nor a renewal interferes; the commit after the work is the first thing the old owner does.
    cluster = new Cluster(redisUrl(), uniquePrefix(), { leaseTtlMs: 60_000, delayMs: 1500 });
    const goals = Array.from({ length: 3 }, (_, i) => `lost lease goal ${i}`);
    // Exactly full: the old owner cannot take its own sessions back while it still hosts them,
    // so the fresh node (already running, however slowly it started) is the one that claims them.
    const [old] = await cluster.add(1, { concurrency: goals.length });
    const ids = await Promise.all(goals.map((g) => cluster!.create(g)));
    await waitFor(
      'the first owner to run them',
      async () =>
        (await ownerCounts(cluster!, ids)).get(old!.id)?.length === ids.length || undefined,
    );
    const [fresh] = await cluster.add(1);
    const raw = new Redis(redisUrl());
    try {
      for (const id of ids) await raw.hset(`${cluster.prefix}:{${id}}:s`, 'lease_until', '0');
      await raw.zadd(`${cluster.prefix}:{g}:leases`, ...ids.flatMap((id) => [0, id]));
    } finally {
      raw.disconnect();
    }
    await waitFor(
      'the new node to claim them',
      async () =>
        (await ownerCounts(cluster!, ids)).get(fresh!.id)?.length === ids.length || undefined,
      20_000,
    );
    await waitFor(
      'the old owner to be fenced and drop its actors',
      () =>
        old!.output.filter((l) => l.includes('session actor dropped') && l.includes('fenced'))
          .length === ids.length || undefined,
      20_000,
    );
    const store = await RedisStore.create({ url: redisUrl(), prefix: cluster.prefix });
    try {
      expect((await store.stats()).fenced_writes).toBeGreaterThanOrEqual(ids.length);
      const done = await cluster.waitStatus(ids, ['COMPLETED', 'FAILED'], 60_000);
      for (const [i, s] of done.entries()) {
        expect(s.status, `${s.id}: ${s.reason}`).toBe('COMPLETED');
        expect(s.result.diff).toBe(expectedDiff(goals[i]!));
        expect(s.owner).toBeNull();
      }
    } finally {
      await store.close();
    }
  });

  it('events posted to any node during kills are applied exactly once', async () => {
    cluster = new Cluster(redisUrl(), uniquePrefix(), { leaseTtlMs: 1000, delayMs: 150 });
    await cluster.add(3);
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) => cluster!.create(`events goal ${i}`, 'review')),
    );
    await cluster.waitStatus(ids, ['WAITING_FOR_USER']);
    const sent = new Map<string, string[]>(ids.map((id) => [id, []]));
    let killed = false;
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        ids.map(async (id) => {
          const message = `msg-${id.slice(-6)}-r${round}`;
          const key = `${id}-${round}`;
          const res = await cluster!.request(
            'POST',
            `/agent/sessions/${id}/input`,
            { message },
            key,
          );
          expect(res.status).toBe(202);
          // The same request retried (same key) changes nothing.
          const again = await cluster!.request(
            'POST',
            `/agent/sessions/${id}/input`,
            { message },
            key,
          );
          expect(again.status).toBe(202);
          expect(again.body.duplicate).toBe(true);
          sent.get(id)!.push(message);
        }),
      );
      if (!killed) {
        killed = true;
        // Kill whichever node owns most sessions right now, mid-replanning.
        const owned = [...(await ownerCounts(cluster, ids)).entries()].sort(
          (a, b) => b[1].length - a[1].length,
        );
        const victim = cluster.byId(owned[0]?.[0]) ?? cluster.nodes[0]!;
        await victim.kill();
        await cluster.add(1);
      }
    }
    const waiting = await waitFor(
      'every input applied',
      async () => {
        const all = await Promise.all(ids.map((id) => cluster!.session(id)));
        return all.every(
          (s) =>
            s.status === 'WAITING_FOR_USER' && sent.get(s.id)!.every((m) => s.goal.includes(m)),
        )
          ? all
          : undefined;
      },
      60_000,
    );
    for (const s of waiting)
      for (const m of sent.get(s.id)!) expect(occurrences(s.goal, m)).toBe(1);
    // Approve on any node; an approve outside WAITING_FOR_USER is a 409.
    for (const id of ids)
      expect((await cluster.request('POST', `/agent/sessions/${id}/approve`)).status).toBe(202);
    const done = await cluster.waitStatus(ids, ['COMPLETED', 'FAILED']);
    for (const s of done) {
      expect(s.status).toBe('COMPLETED');
      expect(s.result.diff).toBe(expectedDiff(s.goal));
      expect((await cluster.request('POST', `/agent/sessions/${s.id}/approve`)).status).toBe(409);
    }
  });

  it('SIGTERM hands sessions over at once, without waiting for the lease TTL', async () => {
    // A 60 s TTL: if the handoff waited for expiry the sessions would stall past the deadline.
    cluster = new Cluster(redisUrl(), uniquePrefix(), { leaseTtlMs: 60_000, delayMs: 500 });
    await cluster.add(3);
    const goals = Array.from({ length: 9 }, (_, i) => `term test goal ${i}`);
    const ids = await Promise.all(goals.map((g) => cluster!.create(g)));
    const [leaverId, leaverSessions] = await waitFor('a node owning running sessions', async () => {
      const owned = [...(await ownerCounts(cluster!, ids)).entries()].sort(
        (a, b) => b[1].length - a[1].length,
      );
      return owned[0] && owned[0][1].length >= 1 ? owned[0] : undefined;
    });
    const leaver = cluster.byId(leaverId)!;
    leaver.signal('SIGTERM');
    expect(await leaver.exited()).toBe(0);
    const done = await cluster.waitStatus(ids, ['COMPLETED', 'FAILED'], 20_000);
    for (const [i, s] of done.entries()) {
      expect(s.status, `${s.id}: ${s.reason}`).toBe('COMPLETED');
      expect(s.result.diff).toBe(expectedDiff(goals[i]!));
    }
    for (const id of leaverSessions) expect(done.find((d) => d.id === id)!.owner).toBeNull();
  });

  it('a durable timer armed before the owner dies fires into the inbox and the new owner goes on', async () => {
    cluster = new Cluster(redisUrl(), uniquePrefix(), { leaseTtlMs: 1000, delayMs: 0 });
    await cluster.add(2);
    // "flaky": the first clone fails with a retryable error → back-off timer.
    const id = await cluster.create('timer goal', 'auto', 'https://example.com/org/flaky.git');
    const waiting = await waitFor(
      'the retry back-off',
      async () => {
        const s = await cluster!.session(id);
        return s.phase === 'preparing.waitingRetry' ? s : undefined;
      },
      20_000,
      20,
    );
    await cluster.byId(waiting.owner.node_id)!.kill();
    const [done] = await cluster.waitStatus([id], ['COMPLETED', 'FAILED'], 30_000);
    expect(done.status, done.reason).toBe('COMPLETED');
    expect(done.epoch).toBeGreaterThanOrEqual(2);
    const hist = (await cluster.request('GET', `/agent/sessions/${id}/history`)).body.history;
    const retried = hist.find(
      (h: any) => h.from === 'preparing.waitingRetry' && h.to === 'preparing.running',
    );
    expect(retried?.event).toBe('timer');
    expect(hist.filter((h: any) => h.from === 'preparing.waitingRetry')).toHaveLength(1);
  });
});
