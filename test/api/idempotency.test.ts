/**
 * `Idempotency-Key` on the four POSTs that change a session, over the
 * embedded store and Redis: a retry gets the first answer (status, body,
 * `Location`) with `Idempotent-Replayed: true` and does nothing again; the
 * key with another route or body is a 422; keys are per user. Retries after
 * a real outage are in test/chaos/redis-fail-fast.test.ts; expiry in the
 * store contract (test/runtime/store/contract/idempotency.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createApp } from '../../api/app.ts';
import { openApiDocument } from '../../api/openapi/index.ts';
import { createLogger } from '../../kernel/logger.ts';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { redisUrl, uniquePrefix } from '../support/stores.ts';
import { expectedDiff, occurrences } from '../support/expected.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { openStore, type OpenedStore, type StoreKind } from '../support/stores.ts';
import { waitFor } from '../support/wait.ts';

const REPO = 'https://github.com/example/my-repo.git';

type Svc = Awaited<ReturnType<typeof startInProcess>>;
let svc: Svc | undefined;
let opened: OpenedStore | undefined;
afterEach(async () => {
  await svc?.stop();
  await opened?.close();
  svc = undefined;
  opened = undefined;
});

async function service(kind: StoreKind): Promise<Svc> {
  opened = await openStore(kind);
  svc = await startInProcess({ store: opened.store });
  return svc;
}

/** A user with a token; its calls carry the token (and a key, when given). */
async function user(s: Svc, name: string) {
  const u = await s.call('POST', '/agent/users', { name });
  const t = await s.call('POST', `/agent/users/${u.body.id}/tokens`, {});
  const auth = { authorization: `Bearer ${t.body.token as string}` };
  return (method: string, path: string, body?: unknown, key?: string) =>
    s.call(method, path, body, { ...auth, ...(key ? { 'idempotency-key': key } : {}) });
}

const keyed = (s: Svc) => (method: string, path: string, body?: unknown, key?: string) =>
  s.call(method, path, body, key ? { 'idempotency-key': key } : {});

async function statusOf(s: Svc, id: string, want: string) {
  return waitFor(
    `session ${id} to be ${want}`,
    async () => {
      const r = await s.call('GET', `/agent/sessions/${id}`);
      return r.body.status === want ? r.body : undefined;
    },
    15_000,
    20,
  );
}

