/**
 * Session ids are checked as ULIDs before any store call: on Redis an id with
 * a `}` would name another hash slot (a 500 before the check); every session
 * route, the event stream included, answers a 400 naming `id` instead, and
 * a well-formed unknown id stays a 404.
 */
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOAL_MAX_CHARS } from '../../actors/events.ts';
import { startApp } from '../support/service/app.ts';
import { type OpenedStore, openStore } from '../support/stores.ts';

let opened: OpenedStore;
beforeAll(async () => {
  opened = await openStore('redis');
});
afterAll(async () => opened?.close());

describe('session ids', () => {
  it('a malformed id is a 400 naming id on every session route, before the store; an unknown ULID is a 404', async () => {
    const h = await startApp({ store: opened.store });
    const before = await opened.state();
    for (const id of ['x}y', '{g}', 'not-a-ulid', `${ulid()}x`, '%7D'])
      for (const [method, path] of [
        ['GET', ''],
        ['GET', '/history'],
        ['GET', '/events'],
        ['GET', '/chart'],
        ['POST', '/input'],
        ['POST', '/approve'],
        ['POST', '/cancel'],
        ['DELETE', ''],
      ] as const) {
        const r = await h.admin(
          method,
          `/agent/sessions/${encodeURIComponent(id)}${path}`,
          method === 'POST' ? { message: 'm' } : undefined,
        );
        expect(r.status, `${method} ${id}${path}`).toBe(400);
        expect(r.body.error).toMatchObject({ code: 'bad_request', field: 'id' });
      }
    expect(await opened.state()).toBe(before);
    const unknown = await h.admin('GET', `/agent/sessions/${ulid()}`);
    expect(unknown.status).toBe(404);
  });
});

describe('the goal with its inputs', () => {
  it('an input that would take the goal past the limit is a 400 naming message, and nothing is appended', async () => {
    const h = await startApp({ store: opened.store });
    // A goal that inputs folded in have grown (the machine commits it so).
    const { record } = await opened.store.createSession({
      id: ulid(),
      goal: 'g'.repeat(GOAL_MAX_CHARS - 10_000),
      repo_url: 'https://example.com/o/r.git',
      mode: 'auto',
    });
    const path = `/agent/sessions/${record.id}/input`;
    const refused = await h.admin('POST', path, { message: 'm'.repeat(10_000) });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'bad_request', field: 'message' });
    expect(refused.body.error.message).toMatch(/over the limit of 100,000/);
    expect(await opened.store.readEvents(record.id, '0-0', 10)).toEqual([]);
    // One that fits is taken.
    expect((await h.admin('POST', path, { message: 'm'.repeat(9_000) })).status).toBe(202);
  });
});
