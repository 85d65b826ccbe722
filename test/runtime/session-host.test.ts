import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { Commit, CommitResult, Lease, WakeHandler } from '../../runtime/store/records.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { scriptedWork } from '../support/fake-work.ts';
import { waitFor } from '../support/wait.ts';
import type { WorkImplementations } from '../../actors/work-contract.ts';

const REPO = 'https://example.com/o/r.git';

/** A memory store whose commits wait until the test lets them through. */
class GatedStore extends MemoryStore {
  held: { resolve: () => void; commit: Commit }[] = [];
  gate = false;
  override async commit(id: string, lease: Lease, c: Commit): Promise<CommitResult> {
    if (this.gate) await new Promise<void>((resolve) => this.held.push({ resolve, commit: c }));
    return super.commit(id, lease, c);
  }
}

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('session host', () => {
  it('runs a work step only after the transition that started it is committed', async () => {
    const store = new GatedStore();
    store.gate = true;
    const started: string[] = [];
    const base = scriptedWork();
    const work: WorkImplementations = {
      ...base,
      clone: async (input, ctx) => {
        started.push(input.key);
        return base.clone(input, ctx);
      },
    };
    const svc = await startInProcess({ store, work });
    stop = svc.stop;
    const { body } = await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    await waitFor('the first commit to be attempted', () => store.held.length > 0, 5000, 5);
    await new Promise((r) => setTimeout(r, 100));
    expect(started).toEqual([]); // the commit that decided "clone" is not durable yet
    expect(store.held[0]!.commit.phase).toBe('preparing.running');
    store.gate = false;
    for (const h of store.held.splice(0)) h.resolve();
    await waitFor('clone to start', () => started.length === 1, 5000, 5);
    expect(started).toEqual([`${body.session_id}:clone:1`]);
    await waitFor(
      'completion',
      async () => (await store.getSession(body.session_id))?.status === 'COMPLETED',
      5000,
      10,
    );
  });

  it('writes one commit per transition: changes made in one turn share a write', async () => {
    const commits: Commit[] = [];
    class CountingStore extends MemoryStore {
      override async commit(id: string, lease: Lease, c: Commit): Promise<CommitResult> {
        commits.push(c);
        return super.commit(id, lease, c);
      }
    }
    const store = new CountingStore();
    const svc = await startInProcess({ store });
    stop = svc.stop;
    const { body } = await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    await waitFor(
      'completion',
      async () => (await store.getSession(body.session_id))?.status === 'COMPLETED',
      5000,
      10,
    );
    const transitions = commits.flatMap((c) => c.history.map((h) => `${h.from}→${h.to}`));
    expect(transitions).toEqual([
      'queued→preparing.running',
      'preparing.running→planning.running',
      'planning.running→coding.running',
      'coding.running→reviewing.running',
      'reviewing.running→completed',
    ]);
    // The claim's first snapshot (queued → preparing) and the status change it
    // makes are one write, not two.
    expect(commits.length).toBe(transitions.length);
  });

  it('a commit whose reply is lost is retried as the same commit: nothing is written twice', async () => {
    let lost = 0;
    class LossyStore extends MemoryStore {
      override async commit(id: string, lease: Lease, c: Commit): Promise<CommitResult> {
        const res = await super.commit(id, lease, c);
        // Every second commit is written, but its reply never arrives.
        if (c.seq % 2 === 0 && lost < 3) {
          lost++;
          throw new Error('connection reset');
        }
        return res;
      }
    }
    const store = new LossyStore();
    const svc = await startInProcess({ store });
    stop = svc.stop;
    const { body } = await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    await waitFor(
      'completion',
      async () => (await store.getSession(body.session_id))?.status === 'COMPLETED',
      10_000,
      10,
    );
    expect(lost).toBeGreaterThan(0);
    const history = await store.getHistory(body.session_id);
    expect(history.map((h) => h.to)).toEqual([
      'preparing.running',
      'planning.running',
      'coding.running',
      'reviewing.running',
      'completed',
    ]);
    const logs = await store.getLogs(body.session_id);
    expect(logs.filter((l) => l === 'Cloning repo...')).toHaveLength(1);
    expect(new Set(logs).size).toBe(logs.length);
  });

  it('applies an event that follows the last applied one from its wake hint; after a gap it reads the inbox', async () => {
    let reads = 0;
    let dropWakes = 0;
    class HintStore extends MemoryStore {
      override async readEvents(id: string, afterId: string, count: number) {
        reads++;
        return super.readEvents(id, afterId, count);
      }
      override onWake(nodeId: string, handler: WakeHandler) {
        return super.onWake(nodeId, (id, hint) =>
          dropWakes > 0 ? void dropWakes-- : handler(id, hint),
        );
      }
    }
    const store = new HintStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const base = scriptedWork();
    const work: WorkImplementations = {
      ...base,
      plan: async (i, ctx) => {
        await gate;
        return base.plan(i, ctx);
      },
    };
    const svc = await startInProcess({ store, work, leaseTtlMs: 60_000 });
    stop = svc.stop;
    const { body } = await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    const id = body.session_id;
    await waitFor(
      'planning',
      async () => (await store.getSession(id))?.phase === 'planning.running',
      5000,
      5,
    );
    const applied = (eventId: string) =>
      waitFor(
        `${eventId} applied`,
        async () => (await store.getSession(id))?.last_event_id === eventId,
        5000,
        5,
      );
    const input = async (message: string) =>
      (await svc.call('POST', `/agent/sessions/${id}/input`, { message })).body.event_id as string;
    const before = reads;
    await applied(await input('one'));
    expect(reads).toBe(before); // straight from the hint
    dropWakes = 1;
    await input('two'); // its wake-up is lost
    await applied(await input('three')); // its hint follows 'two', not 'one': read the inbox
    expect(reads).toBeGreaterThan(before);
    const logs = await store.getLogs(id);
    expect(logs.filter((l) => l.startsWith('User input received'))).toEqual([
      'User input received: one',
      'User input received: two',
      'User input received: three',
    ]);
    release();
    await waitFor(
      'completion',
      async () => (await store.getSession(id))?.status === 'COMPLETED',
      5000,
      10,
    );
  });

  it('rides out store errors on work logs and timers: the line goes with the next commit, the timer is retried', async () => {
    class FlakyStore extends MemoryStore {
      logFailures = 1;
      timerFailures = 2;
      override async appendLogs(id: string, lease: Lease, lines: string[]): Promise<CommitResult> {
        if (this.logFailures-- > 0) throw new Error('Command timed out');
        return super.appendLogs(id, lease, lines);
      }
      override async scheduleTimer(
        id: string,
        lease: Lease,
        timer: Parameters<MemoryStore['scheduleTimer']>[2],
      ): Promise<CommitResult> {
        if (this.timerFailures-- > 0) throw new Error('Command timed out');
        return super.scheduleTimer(id, lease, timer);
      }
    }
    const store = new FlakyStore();
    const lines: string[] = [];
    const svc = await startInProcess({ store, lines });
    stop = svc.stop;
    // `flaky`: the first clone fails with a transient error, so a retry timer is armed.
    const repo = 'https://example.com/o/flaky.git';
    const { body } = await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: repo });
    await waitFor(
      'completion',
      async () => (await store.getSession(body.session_id))?.status === 'COMPLETED',
      15_000,
      20,
    );
    expect(store.timerFailures).toBeLessThan(0);
    expect(store.logFailures).toBe(0); // its one work log line failed
    expect(
      (await store.getLogs(body.session_id)).filter((l) => l === `cloned ${repo}`),
    ).toHaveLength(1);
    expect(lines.some((l) => l.includes('scheduling a timer failed, retrying'))).toBe(true);
  });

  it('cleans up an ended session with its lease held, after the commit that ended it, then gives the lease up; a failing cleanup still releases', async () => {
    const store = new MemoryStore();
    const seen: { status: string | undefined; owner: string | undefined }[] = [];
    let fail = false;
    const work: WorkImplementations = {
      ...scriptedWork(),
      async ended(id) {
        const rec = await store.getSession(id);
        seen.push({ status: rec?.status, owner: rec?.owner?.nodeId });
        if (fail) throw new Error('sandbox service unreachable');
      },
    };
    const lines: string[] = [];
    const svc = await startInProcess({ store, work, lines });
    stop = svc.stop;
    for (const f of [false, true]) {
      fail = f;
      const { body } = await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
      await waitFor(
        'passivation',
        async () => {
          const r = await store.getSession(body.session_id);
          return (r?.status === 'COMPLETED' && r.owner === null) || undefined;
        },
        5000,
        5,
      );
    }
    expect(seen).toEqual([
      { status: 'COMPLETED', owner: 'test-node' },
      { status: 'COMPLETED', owner: 'test-node' },
    ]);
    expect(
      lines.some(
        (l) =>
          l.includes('cleanup after the session ended failed') &&
          l.includes('sandbox service unreachable'),
      ),
    ).toBe(true);
  });

  it('a fenced commit makes the node drop the actor and write nothing more', async () => {
    const store = new MemoryStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const base = scriptedWork();
    const work: WorkImplementations = {
      ...base,
      plan: async (i, ctx) => {
        await gate;
        return base.plan(i, ctx);
      },
    };
    const lines: string[] = [];
    const svc = await startInProcess({ store, work, lines, leaseTtlMs: 60_000 });
    stop = svc.stop;
    const { body } = await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    const id = body.session_id;
    await waitFor(
      'planning',
      async () => (await store.getSession(id))?.phase === 'planning.running',
      5000,
      5,
    );
    // Another node takes the session over behind this one's back (a new epoch).
    const rec = (await store.getSession(id))!;
    await store.release(id, { nodeId: 'test-node', epoch: rec.epoch }, false);
    const other = await store.claim(id, 'other-node', 60_000);
    expect(other.kind).toBe('claimed');
    release();
    await waitFor(
      'the stale host to be dropped',
      () => lines.some((l) => l.includes('session actor dropped') && l.includes('fenced')),
      5000,
      5,
    );
    expect(svc.node.activeSessions).toBe(0);
    expect(svc.node.counters.fenced).toBe(1);
    const after = (await store.getSession(id))!;
    expect(after.phase).toBe('planning.running');
    expect(after.owner?.nodeId).toBe('other-node');
    expect(after.fenced_writes).toBe(1);
  });

  it('passivates a session waiting for approval and re-activates it on approve', async () => {
    const store = new MemoryStore();
    const svc = await startInProcess({ store });
    stop = svc.stop;
    const { body } = await svc.call('POST', '/agent/sessions', {
      goal: 'g',
      repo_url: REPO,
      mode: 'review',
    });
    await waitFor(
      'waiting',
      async () => (await store.getSession(body.session_id))?.status === 'WAITING_FOR_USER',
      5000,
      5,
    );
    await waitFor('no actor in memory', () => svc.node.activeSessions === 0, 5000, 5);
    expect((await store.getSession(body.session_id))?.owner).toBeNull();
    await svc.call('POST', `/agent/sessions/${body.session_id}/approve`);
    const done = await waitFor(
      'completed',
      async () => {
        const s = await store.getSession(body.session_id);
        return s?.status === 'COMPLETED' ? s : undefined;
      },
      5000,
      5,
    );
    expect(done.epoch).toBe(2); // claimed again for the approve
    expect(svc.node.counters.passivated).toBe(2);
  });
});
