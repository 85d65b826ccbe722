import { fromPromise } from 'xstate';
import type { SessionActors, WorkName } from '../../actors/index.ts';

interface Call {
  name: WorkName;
  input: any;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** Work actors whose every invocation waits for the test to resolve or reject it. */
export function controlledWork() {
  const calls: Call[] = [];
  const make = (name: WorkName) =>
    fromPromise<any, any>(
      ({ input }) => new Promise((resolve, reject) => calls.push({ name, input, resolve, reject })),
    );
  const actors = {
    clone: make('clone'),
    plan: make('plan'),
    code: make('code'),
    review: make('review'),
  } as unknown as SessionActors;
  /** The newest pending call, checked to be of `name`. */
  const last = (name: WorkName): Call => {
    const c = calls[calls.length - 1];
    if (!c || c.name !== name)
      throw new Error(`expected a pending ${name} call, got ${c?.name ?? 'none'}`);
    return c;
  };
  return { actors, calls, last };
}

/** Lets promise callbacks and XState's processing run. */
export const flush = () => new Promise<void>((r) => setTimeout(r, 0));
