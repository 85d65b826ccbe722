import { afterEach, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { createLogger } from '../../kernel/logger.ts';
import { RuntimeNode } from '../../runtime/node.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { Store } from '../../runtime/store/port.ts';
import type { Commit, Lease, NewSession } from '../../runtime/store/records.ts';
import type { SessionStatus } from '../../actors/status.ts';
import { isolatedRedisStore } from '../support/stores.ts';
import { fakeWork } from '../support/fake-work.ts';
import { waitFor, sleep } from '../support/wait.ts';

const REPO = 'https://example.com/o/r.git';
const reasonFor = (running: number, limit: number) =>
  `waiting: ${running} of your sessions ${running === 1 ? 'is' : 'are'} running (limit ${limit}); this one starts when one of them ends`;

interface Backend {
  store: Store;
  cleanup(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  ['memory', async () => ({ store: new MemoryStore(), cleanup: async () => {} })],
  ['redis', isolatedRedisStore],
];

/**
 * The store as the nodes use it, watched: the status each session last
 * committed (in reply order, which follows the order of admission), the most
 * sessions of `watched` committed RUNNING at once, claims per session, and
 * the next uncount of a session, which the test makes "lost in a crash".
 */
function observed(store: Store) {
  const status = new Map<string, SessionStatus>();
  const everRunning = new Set<string>();
  const claims = new Map<string, number>();
  const watched = new Set<string>();
  const loseUncount = new Set<string>();
  let maxRunning = 0;
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'commit') {
        return async (id: string, lease: Lease, c: Commit) => {
          const res = await target.commit(id, lease, c);
          if (res.kind === 'ok') {
            status.set(id, c.status);
            if (c.status === 'RUNNING') everRunning.add(id);
            maxRunning = Math.max(
              maxRunning,
              [...watched].filter((w) => status.get(w) === 'RUNNING').length,
            );
          }
          return res;
        };
      }
      if (prop === 'claim') {
        return (id: string, nodeId: string, ttlMs: number) => {
          claims.set(id, (claims.get(id) ?? 0) + 1);
          return target.claim(id, nodeId, ttlMs);
        };
      }
      if (prop === 'setRunning') {
        return async (id: string, userId: string, running: boolean) => {
          if (!running && loseUncount.delete(id)) return; // the node "crashed" before this call
          return target.setRunning(id, userId, running);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return {
    store: proxy,
    status,
    everRunning,
    claims,
    watched,
    loseUncount,
    maxRunning: () => maxRunning,
  };
}

let teardown: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const t of teardown.reverse()) await t();
  teardown = [];
});

/** Two nodes on one store, with gated work. */
async function setup(make: () => Promise<Backend>, parkedRecheckMs = 60_000) {
  const backend = await make();
  teardown.push(() => backend.cleanup());
  const obs = observed(backend.store);
  const gates = fakeWork({ hold: 'clone' });
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const nodes = await Promise.all(
    ['n1', 'n2'].map((nodeId) =>
      RuntimeNode.start({
        store: obs.store,
        nodeId,
        work: gates.work,
        logger,
        concurrency: 10,
        leaseTtlMs: 2000,
        claimIntervalMs: 20,
        parkedRecheckMs,
      }),
    ),
  );
  teardown.push(async () => void (await Promise.all(nodes.map((n) => n.shutdown()))));
  const create = async (over: Partial<NewSession> = {}) => {
    const { record } = await backend.store.createSession({
      id: ulid(),
      goal: 'g',
      repo_url: REPO,
      mode: 'auto',
      ...over,
    });
    return record.id;
  };
  const get = async (id: string) => (await backend.store.getSession(id))!;
  const statusIs = (id: string, s: SessionStatus) =>
    waitFor(`${id} ${s}`, async () => (await get(id)).status === s, 20_000, 20);
  return { ...obs, raw: backend.store, nodes, gates, lines, create, get, statusIs };
}

