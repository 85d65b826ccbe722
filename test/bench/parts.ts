import { createActor, fromPromise } from 'xstate';
import { ulid } from 'ulid';
import { createSessionMachine } from '../../actors/index.ts';
import type { Commit, Lease } from '../../runtime/store/records.ts';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { scriptedWork } from '../support/fake-work.ts';

/**
 * The two parts a committed transition is made of, each measured alone on
 * the same machine, so the throughput figure can be read against them:
 * the session machine with instant work and no store, and the fenced commit
 * with no machine.
 */

/** A rate and the CPU time this process spent per unit (µs), from the best of three rounds. */
export interface Rate {
  perSecond: number;
  cpuUs: number;
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** Transitions per second of `n` actors of the session machine, work resolving at once, nothing persisted. */
export async function machineAlone(n: number): Promise<Rate> {
  // The same scripted work the benchmark's nodes run, minus the store.
  const work = scriptedWork();
  const log = () => undefined;
  const ready = () => Promise.resolve();
  // The scripted work keeps nothing outside the snapshot; any use here is a bug.
  const unavailable = () =>
    Promise.reject(new Error('no session store in the machine-alone benchmark'));
  const session = {
    getUsage: unavailable,
    addUsage: unavailable,
    appendTranscript: unavailable,
    getArtifacts: unavailable,
    putArtifacts: unavailable,
  };
  const machine = createSessionMachine({
    clone: fromPromise(({ input, signal }) => work.clone(input, { signal, ready, log, session })),
    plan: fromPromise(({ input, signal }) => work.plan(input, { signal, ready, log, session })),
    code: fromPromise(({ input, signal }) => work.code(input, { signal, ready, log, session })),
    review: fromPromise(({ input, signal }) => work.review(input, { signal, ready, log, session })),
  });
  let best: Rate = { perSecond: 0, cpuUs: 0 };
  for (let round = 0; round < 3; round++) {
    let transitions = 0;
    const t0 = performance.now();
    const c0 = cpuUs();
    await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<void>((resolve) => {
            let last = '';
            const actor = createActor(machine, {
              input: { sessionId: `s${i}`, goal: 'g', repoUrl: 'r', mode: 'auto' },
            });
            actor.subscribe((s) => {
              const v = JSON.stringify(s.value);
              if (v !== last) {
                last = v;
                transitions++;
              }
              if (s.value === 'completed') resolve();
            });
            actor.start();
          }),
      ),
    );
    const rate = {
      perSecond: transitions / ((performance.now() - t0) / 1000),
      cpuUs: (cpuUs() - c0) / transitions,
    };
    if (rate.perSecond > best.perSecond) best = rate;
  }
  return best;
}

/** Fenced commits per second: `n` sessions committing `perSession` times each, concurrently, with a snapshot of `bytes`. */
export async function commitsAlone(
  url: string,
  prefix: string,
  n: number,
  perSession: number,
  bytes: number,
): Promise<Rate> {
  const store = await RedisStore.create({ url, prefix });
  try {
    const ids = Array.from({ length: n }, () => ulid());
    await Promise.all(
      ids.map((id) =>
        store.createSession({ id, goal: 'g', repo_url: 'https://example.com/r.git', mode: 'auto' }),
      ),
    );
    const leases = await Promise.all(
      ids.map(async (id): Promise<Lease> => {
        const r = await store.claim(id, 'bench', 60_000);
        if (r.kind !== 'claimed') throw new Error(`claim → ${r.kind}`);
        return r.lease;
      }),
    );
    const commit: Commit = {
      snapshot: {
        v: 1,
        state: { value: { coding: 'running' }, context: { goal: 'x'.repeat(bytes) } },
      },
      status: 'RUNNING',
      phase: 'coding.running',
      reason: null,
      goal: 'g',
      result: null,
      lastEventId: '0-0',
      history: [
        { event: 'xstate.done.actor.0.session', from: 'planning.running', to: 'coding.running' },
      ],
      logs: ['PROGRAMMER: Executing plan...'],
      release: false,
      seq: 0,
    };
    let best: Rate = { perSecond: 0, cpuUs: 0 };
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      const c0 = cpuUs();
      await Promise.all(
        ids.map(async (id, i) => {
          for (let k = 0; k < perSession; k++) {
            const r = await store.commit(id, leases[i]!, {
              ...commit,
              seq: round * perSession + k + 1,
            });
            if (r.kind !== 'ok') throw new Error(`commit → ${r.kind}`);
          }
        }),
      );
      const rate = {
        perSecond: (n * perSession) / ((performance.now() - t0) / 1000),
        cpuUs: (cpuUs() - c0) / (n * perSession),
      };
      if (rate.perSecond > best.perSecond) best = rate;
    }
    return best;
  } finally {
    await store.close();
  }
}
