/**
 * Found by the chaos soak (seed 42): a session cancelled while a retry timer
 * was armed got that timer delivered into its inbox after it had ended. The
 * ended actor ignores events without a new snapshot, so nothing committed the
 * event's id, the store refused every release while the event stayed
 * unapplied, and the node kept the lease (and the actor) for ever. An event
 * that an ended session ignores must still be committed as applied, and the
 * session passivated.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import { compareEventIds } from '../../runtime/store/records.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { waitFor } from '../support/wait.ts';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('events reaching a session that has ended', () => {
  it('a retry timer firing after a cancel is committed as applied, and the lease is given up', async () => {
    const store = new MemoryStore();
    const svc = await startInProcess({ store, leaseTtlMs: 600 });
    stop = svc.stop;
    // "flaky": the first clone fails with a retryable error → a 1 s back-off timer.
    const { body } = await svc.call('POST', '/agent/sessions', {
      goal: 'g',
      repo_url: 'https://example.com/o/flaky.git',
    });
    const id = body.session_id as string;
    await waitFor(
      'the retry back-off',
      async () => (await store.getSession(id))?.phase === 'preparing.waitingRetry',
      5000,
      10,
    );
    expect((await svc.call('POST', `/agent/sessions/${id}/cancel`, {})).status).toBe(202);
    await waitFor(
      'cancelled and passivated',
      async () => {
        const s = await store.getSession(id);
        return s?.status === 'CANCELLED' && s.owner === null;
      },
      5000,
      10,
    );
    // The timer still fires (it was armed in the store), into an ended session's inbox.
    const timer = await waitFor(
      'the timer in the inbox',
      async () => (await store.readEvents(id, '0-0', 10)).find((e) => e.type === 'timer'),
      5000,
      20,
    );
    const done = await waitFor(
      'the timer applied and the lease given up',
      async () => {
        const s = await store.getSession(id);
        return s && s.owner === null && compareEventIds(s.last_event_id, timer.id) >= 0
          ? s
          : undefined;
      },
      5000,
      20,
    );
    expect(done).toMatchObject({ status: 'CANCELLED', phase: 'cancelled' });
    expect(svc.node.activeSessions).toBe(0);
  });
});
