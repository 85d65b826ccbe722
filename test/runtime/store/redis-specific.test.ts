/**
 * What the contract suite cannot see: the Redis key layout, script atomicity
 * under concurrent connections, fencing counters, the self-repairing indexes,
 * and recovery from a script cache flush.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  HISTORY_CAP,
  type Commit,
  type Lease,
  type NewSession,
} from '../../../runtime/store/records.ts';
import { RedisStore } from '../../../runtime/store/redis/redis-store.ts';
import { redisUrl, uniquePrefix } from '../../support/stores.ts';
import { TcpProxy } from '../../support/tcp-proxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let prefix: string;
let raw: Redis;
const stores: RedisStore[] = [];

async function open(): Promise<RedisStore> {
  const s = await RedisStore.create({ url: redisUrl(), prefix });
  stores.push(s);
  return s;
}

let n = 0;
function session(id = `S${Date.now()}${n++}`): NewSession {
  return { id, goal: 'fix the bug', repo_url: 'https://example.com/r.git', mode: 'auto' };
}

/** Each call is a new commit (its own seq) unless `seq` is given. */
let seqs = 0;
function commit(over: Partial<Commit> = {}): Commit {
  return {
    seq: ++seqs,
    snapshot: { v: 1, state: { value: 'coding' } },
    status: 'RUNNING',
    phase: 'coding',
    reason: null,
    goal: 'fix the bug',
    result: null,
    lastEventId: '0-0',
    history: [],
    logs: [],
    release: false,
    ...over,
  };
}

