/**
 * The chaos soak: sessions on three node processes sharing one Redis that
 * this harness starts itself (append-only file, `appendfsync always` unless
 * told otherwise, in a temporary directory), the scripted work with delays,
 * clients sending events through random nodes, and disruptions all along
 * (`disruptions.ts`). Afterwards every session must have ended as expected
 * and every accepted event must have been applied exactly once
 * (`invariants.ts`). `run-soak.ts` runs it from the command line,
 * `soak.test.ts` in CI.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { compareEventIds } from '../../runtime/store/records.ts';
import { ENDED_STATUSES } from '../../actors/status.ts';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { sessionKeys } from '../../runtime/store/redis/keys.ts';
import { RedisServer, type Fsync } from '../support/redis-server.ts';
import { planSessions, runClient, type SessionLedger } from './clients.ts';
import { runDisruptions, type DisruptionStats } from './disruptions.ts';
import { newHttpStats, sleep, type HttpStats } from './http.ts';
import { checkSessions, type SessionFacts, type Verdict } from './invariants.ts';
import { NodeSlots } from './node-slots.ts';
import { prng } from '../support/prng.ts';

export interface SoakOptions {
  /** How long sessions are created and disruptions happen, ms; then the harness waits for every session to end. */
  durationMs: number;
  /** Sessions in all (at least 100 for the figures to mean much). */
  sessions: number;
  seed: number;
  nodes?: number;
  leaseTtlMs?: number;
  /** Delay of each scripted work step, ms. */
  delayMs?: number;
  fsync?: Fsync;
  /** Longest wait for the sessions to end after the disruptions, ms. */
  drainMs?: number;
  /** USER_MAX_RUNNING_SESSIONS of the nodes (all sessions belong to the admin); 0, the default, for none. */
  userMaxRunning?: number;
  /** Progress lines; silent when absent. */
  log?: (line: string) => void;
}

