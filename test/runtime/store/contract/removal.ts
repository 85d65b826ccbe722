import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { SESSION_STATUSES, type SessionStatus } from '../../../../actors/status.ts';
import type { Store } from '../../../../runtime/store/port.ts';
import type { Commit, Lease, RequestKey } from '../../../../runtime/store/records.ts';
import type { StoreHarness } from './harness.ts';
import { commitOf, eachHarness, REPO, TTL } from './helpers.ts';

const DAY = 24 * 60 * 60 * 1000;
const key = (userId: string, k: string, fingerprint: string): RequestKey => ({
  userId,
  key: k,
  fingerprint,
  ttlMs: DAY,
});

/**
 * A session with something in every part of the store it can own: a keyed
 * create and a keyed input, logs and history, a timer, usage, transcripts,
 * artifacts, and a place in its user's running set; then ended by a
 * releasing commit (or left where `end` says).
 */
export async function fullSession(
  store: Store,
  opts: { userId?: string; end?: Partial<Commit> } = {},
): Promise<{ id: string; lease: Lease; createKey: RequestKey; inputKey: RequestKey }> {
  const userId = opts.userId ?? 'u1';
  const createKey = key(userId, `create-${ulid()}`, 'f-create');
  const inputKey = key(userId, `input-${ulid()}`, 'f-input');
  const { record } = await store.createSession(
    { id: ulid(), goal: 'goal', repo_url: REPO, mode: 'auto', userId, maxRunning: 5 },
    createKey,
  );
  const { id } = record;
  const ev = await store.appendEvent(
    id,
    { type: 'input', payload: { message: 'more' } },
    { idempotencyKey: inputKey },
  );
  if (ev.kind !== 'appended') throw new Error(`append → ${ev.kind}`);
  await store.takeReady(100, TTL);
  const c = await store.claim(id, 'n1', TTL);
  if (c.kind !== 'claimed') throw new Error(`claim → ${c.kind}`);
  const { lease } = c;
  // Counted as running, as a crash between its last commit and `setRunning` would leave it.
  expect(await store.admit(id, userId, 5)).toEqual({ admitted: true });
  await store.commit(
    id,
    lease,
    commitOf({
      lastEventId: ev.eventId,
      history: [{ event: 'input', from: 'queued', to: 'coding.running', payload: { n: 1 } }],
      logs: ['Starting session...', 'Cloning repo...'],
    }),
  );
  await store.appendLogs(id, lease, ['  | progress']);
  await store.scheduleTimer(id, lease, { key: 'retry', delayMs: 1, payload: { why: 'later' } });
  await store.addUsage(id, lease, { calls: 2, inputTokens: 10, outputTokens: 5, costMicros: 7 });
  await store.appendTranscript(id, lease, 'planner', [{ role: 'user', content: 'plan' }]);
  await store.appendTranscript(id, lease, 'coder', [{ role: 'assistant', content: 'done' }]);
  await store.putArtifacts(id, lease, { sandbox: 'sb-1', checkpoint: 'diff --git a b' });
  const end = await store.commit(
    id,
    lease,
    commitOf({
      status: 'COMPLETED',
      phase: 'completed',
      result: { summary: 's', diff: 'd' },
      lastEventId: ev.eventId,
      history: [{ event: 'done', from: 'coding.running', to: 'completed' }],
      logs: ['Done.'],
      release: true,
      ...opts.end,
    }),
  );
  if (end.kind !== 'ok') throw new Error(`commit → ${end.kind}`);
  return { id, lease, createKey, inputKey };
}

const zero = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<
  SessionStatus,
  number
>;

/**
 * Removal of ended sessions: nothing of a removed session is found through
 * any method, a session that may still run is refused, and the sweep's
 * listing is ordered by last update with a strict cutoff.
 */
