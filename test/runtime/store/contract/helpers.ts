import { ulid } from 'ulid';
import { afterEach, beforeEach } from 'vitest';
import type { Store } from '../../../../runtime/store/port.ts';
import type { Commit, Lease } from '../../../../runtime/store/records.ts';
import type { StoreHarness } from './harness.ts';

/**
 * What the parts of the store contract share: the lease TTL and repository
 * of their sessions, commits, and the sessions most tests start from.
 */
export const TTL = 300;
export const REPO = 'https://example.com/o/r.git';

/** Each call is a new commit (its own seq) unless `seq` is given. */
let seqs = 0;
export function commitOf(over: Partial<Commit> = {}): Commit {
  return {
    seq: ++seqs,
    snapshot: { v: 1, state: { value: 'coding' } },
    status: 'RUNNING',
    phase: 'coding.running',
    reason: null,
    goal: 'goal',
    result: null,
    lastEventId: '0-0',
    history: [],
    logs: [],
    release: false,
    ...over,
  };
}

/** A new session (`create`), or one taken off the ready queue and claimed (`claimed`), in the running test's store. */
export function sessionMakers(store: () => Store) {
  const create = async (mode: 'auto' | 'review' = 'auto') =>
    (await store().createSession({ id: ulid(), goal: 'goal', repo_url: REPO, mode })).record;
  const claimed = async (node = 'n1'): Promise<{ id: string; lease: Lease }> => {
    const r = await create();
    await store().takeReady(100, TTL);
    const c = await store().claim(r.id, node, TTL);
    if (c.kind !== 'claimed') throw new Error(`claim → ${c.kind}`);
    return { id: r.id, lease: c.lease };
  };
  return { create, claimed };
}

/** Forwards every property to what `current()` is now: the view stays valid across tests. */
function live<T extends object>(current: () => T): T {
  return new Proxy({} as T, {
    get: (_t, key) => {
      const target = current();
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * A new harness for every test of the enclosing `describe` (made before it,
 * cleaned up after it): `h` and `store` always stand for the running test's.
 */
export function eachHarness(factory: () => Promise<StoreHarness>): {
  h: StoreHarness;
  store: Store;
} {
  let current: StoreHarness | undefined;
  beforeEach(async () => {
    current = await factory();
  });
  afterEach(async () => current?.cleanup());
  const harness = () => {
    if (!current) throw new Error('no store harness outside a test');
    return current;
  };
  return { h: live(harness), store: live(() => harness().store) };
}