export interface SoakReport {
  options: Required<Omit<SoakOptions, 'log'>>;
  redisVersion: string;
  verdict: Verdict;
  disruptions: DisruptionStats;
  http: HttpStats;
  /** The store's global counter of refused stale-epoch writes. */
  storeFencedWrites: number;
  /** From the end of the disruptions until every session had ended, ms. */
  settleMs: number;
  elapsedMs: number;
  /** Where the node processes' output was written when something failed. */
  logFile: string | null;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const o = {
    nodes: 3,
    leaseTtlMs: 1000,
    delayMs: 500,
    fsync: 'always' as Fsync,
    drainMs: 120_000,
    userMaxRunning: 0,
    ...options,
  };
  const log = o.log ?? (() => undefined);
  const r = prng(o.seed);
  const started = Date.now();
  const redis = await RedisServer.start({ persistence: o.fsync });
  const prefix = `soak${o.seed.toString(36)}`;
  const slots = new NodeSlots(redis.url, prefix, o.nodes, {
    leaseTtlMs: o.leaseTtlMs,
    delayMs: o.delayMs,
    env: { USER_MAX_RUNNING_SESSIONS: String(o.userMaxRunning) },
  });
  const raw = new Redis(redis.url, { commandTimeout: 3000, maxRetriesPerRequest: 1 });
  raw.on('error', () => undefined);
  let store: RedisStore | undefined;
  try {
    log(
      `redis-server ${redis.url} (appendonly yes, appendfsync ${o.fsync}, dir ${redis.dir}); starting ${o.nodes} nodes`,
    );
    await slots.startAll();
    const plans = planSessions(r.fork(), o.sessions, o.durationMs * 0.9);
    const clientRs = plans.map(() => r.fork());
    const disruptR = r.fork();
    const t0 = Date.now();
    const until = t0 + o.durationMs;
    const http = newHttpStats();
    const ids: string[] = [];
    const ctx = {
      nodes: slots,
      http: { stats: http, giveUpAt: until + o.drainMs, dropAnswer: 0.2 },
      pollMs: 400,
    };
    const clients = plans.map(async (plan, i): Promise<SessionLedger> => {
      await sleep(plan.startMs);
      return runClient(plan, { ...ctx, r: clientRs[i]!, onCreated: (id) => ids.push(id) });
    });
    log(
      `${o.sessions} sessions over ${Math.round((o.durationMs * 0.9) / 1000)} s, disruptions for ${Math.round(o.durationMs / 1000)} s (seed ${o.seed})`,
    );
    const disruptions = await runDisruptions({
      slots,
      redis,
      raw,
      prefix,
      ids: () => ids,
      r: disruptR,
      leaseTtlMs: o.leaseTtlMs,
      until,
      redisAt: t0 + o.durationMs * (0.35 + disruptR.next() * 0.25),
    });
    for (const line of disruptions.timeline) log(line);
    await slots.heal();
    const calm = Date.now();
    const ledgers = await Promise.all(clients);
    log(`clients done; waiting for every session to end`);
    const created = ledgers.flatMap((l) => (l.id ? [l.id] : []));
    await settle(raw, prefix, created, until + o.drainMs);
    const settleMs = Date.now() - calm;
    store = await RedisStore.create({ url: redis.url, prefix });
    const facts = await gather(store, ledgers);
    const verdict = checkSessions(facts);
    verdict.violations.push(...disruptions.redisLosses);
    const storeFencedWrites = (await store.stats()).fenced_writes;
    let logFile: string | null = null;
    // The timeline and every node's output, on a violation or when asked (SOAK_DUMP=1).
    if (verdict.violations.length > 0 || process.env['SOAK_DUMP']) {
      logFile = join(tmpdir(), `soak-${o.seed}-nodes.log`);
      const bad = facts.filter((f) =>
        verdict.violations.some((v) => f.ledger.id && v.includes(f.ledger.id)),
      );
      const dump = bad.map((f) =>
        JSON.stringify(
          { ledger: f.ledger, record: f.record, history: f.history, logs: f.logs, inbox: f.inbox },
          null,
          1,
        ),
      );
      await writeFile(
        logFile,
        [...disruptions.timeline, ...verdict.violations, ...dump, ...slots.output()].join('\n'),
      );
    }
    const { log: _log, ...kept } = o;
    return {
      options: kept,
      redisVersion: redisVersion(),
      verdict,
      disruptions,
      http,
      storeFencedWrites,
      settleMs,
      elapsedMs: Date.now() - started,
      logFile,
    };
  } finally {
    await slots.stopAll();
    await store?.close();
    raw.disconnect();
    await redis.close();
  }
}

/** Waits until every session has ended, holds no lease, and has applied its whole inbox (or the deadline passes). */
async function settle(raw: Redis, prefix: string, ids: string[], deadline: number): Promise<void> {
  let pending = ids;
  while (pending.length > 0 && Date.now() < deadline) {
    const p = raw.pipeline();
    for (const id of pending) {
      const k = sessionKeys(prefix, id);
      p.hmget(k.record, 'status', 'lease_node', 'last_event_id').xrevrange(
        k.inbox,
        '+',
        '-',
        'COUNT',
        1,
      );
    }
    const rows = await p.exec().catch(() => null);
    if (rows) {
      pending = pending.filter((_, i) => {
        const [status, node, last] = (rows[2 * i]?.[1] ?? []) as (string | null)[];
        const newest = (rows[2 * i + 1]?.[1] as [string, string[]][] | undefined)?.[0]?.[0];
        const ended =
          (ENDED_STATUSES as readonly (string | null | undefined)[]).includes(status) && !node;
        return !(ended && (!newest || compareEventIds(last ?? '0-0', newest) >= 0));
      });
    }
    if (pending.length > 0) await sleep(250);
  }
}

