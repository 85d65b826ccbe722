/**
 * The retention sweep (`SESSION_RETENTION_DAYS`): ended sessions whose last
 * update is older than the retention are removed with everything they own.
 * Once at start, then every hour; a sweep takes the oldest `batchSize` at a
 * time (`listEnded`) and removes them one by one, letting other work run
 * between removals, so neither the store nor this process is held up by a
 * backlog of thousands.
 *
 * One node sweeping is enough, but every node may: a removal is one atomic
 * step per session and idempotent, so two sweepers meeting on a session cost
 * a `not_found`, nothing more.
 */
import { type Clock, systemClock, type TimerId } from '../kernel/clock.ts';
import type { Logger } from '../kernel/logger.ts';
import type { SessionRemoval, StoreClock } from './store/port.ts';

export const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** Sessions last updated before this (store ms) are removed; null when `days` is 0 (kept for ever). */
export function retentionCutoff(now: number, days: number): number | null {
  return days > 0 ? now - days * DAY_MS : null;
}

export interface RetentionOptions {
  store: SessionRemoval & StoreClock;
  /** SESSION_RETENTION_DAYS, more than 0. */
  days: number;
  logger: Logger;
  /** Between sweeps; an hour by default. */
  intervalMs?: number;
  /** Sessions listed at a time; 100 by default. */
  batchSize?: number;
  /** The system clock by default; tests move a simulated one. */
  clock?: Clock;
  /** Called once per session removed (the node's `swe_sessions_removed_total`). */
  onRemoved?: () => void;
}

/** What one sweep did. */
export interface SweepResult {
  removed: number;
  /** Listed, but refused by the store: started again (an input) since it ended. */
  refused: number;
}

export class RetentionSweeper {
  #opts: RetentionOptions;
  #clock: Clock;
  #timer: TimerId | undefined;
  #sweeping: Promise<SweepResult> | null = null;
  #closed = false;

  constructor(opts: RetentionOptions) {
    if (!(opts.days > 0)) throw new Error('RetentionSweeper: days must be more than 0');
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Sweeps now, then every interval. */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = this.#clock.setInterval(
      () => void this.#sweepLogged(),
      this.#opts.intervalMs ?? HOUR_MS,
    );
    void this.#sweepLogged();
  }

  /** One sweep (or the one already running). Rejects when the store fails. */
  sweep(): Promise<SweepResult> {
    this.#sweeping ??= this.#run().finally(() => {
      this.#sweeping = null;
    });
    return this.#sweeping;
  }

  /** Stops the timer, and the sweep running at its next removal; resolves once it has stopped. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping?.catch(() => undefined);
  }

  async #sweepLogged(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.sweep();
    } catch (err) {
      // The next interval tries again; what was removed stays removed.
      this.#opts.logger.warn('retention sweep failed', { err: String(err) });
    }
  }

  async #run(): Promise<SweepResult> {
    const { store, days, logger } = this.#opts;
    const size = this.#opts.batchSize ?? 100;
    const cutoff = retentionCutoff(await store.now(), days)!;
    const done: SweepResult = { removed: 0, refused: 0 };
    while (!this.#closed) {
      const batch = await store.listEnded(cutoff, size);
      let progress = 0;
      for (const s of batch) {
        if (this.#closed) break;
        const r = await store.removeSession(s.id);
        if (r.kind === 'active') done.refused++;
        else progress++;
        if (r.kind === 'removed') {
          done.removed++;
          this.#opts.onRemoved?.();
        }
        await yieldTurn();
      }
      // A short batch was the last; one where every session was refused would come back the same.
      if (batch.length < size || progress === 0) break;
    }
    const fields = { ...done, days, cutoff: new Date(cutoff).toISOString() };
    if (done.removed > 0 || done.refused > 0)
      logger.info(`retention: removed ${done.removed} ended sessions`, fields);
    else logger.debug('retention: nothing to remove', fields);
    return done;
  }
}

/**
 * Lets timers and I/O run before the next removal: the embedded store
 * answers without I/O, so awaiting it alone would never leave the microtask
 * queue. `setImmediate` where there is one (Node), a timer otherwise (Deno).
 */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}
