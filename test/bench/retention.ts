/**
 * What a completed session costs in Redis memory, and what a retention sweep
 * gives back: 1,000 sessions created and run to COMPLETED through the store
 * with the content a real one leaves (keyed create and input, a commit per
 * transition with its history and logs, progress lines, three roles'
 * transcripts, usage, artifacts with a checkpoint diff, a result with the
 * diff), Redis `used_memory` read as they complete, then the sweeper
 * (`runtime/retention.ts`) run with a cutoff past all of them.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Redis } from 'ioredis';
import { ulid } from 'ulid';
import { createLogger } from '../../kernel/logger.ts';
import { DAY_MS, RetentionSweeper } from '../../runtime/retention.ts';
import type { Commit, Lease } from '../../runtime/store/records.ts';
import type { Store } from '../../runtime/store/port.ts';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { DB_FILE } from '../../runtime/store/sqlite/open.ts';
import { SqliteStore } from '../../runtime/store/sqlite/sqlite-store.ts';
import { dumpRedis } from '../support/store-state.ts';
import { sleep } from '../support/wait.ts';

export interface RetentionFigures {
  sessions: number;
  /** `used_memory` before any session, after every `step` completed, and after the sweep (bytes). */
  baseline: number;
  growth: { completed: number; usedMemory: number }[];
  afterSweep: number;
  /** `MEMORY USAGE` of every key under the prefix, summed, with all completed (bytes). */
  keyBytes: number;
  keys: number;
  keysAfter: number;
  /** Keys, members or values that still name a removed session (should be 0). */
  leftovers: number;
  removed: number;
  sweepMs: number;
  /** Time to run the sessions (50 at a time). */
  runMs: number;
}

const TTL = 30_000;
const words = (n: number, seed: number) =>
  Array.from({ length: n }, (_, i) => `w${(seed * 31 + i * 7) % 997}`).join(' ');
/** A unified diff of about `bytes`, as the programmer's change would be. */
const diff = (bytes: number, seed: number) => {
  const lines = [
    `diff --git a/src/auth.py b/src/auth.py`,
    '--- a/src/auth.py',
    '+++ b/src/auth.py',
  ];
  for (let i = 0; lines.join('\n').length < bytes; i++)
    lines.push(`${i % 2 ? '+' : '-'}    return await session.${words(6, seed + i)}`);
  return lines.join('\n');
};
/** A snapshot of about 1 KB, the size a completed session's is (`npm run bench -- throughput`). */
const snapshot = (seed: number) => ({
  v: 1,
  state: {
    value: 'completed',
    context: { goal: words(20, seed), plan: { steps: [words(15, seed), words(15, seed + 1)] } },
    history: words(60, seed + 2),
  },
});

async function usedMemory(raw: Redis): Promise<number> {
  // Big values are freed by a background thread after UNLINK: wait for it.
  for (let i = 0; i < 50; i++) {
    const info = await raw.info('memory');
    if (/lazyfree_pending_objects:0\b/.test(info) || !/lazyfree_pending_objects/.test(info))
      return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    await sleep(20);
  }
  return Number(/used_memory:(\d+)/.exec(await raw.info('memory'))?.[1] ?? 0);
}

