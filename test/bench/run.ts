/**
 * `npm run bench [-- latency failover handoff throughput memory startup retention sandbox]`: the
 * runtime's figures, measured against real node processes on one Redis, and
 * printed beside the goals from the issue (and BullMQ, run side by side on the
 * same Redis). Set REDIS_URL to use a running Redis; otherwise one is started.
 */
import { Redis } from 'ioredis';
import { ulid } from 'ulid';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { sessionKeys, globalKeys } from '../../runtime/store/redis/keys.ts';
import { compareEventIds } from '../../runtime/store/records.ts';
import { NodeProcess } from '../support/service/processes.ts';
import { findRedis } from '../support/redis-server.ts';
import { sleep, waitFor } from '../support/wait.ts';
import { benchBullmq } from './bullmq-peer.ts';
import { httpClient } from './http-client.ts';
import { commitsAlone, machineAlone } from './parts.ts';
import { benchRetention, benchRetentionSqlite } from './retention.ts';
import { benchSandbox } from './sandbox.ts';
import { measureStartup } from './startup.ts';

const FOREVER_MS = 600_000; // scripted work that outlasts the measurement: sessions stay active
const sections = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const want = (s: string) => sections.length === 0 || sections.includes(s);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;
const line = (label: string, value: string, goal = '') =>
  console.log(`  ${label.padEnd(38)} ${value.padEnd(28)} ${goal}`);

const { url, teardown } = await findRedis();
const raw = new Redis(url);
let prefixN = 0;
const newPrefix = () => `bench${Date.now().toString(36)}${prefixN++}`;
const nodes: NodeProcess[] = [];
// BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the node processes (written when they stop).
const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const startNode = async (
  prefix: string,
  id: string,
  env: { ttl?: number; delay?: number; concurrency?: number },
) => {
  const n = await NodeProcess.start({
    redisUrl: url,
    prefix,
    nodeId: id,
    leaseTtlMs: env.ttl ?? 3000,
    delayMs: env.delay ?? 0,
    concurrency: env.concurrency ?? 2000,
    nodeArgs,
  });
  nodes.push(n);
  return n;
};
const rssMb = async (pid: number) => {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

/** Creates sessions straight in the store (the API path is measured by the latency section). */
async function createMany(
  store: RedisStore,
  n: number,
  mode: 'auto' | 'review',
  goal = 'bench goal',
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () => ulid());
    await Promise.all(
      batch.map((id) =>
        store.createSession({
          id,
          goal: `${goal} ${id}`,
          repo_url: 'https://example.com/org/bench.git',
          mode,
        }),
      ),
    );
    ids.push(...batch);
  }
  return ids;
}

async function owners(
  prefix: string,
  ids: string[],
): Promise<{ node: string; epoch: number; status: string; phase: string }[]> {
  const p = raw.pipeline();
  for (const id of ids)
    p.hmget(sessionKeys(prefix, id).record, 'lease_node', 'epoch', 'status', 'phase');
  const res = (await p.exec()) ?? [];
  return res.map(([, v]) => {
    const [node, epoch, status, phase] = v as (string | null)[];
    return {
      node: node ?? '',
      epoch: Number(epoch ?? 0),
      status: status ?? '',
      phase: phase ?? '',
    };
  });
}

/**
 * When did the record of a session first show `last_event_id` ≥ the event?
 * Keyspace notifications of the record's hash writes give the moment without
 * a polling loop that would compete for the two cores with the nodes; each
 * notification is confirmed by reading the field. Polls where CONFIG is refused.
 */
async function commitWatcher(prefix: string) {
  const sub = new Redis(url);
  // Restored on close: REDIS_URL may point at a Redis that others use.
  const before = await raw.config('GET', 'notify-keyspace-events').then(
    (r) => String((r as string[])[1] ?? ''),
    () => null,
  );
  const notify =
    before !== null &&
    (await raw.config('SET', 'notify-keyspace-events', `${before}Kh`).then(
      () => true,
      () => false,
    ));
  let waiter: { key: string; eventId: string; resolve: (t: number) => void } | null = null;
  const check = async (key: string, eventId: string) => {
    const last = await raw.hget(key, 'last_event_id');
    return last !== null && compareEventIds(last, eventId) >= 0;
  };
  if (notify) {
    await sub.psubscribe(`__keyspace@*__:${prefix}:*`);
    sub.on('pmessage', (_p: string, channel: string) => {
      const at = performance.now();
      const w = waiter;
      if (!w || !channel.endsWith(w.key)) return;
      void check(w.key, w.eventId).then((ok) => {
        if (ok && waiter === w) {
          waiter = null;
          w.resolve(at);
        }
      });
    });
  }
  const wait = async (id: string, eventId: string): Promise<number> => {
    const key = sessionKeys(prefix, id).record;
    if (!notify) {
      while (!(await check(key, eventId))) await sleep(0);
      return performance.now();
    }
    const p = new Promise<number>((resolve) => (waiter = { key, eventId, resolve }));
    // Committed before we started listening for this key: take that.
    if (await check(key, eventId)) {
      waiter = null;
      return performance.now();
    }
    return p;
  };
  const close = async () => {
    sub.disconnect();
    if (notify) await raw.config('SET', 'notify-keyspace-events', before);
  };
  return Object.assign(wait, { close });
}