async function gather(store: RedisStore, ledgers: SessionLedger[]): Promise<SessionFacts[]> {
  return Promise.all(
    ledgers.map(async (ledger): Promise<SessionFacts> => {
      if (!ledger.id) return { ledger, record: null, history: [], logs: [], inbox: [] };
      const [rec, history, logs, inbox] = await Promise.all([
        store.getSession(ledger.id),
        store.getHistory(ledger.id),
        store.getLogs(ledger.id),
        store.readEvents(ledger.id, '0-0', 100_000),
      ]);
      const record = rec ? (({ snapshot: _s, ...rest }) => rest)(rec) : null;
      return { ledger, record, history, logs, inbox };
    }),
  );
}

function redisVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const spread = (xs: number[]) =>
  xs.length === 0
    ? 'none measured'
    : `p50 ${pct(xs, 50)} ms, p99 ${pct(xs, 99)} ms, max ${Math.max(...xs)} ms (${xs.length} sessions)`;

/** The one summary the soak prints. */
export function formatSummary(rep: SoakReport): string {
  const { verdict: v, disruptions: d, options: o, http } = rep;
  const statuses = Object.entries(v.byStatus)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  const errors =
    Object.entries(http.serverErrors)
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ') || 'none';
  const row = (label: string, value: string) => `  ${label.padEnd(34)} ${value}`;
  return [
    `Chaos soak: seed ${o.seed}, ${Math.round(o.durationMs / 1000)} s of disruptions, ${o.nodes} nodes, lease TTL ${o.leaseTtlMs} ms, scripted work ${o.delayMs} ms a step, Redis ${rep.redisVersion} (appendonly yes, appendfsync ${o.fsync})`,
    row('sessions', `${v.sessions} (${statuses})`),
    row(
      'disruptions',
      `${d.kills} SIGKILL, ${d.pauses} SIGSTOP past the TTL, ${d.restarts} SIGTERM restarts, ${d.redisRestarts} Redis restart (down ${d.redisDownMs} ms)`,
    ),
    row(
      'data across the Redis restart',
      d.redisCensus
        ? `${d.redisCensus.inbox} inbox entries, ${d.redisCensus.logs} log lines, ${d.redisCensus.history} history entries before; sessions with fewer after: ${d.redisLosses.length}`
        : 'not counted',
    ),
    row('events accepted (2xx)', String(v.accepted)),
    row('applied exactly once', `${v.applied}; lost ${v.lost}; duplicated ${v.duplicated}`),
    row(
      'durable timers delivered',
      `${v.timersFired} (back-offs of flaky clones; each key at most once is checked)`,
    ),
    row(
      'retries answered as duplicates',
      `${v.retriedDuplicates} (never acknowledged: ${v.unacknowledged})`,
    ),
    row(
      'fenced writes (stale epoch)',
      `${rep.storeFencedWrites} refused (records: ${v.fencedWrites}); landed: ${v.staleEpochEntries}`,
    ),
    row('failover: kill/pause → next commit', spread(d.failoverMs)),
    row('handoff: SIGTERM → next commit', spread(d.handoffMs)),
    row(
      'Redis back → next commit',
      `${spread(d.redisRecoveryMs)}${d.redisRecoveryMs.length > 0 ? `; ${d.redisResumedInPlace} resumed by their owner, same epoch` : ''}`,
    ),
    row(
      'final diff = undisturbed run',
      `${v.diffsChecked - v.diffMismatches} of ${v.diffsChecked} completed sessions`,
    ),
    row(
      'client retries',
      `${http.retried} (answers dropped on purpose ${http.droppedAnswers}; 5xx: ${errors}; connection errors ${http.connectionErrors}; timeouts ${http.timeouts})`,
    ),
    row(
      'time',
      `settled ${(rep.settleMs / 1000).toFixed(1)} s after the last disruption; ${(rep.elapsedMs / 1000).toFixed(0)} s in all`,
    ),
    row(
      'violations',
      `${v.violations.length}${rep.logFile ? ` (node output: ${rep.logFile})` : ''}`,
    ),
    ...v.violations.slice(0, 30).map((x) => `    ${x}`),
    ...(d.notObserved > 0
      ? [`  note: ${d.notObserved} held session(s) had no newer commit within 30 s of a disruption`]
      : []),
  ].join('\n');
}
