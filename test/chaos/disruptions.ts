/**
 * The soak's disruptions, one at a time, chosen by the seeded generator:
 * SIGKILL (the node is started again after a pause), SIGSTOP longer than the
 * lease TTL then SIGCONT (a zombie owner), SIGTERM (graceful handoff, then a
 * restart), and one Redis restart (SIGTERM, then the same port and directory:
 * the AOF brings the data back). After each, it measures how long the
 * sessions the victim held took to be committed again under a newer epoch.
 */
import type { Redis } from 'ioredis';
import { sessionKeys } from '../../runtime/store/redis/keys.ts';
import type { RedisServer } from '../support/redis-server.ts';
import { sleep } from './http.ts';
import type { NodeSlots, Slot } from './node-slots.ts';
import type { Prng } from '../support/prng.ts';

export interface DisruptionStats {
  kills: number;
  pauses: number;
  restarts: number;
  redisRestarts: number;
  /** SIGKILL or SIGSTOP → the session's next commit under a newer epoch, per session held, ms. */
  failoverMs: number[];
  /** SIGTERM → the next commit under a newer epoch, ms. */
  handoffMs: number[];
  /** Redis answering again → the session's next commit (any epoch), per session active when it stopped, ms. */
  redisRecoveryMs: number[];
  /** Of those, sessions whose next commit was under the epoch they had: resumed by their owner, not taken over. */
  redisResumedInPlace: number;
  redisDownMs: number;
  /** Inbox entries, log lines and history entries of all sessions just before the Redis restart (writes paused). */
  redisCensus: Census | null;
  /** Sessions with fewer of them just after it: writes the AOF did not bring back. */
  redisLosses: string[];
  /** Sessions that passivated before the disruption reached them (nothing to take over). */
  notNeeded: number;
  /** Sessions with no newer commit within the tracking window. */
  notObserved: number;
  /** What happened when, for the report. */
  timeline: string[];
}

export interface DisruptionContext {
  slots: NodeSlots;
  redis: RedisServer;
  /** A connection of the harness's own, to read records. */
  raw: Redis;
  prefix: string;
  /** Ids of the sessions created so far. */
  ids(): string[];
  r: Prng;
  leaseTtlMs: number;
  /** No new disruption starts after this (epoch ms). */
  until: number;
  /** The Redis restart happens at the first gap after this (epoch ms). */
  redisAt: number;
}

type Held = { id: string; epoch: number };
type Action = 'kill' | 'pause' | 'term';

export async function runDisruptions(ctx: DisruptionContext): Promise<DisruptionStats> {
  const stats: DisruptionStats = {
    kills: 0,
    pauses: 0,
    restarts: 0,
    redisRestarts: 0,
    failoverMs: [],
    handoffMs: [],
    redisRecoveryMs: [],
    redisResumedInPlace: 0,
    redisDownMs: 0,
    redisCensus: null,
    redisLosses: [],
    notNeeded: 0,
    notObserved: 0,
    timeline: [],
  };
  const start = Date.now();
  const note = (what: string) =>
    stats.timeline.push(`${((Date.now() - start) / 1000).toFixed(1).padStart(6)} s  ${what}`);
  const { r, leaseTtlMs: ttl } = ctx;
  // Each kind once first, in a seeded order, so even a short run has them all.
  const first: Action[] = [];
  for (const a of ['kill', 'pause', 'term'] as const) first.splice(r.int(0, first.length), 0, a);
  while (Date.now() < ctx.until) {
    await sleep(r.int(500, 2000));
    if (Date.now() >= ctx.until) break;
    if (stats.redisRestarts === 0 && Date.now() >= ctx.redisAt) {
      await restartRedis(ctx, stats, note);
      continue;
    }
    const victim = await chooseVictim(ctx);
    if (!victim) continue;
    const action = first.shift() ?? r.weighted<Action>({ kill: 4, pause: 3, term: 3 });
    const held = await heldBy(ctx, victim.id);
    const t0 = Date.now();
    if (action === 'kill') {
      await victim.proc!.kill();
      stats.kills++;
      note(`SIGKILL ${victim.id} (${held.length} sessions held)`);
      const took = track(ctx, held, t0, stats);
      await sleep(r.int(300, 2500));
      await restart(ctx, victim, note);
      stats.failoverMs.push(...(await took));
    } else if (action === 'pause') {
      victim.proc!.signal('SIGSTOP');
      stats.pauses++;
      const pauseMs = r.int(Math.ceil(ttl * 1.5), ttl * 3);
      note(`SIGSTOP ${victim.id} for ${pauseMs} ms (${held.length} sessions held)`);
      const took = track(ctx, held, t0, stats);
      await sleep(pauseMs);
      victim.proc!.signal('SIGCONT');
      stats.failoverMs.push(...(await took));
    } else {
      await victim.proc!.stop(15_000);
      stats.restarts++;
      note(
        `SIGTERM ${victim.id} (${held.length} sessions held), exited after ${Date.now() - t0} ms`,
      );
      const took = track(ctx, held, t0, stats);
      await sleep(r.int(200, 1500));
      await restart(ctx, victim, note);
      stats.handoffMs.push(...(await took));
    }
  }
  // A run too short (or too busy) to reach the Redis restart still gets it.
  if (stats.redisRestarts === 0) await restartRedis(ctx, stats, note);
  return stats;
}

