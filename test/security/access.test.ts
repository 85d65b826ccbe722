/**
 * Who may call what, generated from the route table (`API_ROUTES`), so a
 * new route is covered the day it is added:
 *
 * - every route with a path id, called by another user with ids of the
 *   owner's resources: 404, the same answer as for an id that does not exist
 *   (403 on admin-only routes); nothing changes in the store;
 * - every authenticated route without a token on a server beyond loopback,
 *   with a revoked token, with a deleted user's token, with a malformed
 *   header, and forwarded by a proxy on loopback: 401.
 *
 * On the embedded store and on Redis.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../api/app.ts';
import { API_ROUTES, type ApiRoute } from '../../api/openapi/index.ts';
import type { AppEnv } from '../../api/principal.ts';
import { bootstrapAdmin } from '../../server/bootstrap.ts';
import { createLogger } from '../../kernel/logger.ts';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { createSecretBox } from '../../kernel/secret-box.ts';
import {
  fillPath,
  paramKind,
  pathParams,
  validBody,
  type ResourceIds,
} from '../support/route-table.ts';
import { openStore, type StoreKind } from '../support/stores.ts';

const AUTHENTICATED = API_ROUTES.filter((r) => r.auth);
const WITH_IDS = AUTHENTICATED.filter((r) => pathParams(r).length > 0);
const NOBODY: ResourceIds = {
  session: '01JZZZZZZZZZZZZZZZZZZZZZZZ',
  profile: '01JZZZZZZZZZZZZZZZZZZZZZZY',
  user: '01JZZZZZZZZZZZZZZZZZZZZZZX',
  token: '01JZZZZZZZZZZZZZZZZZZZZZZW',
};

interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

async function request(
  app: Hono<AppEnv>,
  route: ApiRoute,
  path: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const body = validBody(route);
  const ctl = new AbortController();
  const res = await app.request(path, {
    method: route.method.toUpperCase(),
    signal: ctl.signal,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    ctl.abort();
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, body: null, headers: res.headers };
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the assertions say so
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Two users with a session, a profile and tokens each; an app on loopback and one beyond it over the same store. */
async function world(kind: StoreKind) {
  const opened = await openStore(kind);
  const { store } = opened;
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  await bootstrapAdmin(store, { adminToken: undefined, needsToken: false, logger });
  const profiles = sealedProfiles(store, await createSecretBox('access-secret-key-0123456789'));
  const local = createApp({
    store,
    logger,
    profiles,
    checkProfile: async () => ({ ok: true, model: 'x', latency_ms: 1 }),
  });
  const remote = createApp({ store, logger, profiles, localAdmin: false });
  const call = async (token: string | undefined, method: string, path: string, body?: unknown) => {
    const res = await local.request(path, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = res.status === 204 ? {} : ((await res.json()) as Record<string, any>);
    if (res.status >= 300)
      throw new Error(`fixture: ${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const person = async (name: string) => {
    const user = await call(undefined, 'POST', '/agent/users', { name });
    const token = await call(undefined, 'POST', `/agent/users/${user['id']}/tokens`, {
      name: 'main',
    });
    const spare = await call(undefined, 'POST', `/agent/users/${user['id']}/tokens`, {
      name: 'spare',
    });
    const profile = await call(token['token'], 'POST', '/agent/ai-profiles', {
      name,
      provider: 'ollama',
      model: 'llama3.1',
    });
    const session = await call(token['token'], 'POST', '/agent/sessions', {
      goal: `${name}'s goal`,
      repo_url: 'https://github.com/o/r.git',
      mode: 'review',
    });
    const ids: ResourceIds = {
      session: session['session_id'],
      profile: profile['id'],
      user: user['id'],
      token: spare['id'],
    };
    return { ids, token: token['token'] as string, tokenId: token['id'] as string };
  };
  const ada = await person('ada');
  const bob = await person('bob');
  return { ...opened, local, remote, lines, call, ada, bob };
}

const checked: Record<StoreKind, number> = { memory: 0, redis: 0, sqlite: 0 };