export function removalContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { h, store } = eachHarness(factory);

    /** A session ended by a releasing commit with this status, nothing else in it. */
    const ended = async (status: SessionStatus = 'COMPLETED', userId = 'u1') => {
      const { record } = await store.createSession({
        id: ulid(),
        goal: 'goal',
        repo_url: REPO,
        mode: 'auto',
        userId,
      });
      await store.takeReady(100, TTL);
      const c = await store.claim(record.id, 'n1', TTL);
      if (c.kind !== 'claimed') throw new Error(`claim → ${c.kind}`);
      await store.commit(record.id, c.lease, commitOf({ status, phase: 'x', release: true }));
      return record.id;
    };

    it('removal: a removed session is gone from every read, index and request key', async () => {
      const { id, createKey, inputKey } = await fullSession(store);
      const now = await store.now();
      expect((await store.listEnded(now + 1, 10)).map((s) => s.id)).toEqual([id]);
      expect(await store.removeSession(id)).toEqual({ kind: 'removed' });

      expect(await store.getSession(id)).toBeNull();
      for (const q of [
        {},
        { status: 'COMPLETED' as const },
        { userId: 'u1' },
        { userId: 'u1', status: 'COMPLETED' as const },
        { createdAfter: 0 },
        { createdBefore: now + DAY },
      ])
        expect(await store.listSessions({ limit: 10, ...q }), JSON.stringify(q)).toEqual([]);
      expect(await store.countByStatus()).toEqual(zero);
      expect(await store.listEnded(now + DAY, 10)).toEqual([]);
      expect(await store.getLogs(id)).toEqual([]);
      expect(await store.getHistory(id)).toEqual([]);
      expect(await store.readEvents(id, '0-0', 100)).toEqual([]);
      expect(await store.getUsage(id)).toEqual({
        calls: 0,
        inputTokens: 0,
        outputTokens: 0,
        costMicros: 0,
      });
      expect(await store.getTranscript(id, 'planner')).toEqual([]);
      expect(await store.getTranscript(id, 'coder')).toEqual([]);
      expect(await store.getArtifacts(id)).toEqual({});
      expect(await store.findRequestKey(createKey)).toEqual({ kind: 'unused' });
      expect(await store.findRequestKey(inputKey)).toEqual({ kind: 'unused' });
      expect(await store.appendEvent(id, { type: 'input', payload: { message: 'x' } })).toEqual({
        kind: 'not_found',
      });
      expect(await store.claim(id, 'n2', TTL)).toEqual({ kind: 'not_found' });
      // Its timer (due by now) is not delivered, and nothing hands the session out.
      await h.advance(10);
      expect(await store.fireDueTimers(100)).toBe(0);
      expect(await store.takeReady(100, TTL)).not.toContain(id);
      // No longer counted as its user's running session, nor waiting to be.
      const other = await store.createSession({
        id: ulid(),
        goal: 'g',
        repo_url: REPO,
        mode: 'auto',
      });
      expect(await store.admit(other.record.id, 'u1', 1)).toEqual({ admitted: true });
      expect(await store.removeSession(id)).toEqual({ kind: 'not_found' });
    });

    it('removal: the key of its create is free again, for a new session', async () => {
      const { id, createKey } = await fullSession(store);
      expect(await store.removeSession(id)).toEqual({ kind: 'removed' });
      const again = await store.createSession(
        { id: ulid(), goal: 'again', repo_url: REPO, mode: 'auto', userId: 'u1' },
        createKey,
      );
      expect(again.created).toBe(true);
      expect(again.record.id).not.toBe(id);
      expect(await store.findRequestKey(createKey)).toEqual({
        kind: 'used',
        sessionId: again.record.id,
      });
    });

    it('removal: a parked session of the user is not promoted onto the ready queue once removed', async () => {
      const id = await ended('COMPLETED', 'u2');
      // Parked by a limit of 0, as a crash before its cleanup would leave it.
      expect((await store.admit(id, 'u2', 0)).admitted).toBe(false);
      expect(await store.removeSession(id)).toEqual({ kind: 'removed' });
      const other = await store.createSession({
        id: ulid(),
        goal: 'g',
        repo_url: REPO,
        mode: 'auto',
      });
      await store.admit(other.record.id, 'u2', 1);
      await store.setRunning(other.record.id, 'u2', false);
      expect(await store.takeReady(100, TTL)).not.toContain(id);
    });

    it('removal: refuses a session that is active, leased, or has an event not yet applied', async () => {
      // QUEUED, and RUNNING (claimed, committed, lease held).
      const queued = await store.createSession({
        id: ulid(),
        goal: 'g',
        repo_url: REPO,
        mode: 'auto',
      });
      expect(await store.removeSession(queued.record.id)).toEqual({
        kind: 'active',
        status: 'QUEUED',
      });
      const { id: running } = await fullSession(store, {
        end: { status: 'RUNNING', release: false },
      });
      expect(await store.removeSession(running)).toEqual({ kind: 'active', status: 'RUNNING' });
      // Waiting for the user: passive, but not ended.
      const { id: waiting } = await fullSession(store, {
        end: { status: 'WAITING_FOR_USER', phase: 'awaitingApproval' },
      });
      expect(await store.removeSession(waiting)).toEqual({
        kind: 'active',
        status: 'WAITING_FOR_USER',
      });
      // Completed, with its lease still held (not released yet).
      const { id: leased } = await fullSession(store, { end: { release: false } });
      expect(await store.removeSession(leased)).toEqual({ kind: 'active', status: 'COMPLETED' });
      // Completed, then an input arrived that will start it again.
      const { id: revived } = await fullSession(store);
      const ev = await store.appendEvent(revived, { type: 'input', payload: { message: 'again' } });
      expect(ev.kind).toBe('appended');
      expect(await store.removeSession(revived)).toEqual({ kind: 'active', status: 'COMPLETED' });
      // Refused means untouched.
      for (const id of [running, waiting, leased, revived]) {
        expect(await store.getSession(id), id).not.toBeNull();
        expect(await store.getLogs(id)).toContain('Cloning repo...');
        expect(await store.getTranscript(id, 'coder')).toHaveLength(1);
        expect(await store.getArtifacts(id)).toMatchObject({ sandbox: 'sb-1' });
      }
      expect(await store.readEvents(revived, '0-0', 10)).toHaveLength(2);
      // A lease that ran out holds nothing back.
      await h.advance(TTL + 50);
      expect(await store.removeSession(leased)).toEqual({ kind: 'removed' });
    });

    it('removal: an unknown session is not_found', async () => {
      expect(await store.removeSession(ulid())).toEqual({ kind: 'not_found' });
    });

    it('removal: removing one session leaves another, of the same user, whole', async () => {
      const gone = await fullSession(store);
      const kept = await fullSession(store);
      const before = {
        record: await store.getSession(kept.id),
        logs: await store.getLogs(kept.id),
        history: await store.getHistory(kept.id),
        events: await store.readEvents(kept.id, '0-0', 100),
        usage: await store.getUsage(kept.id),
        planner: await store.getTranscript(kept.id, 'planner'),
        coder: await store.getTranscript(kept.id, 'coder'),
        artifacts: await store.getArtifacts(kept.id),
        createKey: await store.findRequestKey(kept.createKey),
        inputKey: await store.findRequestKey(kept.inputKey),
      };
      expect(await store.removeSession(gone.id)).toEqual({ kind: 'removed' });
      expect({
        record: await store.getSession(kept.id),
        logs: await store.getLogs(kept.id),
        history: await store.getHistory(kept.id),
        events: await store.readEvents(kept.id, '0-0', 100),
        usage: await store.getUsage(kept.id),
        planner: await store.getTranscript(kept.id, 'planner'),
        coder: await store.getTranscript(kept.id, 'coder'),
        artifacts: await store.getArtifacts(kept.id),
        createKey: await store.findRequestKey(kept.createKey),
        inputKey: await store.findRequestKey(kept.inputKey),
      }).toEqual(before);
      expect((await store.listSessions({ limit: 10, userId: 'u1' })).map((s) => s.id)).toEqual([
        kept.id,
      ]);
      expect(await store.countByStatus()).toEqual({ ...zero, COMPLETED: 1 });
    });

    it('listEnded: ended sessions updated before the cutoff, oldest update first, at most limit', async () => {
      const first = await ended('COMPLETED');
      await h.advance(5);
      const second = await ended('FAILED');
      await h.advance(5);
      const third = await ended('CANCELLED');
      await h.advance(5);
      // Not ended: never listed.
      await store.createSession({ id: ulid(), goal: 'g', repo_url: REPO, mode: 'auto' });
      await fullSession(store, { end: { status: 'WAITING_FOR_USER' } });
      const [a, b, c] = (await Promise.all(
        [first, second, third].map((id) => store.getSession(id)),
      )) as NonNullable<Awaited<ReturnType<Store['getSession']>>>[];
      expect(a!.updated_at).toBeLessThan(b!.updated_at);
      expect(b!.updated_at).toBeLessThan(c!.updated_at);
      const ids = async (before: number, limit: number) =>
        (await store.listEnded(before, limit)).map((s) => s.id);
      const later = (await store.now()) + 1;
      expect(await ids(later, 10)).toEqual([first, second, third]);
      expect(await ids(later, 2)).toEqual([first, second]);
      expect(await ids(later, 0)).toEqual([]);
      // Strictly before: the cutoff at a session's update leaves it out.
      expect(await ids(c!.updated_at, 10)).toEqual([first, second]);
      expect(await ids(a!.updated_at, 10)).toEqual([]);
      // A summary, without the snapshot.
      const [summary] = await store.listEnded(later, 1);
      expect(summary).toMatchObject({ id: first, status: 'COMPLETED', userId: 'u1' });
      expect(summary).not.toHaveProperty('snapshot');
      expect(await store.removeSession(second)).toEqual({ kind: 'removed' });
      expect(await ids(later, 10)).toEqual([first, third]);
    });
  });
}