async function restartRedis(
  ctx: DisruptionContext,
  stats: DisruptionStats,
  note: (w: string) => void,
): Promise<void> {
  const held = await heldBy(ctx, null);
  const before = await census(ctx);
  const t0 = Date.now();
  await ctx.redis.stop();
  note(
    `Redis stopped (SIGTERM; ${held.length} sessions active; ${before.inbox} inbox entries, ${before.logs} log lines, ${before.history} history entries)`,
  );
  // Longer than the TTL: every lease runs out, every actor is paused by its node's watchdog.
  await sleep(ctx.r.int(ctx.leaseTtlMs * 2, ctx.leaseTtlMs * 3));
  await ctx.redis.resume();
  const back = Date.now();
  const after = await census(ctx);
  stats.redisDownMs = back - t0;
  stats.redisRestarts++;
  stats.redisCensus = before;
  // Counts only grow: fewer of anything after the restart is data the AOF lost.
  for (const [id, b] of before.perSession) {
    const a = after.perSession.get(id);
    if (!a || a.some((x, i) => x < b[i]!))
      stats.redisLosses.push(
        `session ${id}: inbox/log/history ${b.join('/')} before the Redis restart, ${a?.join('/') ?? 'gone'} after`,
      );
  }
  note(
    `Redis back after ${stats.redisDownMs} ms (AOF, appendfsync ${ctx.redis.persistence}); sessions with data lost: ${stats.redisLosses.length}`,
  );
  // Paused actors resume under the epoch they had: count any commit after Redis is back.
  stats.redisRecoveryMs.push(...(await track(ctx, held, back, stats, { after: back })));
}

export interface Census {
  inbox: number;
  logs: number;
  history: number;
  perSession: Map<string, number[]>;
}

/** Counts every session's inbox entries, log lines and history entries, with other clients' writes held back meanwhile. */
async function census(ctx: DisruptionContext): Promise<Census> {
  const ids = ctx.ids().slice();
  await ctx.raw.call('CLIENT', 'PAUSE', '2000', 'WRITE');
  try {
    const p = ctx.raw.pipeline();
    for (const id of ids) {
      const k = sessionKeys(ctx.prefix, id);
      p.xlen(k.inbox).llen(k.log).hget(k.record, 'hist_n');
    }
    const rows = (await p.exec()) ?? [];
    const c: Census = { inbox: 0, logs: 0, history: 0, perSession: new Map() };
    ids.forEach((id, i) => {
      const counts = [0, 1, 2].map((j) => Number(rows[3 * i + j]?.[1] ?? 0));
      c.perSession.set(id, counts);
      c.inbox += counts[0]!;
      c.logs += counts[1]!;
      c.history += counts[2]!;
    });
    return c;
  } finally {
    await ctx.raw.call('CLIENT', 'UNPAUSE');
  }
}