describe.each(['memory', 'redis', 'sqlite'] as const)('Idempotency-Key (%s store)', (kind) => {
  it('a repeated create gets the first answer again, marked as a replay, and creates nothing', async () => {
    const s = await service(kind);
    const call = keyed(s);
    const first = await call(
      'POST',
      '/agent/sessions',
      { goal: 'once', repo_url: REPO },
      'create-1',
    );
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // The same request: fields in another order, a default spelled out.
    const again = await call(
      'POST',
      '/agent/sessions',
      { repo_url: REPO, mode: 'auto', goal: 'once' },
      'create-1',
    );
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.body).toEqual({ session_id: first.body.session_id, status: 'QUEUED' });
    expect(again.headers.get('location')).toBe(`/agent/sessions/${first.body.session_id}`);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const done = await statusOf(s, first.body.session_id, 'COMPLETED');
    expect(done.result.diff).toBe(expectedDiff('once'));
    // Still the first answer once the session has moved on.
    const late = await call(
      'POST',
      '/agent/sessions',
      { goal: 'once', repo_url: REPO },
      'create-1',
    );
    expect([late.status, late.body]).toEqual([201, first.body]);
    expect((await s.call('GET', '/agent/sessions')).body.sessions.map((x: any) => x.id)).toEqual([
      first.body.session_id,
    ]);
  });

  it('approve, input and cancel: a repeat gets the first answer and is applied once, whatever the status now', async () => {
    const s = await service(kind);
    const call = keyed(s);
    const { body } = await call('POST', '/agent/sessions', {
      goal: 'review me',
      repo_url: REPO,
      mode: 'review',
    });
    const id = body.session_id as string;
    await statusOf(s, id, 'WAITING_FOR_USER');
    const a1 = await call('POST', `/agent/sessions/${id}/approve`, undefined, 'approve-1');
    const a2 = await call('POST', `/agent/sessions/${id}/approve`, undefined, 'approve-1');
    expect([a1.status, a2.status]).toEqual([202, 202]);
    expect(a2.body).toEqual({ ...a1.body, duplicate: true });
    expect(a2.headers.get('idempotent-replayed')).toBe('true');
    await statusOf(s, id, 'COMPLETED');
    // Approving a completed session is a 409, but this is a retry of one that was accepted.
    const a3 = await call('POST', `/agent/sessions/${id}/approve`, {}, 'approve-1');
    expect([a3.status, a3.body.event_id]).toEqual([202, a1.body.event_id]);

    const i1 = await call(
      'POST',
      `/agent/sessions/${id}/input`,
      { message: 'only once please' },
      'input-1',
    );
    const i2 = await call(
      'POST',
      `/agent/sessions/${id}/input`,
      { message: 'only once please' },
      'input-1',
    );
    expect([i1.status, i2.status, i2.body.event_id, i2.body.duplicate]).toEqual([
      202,
      202,
      i1.body.event_id,
      true,
    ]);
    const replanned = await waitFor(
      'the input applied',
      async () => {
        const v = (await s.call('GET', `/agent/sessions/${id}`)).body;
        return v.goal.includes('only once please') && v.status === 'WAITING_FOR_USER'
          ? v
          : undefined;
      },
      15_000,
      20,
    );
    expect(occurrences(replanned.goal, 'only once please')).toBe(1);

    const c1 = await call('POST', `/agent/sessions/${id}/cancel`, { reason: 'enough' }, 'cancel-1');
    await statusOf(s, id, 'CANCELLED');
    const c2 = await call('POST', `/agent/sessions/${id}/cancel`, { reason: 'enough' }, 'cancel-1');
    expect([c1.status, c2.status, c2.body.event_id]).toEqual([202, 202, c1.body.event_id]);
    expect(c2.headers.get('idempotent-replayed')).toBe('true');
  });

  it('the key with another body or route is a 422 naming the header, and does nothing', async () => {
    const s = await service(kind);
    const call = keyed(s);
    const first = await call(
      'POST',
      '/agent/sessions',
      { goal: 'first', repo_url: REPO, mode: 'review' },
      'k',
    );
    const id = first.body.session_id as string;
    await statusOf(s, id, 'WAITING_FOR_USER');
    const attempts = [
      await call(
        'POST',
        '/agent/sessions',
        { goal: 'second', repo_url: REPO, mode: 'review' },
        'k',
      ),
      await call('POST', `/agent/sessions/${id}/input`, { message: 'sneaky' }, 'k'),
      await call('POST', `/agent/sessions/${id}/cancel`, undefined, 'k'),
    ];
    for (const r of attempts) {
      expect(r.status).toBe(422);
      expect(r.body.error).toMatchObject({
        code: 'idempotency_key_reused',
        field: 'Idempotency-Key',
      });
      expect(r.body.error.message).toContain('Idempotency-Key');
    }
    const i1 = await call('POST', `/agent/sessions/${id}/input`, { message: 'm' }, 'k2');
    expect(i1.status).toBe(202);
    const i2 = await call('POST', `/agent/sessions/${id}/input`, { message: 'm2' }, 'k2');
    expect(i2.status).toBe(422);
    await waitFor(
      'the input applied',
      async () =>
        (await s.call('GET', `/agent/sessions/${id}`)).body.goal.includes('User input: m')
          ? true
          : undefined,
      15_000,
      20,
    );
    const after = (await s.call('GET', `/agent/sessions/${id}`)).body;
    expect(after.goal).not.toContain('sneaky');
    expect(after.goal).not.toContain('m2');
    expect(after.status).not.toBe('CANCELLED');
    expect((await s.call('GET', '/agent/sessions')).body.sessions).toHaveLength(1);
  });

  it('a refused request (409) remembers nothing: its key may be used again', async () => {
    const s = await service(kind);
    const call = keyed(s);
    const { body } = await call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    await statusOf(s, body.session_id, 'COMPLETED');
    const refused = await call(
      'POST',
      `/agent/sessions/${body.session_id}/approve`,
      undefined,
      'k',
    );
    expect(refused.status).toBe(409);
    const ok = await call(
      'POST',
      `/agent/sessions/${body.session_id}/input`,
      { message: 'go on' },
      'k',
    );
    expect(ok.status).toBe(202);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
  });

  it("keys are per user: the same key and body from two users are two requests, and neither sees the other's", async () => {
    const s = await service(kind);
    const ada = await user(s, 'ada');
    const bob = await user(s, 'bob');
    const req = { goal: 'mine', repo_url: REPO, mode: 'review' };
    const a = await ada('POST', '/agent/sessions', req, 'shared');
    const b = await bob('POST', '/agent/sessions', req, 'shared');
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.session_id).not.toBe(a.body.session_id);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    const again = await bob('POST', '/agent/sessions', req, 'shared');
    expect([again.body.session_id, again.headers.get('idempotent-replayed')]).toEqual([
      b.body.session_id,
      'true',
    ]);
    // Bob's key cannot reach Ada's session: it is a 404, as any id of hers.
    expect(
      (await bob('POST', `/agent/sessions/${a.body.session_id}/cancel`, undefined, 'shared'))
        .status,
    ).toBe(404);
    // The admin acting on Ada's session with the same key: its own request, not hers.
    await statusOf(s, a.body.session_id, 'WAITING_FOR_USER');
    const byAda = await ada(
      'POST',
      `/agent/sessions/${a.body.session_id}/input`,
      { message: 'x' },
      'ev',
    );
    const byAdmin = await keyed(s)(
      'POST',
      `/agent/sessions/${a.body.session_id}/input`,
      { message: 'x' },
      'ev',
    );
    expect([byAda.status, byAdmin.status]).toEqual([202, 202]);
    expect(byAdmin.body.event_id).not.toBe(byAda.body.event_id);
  });

  it('a malformed key is a 400 naming the header, on every route that takes one', async () => {
    const s = await service(kind);
    const call = keyed(s);
    const { body } = await call('POST', '/agent/sessions', {
      goal: 'g',
      repo_url: REPO,
      mode: 'review',
    });
    const id = body.session_id as string;
    const routes: [string, unknown][] = [
      ['/agent/sessions', { goal: 'g', repo_url: REPO }],
      [`/agent/sessions/${id}/input`, { message: 'm' }],
      [`/agent/sessions/${id}/approve`, undefined],
      [`/agent/sessions/${id}/cancel`, undefined],
    ];
    for (const [path, b] of routes) {
      for (const bad of ['a b', 'x'.repeat(201), 'caf\u00e9']) {
        const r = await s.call('POST', path, b, { 'idempotency-key': bad });
        expect(r.status, `${path} ${bad.slice(0, 10)}`).toBe(400);
        expect(r.body.error.field).toBe('Idempotency-Key');
      }
    }
    expect((await s.call('GET', '/agent/sessions')).body.sessions).toHaveLength(1);
  });
});

