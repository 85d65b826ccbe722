/**
 * Redis unavailable for longer than the lease TTL, under two node processes
 * with sessions running: stopped (connections refused; it comes back from its
 * append-only file on the same port) or frozen (SIGSTOP: connections stay
 * open and nothing answers). Meanwhile the API answers 503
 * `store_unavailable`, the nodes stay up and pause their actors (nothing new
 * starts under a lease that may have run out) but keep them in memory;
 * afterwards each node resumes its own actors where they were, under the same
 * lease epoch (no claim, no step run again), and every session completes with
 * the undisturbed diff.
 *
 * A 503 to a POST means "outcome unknown": the command may still run when
 * Redis answers again. Retried with its Idempotency-Key it is applied once;
 * not retried, it is applied once or not at all, and never left waiting in an
 * inbox that no node reads. The store-level behaviour (calls that fail after
 * the command timeout, late answers) is pinned in test/runtime/store/redis-specific.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { Cluster } from '../support/service/processes.ts';
import type { NodeProcess } from '../support/service/processes.ts';
import { expectedDiff, occurrences } from '../support/expected.ts';
import { RedisServer } from '../support/redis-server.ts';
import { sleep, waitFor } from '../support/wait.ts';

const TTL = 1000;
/**
 * Longest wait for a 503: the 5 s command timeout, after at most one other
 * timed-out batch of the same connection (auto-pipelining sends one batch at
 * a time), plus slack for a busy machine.
 */
const ANSWER_WITHIN_MS = 12_000;

let redis: RedisServer | undefined;
let cluster: Cluster | undefined;
let store: RedisStore | undefined;
afterEach(async () => {
  await cluster?.stop();
  await store?.close();
  await redis?.close();
  cluster = undefined;
  store = undefined;
  redis = undefined;
});

