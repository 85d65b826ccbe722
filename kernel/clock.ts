/**
 * Time, injected. Lease, timer and back-off logic reads the time and sets its
 * timers through a `Clock`, so tests can run it on a `SimulatedClock`
 * (XState's `Clock` and `SimulatedClock` are the model) instead of sleeping.
 */

/** What `setTimeout` gives back: opaque, only handed to `clearTimeout`. */
export type TimerId = unknown;

export interface Clock {
  /** Monotonic milliseconds (`performance.now()`): for intervals, deadlines and durations. */
  now(): number;
  /** Milliseconds since the epoch (`Date.now()`): for times shown, stored or compared with the store's. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
  setInterval(fn: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
}

/** The real clock of the process. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (id) => clearInterval(id as ReturnType<typeof setInterval>),
};

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(
  ms: number,
  opts: { signal?: AbortSignal; clock?: Clock } = {},
): Promise<void> {
  const { signal, clock = systemClock } = opts;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits for `work`, but at most `ms`: then resolves and lets the work go on
 * unwatched. A rejection of the work within the time rejects.
 */
export async function waitAtMost(
  work: Promise<unknown>,
  ms: number,
  clock: Clock = systemClock,
): Promise<void> {
  let timer: TimerId;
  const late = new Promise<void>((resolve) => {
    timer = clock.setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clock.clearTimeout(timer);
  }
}

interface Pending {
  id: number;
  due: number;
  fn: () => void;
  /** Re-armed after each run, for intervals. */
  every: number | null;
}

/**
 * A clock that moves only when told. `advance(ms)` runs every timer that
 * falls due on the way, in order, each at its own time, and lets the promise
 * callbacks it starts settle before the next one, as they would between real
 * timer ticks.
 */
export class SimulatedClock implements Clock {
  #now: number;
  #wallOffset: number;
  #next = 1;
  #pending = new Map<number, Pending>();

  constructor(start = 0, wallStart = 1_700_000_000_000) {
    this.#now = start;
    this.#wallOffset = wallStart - start;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#now + this.#wallOffset;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    return this.#arm(fn, ms, null);
  }

  clearTimeout(id: TimerId): void {
    this.#pending.delete(id as number);
  }

  setInterval(fn: () => void, ms: number): TimerId {
    return this.#arm(fn, ms, Math.max(1, ms));
  }

  clearInterval(id: TimerId): void {
    this.#pending.delete(id as number);
  }

  /** Timers armed and not yet run (intervals count once). */
  get pendingTimers(): number {
    return this.#pending.size;
  }

  /** Moves time forward by `ms`, running what falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#earliest();
      if (!next || next.due > target) break;
      this.#now = Math.max(this.#now, next.due);
      if (next.every === null) this.#pending.delete(next.id);
      else next.due += next.every;
      next.fn();
    }
    this.#now = target;
    await settle();
  }

  #arm(fn: () => void, ms: number, every: number | null): number {
    const id = this.#next++;
    this.#pending.set(id, { id, due: this.#now + Math.max(0, ms), fn, every });
    return id;
  }

  #earliest(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.#pending.values())
      if (!best || p.due < best.due || (p.due === best.due && p.id < best.id)) best = p;
    return best;
  }
}

/** Lets pending promise callbacks run: a macrotask turn of the real event loop. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
