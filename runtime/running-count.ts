/**
 * Keeps a user's count of running sessions in step with a session's
 * committed status: counted on entering RUNNING (and on a host's first
 * RUNNING commit, which repairs a count lost with a crashed node), uncounted
 * on leaving it, which lets the user's waiting sessions try again. Only on
 * changes: most commits stay RUNNING and cost nothing here. Never holds the
 * commits back; the calls go in commit order.
 */
import type { SessionStatus } from '../actors/status.ts';
import { type Backoff, retry } from '../kernel/backoff.ts';
import type { Clock } from '../kernel/clock.ts';
import type { Logger } from '../kernel/logger.ts';
import type { RunningLimit } from './store/port.ts';

/** 200 ms doubling to 5 s, ten tries (about half a minute) before it is left to self-repair. */
const COUNT_BACKOFF: Backoff = { initialMs: 200, maxMs: 5000 };
const COUNT_ATTEMPTS = 10;

export interface RunningCountOptions {
  store: Pick<RunningLimit, 'setRunning'>;
  sessionId: string;
  /** The user whose running limit counts this session; nothing is counted without one. */
  userId: string | undefined;
  logger: Logger;
  clock?: Clock;
}

export class RunningCount {
  #opts: RunningCountOptions;
  /** No commit has been seen yet. */
  #first = true;
  #calls: Promise<void> = Promise.resolve();

  constructor(opts: RunningCountOptions) {
    this.#opts = opts;
  }

  /** A commit moved the session's status from `from` to `to`. */
  committed(from: SessionStatus, to: SessionStatus): void {
    const first = this.#first;
    this.#first = false;
    const { userId } = this.#opts;
    if (userId === undefined) return;
    const starts = to === 'RUNNING' && (from !== 'RUNNING' || first);
    // A claimed QUEUED session that ends at once (cancelled while it waited, failed on start) may be counted or parked.
    const ends =
      to !== 'RUNNING' && (from === 'RUNNING' || (first && from === 'QUEUED' && to !== 'QUEUED'));
    if (!starts && !ends) return;
    this.#calls = this.#calls.then(() => this.#set(userId, starts));
  }

  /** Resolves when every count change asked for so far has been tried. */
  settled(): Promise<void> {
    return this.#calls;
  }

  async #set(userId: string, running: boolean): Promise<void> {
    const { store, sessionId, logger, clock } = this.#opts;
    const what = `counting the session as ${running ? '' : 'no longer '}running`;
    try {
      await retry(() => store.setRunning(sessionId, userId, running), {
        backoff: COUNT_BACKOFF,
        maxAttempts: COUNT_ATTEMPTS,
        onRetry: (err) =>
          logger.warn(`${what} failed, retrying`, { session: sessionId, err: String(err) }),
        ...(clock ? { clock } : {}),
      });
    } catch (err) {
      // A lost uncount is repaired at the user's next admission (stale check); a lost count at the next claim.
      logger.error(`${what} failed`, { session: sessionId, err: String(err) });
    }
  }
}