describe('Idempotency-Key over Redis', () => {
  it('a retried create puts back the index entries that a reply lost after the create left out', async () => {
    const prefix = uniquePrefix();
    const store = await RedisStore.create({ url: redisUrl(), prefix });
    const raw = new Redis(redisUrl());
    try {
      const app = createApp({
        store,
        logger: createLogger({ level: 'error', write: () => undefined }),
      });
      const post = async () => {
        const res = await app.request('/agent/sessions', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'lost-reply' },
          body: JSON.stringify({ goal: 'g', repo_url: REPO }),
        });
        return {
          status: res.status,
          replayed: res.headers.get('idempotent-replayed'),
          body: (await res.json()) as any,
        };
      };
      const first = await post();
      expect(first.status).toBe(201);
      const id = first.body.session_id as string;
      // The record was written, then the connection dropped before the index writes (the client saw a 503).
      const indexes = [
        `${prefix}:{g}:ready`,
        `${prefix}:{g}:created`,
        `${prefix}:{g}:status:QUEUED`,
        `${prefix}:{g}:created:user:admin`,
      ];
      for (const key of indexes) await raw.zrem(key, id);
      const retry = await post();
      expect([retry.status, retry.replayed, retry.body.session_id]).toEqual([201, 'true', id]);
      for (const key of indexes) expect(await raw.zscore(key, id), key).not.toBeNull();
      expect(await store.takeReady(10, 1000)).toEqual([id]);
    } finally {
      await store.close();
      const keys = await raw.keys(`${prefix}:*`);
      if (keys.length) await raw.del(...keys);
      await raw.quit();
    }
  });
});

describe('Idempotency-Key in the OpenAPI document', () => {
  it('documents the header, the replay header and the 422 on the four POSTs, and one answer per status', () => {
    const doc = openApiDocument() as any;
    for (const p of [
      '/agent/sessions',
      '/agent/sessions/{id}/approve',
      '/agent/sessions/{id}/input',
      '/agent/sessions/{id}/cancel',
    ]) {
      const op = doc.paths[p].post;
      const key = op.parameters.find((x: any) => x.name === 'Idempotency-Key');
      expect(key).toMatchObject({ in: 'header', required: false });
      expect(key.description).toMatch(/24 hours/);
      expect(op.responses['422'].description).toContain('Idempotency-Key');
      expect(op.responses['503'].description).toContain('same `Idempotency-Key`');
      const ok = op.responses[p === '/agent/sessions' ? '201' : '202'];
      expect(ok.headers['Idempotent-Replayed']).toMatchObject({
        schema: { type: 'string', enum: ['true'] },
      });
    }
    expect(Object.keys(doc.paths['/agent/sessions'].post.responses)).not.toContain('200');
    expect(doc.paths['/agent/sessions'].get.responses['422']).toBeUndefined();
  });
});
