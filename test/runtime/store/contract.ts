import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import type { Store } from '../../../runtime/store/port.ts';
import {
  HISTORY_CAP,
  TRANSCRIPT_CAP,
  type Commit,
  type Lease,
  type StoredProfile,
  type WakeHint,
} from '../../../runtime/store/records.ts';
import { idempotencyContract } from './contract-idempotency.ts';
import { usersContract } from './contract-users.ts';
import type { StoreHarness } from './harness.ts';

const TTL = 300;
const REPO = 'https://example.com/o/r.git';

/** Each call is a new commit (its own seq) unless `seq` is given. */
let seqs = 0;
function commitOf(over: Partial<Commit> = {}): Commit {
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

/**
 * The store contract. Every adapter runs it from a three-line test file; the
 * runtime relies on exactly these semantics and nothing adapter-specific.
 */
export function storeContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;
    beforeEach(async () => {
      h = await factory();
      store = h.store;
    });
    afterEach(async () => h.cleanup());

    const create = async (mode: 'auto' | 'review' = 'auto') =>
      (await store.createSession({ id: ulid(), goal: 'goal', repo_url: REPO, mode })).record;
    const claimed = async (node = 'n1'): Promise<{ id: string; lease: Lease }> => {
      const r = await create();
      await store.takeReady(100, TTL);
      const c = await store.claim(r.id, node, TTL);
      if (c.kind !== 'claimed') throw new Error(`claim → ${c.kind}`);
      return { id: r.id, lease: c.lease };
    };

    it('creates a QUEUED session with its fields; create is idempotent by id and by key', async () => {
      const id = ulid();
      const a = await store.createSession({ id, goal: 'g', repo_url: REPO, mode: 'review' });
      expect(a.created).toBe(true);
      expect(a.record).toMatchObject({
        id,
        goal: 'g',
        repo_url: REPO,
        mode: 'review',
        status: 'QUEUED',
        phase: 'queued',
        reason: null,
        result: null,
        snapshot: null,
        last_event_id: '0-0',
        epoch: 0,
        owner: null,
        fenced_writes: 0,
      });
      expect(a.record.created_at).toBeGreaterThan(0);
      expect(
        (await store.createSession({ id, goal: 'other', repo_url: REPO, mode: 'auto' })).created,
      ).toBe(false);
      expect((await store.getSession(id))?.goal).toBe('g');
      const k1 = await store.createSession(
        { id: ulid(), goal: 'k', repo_url: REPO, mode: 'auto' },
        'key-1',
      );
      const k2 = await store.createSession(
        { id: ulid(), goal: 'k', repo_url: REPO, mode: 'auto' },
        'key-1',
      );
      expect(k2.record.id).toBe(k1.record.id);
      expect(k2.created).toBe(false);
      expect(await store.getSession(ulid())).toBeNull();
      // A budget given at creation is kept with the record; none means none.
      const b = await store.createSession({
        id: ulid(),
        goal: 'b',
        repo_url: REPO,
        mode: 'auto',
        budget: { maxCalls: 7 },
        profileId: 'p9',
      });
      expect((await store.getSession(b.record.id))?.budget).toEqual({ maxCalls: 7 });
      expect((await store.getSession(b.record.id))?.profileId).toBe('p9');
      expect((await store.getSession(id))?.budget).toBeUndefined();
    });

    it('counts sessions by status, every status present', async () => {
      const zero = {
        QUEUED: 0,
        RUNNING: 0,
        WAITING_FOR_USER: 0,
        COMPLETED: 0,
        FAILED: 0,
        CANCELLED: 0,
      };
      expect(await store.countByStatus()).toEqual(zero);
      const a = await claimed();
      await create();
      await create();
      expect(await store.countByStatus()).toEqual({ ...zero, QUEUED: 3 });
      await store.commit(a.id, a.lease, commitOf({ status: 'RUNNING' }));
      expect(await store.countByStatus()).toEqual({ ...zero, QUEUED: 2, RUNNING: 1 });
      await store.commit(a.id, a.lease, commitOf({ status: 'COMPLETED', release: true }));
      expect(await store.countByStatus()).toEqual({ ...zero, QUEUED: 2, COMPLETED: 1 });
    });

    it('lists within a creation-time window, alone or with a status and a cursor', async () => {
      const a = await create();
      await h.advance(20);
      const b = await create();
      await h.advance(20);
      const c = await create();
      const ids = (rows: { id: string }[]) =>
        rows.map((r) => r.id).filter((id) => [a.id, b.id, c.id].includes(id));
      expect(ids(await store.listSessions({ limit: 50, createdAfter: a.created_at }))).toEqual([
        c.id,
        b.id,
      ]);
      expect(ids(await store.listSessions({ limit: 50, createdBefore: c.created_at }))).toEqual([
        b.id,
        a.id,
      ]);
      expect(
        ids(
          await store.listSessions({
            limit: 50,
            createdAfter: a.created_at,
            createdBefore: c.created_at,
            status: 'QUEUED',
          }),
        ),
      ).toEqual([b.id]);
      expect(
        ids(await store.listSessions({ limit: 50, createdAfter: a.created_at, before: c.id })),
      ).toEqual([b.id]);
    });

    it('lists newest first, by status, with a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push((await create()).id);
        await h.advance(2);
      }
      expect((await store.listSessions({ limit: 10 })).map((s) => s.id)).toEqual(
        [...ids].reverse(),
      );
      expect((await store.listSessions({ limit: 2, before: ids[2]! })).map((s) => s.id)).toEqual([
        ids[1],
        ids[0],
      ]);
      const { lease } = await (async () => {
        await store.takeReady(100, TTL);
        const c = await store.claim(ids[0]!, 'n1', TTL);
        if (c.kind !== 'claimed') throw new Error(c.kind);
        return c;
      })();
      await store.commit(ids[0]!, lease, commitOf({ status: 'COMPLETED', release: true }));
      expect(
        (await store.listSessions({ limit: 10, status: 'COMPLETED' })).map((s) => s.id),
      ).toEqual([ids[0]]);
      expect((await store.listSessions({ limit: 10, status: 'QUEUED' })).map((s) => s.id)).toEqual([
        ids[3],
        ids[2],
        ids[1],
      ]);
      expect((await store.listSessions({ limit: 10 }))[0]).not.toHaveProperty('snapshot');
    });

    it('appends events in order; conflict by status; idempotency key returns the first id', async () => {
      const r = await create('review');
      expect(await store.appendEvent(ulid(), { type: 'input', payload: {} })).toEqual({
        kind: 'not_found',
      });
      expect(
        await store.appendEvent(
          r.id,
          { type: 'approve', payload: {} },
          { allowedStatuses: ['WAITING_FOR_USER'] },
        ),
      ).toEqual({ kind: 'conflict', status: 'QUEUED' });
      const a = await store.appendEvent(
        r.id,
        { type: 'input', payload: { message: 'one' } },
        { idempotencyKey: 'k' },
      );
      const b = await store.appendEvent(
        r.id,
        { type: 'input', payload: { message: 'one' } },
        { idempotencyKey: 'k' },
      );
      const c = await store.appendEvent(r.id, { type: 'input', payload: { message: 'two' } });
      if (a.kind !== 'appended' || b.kind !== 'appended' || c.kind !== 'appended')
        throw new Error('not appended');
      expect(b).toEqual({ kind: 'appended', eventId: a.eventId, duplicate: true });
      expect(a.duplicate).toBe(false);
      const all = await store.readEvents(r.id, '0-0', 10);
      expect(all.map((e) => e.payload['message'])).toEqual(['one', 'two']);
      expect(all[0]).toMatchObject({ id: a.eventId, type: 'input' });
      expect((await store.readEvents(r.id, a.eventId, 10)).map((e) => e.id)).toEqual([c.eventId]);
    });

    it('takeReady hands a new session out once, and again only after its reservation expires', async () => {
      const r = await create();
      expect(await store.takeReady(10, TTL)).toContain(r.id);
      expect(await store.takeReady(10, TTL)).not.toContain(r.id);
      await h.advance(TTL + 50); // the taker died between take and claim
      expect(await store.takeReady(10, TTL)).toContain(r.id);
    });

    it('claims with strictly increasing epochs; busy while leased; takeover after expiry', async () => {
      const { id, lease } = await claimed('n1');
      expect(lease.epoch).toBe(1);
      const again = await store.claim(id, 'n2', TTL);
      expect(again.kind).toBe('busy');
      expect((await store.getSession(id))?.owner).toMatchObject({ nodeId: 'n1', epoch: 1 });
      await h.advance(TTL + 50);
      expect((await store.getSession(id))?.owner).toBeNull();
      expect(await store.takeReady(10, TTL)).toContain(id); // expired leases are found without a scan
      const c = await store.claim(id, 'n2', TTL);
      expect(c.kind === 'claimed' && c.lease).toEqual({ nodeId: 'n2', epoch: 2 });
    });

    it('commit writes everything at once, fills history, and fences a stale epoch', async () => {
      const { id, lease } = await claimed('n1');
      const ev = await store.appendEvent(id, { type: 'input', payload: { message: 'x' } });
      if (ev.kind !== 'appended') throw new Error(ev.kind);
      const ok = await store.commit(
        id,
        lease,
        commitOf({
          goal: 'new goal',
          phase: 'planning.running',
          reason: 'why',
          result: { diff: 'd' },
          lastEventId: ev.eventId,
          history: [{ event: 'input', from: 'coding.running', to: 'planning.running' }],
          logs: ['a', 'b'],
        }),
      );
      expect(ok).toEqual({ kind: 'ok', released: false });
      const rec = (await store.getSession(id))!;
      expect(rec).toMatchObject({
        goal: 'new goal',
        phase: 'planning.running',
        reason: 'why',
        result: { diff: 'd' },
        last_event_id: ev.eventId,
        status: 'RUNNING',
        snapshot: { v: 1, state: { value: 'coding' } },
      });
      expect(await store.getLogs(id)).toEqual(['a', 'b']);
      expect(await store.getLogs(id, 1)).toEqual(['b']);
      const [hist] = await store.getHistory(id);
      expect(hist).toMatchObject({
        event: 'input',
        from: 'coding.running',
        to: 'planning.running',
        node: 'n1',
        epoch: 1,
      });
      expect(hist!.at).toBeGreaterThan(0);
      // Takeover, then the old owner writes: rejected, counted, nothing changed.
      await h.advance(TTL + 50);
      await store.takeReady(10, TTL);
      expect((await store.claim(id, 'n2', TTL)).kind).toBe('claimed');
      expect(await store.commit(id, lease, commitOf({ goal: 'zombie' }))).toEqual({
        kind: 'fenced',
      });
      expect(await store.appendLogs(id, lease, ['zombie'])).toEqual({ kind: 'fenced' });
      expect(await store.release(id, lease, true)).toEqual({ kind: 'fenced' });
      expect(await store.scheduleTimer(id, lease, { key: 'z', delayMs: 0, payload: {} })).toEqual({
        kind: 'fenced',
      });
      const after = (await store.getSession(id))!;
      expect(after.goal).toBe('new goal');
      expect(after.fenced_writes).toBe(4);
      expect(await store.getLogs(id)).toEqual(['a', 'b']);
      expect((await store.stats()).fenced_writes).toBeGreaterThanOrEqual(4);
    });

    it('a repeated commit (same epoch and seq, a retry after a lost reply) is acknowledged and not written twice', async () => {
      const { id, lease } = await claimed('n1');
      const first = commitOf({
        seq: 7,
        history: [{ event: 'e', from: 'a', to: 'b' }],
        logs: ['once'],
      });
      expect(await store.commit(id, lease, first)).toEqual({ kind: 'ok', released: false });
      expect(await store.commit(id, lease, first)).toEqual({ kind: 'ok', released: false });
      expect(await store.getLogs(id)).toEqual(['once']);
      expect(await store.getHistory(id)).toHaveLength(1);
      // A passivating commit repeated after its release: still acknowledged, as released.
      const last = commitOf({
        seq: 8,
        status: 'WAITING_FOR_USER',
        release: true,
        logs: ['waiting'],
      });
      expect(await store.commit(id, lease, last)).toEqual({ kind: 'ok', released: true });
      expect(await store.commit(id, lease, last)).toEqual({ kind: 'ok', released: true });
      expect(await store.getLogs(id)).toEqual(['once', 'waiting']);
      // The same seq under a later lease is a new commit.
      await store.appendEvent(id, { type: 'input', payload: { message: 'again' } });
      await store.takeReady(10, TTL);
      const next = await store.claim(id, 'n2', TTL);
      if (next.kind !== 'claimed') throw new Error(next.kind);
      expect(await store.commit(id, next.lease, commitOf({ seq: 8, logs: ['new lease'] }))).toEqual(
        { kind: 'ok', released: false },
      );
      expect(await store.getLogs(id)).toEqual(['once', 'waiting', 'new lease']);
      // The old lease's repeat is now fenced.
      expect(await store.commit(id, lease, last)).toEqual({ kind: 'fenced' });
    });

    it('history keeps the newest HISTORY_CAP entries', async () => {
      const { id, lease } = await claimed();
      const history = Array.from({ length: HISTORY_CAP + 5 }, (_, i) => ({
        event: `e${i}`,
        from: 'a',
        to: 'b',
      }));
      await store.commit(id, lease, commitOf({ history }));
      const got = await store.getHistory(id);
      expect(got).toHaveLength(HISTORY_CAP);
      expect(got[0]!.event).toBe('e5');
      expect(got.at(-1)!.event).toBe(`e${HISTORY_CAP + 4}`);
    });

    it('numbers history entries by position in the whole history, kept across trimming, leases and repeats; `from` filters', async () => {
      const { id, lease } = await claimed('n1');
      const entries = (from: number, count: number) =>
        Array.from({ length: count }, (_, i) => ({ event: `e${from + i}`, from: 'a', to: 'b' }));
      expect((await store.getSession(id))?.history_count).toBeUndefined();
      await store.commit(id, lease, commitOf({ history: entries(0, 3) }));
      expect((await store.getSession(id))?.history_count).toBe(3);
      expect((await store.getHistory(id)).map((e) => [e.n, e.event])).toEqual([
        [0, 'e0'],
        [1, 'e1'],
        [2, 'e2'],
      ]);
      expect((await store.getHistory(id, 1)).map((e) => e.n)).toEqual([1, 2]);
      expect(await store.getHistory(id, 3)).toEqual([]);
      // Past the cap: the oldest entries go, the others keep their numbers.
      await store.commit(id, lease, commitOf({ history: entries(3, HISTORY_CAP) }));
      const all = await store.getHistory(id);
      expect(all).toHaveLength(HISTORY_CAP);
      expect(all.every((e, i) => e.n === i + 3 && e.event === `e${i + 3}`)).toBe(true);
      expect(await store.getHistory(id, 0)).toEqual(all);
      expect((await store.getHistory(id, HISTORY_CAP + 1)).map((e) => e.n)).toEqual([
        HISTORY_CAP + 1,
        HISTORY_CAP + 2,
      ]);
      // A repeated commit numbers nothing twice; the next lease continues the count.
      const once = commitOf({ history: entries(HISTORY_CAP + 3, 1) });
      await store.commit(id, lease, once);
      await store.commit(id, lease, once);
      expect(await store.release(id, lease, true)).toEqual({ kind: 'ok', released: true });
      await store.takeReady(10, TTL);
      const next = await store.claim(id, 'n2', TTL);
      if (next.kind !== 'claimed') throw new Error(next.kind);
      await store.commit(id, next.lease, commitOf({ history: entries(HISTORY_CAP + 4, 1) }));
      expect(
        (await store.getHistory(id, HISTORY_CAP + 3)).map((e) => [e.n, e.event, e.node]),
      ).toEqual([
        [HISTORY_CAP + 3, `e${HISTORY_CAP + 3}`, 'n1'],
        [HISTORY_CAP + 4, `e${HISTORY_CAP + 4}`, 'n2'],
      ]);
      expect((await store.getSession(id))?.history_count).toBe(HISTORY_CAP + 5);
      // A payload comes back exactly as written, empty arrays and unicode included.
      const payload = {
        message: 'naïve “quotes” \n',
        list: [],
        nested: { n: 1, ok: true, none: null },
      };
      await store.commit(
        id,
        next.lease,
        commitOf({ history: [{ event: 'input', from: 'a', to: 'b', payload }] }),
      );
      expect((await store.getHistory(id, HISTORY_CAP + 5))[0]).toMatchObject({
        n: HISTORY_CAP + 5,
        event: 'input',
        payload,
      });
      expect((await store.getHistory(id, HISTORY_CAP + 4))[0]).not.toHaveProperty('payload');
      expect(await store.getHistory(ulid(), 0)).toEqual([]);
    });

    it('passivation: release in commit, refused while events are pending; passive sessions are idle until an event', async () => {
      const { id, lease } = await claimed();
      const ev = await store.appendEvent(id, { type: 'input', payload: { message: 'late' } });
      if (ev.kind !== 'appended') throw new Error(ev.kind);
      expect(
        await store.commit(id, lease, commitOf({ status: 'WAITING_FOR_USER', release: true })),
      ).toEqual({ kind: 'ok', released: false });
      expect((await store.getSession(id))?.owner?.nodeId).toBe('n1');
      expect(
        await store.commit(
          id,
          lease,
          commitOf({ status: 'WAITING_FOR_USER', lastEventId: ev.eventId, release: true }),
        ),
      ).toEqual({ kind: 'ok', released: true });
      expect((await store.getSession(id))?.owner).toBeNull();
      await h.advance(TTL + 50);
      const taken = await store.takeReady(10, TTL);
      for (const t of taken) expect(await store.claim(t, 'n2', TTL)).toEqual({ kind: 'idle' });
      const approve = await store.appendEvent(
        id,
        { type: 'approve', payload: {} },
        { allowedStatuses: ['WAITING_FOR_USER'] },
      );
      expect(approve.kind).toBe('appended');
      expect(await store.takeReady(10, TTL)).toContain(id);
      const c = await store.claim(id, 'n2', TTL);
      expect(c.kind === 'claimed' && c.lease.epoch).toBe(2);
    });

    it('renew extends, reports pending events, and reports lost leases', async () => {
      const { id, lease } = await claimed('n1');
      await h.advance(TTL / 2);
      let [r] = await store.renew('n1', [{ id, epoch: 1 }], TTL);
      expect(r).toMatchObject({ id, ok: true, pending: false });
      await h.advance(TTL / 2 + 50); // past the first deadline, within the renewed one
      expect((await store.claim(id, 'n2', TTL)).kind).toBe('busy');
      await store.appendEvent(id, { type: 'input', payload: { message: 'm' } });
      [r] = await store.renew('n1', [{ id, epoch: lease.epoch }], TTL);
      expect(r!.pending).toBe(true);
      await h.advance(TTL + 50);
      await store.takeReady(10, TTL);
      expect((await store.claim(id, 'n2', TTL)).kind).toBe('claimed');
      [r] = await store.renew('n1', [{ id, epoch: lease.epoch }], TTL);
      expect(r!.ok).toBe(false);
    });

    it('release with requeue hands the session to the next taker at once', async () => {
      const { id, lease } = await claimed('n1');
      expect(await store.release(id, lease, true)).toEqual({ kind: 'ok', released: true });
      expect(await store.takeReady(10, TTL)).toContain(id);
      const c = await store.claim(id, 'n2', TTL);
      expect(c.kind === 'claimed' && c.lease).toEqual({ nodeId: 'n2', epoch: 2 });
    });

    it('durable timers fire into the inbox once due, exactly once per key', async () => {
      const { id, lease } = await claimed();
      expect(
        await store.scheduleTimer(id, lease, {
          key: 't1',
          delayMs: 150,
          payload: { kind: 'retry' },
        }),
      ).toEqual({ kind: 'ok', released: false });
      await store.fireDueTimers(100);
      expect(await store.readEvents(id, '0-0', 10)).toEqual([]);
      await h.advance(200);
      await store.fireDueTimers(100);
      await store.fireDueTimers(100);
      await store.scheduleTimer(id, lease, { key: 't1', delayMs: 0, payload: { kind: 'retry' } }); // re-armed after a restore
      await h.advance(10);
      await store.fireDueTimers(100);
      const events = await store.readEvents(id, '0-0', 10);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'timer', payload: { kind: 'retry', key: 't1' } });
    });

    it('wakes the owner on an event, and signals ready for a passive session', async () => {
      const { id, lease } = await claimed('n1');
      const woken: string[] = [];
      const hints: (WakeHint | undefined)[] = [];
      let readies = 0;
      const offWake = await store.onWake('n1', (s, hint) => {
        woken.push(s);
        hints.push(hint);
      });
      const offReady = await store.onReady(() => readies++);
      const a = await store.appendEvent(
        id,
        { type: 'input', payload: { message: 'm\nwith a newline' } },
        { idempotencyKey: 'k' },
      );
      const b = await store.appendEvent(id, { type: 'cancel', payload: {} });
      await store.appendEvent(
        id,
        { type: 'input', payload: { message: 'm' } },
        { idempotencyKey: 'k' },
      ); // a repeat
      await waitUntil(() => woken.length === 3);
      if (a.kind !== 'appended' || b.kind !== 'appended') throw new Error('not appended');
      expect(woken).toEqual([id, id, id]);
      // New events carry themselves and the id before them; a repeat carries nothing.
      expect(hints[0]).toMatchObject({
        prevId: '0-0',
        event: { id: a.eventId, type: 'input', payload: { message: 'm\nwith a newline' } },
      });
      expect(hints[1]).toMatchObject({
        prevId: a.eventId,
        event: { id: b.eventId, type: 'cancel', payload: {} },
      });
      expect(hints[0]!.event).toEqual((await store.readEvents(id, '0-0', 1))[0]);
      expect(hints[2]).toBeUndefined();
      await store.commit(
        id,
        lease,
        commitOf({ status: 'WAITING_FOR_USER', lastEventId: b.eventId, release: true }),
      );
      const before = readies;
      await store.appendEvent(id, { type: 'approve', payload: {} });
      await waitUntil(() => readies > before);
      await offWake();
      await offReady();
    });

    it('lists profiles by name and deletes them', async () => {
      const base = { isDefault: false, provider: 'openai' as const, model: 'm' };
      await store.putProfile({ ...base, id: 'z1', name: 'zeta' });
      await store.putProfile({ ...base, id: 'a1', name: 'alpha', isDefault: true });
      expect((await store.listProfiles()).map((p) => p.id)).toEqual(['a1', 'z1']);
      expect(await store.deleteProfile('a1')).toBe(true);
      expect(await store.deleteProfile('a1')).toBe(false);
      expect((await store.listProfiles()).map((p) => p.id)).toEqual(['z1']);
      expect(await store.defaultProfile()).toBeNull();
    });

    it('stores profiles; a new default clears the flag on the others', async () => {
      const base = { provider: 'openai', model: 'gpt-x' } as const;
      const a: StoredProfile = {
        ...base,
        id: `pa-${ulid()}`,
        name: 'A',
        isDefault: true,
        apiKey: 'sk-a',
        prices: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
      };
      const b: StoredProfile = {
        ...base,
        id: `pb-${ulid()}`,
        name: 'B',
        isDefault: false,
        baseUrl: 'http://llm.local/v1',
      };
      expect(await store.getProfile(a.id)).toBeNull();
      expect(await store.defaultProfile()).toBeNull();
      await store.putProfile(a);
      await store.putProfile(b);
      expect(await store.getProfile(a.id)).toEqual(a);
      expect(await store.getProfile(b.id)).toEqual(b);
      expect(await store.defaultProfile()).toEqual(a);
      await store.putProfile({ ...b, isDefault: true });
      expect(await store.defaultProfile()).toEqual({ ...b, isDefault: true });
      expect(await store.getProfile(a.id)).toEqual({ ...a, isDefault: false });
      // Overwrite keeps one entry; storing the default as non-default leaves none.
      await store.putProfile({ ...b, isDefault: false, model: 'gpt-y' });
      expect(await store.getProfile(b.id)).toMatchObject({ model: 'gpt-y', isDefault: false });
      expect(await store.defaultProfile()).toBeNull();
      // What the caller holds is a copy.
      const got = (await store.getProfile(a.id))!;
      got.name = 'changed';
      expect((await store.getProfile(a.id))!.name).toBe('A');
    });

    it('usage accumulates over calls; one call without a known price makes the cost null for good', async () => {
      const { id, lease } = await claimed();
      expect(await store.getUsage(id)).toEqual({
        calls: 0,
        inputTokens: 0,
        outputTokens: 0,
        costMicros: 0,
      });
      expect(await store.getUsage(ulid())).toEqual({
        calls: 0,
        inputTokens: 0,
        outputTokens: 0,
        costMicros: 0,
      });
      expect(
        await store.addUsage(id, lease, {
          calls: 1,
          inputTokens: 100,
          outputTokens: 20,
          costMicros: 150.4,
        }),
      ).toEqual({ kind: 'ok', released: false });
      expect(
        await store.addUsage(id, lease, {
          calls: 2,
          inputTokens: 50,
          outputTokens: 5,
          costMicros: 10,
        }),
      ).toEqual({ kind: 'ok', released: false });
      expect(await store.getUsage(id)).toEqual({
        calls: 3,
        inputTokens: 150,
        outputTokens: 25,
        costMicros: 160,
      });
      await store.addUsage(id, lease, {
        calls: 1,
        inputTokens: 1,
        outputTokens: 1,
        costMicros: null,
      });
      await store.addUsage(id, lease, { calls: 1, inputTokens: 1, outputTokens: 1, costMicros: 5 });
      expect(await store.getUsage(id)).toEqual({
        calls: 5,
        inputTokens: 152,
        outputTokens: 27,
        costMicros: null,
      });
    });

    it('transcripts append per role, oldest first, keeping the newest TRANSCRIPT_CAP', async () => {
      const { id, lease } = await claimed();
      expect(await store.getTranscript(id, 'coder')).toEqual([]);
      const m1 = { role: 'user', content: 'hi\nthere', meta: { n: 1, list: [1, 'x', null] } };
      expect(await store.appendTranscript(id, lease, 'coder', [m1, 'two'])).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.appendTranscript(id, lease, 'coder', [3])).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.appendTranscript(id, lease, 'reviewer', [{ r: 1 }])).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.appendTranscript(id, lease, 'reviewer', [])).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.getTranscript(id, 'coder')).toEqual([m1, 'two', 3]);
      expect(await store.getTranscript(id, 'reviewer')).toEqual([{ r: 1 }]);
      await expect(store.appendTranscript(id, lease, 'Bad Role', [1])).rejects.toThrow();
      await expect(store.getTranscript(id, '../x')).rejects.toThrow();
      // Over the cap in one append: the oldest go, from the earlier appends too.
      const many = Array.from({ length: TRANSCRIPT_CAP + 3 }, (_, i) => ({ i }));
      await store.appendTranscript(id, lease, 'coder', many);
      const got = await store.getTranscript(id, 'coder');
      expect(got).toHaveLength(TRANSCRIPT_CAP);
      expect(got[0]).toEqual({ i: 3 });
      expect(got.at(-1)).toEqual({ i: TRANSCRIPT_CAP + 2 });
      await store.appendTranscript(id, lease, 'coder', ['last']);
      const after = await store.getTranscript(id, 'coder');
      expect(after).toHaveLength(TRANSCRIPT_CAP);
      expect(after[0]).toEqual({ i: 4 });
      expect(after.at(-1)).toBe('last');
      expect(await store.getTranscript(id, 'reviewer')).toEqual([{ r: 1 }]);
    });

    it('artifacts are set, overwritten by name, and read back together', async () => {
      const { id, lease } = await claimed();
      expect(await store.getArtifacts(id)).toEqual({});
      expect(await store.putArtifacts(id, lease, { sandbox: 'sb-1', base: 'abc' })).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(
        await store.putArtifacts(id, lease, { sandbox: 'sb-2', diff: 'diff --git a b\n+x' }),
      ).toEqual({ kind: 'ok', released: false });
      expect(await store.putArtifacts(id, lease, {})).toEqual({ kind: 'ok', released: false });
      expect(await store.getArtifacts(id)).toEqual({
        sandbox: 'sb-2',
        base: 'abc',
        diff: 'diff --git a b\n+x',
      });
    });

    it('bookkeeping writes are fenced after a takeover, and not_found for an unknown session', async () => {
      const { id, lease } = await claimed('n1');
      await store.addUsage(id, lease, { calls: 1, inputTokens: 1, outputTokens: 1, costMicros: 1 });
      await store.appendTranscript(id, lease, 'coder', ['kept']);
      await store.putArtifacts(id, lease, { sandbox: 'sb-1' });
      await h.advance(TTL + 50);
      await store.takeReady(10, TTL);
      expect((await store.claim(id, 'n2', TTL)).kind).toBe('claimed');
      const before = (await store.getSession(id))!.fenced_writes;
      const statsBefore = (await store.stats()).fenced_writes;
      expect(
        await store.addUsage(id, lease, {
          calls: 1,
          inputTokens: 9,
          outputTokens: 9,
          costMicros: null,
        }),
      ).toEqual({ kind: 'fenced' });
      expect(await store.appendTranscript(id, lease, 'coder', ['zombie'])).toEqual({
        kind: 'fenced',
      });
      expect(await store.putArtifacts(id, lease, { sandbox: 'zombie' })).toEqual({
        kind: 'fenced',
      });
      expect((await store.getSession(id))!.fenced_writes).toBe(before + 3);
      expect((await store.stats()).fenced_writes).toBeGreaterThanOrEqual(statsBefore + 3);
      expect(await store.getUsage(id)).toEqual({
        calls: 1,
        inputTokens: 1,
        outputTokens: 1,
        costMicros: 1,
      });
      expect(await store.getTranscript(id, 'coder')).toEqual(['kept']);
      expect(await store.getArtifacts(id)).toEqual({ sandbox: 'sb-1' });
      const ghost = ulid();
      expect(
        await store.addUsage(ghost, lease, {
          calls: 1,
          inputTokens: 1,
          outputTokens: 1,
          costMicros: 1,
        }),
      ).toEqual({ kind: 'not_found' });
      expect(await store.appendTranscript(ghost, lease, 'coder', ['x'])).toEqual({
        kind: 'not_found',
      });
      expect(await store.putArtifacts(ghost, lease, { a: 'b' })).toEqual({ kind: 'not_found' });
      expect(await store.getTranscript(ghost, 'coder')).toEqual([]);
      expect(await store.getArtifacts(ghost)).toEqual({});
    });

    it('heartbeats list the nodes with the sessions they host', async () => {
      const sessions = ['s1', 's2', 's3'];
      await store.heartbeat(
        {
          id: 'na',
          address: '127.0.0.1:1',
          started_at: 1,
          version: 'v',
          active_sessions: 3,
          sessions,
          heartbeat_at: 0,
        },
        1000,
      );
      sessions.push('s4'); // the caller's array is not kept
      const nodes = await store.listNodes();
      expect(nodes.find((n) => n.id === 'na')).toMatchObject({
        address: '127.0.0.1:1',
        active_sessions: 3,
        version: 'v',
        sessions: ['s1', 's2', 's3'],
      });
      await store.heartbeat(
        {
          id: 'na',
          address: '127.0.0.1:1',
          started_at: 1,
          version: 'v',
          active_sessions: 0,
          sessions: [],
          heartbeat_at: 0,
        },
        1000,
      );
      expect((await store.listNodes()).find((n) => n.id === 'na')?.sessions).toEqual([]);
    });

    usersContract(() => h);
    idempotencyContract(() => h);
  });
}

async function waitUntil(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
