import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../kernel/clock.ts';
import { createLogger } from '../../kernel/logger.ts';
import { DAY_MS, RetentionSweeper, retentionCutoff } from '../../runtime/retention.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { SessionStatus } from '../../actors/status.ts';

const HOUR = 60 * 60 * 1000;
const REPO = 'https://example.com/o/r.git';

/** An embedded store on a clock of its own, with sessions ended at given times. */
function setup() {
  let t = 1_700_000_000_000;
  const store = new MemoryStore({ clock: () => t });
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const end = async (status: SessionStatus = 'COMPLETED') => {
    const { record } = await store.createSession({
      id: ulid(),
      goal: 'g',
      repo_url: REPO,
      mode: 'auto',
    });
    await store.takeReady(1000, 1000);
    const c = await store.claim(record.id, 'n1', 1000);
    if (c.kind !== 'claimed') throw new Error(c.kind);
    await store.commit(record.id, c.lease, {
      seq: 1,
      snapshot: { v: 1, state: { value: 'x' } },
      status,
      phase: 'x',
      reason: null,
      goal: 'g',
      result: null,
      lastEventId: '0-0',
      history: [],
      logs: ['done'],
      release: status !== 'RUNNING',
    });
    return record.id;
  };
  const ids = async () => (await store.listSessions({ limit: 10_000 })).map((s) => s.id).sort();
  /** The store as the sweeper sees it, with `listEnded` replaced. */
  const withListing = (listEnded: MemoryStore['listEnded']) => ({
    now: () => store.now(),
    removeSession: (id: string) => store.removeSession(id),
    listEnded,
  });
  return {
    withListing,
    store,
    lines,
    logger,
    end,
    ids,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('retention sweep', () => {
  it('removes ended sessions last updated more than the retention ago, and nothing else', async () => {
    const s = setup();
    const old = [await s.end('COMPLETED'), await s.end('FAILED'), await s.end('CANCELLED')];
    const running = await s.end('RUNNING');
    s.advance(7 * DAY_MS - 1);
    const recent = await s.end('COMPLETED');
    s.advance(2);
    let counted = 0;
    const sweeper = new RetentionSweeper({
      store: s.store,
      days: 7,
      logger: s.logger,
      onRemoved: () => counted++,
    });
    expect(await sweeper.sweep()).toEqual({ removed: 3, refused: 0 });
    expect(counted).toBe(3);
    expect(await s.ids()).toEqual([running, recent].sort());
    for (const id of old) expect(await s.store.getSession(id)).toBeNull();
    const line = JSON.parse(s.lines.find((l) => l.includes('retention: removed'))!);
    expect(line).toMatchObject({ level: 'info', msg: 'retention: removed 3 ended sessions' });
    expect(line).toMatchObject({ removed: 3, refused: 0, days: 7 });
    // Nothing more to do: said at debug level only.
    expect(await sweeper.sweep()).toEqual({ removed: 0, refused: 0 });
    expect(s.lines.at(-1)).toContain('"level":"debug"');
  });

  it('goes through a backlog in batches, and a session started again since it ended is kept', async () => {
    const s = setup();
    for (let i = 0; i < 250; i++) await s.end();
    const revived = await s.end();
    await s.store.appendEvent(revived, { type: 'input', payload: { message: 'again' } });
    s.advance(DAY_MS + 1);
    const listed: number[] = [];
    const store = s.withListing(async (before, limit) => {
      const batch = await s.store.listEnded(before, limit);
      listed.push(batch.length);
      return batch;
    });
    const sweeper = new RetentionSweeper({ store, days: 1, logger: s.logger, batchSize: 100 });
    expect(await sweeper.sweep()).toEqual({ removed: 250, refused: 1 });
    expect(listed).toEqual([100, 100, 51]);
    expect(await s.ids()).toEqual([revived]);
  });

  it('stops when a whole batch is refused, instead of listing it again for ever', async () => {
    const s = setup();
    for (let i = 0; i < 3; i++) {
      const id = await s.end();
      await s.store.appendEvent(id, { type: 'input', payload: { message: 'again' } });
    }
    s.advance(DAY_MS + 1);
    const sweeper = new RetentionSweeper({
      store: s.store,
      days: 1,
      logger: s.logger,
      batchSize: 3,
    });
    expect(await sweeper.sweep()).toEqual({ removed: 0, refused: 3 });
  });

  it('lets other work run between removals', async () => {
    const s = setup();
    for (let i = 0; i < 50; i++) await s.end();
    s.advance(DAY_MS + 1);
    const sweeper = new RetentionSweeper({ store: s.store, days: 1, logger: s.logger });
    let ticks = 0;
    let removedAtFirstTick = -1;
    const timer = setImmediate(function tick() {
      ticks++;
      if (removedAtFirstTick < 0)
        void s.ids().then((ids) => (removedAtFirstTick = 50 - ids.length));
    });
    const done = sweeper.sweep();
    await done;
    clearImmediate(timer);
    expect(ticks).toBe(1);
    // The callback ran while the sweep was still under way, not after it.
    expect(removedAtFirstTick).toBeLessThan(50);
  });

  it('sweeps at start and then every interval, and stops cleanly on close', async () => {
    const s = setup();
    const clock = new SimulatedClock();
    await s.end();
    s.advance(DAY_MS + 1);
    const sweeper = new RetentionSweeper({ store: s.store, days: 1, logger: s.logger, clock });
    sweeper.start();
    await clock.advance(0);
    expect(await s.ids()).toEqual([]);
    const later = await s.end();
    s.advance(DAY_MS + 1);
    await clock.advance(HOUR - 1);
    expect(await s.ids()).toEqual([later]);
    await clock.advance(1);
    expect(await s.ids()).toEqual([]);
    // Closed in the middle of a sweep: it stops before its next removal, and no timer is left.
    for (let i = 0; i < 20; i++) await s.end();
    s.advance(DAY_MS + 1);
    const running = sweeper.sweep();
    await sweeper.close();
    expect((await running).removed).toBeLessThan(20);
    expect(clock.pendingTimers).toBe(0);
    const left = await s.ids();
    expect(left.length).toBeGreaterThan(0);
    await clock.advance(2 * HOUR);
    expect(await s.ids()).toEqual(left);
  });

  it('logs a store failure and tries again at the next interval', async () => {
    const s = setup();
    const clock = new SimulatedClock();
    await s.end();
    s.advance(DAY_MS + 1);
    let fail = true;
    const store = s.withListing(async (before, limit) => {
      if (fail) throw new Error('store is down');
      return s.store.listEnded(before, limit);
    });
    const sweeper = new RetentionSweeper({ store, days: 1, logger: s.logger, clock });
    sweeper.start();
    await clock.advance(0);
    expect(
      s.lines.some((l) => l.includes('retention sweep failed') && l.includes('store is down')),
    ).toBe(true);
    fail = false;
    await clock.advance(HOUR);
    await sweeper.sweep();
    expect(await s.ids()).toEqual([]);
    await sweeper.close();
  });

  it('has a cutoff only when sessions are not kept for ever', () => {
    expect(retentionCutoff(10 * DAY_MS, 3)).toBe(7 * DAY_MS);
    expect(retentionCutoff(10 * DAY_MS, 0)).toBeNull();
  });
});