async function latency(): Promise<void> {
  console.log(
    `\nEvent latency: POST /input on node A, session owned by node B → transition committed`,
  );
  const prefix = newPrefix();
  const store = await RedisStore.create({ url, prefix });
  const b = await startNode(prefix, 'B', { delay: FOREVER_MS });
  const ids = await createMany(store, 50, 'auto');
  await waitFor(
    'B to own 50 sessions in coding',
    async () => {
      const o = await owners(prefix, ids);
      return o.every((x) => x.node === 'B' && x.phase.startsWith('preparing')) || undefined;
    },
    60_000,
  );
  const a = await startNode(prefix, 'A', { concurrency: 1 });
  const total = 3000; // ≥ 1,000 asked; more makes the p99 steadier from run to run
  const post: number[] = [];
  const commit: number[] = [];
  const http = httpClient(a.url);
  for (let i = 0; i < 200; i++)
    await http.post(`/agent/sessions/${ids[i % ids.length]}/input`, { message: 'warm-up' });
  const committedAt = await commitWatcher(prefix);
  for (let i = 0; i < total; i++) {
    const id = ids[i % ids.length]!;
    const t0 = performance.now();
    const r = await http.post(`/agent/sessions/${id}/input`, { message: `m${i}` });
    if (r.status !== 202) throw new Error(`POST input → ${r.status} ${JSON.stringify(r.body)}`);
    post.push(performance.now() - t0);
    commit.push((await committedAt(id, r.body.event_id)) - t0);
  }
  await committedAt.close();
  // Floors measured side by side: a bare Redis round trip, and a POST that
  // costs one script call (an unknown session: 404).
  const ping: number[] = [];
  const miss: number[] = [];
  for (let i = 0; i < total; i++) {
    const t0 = performance.now();
    await raw.ping();
    ping.push(performance.now() - t0);
    const t1 = performance.now();
    const r = await http.post(`/agent/sessions/${ulid()}/input`, { message: 'x' });
    if (r.status !== 404) throw new Error(`POST input to an unknown session → ${r.status}`);
    miss.push(performance.now() - t1);
  }
  const pp = (xs: number[]) => `${ms(pct(xs, 50))} / ${ms(pct(xs, 99))}`;
  line('events', String(total));
  line('POST answered (202), p50 / p99', pp(post));
  line('POST → committed, p50 / p99', pp(commit), 'goal: p99 ≤ 5 ms');
  line('peer: POST → 404, p50 / p99', pp(miss), '(HTTP + one script call)');
  line('peer: Redis PING, p50 / p99', pp(ping));
  http.close();
  await a.kill();
  await b.kill();
  await store.close();
}

async function failover(kind: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const ttl = 3000;
  console.log(
    `\n${kind === 'SIGKILL' ? 'Crash failover (SIGKILL)' : 'Graceful handoff (SIGTERM)'}: node owning 200 active sessions, lease TTL ${ttl} ms`,
  );
  const prefix = newPrefix();
  const store = await RedisStore.create({ url, prefix });
  const victim = await startNode(prefix, 'V', { ttl, delay: FOREVER_MS });
  const ids = await createMany(store, 200, 'auto');
  await waitFor(
    'V to own 200 sessions',
    async () => (await owners(prefix, ids)).every((x) => x.node === 'V') || undefined,
    60_000,
  );
  await Promise.all([
    startNode(prefix, 'S1', { ttl, delay: FOREVER_MS }),
    startNode(prefix, 'S2', { ttl, delay: FOREVER_MS }),
  ]);
  const t0 = performance.now();
  victim.signal(kind);
  const resumed = new Map<string, number>();
  while (resumed.size < ids.length && performance.now() - t0 < 30_000) {
    const o = await owners(prefix, ids);
    const now = performance.now() - t0;
    o.forEach((x, i) => {
      if (x.node && x.node !== 'V' && !resumed.has(ids[i]!)) resumed.set(ids[i]!, now);
    });
    await sleep(5);
  }
  const times = [...resumed.values()];
  const goal =
    kind === 'SIGKILL' ? `goal: max ≤ ${ttl + 1000} ms (TTL + 1 s)` : 'goal: max ≤ 250 ms';
  line('sessions resumed elsewhere', `${resumed.size} / ${ids.length}`);
  line(
    'time to resume p50 / p99 / max',
    `${ms(pct(times, 50))} / ${ms(pct(times, 99))} / ${ms(Math.max(...times))}`,
    goal,
  );
  for (const n of nodes.splice(0)) await n.kill();
  await store.close();
}

