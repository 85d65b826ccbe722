import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import type { NewSession, RequestKey } from '../../../../runtime/store/records.ts';
import type { StoreHarness } from './harness.ts';
import { eachHarness, REPO } from './helpers.ts';

const DAY = 24 * 60 * 60 * 1000;

const session = (userId: string, goal = 'goal'): NewSession => ({
  id: ulid(),
  goal,
  repo_url: REPO,
  mode: 'auto',
  userId,
});
const key = (userId: string, k: string, fingerprint: string, ttlMs = DAY): RequestKey => ({
  userId,
  key: k,
  fingerprint,
  ttlMs,
});
const REUSED = { code: 'idempotency_key_reused', status: 422, field: 'Idempotency-Key' };

/**
 * The part of the store contract about request keys (`Idempotency-Key`):
 * per user, checked against the request, recorded with the write it protects,
 * forgotten after their TTL. Run by `storeContract` (`index.ts`) under the
 * contract's `describe` name, against every adapter.
 */
export function idempotencyContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const live = eachHarness(factory);
    const harness = () => live.h;
    const store = () => live.store;

    it('request keys: a repeated create answers the first session, and creates nothing', async () => {
      const s = store();
      const k = key('u1', 'create-1', 'f-create');
      expect(await s.findRequestKey(k)).toEqual({ kind: 'unused' });
      const first = await s.createSession(session('u1'), k);
      expect(first.created).toBe(true);
      const retry = session('u1');
      const again = await s.createSession(retry, k);
      expect(again).toMatchObject({ created: false, record: { id: first.record.id } });
      expect(await s.getSession(retry.id)).toBeNull();
      expect(await s.findRequestKey(k)).toEqual({ kind: 'used', sessionId: first.record.id });
      expect((await s.listSessions({ limit: 10, userId: 'u1' })).map((r) => r.id)).toEqual([
        first.record.id,
      ]);
      expect(await s.takeReady(10, 1000)).toEqual([first.record.id]);
    });

    it('request keys: a repeated append answers the first event id, whatever the status now', async () => {
      const s = store();
      const { record } = await s.createSession(session('u1'));
      const k = key('u1', 'input-1', 'f-input');
      const a = await s.appendEvent(
        record.id,
        { type: 'input', payload: { message: 'once' } },
        { idempotencyKey: k, allowedStatuses: ['QUEUED'] },
      );
      if (a.kind !== 'appended') throw new Error(a.kind);
      expect(a.duplicate).toBe(false);
      expect(await s.findRequestKey(k)).toEqual({
        kind: 'used',
        sessionId: record.id,
        eventId: a.eventId,
      });
      // No longer allowed by status: the retry still gets its first answer.
      const b = await s.appendEvent(
        record.id,
        { type: 'input', payload: { message: 'once' } },
        { idempotencyKey: k, allowedStatuses: ['RUNNING'] },
      );
      expect(b).toEqual({ kind: 'appended', eventId: a.eventId, duplicate: true });
      expect((await s.readEvents(record.id, '0-0', 10)).map((e) => e.payload['message'])).toEqual([
        'once',
      ]);
    });

    it('request keys: the same key with another request is refused (422), and nothing is written', async () => {
      const s = store();
      const first = await s.createSession(session('u1', 'first'), key('u1', 'k', 'f-1'));
      const other = session('u1', 'other');
      await expect(s.createSession(other, key('u1', 'k', 'f-2'))).rejects.toMatchObject(REUSED);
      expect(await s.getSession(other.id)).toBeNull();
      // Another route is another request too.
      await expect(
        s.appendEvent(
          first.record.id,
          { type: 'cancel', payload: {} },
          { idempotencyKey: key('u1', 'k', 'f-3') },
        ),
      ).rejects.toMatchObject(REUSED);
      expect(await s.readEvents(first.record.id, '0-0', 10)).toEqual([]);
      expect(await s.findRequestKey(key('u1', 'k', 'f-2'))).toEqual({ kind: 'reused' });
      // And an event's key for a create.
      const a = await s.appendEvent(
        first.record.id,
        { type: 'input', payload: { message: 'm' } },
        { idempotencyKey: key('u1', 'e', 'f-e') },
      );
      expect(a).toMatchObject({ kind: 'appended', duplicate: false });
      await expect(
        s.appendEvent(
          first.record.id,
          { type: 'input', payload: { message: 'n' } },
          { idempotencyKey: key('u1', 'e', 'f-e2') },
        ),
      ).rejects.toMatchObject(REUSED);
      await expect(s.createSession(session('u1'), key('u1', 'e', 'f-c'))).rejects.toMatchObject(
        REUSED,
      );
      expect(await s.readEvents(first.record.id, '0-0', 10)).toHaveLength(1);
      expect((await s.listSessions({ limit: 10, userId: 'u1' })).map((r) => r.id)).toEqual([
        first.record.id,
      ]);
    });

    it("request keys: two users' keys are independent", async () => {
      const s = store();
      const a = await s.createSession(session('u1'), key('u1', 'same', 'f-a'));
      const b = await s.createSession(session('u2'), key('u2', 'same', 'f-b'));
      expect(a.created && b.created).toBe(true);
      expect(b.record.id).not.toBe(a.record.id);
      // A user id that looks like a prefix of another's key does not meet it.
      const c = await s.createSession(session('u1:same'), key('u1:same', 'x', 'f-c'));
      const d = await s.createSession(session('u1'), key('u1', 'same:x', 'f-d'));
      expect(new Set([a, b, c, d].map((r) => r.record.id)).size).toBe(4);
      // On one session (an admin and its owner), each gets its own event.
      const e1 = await s.appendEvent(
        a.record.id,
        { type: 'input', payload: { message: 'm' } },
        { idempotencyKey: key('u1', 'ev', 'f-ev') },
      );
      const e2 = await s.appendEvent(
        a.record.id,
        { type: 'input', payload: { message: 'm' } },
        { idempotencyKey: key('admin', 'ev', 'f-ev') },
      );
      if (e1.kind !== 'appended' || e2.kind !== 'appended') throw new Error('not appended');
      expect([e1.duplicate, e2.duplicate]).toEqual([false, false]);
      expect(e2.eventId).not.toBe(e1.eventId);
      expect(await s.findRequestKey(key('u2', 'ev', 'f-ev'))).toEqual({ kind: 'unused' });
    });

    it('request keys: a refused append leaves no trace of its key', async () => {
      const s = store();
      const { record } = await s.createSession(session('u1'));
      const k = key('u1', 'k', 'f-approve');
      expect(
        await s.appendEvent(
          record.id,
          { type: 'approve', payload: {} },
          { idempotencyKey: k, allowedStatuses: ['WAITING_FOR_USER'] },
        ),
      ).toEqual({ kind: 'conflict', status: 'QUEUED' });
      expect(
        await s.appendEvent(ulid(), { type: 'approve', payload: {} }, { idempotencyKey: k }),
      ).toEqual({ kind: 'not_found' });
      expect(await s.findRequestKey(k)).toEqual({ kind: 'unused' });
      // Free for another request.
      const c = await s.appendEvent(
        record.id,
        { type: 'cancel', payload: {} },
        { idempotencyKey: key('u1', 'k', 'f-cancel') },
      );
      expect(c).toMatchObject({ kind: 'appended', duplicate: false });
    });

    it('request keys: forgotten after their TTL', async () => {
      const s = store();
      const ttl = 200;
      const first = await s.createSession(session('u1'), key('u1', 'k', 'f-1', ttl));
      const { record } = await s.createSession(session('u1'));
      const e = await s.appendEvent(
        record.id,
        { type: 'input', payload: { message: 'm' } },
        { idempotencyKey: key('u1', 'e', 'f-e', ttl) },
      );
      await harness().advance(ttl + 100);
      expect(await s.findRequestKey(key('u1', 'k', 'f-1', ttl))).toEqual({ kind: 'unused' });
      // A new request may use the key now, with another body too.
      const again = await s.createSession(session('u1'), key('u1', 'k', 'f-2', ttl));
      expect(again.created).toBe(true);
      expect(again.record.id).not.toBe(first.record.id);
      const e2 = await s.appendEvent(
        record.id,
        { type: 'input', payload: { message: 'm' } },
        { idempotencyKey: key('u1', 'e', 'f-e', ttl) },
      );
      if (e.kind !== 'appended' || e2.kind !== 'appended') throw new Error('not appended');
      expect(e2.duplicate).toBe(false);
      expect(e2.eventId).not.toBe(e.eventId);
    });
  });
}
