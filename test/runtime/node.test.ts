/**
 * A node's own timing on a simulated clock: the claim loop, and claims held
 * back for one lease TTL after a failed store call (so that, after an
 * outage, the owners' renewals land before anyone else's claims).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../kernel/clock.ts';
import { createLogger } from '../../kernel/logger.ts';
import { RuntimeNode } from '../../runtime/node.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import { fakeWork } from '../support/fake-work.ts';

const TTL = 1000;
const REPO = 'https://example.com/o/r.git';

/** Work that never finishes on its own: a claimed session stays on the node. */
const parked = () => fakeWork({ hold: 'plan' }).work;

/** A memory store on the simulated clock whose `takeReady` can fail. */
class OutageStore extends MemoryStore {
  down = false;
  override async takeReady(max: number, ttlMs: number): Promise<string[]> {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    return super.takeReady(max, ttlMs);
  }
}

let node: RuntimeNode | undefined;
afterEach(async () => {
  await node?.shutdown();
  node = undefined;
});

async function startNode(clock: SimulatedClock, store: MemoryStore) {
  node = await RuntimeNode.start({
    store,
    nodeId: 'n1',
    work: parked(),
    logger: createLogger({ write: () => undefined }),
    concurrency: 10,
    leaseTtlMs: TTL,
    claimIntervalMs: 100,
    clock,
  });
  return node;
}

describe('a node on a simulated clock', () => {
  it('claims a new session at its next claim round', async () => {
    const clock = new SimulatedClock();
    const store = new OutageStore({ clock: () => clock.wallNow() });
    const n = await startNode(clock, store);
    await store.createSession({ id: 's1', goal: 'g', repo_url: REPO, mode: 'auto' });
    await clock.advance(100);
    expect(n.activeSessions).toBe(1);
    expect(n.startedAt).toBe(clock.wallNow() - 100);
  });

  it('holds its claims back for one TTL after a store call failed, then claims', async () => {
    const clock = new SimulatedClock();
    const store = new OutageStore({ clock: () => clock.wallNow() });
    const n = await startNode(clock, store);
    store.down = true;
    // The new session's ready hint makes the node try at once: that call fails.
    await store.createSession({ id: 's1', goal: 'g', repo_url: REPO, mode: 'auto' });
    await clock.advance(0);
    const failedAt = clock.now();
    store.down = false;
    // Claim rounds every 100 ms meanwhile find the store answering, and wait.
    await clock.advance(TTL - 100);
    expect(clock.now() - failedAt).toBe(TTL - 100);
    expect(n.activeSessions).toBe(0);
    await clock.advance(100);
    expect(n.activeSessions).toBe(1);
    expect(n.counters.claims).toBe(1);
  });
});