async function restart(
  ctx: DisruptionContext,
  slot: Slot,
  note: (w: string) => void,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.slots.start(slot);
      return note(`${slot.id} started again`);
    } catch (err) {
      if (attempt >= 3) throw err;
      note(`${slot.id} failed to start (${String(err).split('\n')[0]}); trying again`);
      await sleep(1000);
    }
  }
}

/** A running node, preferably one holding sessions (there is something to take over). */
async function chooseVictim(ctx: DisruptionContext): Promise<Slot | undefined> {
  const live = ctx.slots.liveSlots();
  if (live.length < ctx.slots.slots.length) return undefined;
  const owners = new Set((await leases(ctx)).map((l) => l.node));
  const holding = live.filter((s) => owners.has(s.id));
  return ctx.r.pick(holding.length > 0 && ctx.r.chance(0.85) ? holding : live);
}

async function leases(ctx: DisruptionContext): Promise<(Held & { node: string })[]> {
  const ids = ctx.ids();
  if (ids.length === 0) return [];
  const p = ctx.raw.pipeline();
  for (const id of ids)
    p.hmget(sessionKeys(ctx.prefix, id).record, 'lease_node', 'lease_until', 'status', 'epoch');
  const rows = (await p.exec()) ?? [];
  const now = Date.now();
  return rows.flatMap(([err, v], i) => {
    const [node, until, status, epoch] = (v ?? []) as (string | null)[];
    if (err || !node || Number(until) <= now || status !== 'RUNNING') return [];
    return [{ id: ids[i]!, epoch: Number(epoch), node }];
  });
}

/** Sessions RUNNING under a valid lease of `node` (of any node when null). */
async function heldBy(ctx: DisruptionContext, node: string | null): Promise<Held[]> {
  return (await leases(ctx).catch(() => [])).filter((l) => node === null || l.node === node);
}

/**
 * Polls until each held session has a commit under an epoch newer than the
 * one it had; its time is the commit's store time (`updated_at`, the same
 * machine's clock) minus `from`. A session that passivated under the old
 * epoch (it ended just before the disruption) needed no takeover; one not
 * seen within 30 s is counted apart.
 */
/**
 * Waits for each held session's next commit under a newer epoch (another
 * node took it over), or with `after`, its next commit at or after that store
 * time under any epoch (the owner resumed it; counted in `redisResumedInPlace`).
 */
async function track(
  ctx: DisruptionContext,
  held: Held[],
  from: number,
  stats: DisruptionStats,
  opts: { after?: number } = {},
): Promise<number[]> {
  const times: number[] = [];
  let pending = held;
  const deadline = Date.now() + 30_000;
  while (pending.length > 0 && Date.now() < deadline) {
    await sleep(20);
    const p = ctx.raw.pipeline();
    for (const h of pending)
      p.hmget(
        sessionKeys(ctx.prefix, h.id).record,
        'commit_tag',
        'updated_at',
        'status',
        'lease_node',
      );
    const rows = await p.exec().catch(() => null);
    if (!rows) continue;
    pending = pending.filter((h, i) => {
      const [tag, updated, status, node] = (rows[i]?.[1] ?? []) as (string | null)[];
      const epoch = Number((tag ?? '0:0').split(':')[0]);
      if (
        epoch > h.epoch ||
        (opts.after !== undefined && epoch === h.epoch && Number(updated) >= opts.after)
      ) {
        if (epoch === h.epoch) stats.redisResumedInPlace++;
        times.push(Math.max(0, Number(updated) - from));
        return false;
      }
      if (status !== 'RUNNING' && status !== 'QUEUED' && !node) {
        stats.notNeeded++;
        return false;
      }
      return true;
    });
  }
  stats.notObserved += pending.length;
  return times;
}