/** One session from creation to a released COMPLETED commit. */
async function runOne(store: Store, n: number): Promise<string> {
  const userId = `user${n % 20}`;
  const key = (k: string) => ({ userId, key: `${k}-${n}`, fingerprint: `f${n}`, ttlMs: DAY_MS });
  const { record } = await store.createSession(
    {
      id: ulid(),
      goal: `Refactor the login function in auth.py to use async/await (${words(20, n)})`,
      repo_url: 'https://github.com/example/my-repo.git',
      mode: 'auto',
      userId,
      maxRunning: 10,
    },
    key('create'),
  );
  const id = record.id;
  // As a node would: off the ready queue (others' ids too, as a node's batch), then claimed.
  await store.takeReady(100, TTL);
  const claim = await store.claim(id, 'bench', TTL);
  if (claim.kind !== 'claimed') throw new Error(`claim → ${claim.kind}`);
  const lease: Lease = claim.lease;
  await store.admit(id, userId, 10);
  const input = await store.appendEvent(
    id,
    { type: 'input', payload: { message: `also update the README ${words(10, n)}` } },
    { idempotencyKey: key('input') },
  );
  const lastEventId = input.kind === 'appended' ? input.eventId : '0-0';
  const steps = [
    ['queued', 'preparing.cloning'],
    ['preparing.cloning', 'planning.running'],
    ['planning.running', 'coding.running'],
    ['coding.running', 'reviewing.running'],
    ['reviewing.running', 'completed'],
  ];
  let seq = 0;
  for (const [from, to] of steps) {
    const done = to === 'completed';
    const c: Commit = {
      seq: ++seq,
      snapshot: snapshot(n),
      status: done ? 'COMPLETED' : 'RUNNING',
      phase: to!,
      reason: null,
      goal: record.goal,
      result: done
        ? {
            summary: words(40, n),
            diff: diff(2000, n),
            files_changed: ['src/auth.py', 'README.md'],
            plan: { summary: words(20, n), steps: [words(12, n), words(12, n + 1)] },
            review: { approved: true, comments: words(30, n) },
          }
        : null,
      lastEventId,
      history: [{ event: `xstate.done.actor.${to}`, from: from!, to: to!, payload: { n } }],
      logs: [`${to!.split('.')[0]!.toUpperCase()}: ${words(8, n)}`],
      release: done,
    };
    if (!done) {
      // Progress of the step's work: ten command lines each.
      await store.appendLogs(
        id,
        lease,
        Array.from({ length: 10 }, (_, i) => `  | ${words(10, n + i)}`),
      );
    }
    const r = await store.commit(id, lease, c);
    if (r.kind !== 'ok') throw new Error(`commit → ${r.kind}`);
    if (to === 'reviewing.running') {
      await store.addUsage(id, lease, {
        calls: 24,
        inputTokens: 48_000,
        outputTokens: 6_000,
        costMicros: 90_000,
      });
      for (const role of ['planner', 'programmer', 'reviewer'])
        await store.appendTranscript(
          id,
          lease,
          role,
          Array.from({ length: 12 }, (_, i) => ({
            role: i % 2 ? 'assistant' : 'user',
            content: words(60, n + i),
          })),
        );
      await store.putArtifacts(id, lease, {
        sandbox: `local-${id}`,
        base: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
        checkpoint: diff(2000, n + 1),
      });
    }
  }
  await store.setRunning(id, userId, false);
  return id;
}

export async function benchRetention(
  raw: Redis,
  url: string,
  prefix: string,
  sessions = 1000,
  step = 250,
): Promise<RetentionFigures> {
  const store = await RedisStore.create({ url, prefix });
  // Warm-up, removed again: the scripts are loaded and the connections' buffers exist before the baseline.
  for (const id of await Promise.all(Array.from({ length: 20 }, (_, i) => runOne(store, -1 - i))))
    await store.removeSession(id);
  const baseline = await usedMemory(raw);
  const growth: RetentionFigures['growth'] = [];
  const ids: string[] = [];
  const run0 = performance.now();
  for (let done = 0; done < sessions; ) {
    const batch = Math.min(50, sessions - done);
    ids.push(
      ...(await Promise.all(Array.from({ length: batch }, (_, i) => runOne(store, done + i)))),
    );
    done += batch;
    if (done % step === 0 || done === sessions)
      growth.push({ completed: done, usedMemory: await usedMemory(raw) });
  }
  const runMs = performance.now() - run0;
  const before = await dumpRedis(raw, prefix);
  const keys = Object.keys(before);
  const sizes = raw.pipeline();
  for (const k of keys) sizes.memory('USAGE', k, 'SAMPLES', '0');
  const keyBytes = ((await sizes.exec()) ?? []).reduce((s, [, n]) => s + Number(n ?? 0), 0);
  // The sweeper as a node runs it, with a cutoff a day past every session.
  const later = { now: async () => (await store.now()) + 2 * DAY_MS };
  const sweeper = new RetentionSweeper({
    store: {
      now: later.now,
      listEnded: (b, l) => store.listEnded(b, l),
      removeSession: (id) => store.removeSession(id),
    },
    days: 1,
    logger: createLogger({ level: 'warn', write: () => undefined }),
  });
  const t0 = performance.now();
  const { removed } = await sweeper.sweep();
  const sweepMs = performance.now() - t0;
  await sweeper.close();
  const afterSweep = await usedMemory(raw);
  const after = await dumpRedis(raw, prefix);
  const text = JSON.stringify(after);
  const leftovers = ids.filter((id) => text.includes(id)).length;
  await store.close();
  return {
    sessions,
    baseline,
    growth,
    afterSweep,
    keyBytes,
    keys: keys.length,
    keysAfter: Object.keys(after).length,
    leftovers,
    removed,
    sweepMs,
    runMs,
  };
}