/** One node runs `sessions` sessions to completion; committed transitions per second, first commit to last. */
async function oursOnce(
  sessions: number,
): Promise<{ transitions: number; seconds: number; snapshotBytes: number[] }> {
  const prefix = newPrefix();
  const store = await RedisStore.create({ url, prefix });
  // Both sides are timed from their first unit of work to their last: the
  // sessions (like BullMQ's jobs) exist before the worker starts.
  const ids = await createMany(store, sessions, 'auto');
  const node = await startNode(prefix, 'T', { concurrency: sessions });
  const done = globalKeys(prefix).status('COMPLETED');
  await waitFor(
    'all sessions completed',
    async () => (await raw.zcard(done)) === sessions || undefined,
    300_000,
    20,
  );
  const p = raw.pipeline();
  for (const id of ids) p.lrange(sessionKeys(prefix, id).history, 0, -1);
  const at = ((await p.exec()) ?? []).flatMap(([, l]) =>
    (l as string[]).map((h) => (JSON.parse(h) as { at: number }).at),
  );
  const sizes = raw.pipeline();
  for (const id of ids.slice(0, 100)) sizes.hstrlen(sessionKeys(prefix, id).record, 'snapshot');
  const snapshotBytes = ((await sizes.exec()) ?? []).map(([, n]) => Number(n));
  await node.stop();
  nodes.splice(nodes.indexOf(node), 1);
  await store.close();
  return {
    transitions: at.length,
    seconds: (Math.max(...at) - Math.min(...at)) / 1000,
    snapshotBytes,
  };
}

async function throughput(): Promise<void> {
  const sessions = 1000;
  const rounds = 3;
  console.log(
    `\nThroughput: ${sessions} sessions active at once on one node vs BullMQ no-op jobs, same Redis (median of ${rounds} alternating rounds)`,
  );
  const ours: number[] = [];
  const bull: number[] = [];
  const bullCpu: number[] = [];
  let last: Awaited<ReturnType<typeof oursOnce>> | undefined;
  for (let r = 0; r < rounds; r++) {
    last = await oursOnce(sessions);
    ours.push(last.transitions / last.seconds);
    const b = await benchBullmq(url, last.transitions, sessions);
    bull.push(b.perSecond);
    bullCpu.push(b.cpuUs);
  }
  const median = (xs: number[]) => pct(xs, 50);
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  const us = (x: number) => `${x.toFixed(0)} µs`;
  line('committed transitions per round', `${last!.transitions} (5 per session)`);
  line('transitions / s (one node)', `${median(ours).toFixed(0)} (rounds: ${range(ours)})`);
  line(
    'BullMQ no-op jobs / s',
    `${median(bull).toFixed(0)} (rounds: ${range(bull)}; concurrency ${sessions})`,
  );
  line('ratio ours / BullMQ', (median(ours) / median(bull)).toFixed(2), 'goal: ≥ 1');
  line('CPU per BullMQ job', `${us(median(bullCpu))} (its worker's process)`);
  // The parts of a transition, alone (best of 3, in this process, warm): what
  // one transition costs at least, against what a whole BullMQ job costs.
  const avgSnapshot = 1000;
  const machine = await machineAlone(sessions);
  const commits = await commitsAlone(url, newPrefix(), sessions, 5, avgSnapshot);
  line(
    'part: session machine, no store',
    `${machine.perSecond.toFixed(0)} transitions / s, ${us(machine.cpuUs)} CPU each`,
  );
  line(
    'part: fenced commits, no machine',
    `${commits.perSecond.toFixed(0)} commits / s, ${us(commits.cpuUs)} client CPU each (~${avgSnapshot} B snapshot)`,
  );
  const bytes = last!.snapshotBytes;
  line(
    'persisted snapshot size (completed)',
    `avg ${Math.round(bytes.reduce((s, x) => s + x, 0) / bytes.length)} B, max ${Math.max(...bytes)} B`,
  );
}