describe.each(backends)('per-user running limit (%s store)', (_name, make) => {
  it('runs at most `limit` sessions of a user at once; the others wait QUEUED with the reason, and start as running ones end', async () => {
    const t = await setup(make);
    const user = { userId: `u-${ulid()}`, maxRunning: 2 };
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await t.create(user));
    for (const id of ids) t.watched.add(id);
    const running = () => ids.filter((id) => t.status.get(id) === 'RUNNING');
    await waitFor('two running', () => running().length === 2, 20_000, 20);
    const waiting = ids.filter((id) => !running().includes(id));
    for (const id of waiting) {
      await waitFor(
        `${id} to wait with its reason`,
        async () => (await t.get(id)).reason === reasonFor(2, 2),
        20_000,
        20,
      );
      expect(await t.get(id)).toMatchObject({ status: 'QUEUED', owner: null });
    }
    // One ends: exactly one waiting session starts, and no longer shows the reason.
    const [first, second] = running() as [string, string];
    t.gates.release(first);
    await t.statusIs(first, 'COMPLETED');
    const third = await waitFor(
      'a waiting one to start',
      () => waiting.find((id) => t.status.get(id) === 'RUNNING'),
      20_000,
      20,
    );
    expect((await t.get(third)).reason).toBeNull();
    const fourth = waiting.find((id) => id !== third)!;
    await waitFor(
      'the last one to wait again',
      async () => {
        const r = await t.get(fourth);
        return r.status === 'QUEUED' && r.owner === null && r.reason === reasonFor(2, 2);
      },
      20_000,
      20,
    );
    expect(t.everRunning.has(fourth)).toBe(false);
    for (const id of [second, third, fourth]) t.gates.release(id);
    for (const id of ids) await t.statusIs(id, 'COMPLETED');
    expect(t.maxRunning()).toBe(2);
  });

  it('a waiting session can be cancelled; it never runs', async () => {
    const t = await setup(make);
    const user = { userId: `u-${ulid()}`, maxRunning: 1 };
    const a = await t.create(user);
    await t.statusIs(a, 'RUNNING');
    const b = await t.create(user);
    t.watched.add(a).add(b);
    await waitFor('b to wait', async () => (await t.get(b)).reason === reasonFor(1, 1), 20_000, 20);
    expect(
      await t.raw.appendEvent(b, { type: 'cancel', payload: { reason: 'not needed' } }),
    ).toMatchObject({ kind: 'appended' });
    await t.statusIs(b, 'CANCELLED');
    expect((await t.get(b)).reason).toBe('cancelled: not needed');
    expect(t.everRunning.has(b)).toBe(false);
    expect((await t.get(a)).status).toBe('RUNNING');
    t.gates.release(a);
    await t.statusIs(a, 'COMPLETED');
    expect(t.maxRunning()).toBe(1);
  });

  it('sessions without a user or without a limit are not held back', async () => {
    const t = await setup(make);
    const userId = `u-${ulid()}`;
    const ids = [
      ...(await Promise.all([1, 2, 3].map(() => t.create()))),
      ...(await Promise.all([1, 2, 3].map(() => t.create({ userId })))),
      ...(await Promise.all([1, 2, 3].map(() => t.create({ userId, maxRunning: 0 })))),
    ];
    await waitFor(
      'all nine running at once',
      () => ids.every((id) => t.status.get(id) === 'RUNNING'),
      20_000,
      20,
    );
    for (const id of ids) t.gates.release(id);
    for (const id of ids) await t.statusIs(id, 'COMPLETED');
  });

  it('heals a count lost in a crash: an ended session still counted is dropped at the next admission', async () => {
    const t = await setup(make);
    const userId = `u-${ulid()}`;
    // Counted, but its record says it is long over (or it is gone).
    const ghost = await t.create();
    t.gates.release(ghost);
    await t.statusIs(ghost, 'COMPLETED');
    await t.raw.setRunning(ghost, userId, true);
    await t.raw.setRunning(ulid(), userId, true);
    const a = await t.create({ userId, maxRunning: 1 });
    await t.statusIs(a, 'RUNNING');
    t.gates.release(a);
    await t.statusIs(a, 'COMPLETED');
  });

  it('re-checks a waiting session after parkedRecheckMs when the uncount that should wake it was lost', async () => {
    const t = await setup(make, 500);
    const user = { userId: `u-${ulid()}`, maxRunning: 1 };
    const a = await t.create(user);
    await t.statusIs(a, 'RUNNING');
    const b = await t.create(user);
    await waitFor('b to wait', async () => (await t.get(b)).reason === reasonFor(1, 1), 20_000, 20);
    t.loseUncount.add(a);
    t.gates.release(a);
    t.gates.release(b);
    await t.statusIs(a, 'COMPLETED');
    await t.statusIs(b, 'COMPLETED');
  });

  it('does not take a waiting session again and again while it waits', async () => {
    const t = await setup(make);
    const user = { userId: `u-${ulid()}`, maxRunning: 1 };
    const a = await t.create(user);
    await t.statusIs(a, 'RUNNING');
    const b = await t.create(user);
    await waitFor('b to wait', async () => (await t.get(b)).reason === reasonFor(1, 1), 20_000, 20);
    const before = t.claims.get(b) ?? 0;
    await sleep(2500); // longer than a lease, and 125 claim intervals of each node
    expect((t.claims.get(b) ?? 0) - before).toBeLessThanOrEqual(1);
    t.gates.release(a);
    t.gates.release(b);
    await t.statusIs(b, 'COMPLETED');
  });
});