/** Hash tag of a key as Redis Cluster computes it. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

beforeEach(async () => {
  prefix = uniquePrefix();
  raw = new Redis(redisUrl());
});

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  const keys = await raw.keys(`${prefix}:*`);
  if (keys.length) await raw.del(...keys);
  await raw.quit();
});

async function claimed(store: RedisStore, id: string, node: string, ttl = 5000): Promise<Lease> {
  const res = await store.claim(id, node, ttl);
  if (res.kind !== 'claimed') throw new Error(`expected claimed, got ${res.kind}`);
  return res.lease;
}

describe('RedisStore (Redis specifics)', () => {
  it('keeps every key under the prefix, per-session keys on the {id} slot, global ones on {g}', async () => {
    const store = await open();
    const { id } = session();
    await store.createSession({ ...session(id), userId: 'u1' }, 'create-1');
    await store.appendEvent(
      id,
      { type: 'input', payload: { message: 'hi' } },
      { idempotencyKey: 'k1' },
    );
    const lease = await claimed(store, id, 'n1');
    await store.commit(
      id,
      lease,
      commit({ history: [{ event: 'go', from: 'a', to: 'b' }], logs: ['x'] }),
    );
    await store.scheduleTimer(id, lease, { key: 't', delayMs: 60_000, payload: {} });
    await store.heartbeat(
      {
        id: 'n1',
        address: '',
        started_at: 1,
        version: 'v',
        active_sessions: 1,
        sessions: [id],
        heartbeat_at: 0,
      },
      1000,
    );
    await store.addUsage(id, lease, { calls: 1, inputTokens: 1, outputTokens: 1, costMicros: 1 });
    await store.appendTranscript(id, lease, 'coder', [{ m: 1 }]);
    await store.putArtifacts(id, lease, { sandbox: 'sb' });
    await store.putProfile({
      id: 'p1',
      name: 'P',
      isDefault: true,
      provider: 'ollama',
      model: 'm',
    });
    await store.putUser({ id: 'u1', name: 'U', role: 'user', createdAt: 1 });
    await store.putToken({
      id: 't1',
      userId: 'u1',
      name: 'T',
      hash: 'h1',
      prefix: 'swa_',
      createdAt: 1,
    });

    const keys = (await raw.keys(`${prefix}:*`)).sort();
    expect(keys.length).toBeGreaterThanOrEqual(16);
    for (const key of keys) expect([id, 'g']).toContain(hashTag(key));
    const own = keys
      .filter((k) => hashTag(k) === id)
      .map((k) => k.slice(`${prefix}:{${id}}:`.length));
    expect(own.sort()).toEqual([
      'art',
      'hist',
      'idem',
      'in',
      'log',
      's',
      'timers',
      'tx',
      'tx:coder',
      'usage',
    ]);
    expect(keys).toContain(`${prefix}:{g}:profiles`);
    for (const k of ['users', 'tokens', 'tokens:hash', 'tokens:user:u1'])
      expect(keys).toContain(`${prefix}:{g}:${k}`);
    expect(await raw.zrangebyscore(`${prefix}:{g}:created:user:u1`, '-inf', '+inf')).toEqual([id]);
    expect(await raw.hgetall(`${prefix}:{${id}}:usage`)).toEqual({
      calls: '1',
      input_tokens: '1',
      output_tokens: '1',
      cost_micros: '1',
    });
    expect(await raw.pttl(`${prefix}:{${id}}:idem`)).toBeGreaterThan(23 * 3600 * 1000);
  });

  it('keeps exactly one default profile under concurrent default writes', async () => {
    const nodes = await Promise.all(Array.from({ length: 4 }, () => open()));
    await nodes[0]!.putProfile({
      id: 'p-old',
      name: 'old',
      isDefault: true,
      provider: 'openai',
      model: 'm',
      prices: { inputPerMTok: 0.1234567890123456, outputPerMTok: 1 },
    });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        nodes[i % 4]!.putProfile({
          id: `p${i}`,
          name: `P${i}`,
          isDefault: true,
          provider: 'openai',
          model: 'm',
        }),
      ),
    );
    const all = Object.values(await raw.hgetall(`${prefix}:{g}:profiles`)).map(
      (j) => JSON.parse(j) as { isDefault: boolean },
    );
    expect(all).toHaveLength(13);
    expect(all.filter((p) => p.isDefault)).toHaveLength(1);
    expect((await nodes[0]!.defaultProfile())?.id).toMatch(/^p\d+$/);
    // Clearing the flag rewrites nothing else.
    expect(await nodes[0]!.getProfile('p-old')).toEqual({
      id: 'p-old',
      name: 'old',
      isDefault: false,
      provider: 'openai',
      model: 'm',
      prices: { inputPerMTok: 0.1234567890123456, outputPerMTok: 1 },
    });
  });

  it('takes its clock from Redis TIME', async () => {
    const store = await open();
    const [s, us] = await raw.time();
    const redisNow = Number(s) * 1000 + Math.floor(Number(us) / 1000);
    expect(Math.abs((await store.now()) - redisNow)).toBeLessThan(1000);
  });

  it('rejects and counts every write of a stale epoch', async () => {
    const [a, b] = [await open(), await open()];
    const { id } = session();
    await a.createSession(session(id));
    const stale = await claimed(a, id, 'A', 50);
    await sleep(80);
    const fresh = await claimed(b, id, 'B');
    expect(fresh.epoch).toBe(stale.epoch + 1);

    expect(await a.commit(id, stale, commit())).toEqual({ kind: 'fenced' });
    expect(await a.appendLogs(id, stale, ['late'])).toEqual({ kind: 'fenced' });
    expect(await a.scheduleTimer(id, stale, { key: 't', delayMs: 0, payload: {} })).toEqual({
      kind: 'fenced',
    });
    expect(await a.release(id, stale, true)).toEqual({ kind: 'fenced' });

    const rec = await b.getSession(id);
    expect(rec?.fenced_writes).toBe(4);
    expect(rec?.owner).toMatchObject({ nodeId: 'B', epoch: fresh.epoch });
    expect(rec?.snapshot).toBeNull();
    expect(await b.getLogs(id)).toEqual([]);
    expect((await b.stats()).fenced_writes).toBe(4);
    expect(await b.commit(id, fresh, commit())).toEqual({ kind: 'ok', released: false });
  });

  it('hands a contended session to exactly one of many concurrent claimers', async () => {
    const nodes = await Promise.all(Array.from({ length: 8 }, () => open()));
    const { id } = session();
    await nodes[0]!.createSession(session(id));
    const results = await Promise.all(nodes.map((s, i) => s.claim(id, `n${i}`, 5000)));
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'busy')).toHaveLength(7);
  });

  it('keeps inbox ids strictly increasing and idempotency exact under concurrent appends', async () => {
    const nodes = await Promise.all(Array.from({ length: 4 }, () => open()));
    const { id } = session();
    await nodes[0]!.createSession(session(id));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        nodes[i % 4]!.appendEvent(
          id,
          { type: 'input', payload: { i } },
          { idempotencyKey: `k${i % 10}` },
        ),
      ),
    );
    const firsts = results.filter((r) => r.kind === 'appended' && !r.duplicate);
    expect(firsts).toHaveLength(10);
    const events = await nodes[0]!.readEvents(id, '0-0', 100);
    expect(events).toHaveLength(10);
    for (let i = 1; i < events.length; i++) {
      const [pm, ps] = events[i - 1]!.id.split('-').map(Number);
      const [cm, cs] = events[i]!.id.split('-').map(Number);
      expect(cm! > pm! || (cm === pm && cs! > ps!)).toBe(true);
    }
  });

  it('refuses passivation while unapplied events wait, and keeps the lease', async () => {
    const store = await open();
    const { id } = session();
    await store.createSession(session(id));
    const lease = await claimed(store, id, 'n1');
    const ev = await store.appendEvent(id, { type: 'input', payload: {} });
    expect(ev).toMatchObject({ kind: 'appended' });
    const refused = await store.commit(
      id,
      lease,
      commit({ status: 'WAITING_FOR_USER', release: true }),
    );
    expect(refused).toEqual({ kind: 'ok', released: false });
    expect((await store.getSession(id))?.owner?.nodeId).toBe('n1');
    const eventId = ev.kind === 'appended' ? ev.eventId : '';
    const ok = await store.commit(
      id,
      lease,
      commit({ status: 'WAITING_FOR_USER', release: true, lastEventId: eventId }),
    );
    expect(ok).toEqual({ kind: 'ok', released: true });
    expect((await store.getSession(id))?.owner).toBeNull();
    expect(await raw.zscore(`${prefix}:{g}:leases`, id)).toBeNull();
    expect(await store.claim(id, 'n2', 1000)).toEqual({ kind: 'idle' });
  });

  it('caps the history and stamps entries with store time, node and epoch', async () => {
    const store = await open();
    const { id } = session();
    await store.createSession(session(id));
    const lease = await claimed(store, id, 'n1');
    const before = await store.now();
    const history = Array.from({ length: HISTORY_CAP + 20 }, (_, i) => ({
      event: `e${i}`,
      from: 'a',
      to: 'b',
    }));
    await store.commit(
      id,
      lease,
      commit({ history, logs: Array.from({ length: 2500 }, (_, i) => `l${i}`) }),
    );
    const got = await store.getHistory(id);
    expect(got).toHaveLength(HISTORY_CAP);
    expect(got[0]).toMatchObject({
      event: 'e20',
      from: 'a',
      to: 'b',
      node: 'n1',
      epoch: lease.epoch,
    });
    expect(got.at(-1)!.event).toBe(`e${HISTORY_CAP + 19}`);
    expect(got[0]!.at).toBeGreaterThanOrEqual(before);
    expect(await store.getLogs(id, 2498)).toEqual(['l2498', 'l2499']);
    expect(await store.getLogs(id, 1, 2)).toEqual(['l1', 'l2']);
  });

  it('numbers history written before `n` existed by position, and continues after it', async () => {
    const store = await open();
    const old = (event: string) =>
      JSON.stringify({ at: 1, event, from: 'a', to: 'b', node: 'n0', epoch: 1 });
    // Untrimmed: positions are the numbers; the counter starts at the list's length.
    const { id } = session();
    await store.createSession(session(id));
    await raw.rpush(`${prefix}:{${id}}:hist`, old('o0'), old('o1'));
    expect((await store.getHistory(id)).map((e) => [e.n, e.event, e.node])).toEqual([
      [0, 'o0', 'n0'],
      [1, 'o1', 'n0'],
    ]);
    const lease = await claimed(store, id, 'n1');
    await store.commit(id, lease, commit({ history: [{ event: 'new', from: 'b', to: 'c' }] }));
    expect((await store.getHistory(id)).map((e) => [e.n, e.event])).toEqual([
      [0, 'o0'],
      [1, 'o1'],
      [2, 'new'],
    ]);
    expect((await store.getHistory(id, 1)).map((e) => e.event)).toEqual(['o1', 'new']);
    // Full: after the next commit trims the oldest, the old entries count back from the first new one.
    const { id: full } = session();
    await store.createSession(session(full));
    await raw.rpush(
      `${prefix}:{${full}}:hist`,
      ...Array.from({ length: HISTORY_CAP }, (_, i) => old(`o${i}`)),
    );
    const fl = await claimed(store, full, 'n1');
    await store.commit(full, fl, commit({ history: [{ event: 'new', from: 'b', to: 'c' }] }));
    const got = await store.getHistory(full);
    expect(got).toHaveLength(HISTORY_CAP);
    expect(got.every((e, i) => e.n === i + 1)).toBe(true);
    expect(got[0]!.event).toBe('o1');
    expect(got.at(-1)).toMatchObject({ n: HISTORY_CAP, event: 'new' });
  });

  it('of many concurrent first-token writes for one user, exactly one is stored', async () => {
    const nodes = await Promise.all(Array.from({ length: 4 }, () => open()));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        nodes[i % nodes.length]!.putToken(
          {
            id: `t${i}`,
            userId: 'admin',
            name: 'bootstrap',
            hash: `h${i}`,
            prefix: 'swa_',
            createdAt: i,
          },
          { onlyIfUserHasNone: true },
        ),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await nodes[0]!.listTokens('admin')).map((t) => t.id)).toEqual([`t${winner}`]);
    expect(await nodes[1]!.tokenByHash(`h${winner}`)).toMatchObject({ id: `t${winner}` });
    expect(await raw.hlen(`${prefix}:{g}:tokens:hash`)).toBe(1);
  });

  it("lists a user's sessions from the user's own index, not by walking every session", async () => {
    const store = await open();
    const mine = session();
    await store.createSession({ ...mine, userId: 'u1' });
    for (let i = 0; i < 3; i++) await store.createSession({ ...session(), userId: 'u2' });
    // Without the global indexes, only the user's index can still find the session.
    await raw.del(`${prefix}:{g}:created`);
    expect((await store.listSessions({ limit: 10, userId: 'u1' })).map((s) => s.id)).toEqual([
      mine.id,
    ]);
    expect(await store.listSessions({ limit: 10 })).toEqual([]);
    // With a status too, the smaller index is walked: here the user's (1 entry) over QUEUED (4).
    await raw.zadd(`${prefix}:{g}:status:QUEUED`, 0, 'x1', 0, 'x2');
    await raw.zrem(`${prefix}:{g}:status:QUEUED`, mine.id);
    expect(
      (await store.listSessions({ limit: 10, userId: 'u1', status: 'QUEUED' })).map((s) => s.id),
    ).toEqual([mine.id]);
  });

  it('leaves no hash entry behind for a replaced, revoked or deleted token', async () => {
    const store = await open();
    const hashes = () => raw.hgetall(`${prefix}:{g}:tokens:hash`);
    const t = { id: 't1', userId: 'u1', name: 'T', hash: 'h1', prefix: 'swa_', createdAt: 1 };
    await store.putToken(t);
    await store.putToken({ ...t, hash: 'h2' });
    await store.putToken({ ...t, id: 't2', hash: 'h3' });
    await store.putToken({ ...t, id: 't3', userId: 'u2', hash: 'h4' });
    expect(await hashes()).toEqual({ h2: 't1', h3: 't2', h4: 't3' });
    await store.deleteToken('u1', 't1');
    expect(await hashes()).toEqual({ h3: 't2', h4: 't3' });
    await store.deleteUser('u1');
    expect(await hashes()).toEqual({ h4: 't3' });
    expect(await raw.hkeys(`${prefix}:{g}:tokens`)).toEqual(['t3']);
    expect(await raw.exists(`${prefix}:{g}:tokens:user:u1`)).toBe(0);
  });

  it('reserves taken ids until the reservation runs out, then offers them again', async () => {
    const store = await open();
    const { id } = session();
    await store.createSession(session(id));
    expect(await store.takeReady(10, 100)).toEqual([id]);
    expect(await store.takeReady(10, 100)).toEqual([]);
    await sleep(130);
    expect(await store.takeReady(10, 100)).toEqual([id]);
    await store.forget(id);
    await sleep(130);
    expect(await store.takeReady(10, 100)).toEqual([]);
  });

  it('puts a busy lease deadline back into the lease index', async () => {
    const store = await open();
    const { id } = session();
    await store.createSession(session(id));
    const res = await store.claim(id, 'n1', 10_000);
    await raw.zadd(`${prefix}:{g}:leases`, 1, id); // as a takeReady reservation would leave it
    const busy = await store.claim(id, 'n2', 1000);
    expect(busy.kind).toBe('busy');
    expect(Number(await raw.zscore(`${prefix}:{g}:leases`, id))).toBe(
      res.kind === 'claimed' ? res.until : -1,
    );
  });

  it('renews many leases in one pipeline, reporting lost ones and pending events', async () => {
    const store = await open();
    const ids = [session().id, session().id, session().id];
    const leases: { id: string; epoch: number }[] = [];
    for (const id of ids) {
      await store.createSession(session(id));
      leases.push({ id, epoch: (await claimed(store, id, 'n1')).epoch });
    }
    await store.appendEvent(ids[1]!, { type: 'input', payload: {} });
    const res = await store.renew(
      'n1',
      [...leases, { id: 'missing', epoch: 1 }, { id: ids[2]!, epoch: 99 }],
      5000,
    );
    expect(res.map((r) => [r.ok, r.pending])).toEqual([
      [true, false],
      [true, true],
      [true, false],
      [false, false],
      [false, false],
    ]);
    await raw.zrem(`${prefix}:{g}:leases`, ids[0]!);
    await store.renew('n1', leases, 5000);
    expect(await raw.zscore(`${prefix}:{g}:leases`, ids[0]!)).not.toBeNull();
  });

  it('fires a timer exactly once across concurrent firers, with its key in the payload', async () => {
    const [a, b] = [await open(), await open()];
    const { id } = session();
    await a.createSession(session(id));
    const lease = await claimed(a, id, 'n1');
    expect(
      await a.scheduleTimer(id, lease, {
        key: 'retry:1',
        delayMs: 30,
        payload: { attempt: 1, list: [] },
      }),
    ).toEqual({
      kind: 'ok',
      released: false,
    });
    await a.scheduleTimer(id, lease, { key: 'retry:1', delayMs: 0, payload: { attempt: 2 } });
    expect(await a.fireDueTimers(10)).toBe(0);
    await sleep(60);
    const fired = await Promise.all([
      a.fireDueTimers(10),
      b.fireDueTimers(10),
      a.fireDueTimers(10),
    ]);
    expect(fired.reduce((x, y) => x + y, 0)).toBe(1);
    const events = await a.readEvents(id, '0-0', 10);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'timer',
      payload: { attempt: 1, list: [], key: 'retry:1' },
    });
    await a.scheduleTimer(id, lease, { key: 'retry:1', delayMs: 0, payload: {} });
    await sleep(10);
    expect(await a.fireDueTimers(10)).toBe(0);
  });

  it('wakes the owner by pub/sub, or queues and announces a session without one', async () => {
    const store = await open();
    const { id } = session();
    await store.createSession(session(id));
    const woken: string[] = [];
    const ready: number[] = [];
    const stopWake = await store.onWake('n1', (s) => woken.push(s));
    const stopReady = await store.onReady(() => ready.push(1));
    await store.takeReady(10, 5000);
    const lease = await claimed(store, id, 'n1');
    await store.appendEvent(id, { type: 'input', payload: {} });
    await store.release(id, lease, false);
    await store.appendEvent(id, { type: 'input', payload: {} });
    await sleep(50);
    expect(woken).toEqual([id]);
    expect(ready.length).toBe(1);
    expect(await raw.zscore(`${prefix}:{g}:ready`, id)).not.toBeNull();
    await stopWake();
    await stopReady();
  });

  it('skips stale status index entries when listing, and pages by `before`', async () => {
    const store = await open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = session();
      ids.push(s.id);
      await store.createSession(s);
    }
    const lease = await claimed(store, ids[2]!, 'n1');
    await store.commit(ids[2]!, lease, commit({ status: 'WAITING_FOR_USER', release: true }));
    await raw.zadd(`${prefix}:{g}:status:QUEUED`, Date.now(), ids[2]!); // stale entry, as after a crash
    const queued = await store.listSessions({ status: 'QUEUED', limit: 10 });
    expect(queued.map((s) => s.id)).toEqual([ids[4], ids[3], ids[1], ids[0]]);
    expect(queued[0]).not.toHaveProperty('snapshot');
    const page = await store.listSessions({ limit: 2, before: ids[3]! });
    expect(page.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    expect(
      (await store.listSessions({ limit: 10, status: 'WAITING_FOR_USER' })).map((s) => s.id),
    ).toEqual([ids[2]]);
  });

  it('writes the status index only on a change, and the next claim repairs an update lost with its node', async () => {
    const store = await open();
    const [a, b] = [session(), session()];
    await store.createSession(a);
    await store.createSession(b);
    const runningKey = `${prefix}:{g}:status:RUNNING`;
    const waitingKey = `${prefix}:{g}:status:WAITING_FOR_USER`;
    // a: QUEUED → RUNNING indexed; a RUNNING → RUNNING commit leaves the index alone.
    const la = await claimed(store, a.id, 'n1', 200);
    await store.commit(a.id, la, commit());
    expect(await raw.zscore(runningKey, a.id)).not.toBeNull();
    expect(await raw.zscore(`${prefix}:{g}:status:QUEUED`, a.id)).toBeNull();
    await raw.zrem(runningKey, a.id); // the node died between the script and its index update
    await store.commit(a.id, la, commit({ phase: 'reviewing' }));
    expect(await raw.zscore(runningKey, a.id)).toBeNull();
    await sleep(250); // lease expires; the takeover claim puts the entry back
    await claimed(store, a.id, 'n2');
    expect(await raw.zscore(runningKey, a.id)).not.toBeNull();
    // b: passivated, and its index update lost: the lease entry is still there,
    // so the session comes back from takeReady and the idle claim repairs it.
    const lb = await claimed(store, b.id, 'n1', 200);
    await store.commit(b.id, lb, commit({ status: 'WAITING_FOR_USER', release: true }));
    await raw.zrem(waitingKey, b.id);
    await raw.zadd(`${prefix}:{g}:leases`, Date.now() - 1, b.id);
    expect(await store.takeReady(10, 5000)).toContain(b.id);
    expect((await store.claim(b.id, 'n2', 5000)).kind).toBe('idle');
    expect(await raw.zscore(waitingKey, b.id)).not.toBeNull();
    expect(
      (await store.listSessions({ status: 'WAITING_FOR_USER', limit: 10 })).map((s) => s.id),
    ).toEqual([b.id]);
  });

  it('a Redis that stops answering fails calls after the command timeout instead of hanging them, and recovers', async () => {
    const target = new URL(redisUrl());
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379));
    const store = await RedisStore.create({
      url: `redis://127.0.0.1:${proxy.port}`,
      prefix,
      commandTimeoutMs: 300,
    });
    stores.push(store);
    try {
      const { id } = session();
      await store.createSession(session(id));
      proxy.pause();
      const t0 = performance.now();
      await expect(store.getSession(id)).rejects.toThrow(/timed out/i);
      await expect(store.appendEvent(id, { type: 'input', payload: {} })).rejects.toThrow(
        /timed out/i,
      );
      expect(performance.now() - t0).toBeLessThan(3000);
      proxy.resume(); // late answers arrive and are matched to the timed-out calls, not to new ones
      const rec = await store.getSession(id);
      expect(rec?.id).toBe(id);
      expect(await store.readEvents(id, '0-0', 10)).toHaveLength(1); // the timed-out append was written after all
    } finally {
      await proxy.close();
    }
  });

  it('keeps working after the script cache is flushed', async () => {
    const store = await open();
    const { id } = session();
    await store.createSession(session(id));
    await raw.script('FLUSH');
    const lease = await claimed(store, id, 'n1');
    await raw.script('FLUSH');
    const res = await store.renew('n1', [{ id, epoch: lease.epoch }], 1000);
    expect(res[0]?.ok).toBe(true);
  });

  it('returns the first session for a repeated create idempotency key', async () => {
    const store = await open();
    const first = await store.createSession(session(), 'req-1');
    const again = await store.createSession(session(), 'req-1');
    expect(again.created).toBe(false);
    expect(again.record.id).toBe(first.record.id);
    expect(await store.takeReady(10, 1000)).toEqual([first.record.id]);
  });

  it('lists live nodes with store-time heartbeats, dropping expired ones', async () => {
    const store = await open();
    const info = {
      address: 'http://x',
      started_at: 5,
      version: '1.0',
      active_sessions: 2,
      sessions: ['a', 'b'],
      heartbeat_at: 0,
    };
    await store.heartbeat({ id: 'old', ...info }, 20);
    await sleep(100);
    await store.heartbeat({ id: 'live', ...info }, 1000);
    const nodes = await store.listNodes();
    expect(nodes.map((x) => x.id)).toEqual(['live']);
    expect(nodes[0]).toMatchObject({
      address: 'http://x',
      started_at: 5,
      version: '1.0',
      active_sessions: 2,
      sessions: ['a', 'b'],
    });
    expect(Math.abs(nodes[0]!.heartbeat_at - (await store.now()))).toBeLessThan(1000);
  });
});
