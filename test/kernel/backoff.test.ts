import { describe, expect, it } from 'vitest';
import { backoffDelay, Hurry, retry } from '../../kernel/backoff.ts';
import { SimulatedClock } from '../../kernel/clock.ts';

const POLICY = { initialMs: 100, maxMs: 1000 };

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the cap, of which a random half', () => {
    const low = (n: number) => backoffDelay(POLICY, n, () => 0);
    const high = (n: number) => backoffDelay(POLICY, n, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(high)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3, 4, 5, 6].map(low)).toEqual([50, 100, 200, 400, 500, 500]);
  });
});

describe('retry', () => {
  it('retries until the attempt succeeds, waiting the back-off on the clock between tries', async () => {
    const clock = new SimulatedClock();
    const tries: number[] = [];
    const waits: number[] = [];
    const result = retry(
      async (n) => {
        tries.push(clock.now());
        if (n < 3) throw new Error(`fail ${n}`);
        return 'ok';
      },
      { backoff: POLICY, clock, random: () => 1, onRetry: (_e, delay) => waits.push(delay) },
    );
    await clock.advance(1000);
    await expect(result).resolves.toBe('ok');
    expect(tries).toEqual([0, 100, 300]);
    expect(waits).toEqual([100, 200]);
  });

  it('stops at maxAttempts, or at once for an error that may not be retried, with that error', async () => {
    const clock = new SimulatedClock();
    let calls = 0;
    const limited = retry(
      async () => {
        calls++;
        throw new Error('always');
      },
      { backoff: POLICY, maxAttempts: 3, clock },
    );
    const caught = limited.catch((e: Error) => e.message);
    await clock.advance(10_000);
    expect(await caught).toBe('always');
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('final');
        },
        { backoff: POLICY, retryable: () => false, clock },
      ),
    ).rejects.toThrow('final');
    expect(calls).toBe(1);
  });

  it('takes a delay from the error (Retry-After), never above the cap', async () => {
    const clock = new SimulatedClock();
    const waits: number[] = [];
    let n = 0;
    const done = retry(
      async () => {
        if (++n <= 2) throw Object.assign(new Error('429'), { after: n === 1 ? 300 : 60_000 });
        return n;
      },
      {
        backoff: POLICY,
        clock,
        delayFor: (err) => (err as { after: number }).after,
        onRetry: (_e, delay) => waits.push(delay),
      },
    );
    await clock.advance(5000);
    await expect(done).resolves.toBe(3);
    expect(waits).toEqual([300, 1000]);
  });

  it('gives up with the signal reason when aborted during a wait', async () => {
    const clock = new SimulatedClock();
    const ac = new AbortController();
    const running = retry(
      async () => {
        throw new Error('down');
      },
      { backoff: POLICY, clock, signal: ac.signal },
    );
    await clock.advance(10);
    ac.abort(new Error('host stopped'));
    await expect(running).rejects.toThrow('host stopped');
  });

  it('a hurry cuts the wait short: the next attempt goes at once', async () => {
    const clock = new SimulatedClock();
    const hurry = new Hurry();
    const tries: number[] = [];
    const done = retry(
      async (n) => {
        tries.push(clock.now());
        if (n === 1) throw new Error('down');
        return 'back';
      },
      { backoff: { initialMs: 60_000, maxMs: 60_000 }, clock, hurry, random: () => 1 },
    );
    await clock.advance(10);
    hurry.now();
    await clock.advance(0);
    await expect(done).resolves.toBe('back');
    expect(tries).toEqual([0, 10]);
  });
});
