import { describe, expect, it } from 'vitest';
import { SimulatedClock, sleep, systemClock, waitAtMost } from '../../kernel/clock.ts';

describe('SimulatedClock', () => {
  it('runs timers in order of their due time, each at its own time, and only when advanced', async () => {
    const clock = new SimulatedClock(1000);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => ran.push(`a@${clock.now()}`), 10);
    const cancelled = clock.setTimeout(() => ran.push('never'), 15);
    clock.clearTimeout(cancelled);
    expect(ran).toEqual([]);
    await clock.advance(15);
    expect(ran).toEqual(['a@1010']);
    expect(clock.now()).toBe(1015);
    await clock.advance(100);
    expect(ran).toEqual(['a@1010', 'b@1020']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('re-arms intervals until cleared, and lets promise callbacks settle between firings', async () => {
    const clock = new SimulatedClock();
    const seen: number[] = [];
    const id = clock.setInterval(() => {
      void Promise.resolve().then(() => seen.push(clock.now()));
    }, 100);
    await clock.advance(350);
    expect(seen).toEqual([100, 200, 300]);
    clock.clearInterval(id);
    await clock.advance(1000);
    expect(seen).toHaveLength(3);
  });

  it('moves wall time with monotonic time', async () => {
    const clock = new SimulatedClock(0, 5_000);
    await clock.advance(250);
    expect(clock.wallNow()).toBe(5_250);
  });
});

describe('sleep and waitAtMost', () => {
  it('sleep resolves on the clock it is given, and rejects with the reason when aborted', async () => {
    const clock = new SimulatedClock();
    let done = false;
    const slept = sleep(50, { clock }).then(() => {
      done = true;
    });
    await clock.advance(49);
    expect(done).toBe(false);
    await clock.advance(1);
    await slept;
    expect(done).toBe(true);
    const ac = new AbortController();
    const aborted = sleep(10_000, { clock, signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(clock.pendingTimers).toBe(0);
  });

  it('waitAtMost gives up waiting after the limit, passes a rejection through, and leaves no timer', async () => {
    const clock = new SimulatedClock();
    let over = false;
    const waiting = waitAtMost(new Promise(() => undefined), 1000, clock).then(() => {
      over = true;
    });
    await clock.advance(999);
    expect(over).toBe(false);
    await clock.advance(1);
    await waiting;
    expect(over).toBe(true);
    await expect(waitAtMost(Promise.reject(new Error('boom')), 1000, clock)).rejects.toThrow(
      'boom',
    );
    expect(clock.pendingTimers).toBe(0);
    await expect(waitAtMost(Promise.resolve(), 10, systemClock)).resolves.toBeUndefined();
  });
});
