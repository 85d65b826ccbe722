/**
 * The one stand-in for the agent in tests and benchmarks: the scripted work
 * (deterministic: outputs depend only on inputs), which a test can also hold
 * at one step per session until it releases it, or not script at all and
 * settle every step by hand. `actors` turns the work into the machine's actor
 * logics for tests of the machine alone (no host, no store).
 */
import { fromPromise } from 'xstate';
import type {
  SessionActors,
  SessionStoreView,
  WorkContext,
  WorkFn,
  WorkImplementations,
  WorkName,
} from '../../actors/work-contract.ts';

/**
 * The scripted work. Outputs depend only on inputs, so a disturbed run must
 * end with exactly the diff an undisturbed one produces. Knobs in the goal or URL:
 * - `[reject:N]` in the goal: the reviewer rejects the first N rounds;
 * - `flaky` in the repo URL: the first clone attempt fails with a retryable error;
 * - `broken` in the repo URL: the clone fails for good.
 */
export function scriptedWork(opts: { delayMs?: number } = {}): WorkImplementations {
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  // Like the agent, which asks before each model call and command: a session
  // its node paused (lease not confirmed) waits here and goes on when resumed.
  const delay = async (ms: number, ctx: WorkContext) => {
    await sleep(ms, ctx.signal);
    if (ms > 0) await ctx.ready();
  };
  const d = opts.delayMs ?? 0;
  return {
    async clone(input, ctx) {
      await delay(d, ctx);
      if (input.repoUrl.includes('broken'))
        throw new Error(`repository ${input.repoUrl} not found`);
      if (input.repoUrl.includes('flaky') && input.key.endsWith(':1')) {
        throw Object.assign(new Error('connection reset while cloning'), { retryable: true });
      }
      ctx.log(`cloned ${input.repoUrl}`);
      return {};
    },
    async plan(input, ctx) {
      await delay(d, ctx);
      const lines = input.goal.split('\n').filter((l) => l.trim() !== '');
      return {
        summary: `Plan for: ${lines[0] ?? ''}`,
        steps: lines.map((l, i) => `${i + 1}. ${l}`),
      };
    },
    async code(input, ctx) {
      await delay(d, ctx);
      const lines = input.goal.split('\n').filter((l) => l.trim() !== '');
      const body = lines.map((l) => `+${l}`).join('\n');
      const diff = `--- a/CHANGES.md\n+++ b/CHANGES.md\n@@ -0,0 +1,${lines.length} @@\n${body}\n`;
      return { summary: `iteration ${input.iteration}: ${lines.length} line(s)`, diff };
    },
    async review(input, ctx) {
      await delay(d, ctx);
      const m = /\[reject:(\d+)\]/.exec(input.goal);
      const rejections = m ? Number(m[1]) : 0;
      if (input.round < rejections)
        return { approved: false, feedback: `round ${input.round}: please refine` };
      return { approved: true, feedback: 'looks good' };
    },
  };
}

/** A step's call that waits for the test, when every step is settled by hand. */
export interface PendingCall {
  name: WorkName;
  input: any;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export interface FakeWorkOptions {
  /** Each scripted step waits this long first (and then at `ready()`). */
  delayMs?: number;
  /**
   * A step name: that step of each session waits, before doing its scripted
   * work, until `release(sessionId)` (or until it is aborted): the session
   * stays RUNNING for as long as the test wants, and a step never released
   * keeps it on its node. `every`: nothing is scripted; every call waits in
   * `calls` until the test resolves or rejects it.
   */
  hold?: WorkName | 'every';
}

export function fakeWork(opts: FakeWorkOptions = {}) {
  const base = scriptedWork(opts.delayMs === undefined ? {} : { delayMs: opts.delayMs });
  const released = new Set<string>();
  const waiting = new Map<string, () => void>();
  /** Sessions whose held step has begun (with a live signal). */
  const started = new Set<string>();
  const calls: PendingCall[] = [];

  const byHand =
    <I, O>(name: WorkName): WorkFn<I, O> =>
    (input) =>
      new Promise<O>((resolve, reject) =>
        calls.push({ name, input, resolve: resolve as (v: unknown) => void, reject }),
      );
  const held =
    <I extends { sessionId: string }, O>(fn: WorkFn<I, O>): WorkFn<I, O> =>
    async (input, ctx) => {
      if (!ctx.signal.aborted) started.add(input.sessionId);
      if (!released.has(input.sessionId)) {
        await new Promise<void>((resolve, reject) => {
          if (ctx.signal.aborted) return reject(ctx.signal.reason);
          waiting.set(input.sessionId, resolve);
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
      }
      return fn(input, ctx);
    };

  let work: WorkImplementations;
  if (opts.hold === 'every') {
    work = {
      clone: byHand('clone'),
      plan: byHand('plan'),
      code: byHand('code'),
      review: byHand('review'),
    };
  } else if (opts.hold) {
    const step = opts.hold;
    work = { ...base, [step]: held(base[step] as WorkFn<{ sessionId: string }, unknown>) };
  } else {
    work = base;
  }

  return {
    work,
    /** The work as the machine's actor logics, run without a host. */
    actors: asActors(work),
    /** Lets the held step of a session go on (now, or when it comes). */
    release(sessionId: string): void {
      released.add(sessionId);
      waiting.get(sessionId)?.();
      waiting.delete(sessionId);
    },
    started,
    calls,
    /** The newest call waiting to be settled, checked to be of `name`. */
    last(name: WorkName): PendingCall {
      const c = calls[calls.length - 1];
      if (!c || c.name !== name)
        throw new Error(`expected a pending ${name} call, got ${c?.name ?? 'none'}`);
      return c;
    },
  };
}

/** A store view for work run without a host: there is no store behind it. */
const NO_STORE: SessionStoreView = {
  getUsage: () => Promise.reject(new Error('no store: the machine runs without a host here')),
  addUsage: () => Promise.reject(new Error('no store: the machine runs without a host here')),
  appendTranscript: () =>
    Promise.reject(new Error('no store: the machine runs without a host here')),
  getArtifacts: () => Promise.reject(new Error('no store: the machine runs without a host here')),
  putArtifacts: () => Promise.reject(new Error('no store: the machine runs without a host here')),
};

/** Work functions as the machine's actor logics, for tests of the machine alone. */
export function asActors(work: WorkImplementations): SessionActors {
  const wrap = <I, O>(fn: WorkFn<I, O>) =>
    fromPromise<O, I>(({ input, signal }) =>
      fn(input, { signal, ready: async () => undefined, log: () => undefined, session: NO_STORE }),
    );
  return {
    clone: wrap(work.clone),
    plan: wrap(work.plan),
    code: wrap(work.code),
    review: wrap(work.review),
  };
}