/** Heap used after a full GC: before, then after each round of `n` sessions run to WAITING_FOR_USER on an in-process node. */
async function heapAfterPassivating(n: number, rounds: number): Promise<number[]> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { RuntimeNode } = await import('../../runtime/node.ts');
  const { createLogger } = await import('../../kernel/logger.ts');
  const { scriptedWork } = await import('../support/fake-work.ts');
  const prefix = newPrefix();
  const local = await RedisStore.create({ url, prefix });
  const node = await RuntimeNode.start({
    store: local,
    nodeId: 'M3',
    work: scriptedWork(),
    logger: createLogger({ level: 'warn', write: () => undefined }),
    concurrency: 2000,
    leaseTtlMs: 3000,
  });
  const heapMb = async () => {
    await sleep(1000);
    gc();
    gc();
    return process.memoryUsage().heapUsed / 1048576;
  };
  const out = [await heapMb()];
  const waiting = globalKeys(prefix).status('WAITING_FOR_USER');
  for (let r = 1; r <= rounds; r++) {
    await createMany(local, n, 'review');
    await waitFor(
      `${n * r} sessions passivated`,
      async () => ((await raw.zcard(waiting)) === n * r && node.activeSessions === 0) || undefined,
      600_000,
      100,
    );
    out.push(await heapMb());
  }
  await node.shutdown();
  await local.close();
  return out;
}

async function memory(): Promise<void> {
  console.log('\nMemory: node RSS with 10,000 passivated sessions vs none, and per active actor');
  const prefix = newPrefix();
  const store = await RedisStore.create({ url, prefix });
  const empty = await startNode(newPrefix(), 'M0', {});
  await sleep(3000);
  const base = await rssMb(empty.pid);
  await empty.kill();
  const worker = await startNode(prefix, 'M1', { concurrency: 2000 });
  const ids = await createMany(store, 10_000, 'review');
  const waiting = globalKeys(prefix).status('WAITING_FOR_USER');
  await waitFor(
    '10,000 sessions passivated',
    async () => (await raw.zcard(waiting)) === ids.length || undefined,
    600_000,
    200,
  );
  await sleep(3000);
  const afterRun = await rssMb(worker.pid);
  await worker.kill();
  const fresh = await startNode(prefix, 'M2', {});
  await sleep(3000);
  const withPassive = await rssMb(fresh.pid);
  line('RSS, no sessions', `${base.toFixed(1)} MB`);
  line(
    'RSS, 10,000 passivated (fresh node)',
    `${withPassive.toFixed(1)} MB (${(withPassive - base >= 0 ? '+' : '') + (withPassive - base).toFixed(1)} MB)`,
    'goal: flat',
  );
  line(
    'RSS, node that ran the 10,000',
    `${afterRun.toFixed(1)} MB (after passivation; V8 keeps freed pages)`,
  );
  // RSS of the node that ran them says little about leaks; its heap after a
  // full GC does. Measured on a node in this process, so gc() can be called.
  const heap = await heapAfterPassivating(5000, 2);
  line(
    'heap after GC, 0 / 5,000 / 10,000 run',
    `${heap.map((h) => h.toFixed(1)).join(' / ')} MB`,
    'goal: flat',
  );
  await fresh.kill();
  nodes.splice(0);
  // Per active actor: 1,000 sessions held in long work on one node.
  const p2 = newPrefix();
  const s2 = await RedisStore.create({ url, prefix: p2 });
  const holder = await startNode(p2, 'M4', { delay: FOREVER_MS, concurrency: 2000 });
  await sleep(3000);
  const before = await rssMb(holder.pid);
  const held = await createMany(s2, 1000, 'auto');
  await waitFor(
    '1,000 active',
    async () => (await owners(p2, held)).every((x) => x.node === 'M4') || undefined,
    120_000,
  );
  await sleep(3000);
  const after = await rssMb(holder.pid);
  line(
    'RSS per active actor',
    `${(((after - before) * 1024) / 1000).toFixed(1)} KB (${before.toFixed(0)} → ${after.toFixed(0)} MB for 1,000)`,
  );
  await holder.kill();
  await s2.close();
  await store.close();
}