describe.each(['memory', 'redis', 'sqlite'] as const)('access on the %s store', (kind) => {
  afterAll(() => {
    console.log(
      `access (${kind}): ${checked[kind]} checks over ${AUTHENTICATED.length} authenticated routes, ${WITH_IDS.length} with ids`,
    );
  });

  it("another user's ids answer like ids that do not exist, on every route with one; nothing changes", async () => {
    const w = await world(kind);
    try {
      const before = await w.state();
      const bob = { authorization: `Bearer ${w.bob.token}` };
      for (const route of WITH_IDS) {
        const params = pathParams(route);
        // Ada's ids in every parameter, then Bob's own ids with one of Ada's at a time (`/users/bob/tokens/{ada's token}`).
        const variants: [string, string][] = [
          [fillPath(route, w.ada.ids), fillPath(route, NOBODY)],
        ];
        if (params.length > 1) {
          for (const p of params) {
            const own = Object.fromEntries(params.map((q) => [q, w.bob.ids[paramKind(route, q)]]));
            variants.push([
              fillPath(route, w.bob.ids, { ...own, [p]: w.ada.ids[paramKind(route, p)] }),
              fillPath(route, w.bob.ids, { ...own, [p]: NOBODY[paramKind(route, p)] }),
            ]);
          }
        }
        for (const [theirs, nobodys] of variants) {
          const what = `${route.method.toUpperCase()} ${theirs}`;
          const seen = await request(w.local, route, theirs, bob);
          const unknown = await request(w.local, route, nobodys, bob);
          checked[kind] += 2;
          expect(seen.status, what).toBe(route.admin ? 403 : 404);
          expect(seen.body?.error?.code, what).toBe(route.admin ? 'forbidden' : 'not_found');
          // The same answer as for an id that does not exist: the ids cannot be probed.
          expect(unknown.status, what).toBe(seen.status);
          expect(anonymous(seen.body, w.ada.ids), what).toEqual(anonymous(unknown.body, NOBODY));
        }
      }
      expect(await w.state(), "Bob's calls changed nothing").toBe(before);
      // The owner still reaches each of them (the 404s were about Bob, not the ids).
      expect((await w.call(w.ada.token, 'GET', `/agent/sessions/${w.ada.ids.session}`))['id']).toBe(
        w.ada.ids.session,
      );
      expect(
        (await w.call(w.ada.token, 'GET', `/agent/ai-profiles/${w.ada.ids.profile}`))['id'],
      ).toBe(w.ada.ids.profile);
    } finally {
      await w.close();
    }
  });

  it('admin-only routes are a 403 for users', async () => {
    const w = await world(kind);
    try {
      for (const route of AUTHENTICATED.filter((r) => r.admin)) {
        const r = await request(w.local, route, fillPath(route, w.ada.ids), {
          authorization: `Bearer ${w.bob.token}`,
        });
        checked[kind]++;
        expect(r.status, `${route.method} ${route.path}`).toBe(403);
        expect(r.body.error.code).toBe('forbidden');
      }
    } finally {
      await w.close();
    }
  });

  it('without a valid token every authenticated route is a 401: no token beyond loopback, revoked, deleted user, malformed, forwarded', async () => {
    const w = await world(kind);
    try {
      // Bob's main token revoked; Carol's user deleted (its tokens stop working).
      await w.call(undefined, 'DELETE', `/agent/users/${w.bob.ids.user}/tokens/${w.bob.tokenId}`);
      const carol = await w.call(undefined, 'POST', '/agent/users', { name: 'carol' });
      const carolToken = (
        await w.call(undefined, 'POST', `/agent/users/${carol['id']}/tokens`, {})
      )['token'] as string;
      await w.call(undefined, 'DELETE', `/agent/users/${carol['id']}`);
      const before = await w.state();
      const cases: [string, Hono<AppEnv>, Record<string, string>][] = [
        ['no token beyond loopback', w.remote, {}],
        ['revoked token', w.local, { authorization: `Bearer ${w.bob.token}` }],
        ['revoked token beyond loopback', w.remote, { authorization: `Bearer ${w.bob.token}` }],
        ["deleted user's token", w.local, { authorization: `Bearer ${carolToken}` }],
        [
          'unknown token',
          w.remote,
          { authorization: 'Bearer swa_not-a-token-0000000000000000000000' },
        ],
        ['malformed header', w.remote, { authorization: `Token ${w.ada.token}` }],
        ['empty bearer', w.remote, { authorization: 'Bearer ' }],
        ['forwarded on loopback', w.local, { 'x-forwarded-for': '203.0.113.7' }],
        ['Forwarded on loopback', w.local, { forwarded: 'for=203.0.113.7' }],
      ];
      for (const route of AUTHENTICATED) {
        for (const [label, app, headers] of cases) {
          const r = await request(app, route, fillPath(route, w.ada.ids), headers);
          checked[kind]++;
          const what = `${route.method.toUpperCase()} ${route.path}: ${label}`;
          expect(r.status, what).toBe(401);
          expect(r.body?.error?.code, what).toBe('unauthorized');
          expect(r.headers.get('www-authenticate'), what).toMatch(/^Bearer realm="swe-agent"/);
        }
      }
      expect(await w.state(), 'refused calls changed nothing').toBe(before);
      // A valid token still works beyond loopback: the 401s were about the tokens.
      const me = await w.remote.request('/agent/me', {
        headers: { authorization: `Bearer ${w.ada.token}` },
      });
      expect(me.status).toBe(200);
    } finally {
      await w.close();
    }
  });
});

/** An answer with the ids it names replaced by their kind, to compare answers about different ids. */
function anonymous(body: unknown, ids: ResourceIds): unknown {
  let text = JSON.stringify(body);
  for (const [k, id] of Object.entries(ids)) text = text.split(id).join(`<${k}>`);
  return JSON.parse(text);
}