async function timed(
  node: NodeProcess,
  method: string,
  path: string,
  body?: unknown,
  key?: string,
) {
  const t0 = Date.now();
  const headers: Record<string, string> =
    body === undefined ? {} : { 'content-type': 'application/json' };
  if (key) headers['idempotency-key'] = key;
  const res = await fetch(node.url + path, {
    method,
    headers,
    signal: AbortSignal.timeout(30_000),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any, ms: Date.now() - t0 };
}

/** The session has applied every event in its inbox and is waiting or done. */
async function settled(id: string): Promise<any> {
  return waitFor(
    `session ${id} to apply its inbox`,
    async () => {
      const rec = await store!.getSession(id);
      if (!rec || !['WAITING_FOR_USER', 'COMPLETED'].includes(rec.status) || rec.owner)
        return undefined;
      return (await store!.readEvents(id, rec.last_event_id, 1)).length === 0 ? rec : undefined;
    },
    30_000,
    100,
  );
}

async function outage(kind: 'stopped' | 'frozen') {
  redis = await RedisServer.start({ persistence: 'everysec' });
  store = await RedisStore.create({ url: redis.url, prefix: 'outage', commandTimeoutMs: 2000 });
  // Four sessions at most per node: the six auto sessions below cannot all land on one.
  cluster = new Cluster(redis.url, 'outage', { leaseTtlMs: TTL, delayMs: 700, concurrency: 4 });
  const nodes = await cluster.add(2);
  const [a, b] = nodes as [NodeProcess, NodeProcess];
  const review = await Promise.all(
    [0, 1].map((i) => cluster!.create(`outage ${kind} review goal ${i}`, 'review')),
  );
  await cluster.waitStatus(review, ['WAITING_FOR_USER'], 20_000);
  const auto = await Promise.all(
    Array.from({ length: 6 }, (_, i) => cluster!.create(`outage ${kind} goal ${i}`)),
  );
  await waitFor(
    'sessions running on both nodes',
    async () => {
      const owners = new Set(
        (await Promise.all(auto.map((id) => cluster!.session(id)))).flatMap((s) =>
          s.status === 'RUNNING' && s.owner ? [s.owner.node_id] : [],
        ),
      );
      return owners.size === 2 || undefined;
    },
    20_000,
    50,
  );

  // Who holds what when Redis goes away: after it, the same nodes at the same epochs.
  const before = new Map(
    (await Promise.all(auto.map((id) => cluster!.session(id)))).flatMap((s) =>
      s.status === 'RUNNING' && s.owner
        ? [[s.id as string, { node: s.owner.node_id as string, epoch: s.epoch as number }]]
        : [],
    ),
  );
  expect(before.size).toBeGreaterThan(0);
  const t0 = Date.now();
  if (kind === 'stopped') await redis.stop();
  else redis.signal('SIGSTOP');
  const create = {
    goal: `outage ${kind}: created during the outage`,
    repo_url: 'https://example.com/org/repo.git',
  };
  const answers = await Promise.all([
    timed(a, 'GET', `/agent/sessions/${auto[0]}`),
    timed(
      b,
      'POST',
      `/agent/sessions/${auto[1]}/input`,
      { message: 'with a key' },
      `outage-${kind}-input`,
    ),
    timed(a, 'POST', `/agent/sessions/${review[0]}/input`, { message: 'without a key' }),
    timed(b, 'POST', '/agent/sessions', create, `outage-${kind}-create`),
    timed(a, 'GET', '/ready'),
  ]);
  for (const res of answers) {
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error).toMatchObject({
      code: 'store_unavailable',
      message: 'the session store is unavailable; retry shortly',
    });
    expect(res.body.error.correlation_id).toBeTruthy();
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
  }
  // Each node pauses its actors before their leases could run out: none starts anything another node may be doing.
  await waitFor(
    'both nodes to pause their actors',
    () =>
      nodes.every((n) =>
        n.output.some((l) => l.includes('lease not confirmed in time; pausing the actor')),
      ) || undefined,
    10_000,
  );
  await sleep(Math.max(0, 3 * TTL - (Date.now() - t0)));
  expect(
    nodes.every((n) => n.alive),
    'the nodes stay up through the outage',
  ).toBe(true);
  if (kind === 'stopped') await redis.resume();
  else redis.signal('SIGCONT');

  // Retried with their keys, as a client would (503 until the node's client has reconnected, a few hundred ms):
  // applied once, whether the first attempt ran late or not at all.
  const retried = (path: string, body: unknown, key: string) =>
    waitFor(
      `${path} to be taken`,
      async () => {
        const res = await cluster!.request('POST', path, body, key);
        return res.status === 503 ? undefined : res;
      },
      10_000,
      100,
    );
  expect(
    (
      await retried(
        `/agent/sessions/${auto[1]}/input`,
        { message: 'with a key' },
        `outage-${kind}-input`,
      )
    ).status,
  ).toBe(202);
  const created = await retried('/agent/sessions', create, `outage-${kind}-create`);
  expect([200, 201]).toContain(created.status);
  // Not retried: applied once or not at all, and not left in the inbox.
  const unkeyed = await settled(review[0]!);
  expect(occurrences(unkeyed.goal, 'User input: without a key')).toBeLessThanOrEqual(1);
  await settled(review[1]!);
  // Perhaps still within a node's reconnection: keyed, so retried like the others.
  for (const id of review)
    expect(
      (await retried(`/agent/sessions/${id}/approve`, undefined, `outage-${kind}-approve-${id}`))
        .status,
    ).toBe(202);

  const ids = [...auto, ...review, created.body.session_id as string];
  const done = await cluster.waitStatus(ids, ['COMPLETED', 'FAILED', 'CANCELLED'], 60_000);
  for (const s of done) {
    expect(s.status, `${s.id}: ${s.reason}`).toBe('COMPLETED');
    expect(s.result.diff).toBe(expectedDiff(s.goal));
  }
  expect(occurrences(done.find((s) => s.id === auto[1])!.goal, 'User input: with a key')).toBe(1);
  // Paused, not lost: every session hosted when Redis went away finished on the same node under the same epoch.
  for (const s of done.filter((d) => before.has(d.id))) {
    expect({ id: s.id, epoch: s.epoch }).toEqual({ id: s.id, epoch: before.get(s.id)!.epoch });
  }
  expect(
    nodes.every((n) =>
      n.output.some((l) => l.includes('lease confirmed again; resuming the actor')),
    ),
  ).toBe(true);
  for (const id of ids) await settled(id);
}

describe('Redis unavailable for longer than the lease TTL', () => {
  it(
    'stopped, then back from its AOF: 503 store_unavailable meanwhile, then every session completes',
    () => outage('stopped'),
    120_000,
  );
  it(
    'frozen (SIGSTOP, connections open): 503 store_unavailable meanwhile, then every session completes',
    () => outage('frozen'),
    120_000,
  );
});