async function startup(): Promise<void> {
  console.log(
    '\nStart-up: spawn to the first /health answer, and RSS then (median of 5, alternating)',
  );
  const figures = await measureStartup([
    { label: 'node server/main.ts (npm start)', nodeArgs: [], env: { SANDBOX_TYPE: 'local' } },
    { label: 'node --import tsx (the old start)', nodeArgs: ['--import', 'tsx'], env: {} },
    {
      label: 'SANDBOX_TYPE=daytona (SDK on first use)',
      nodeArgs: [],
      env: {
        SANDBOX_TYPE: 'daytona',
        DAYTONA_API_KEY: 'bench',
        DAYTONA_API_URL: 'http://127.0.0.1:9',
      },
    },
  ]);
  for (const f of figures) line(f.label, `${ms(f.readyMs)}, ${f.rssMb.toFixed(1)} MB RSS`);
}

async function retention(): Promise<void> {
  const n = 1000;
  console.log(
    `\nRedis memory: ${n.toLocaleString('en')} sessions run to COMPLETED with logs, history, transcripts and a result, then a retention sweep`,
  );
  const f = await benchRetention(raw, url, newPrefix(), n);
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  const mb = (bytes: number) => `${(bytes / 1048576).toFixed(2)} MB`;
  const grown = (bytes: number) => `${bytes - f.baseline >= 0 ? '+' : ''}${mb(bytes - f.baseline)}`;
  line('used_memory before', mb(f.baseline));
  for (const g of f.growth)
    line(
      `  after ${g.completed} completed`,
      `${grown(g.usedMemory)} (${kb((g.usedMemory - f.baseline) / g.completed)} / session)`,
    );
  const last = f.growth[f.growth.length - 1]!.usedMemory;
  line('per completed session (used_memory)', kb((last - f.baseline) / n));
  line(
    'per completed session (MEMORY USAGE)',
    `${kb(f.keyBytes / n)} (${f.keys} keys, ${(f.keys / n).toFixed(1)} per session)`,
  );
  line(
    'sweep',
    `${f.removed} removed in ${ms(f.sweepMs)} (${((f.removed / f.sweepMs) * 1000).toFixed(0)} / s)`,
  );
  line(
    'used_memory after the sweep',
    `${grown(f.afterSweep)} against before`,
    'goal: back to before',
  );
  line(
    'left under the prefix',
    `${f.keysAfter} keys, ${f.leftovers} naming a removed session`,
    'goal: 0',
  );
  line('time to run them (50 at a time)', ms(f.runMs));

  console.log(
    `\nThe same ${n.toLocaleString('en')} sessions on the embedded SQLite store (DATA_DIR)`,
  );
  const q = await benchRetentionSqlite(n);
  line(
    'time to run them (50 at a time)',
    ms(q.runMs),
    `peer: Redis ${ms(f.runMs)} (every SQLite write one fsync'd transaction)`,
  );
  line(
    'database file, per completed session',
    `${kb((q.fileBytes - q.emptyBytes) / n)} (${mb(q.fileBytes)} for ${n})`,
    `peer: Redis ${kb((last - f.baseline) / n)}`,
  );
  line(
    'sweep',
    `${q.removed} removed in ${ms(q.sweepMs)} (${((q.removed / q.sweepMs) * 1000).toFixed(0)} / s)`,
  );
  line(
    'after the sweep',
    `file ${mb(q.fileAfterSweep)}, ${mb(q.freeAfterSweep)} of it free pages`,
    'SQLite reuses them: no VACUUM',
  );
  line(
    `after ${n.toLocaleString('en')} sessions more`,
    `file ${mb(q.fileAfterRefill)}`,
    `goal: about ${mb(q.fileBytes)}, not twice`,
  );
  line('rows left naming a removed session', String(q.leftovers), 'goal: 0');
}

async function sandbox(): Promise<void> {
  console.log(
    '\nsandbox: one command (`true`) through each confinement, median of alternating rounds',
  );
  const figures = await benchSandbox();
  const peer = figures[0]!;
  for (const f of figures)
    line(
      f.label,
      `${ms(f.medianMs)} (p90 ${ms(f.p90Ms)})`,
      f === peer ? '' : `+${ms(f.medianMs - peer.medianMs)} over the peer`,
    );
}

try {
  console.log(
    `SWE Agent runtime benchmark — Redis ${url}, node ${process.version}, ${new Date().toISOString()}`,
  );
  if (want('latency')) await latency();
  if (want('failover')) await failover('SIGKILL');
  if (want('handoff')) await failover('SIGTERM');
  if (want('throughput')) await throughput();
  if (want('memory')) await memory();
  if (want('startup')) await startup();
  if (want('retention')) await retention();
  if (want('sandbox')) await sandbox();
} finally {
  for (const n of nodes) await n.kill();
  raw.disconnect();
  await teardown();
}