/** The same sessions on the embedded SQLite store: its file per session, and what a sweep gives back. */
export interface SqliteRetentionFigures {
  sessions: number;
  runMs: number;
  /** The database file after a clean close (the write-ahead log checkpointed into it), bytes. */
  emptyBytes: number;
  fileBytes: number;
  removed: number;
  sweepMs: number;
  /** After the sweep: the file keeps its size, its pages are free for the next sessions. */
  fileAfterSweep: number;
  freeAfterSweep: number;
  /** The file after as many sessions again: the freed pages were used. */
  fileAfterRefill: number;
  /** Rows that still name a removed session (should be 0). */
  leftovers: number;
}

export async function benchRetentionSqlite(sessions = 1000): Promise<SqliteRetentionFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'swe-bench-sqlite-'));
  const file = join(dir, DB_FILE);
  const fill = async (store: Store) => {
    const ids: string[] = [];
    for (let done = 0; done < sessions; done += 50)
      ids.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, sessions - done) }, (_, i) => runOne(store, done + i)),
        )),
      );
    return ids;
  };
  try {
    await new SqliteStore({ dir }).close();
    const emptyBytes = statSync(file).size;
    let store = new SqliteStore({ dir });
    const run0 = performance.now();
    const ids = await fill(store);
    const runMs = performance.now() - run0;
    await store.close();
    const fileBytes = statSync(file).size;
    store = new SqliteStore({ dir });
    const sweeper = new RetentionSweeper({
      store: {
        now: async () => (await store.now()) + 2 * DAY_MS,
        listEnded: (b, l) => store.listEnded(b, l),
        removeSession: (id) => store.removeSession(id),
      },
      days: 1,
      logger: createLogger({ level: 'warn', write: () => undefined }),
    });
    const t0 = performance.now();
    const { removed } = await sweeper.sweep();
    const sweepMs = performance.now() - t0;
    await sweeper.close();
    await store.close();
    const fileAfterSweep = statSync(file).size;
    const raw = new DatabaseSync(file, { readOnly: true });
    const pageSize = Number(raw.prepare('PRAGMA page_size').get()?.['page_size']);
    const freeAfterSweep =
      Number(raw.prepare('PRAGMA freelist_count').get()?.['freelist_count']) * pageSize;
    const removedSet = new Set(ids);
    let leftovers = 0;
    for (const { name } of raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all() as { name: string }[]) {
      for (const row of raw.prepare(`SELECT * FROM ${name}`).all())
        for (const v of Object.values(row))
          if (typeof v === 'string' && [...removedSet].some((id) => v.includes(id))) leftovers++;
    }
    raw.close();
    store = new SqliteStore({ dir });
    await fill(store);
    await store.close();
    return {
      sessions,
      runMs,
      emptyBytes,
      fileBytes,
      removed,
      sweepMs,
      fileAfterSweep,
      freeAfterSweep,
      fileAfterRefill: statSync(file).size,
      leftovers,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
