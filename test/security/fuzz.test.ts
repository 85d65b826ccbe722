/**
 * Bad input on every JSON route. The routes come from `API_ROUTES` (every
 * route with a request body or a query), the cases from each route's own
 * schema plus a seeded random phase, so a new route or field is fuzzed
 * without touching this file. Each case goes through `app.request()` as the
 * local admin and as a user with a token, on the embedded store and on
 * Redis. The rules: never a 5xx, every 4xx is JSON `{error: {code, message}}`,
 * a rejected request changes nothing in the store, and no prototype is
 * polluted. `FUZZ_SEED=<n>` replays a run; `FUZZ_RANDOM=<n>` sets how many
 * random cases each route gets.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../api/app.ts';
import { API_ROUTES, type ApiRoute } from '../../api/openapi.ts';
import type { AppEnv } from '../../api/principal.ts';
import { bootstrapAdmin } from '../../runtime/bootstrap.ts';
import { createLogger } from '../../runtime/logger.ts';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { createSecretBox } from '../../runtime/secrets.ts';
import { prng, seedFor } from '../support/prng.ts';
import { fillPath, type ResourceIds } from '../support/route-table.ts';
import { openStore, type StoreKind } from '../support/stores.ts';
import { bodyCases, encode, headerCases, queryCases, randomBodyCase, randomQueryCase, type Case } from './fuzz-cases.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_251_125);
const RANDOM_CASES = Number(process.env['FUZZ_RANDOM'] ?? 60);

type Principal = 'admin' | 'user';

/** Every authenticated route that reads a JSON body or a query. */
const FUZZED = API_ROUTES.filter((r) => r.auth && (r.body !== undefined || r.query !== undefined));

// ----------------------------------------------------------------- fixture

interface Fixture {
  app: Hono<AppEnv>;
  lines: string[];
  state(): Promise<string>;
  /** Resources the user owns, so its requests reach the body checks. */
  ids: ResourceIds;
  userToken: string;
  close(): Promise<void>;
}

async function fixture(kind: StoreKind): Promise<Fixture> {
  const { store, state, close } = await openStore(kind);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  await bootstrapAdmin(store, { adminToken: undefined, needsToken: false, logger });
  const profiles = sealedProfiles(store, await createSecretBox('fuzz-secret-key-0123456789'));
  const app = createApp({ store, logger, profiles });
  const call = async (token: string | undefined, method: string, path: string, body: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, any>;
    if (res.status >= 300) throw new Error(`fixture: ${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const user = await call(undefined, 'POST', '/agent/users', { name: 'ada' });
  const token = await call(undefined, 'POST', `/agent/users/${user['id']}/tokens`, { name: 'fuzzing' });
  const spare = await call(undefined, 'POST', `/agent/users/${user['id']}/tokens`, { name: 'spare' });
  const profile = await call(token['token'], 'POST', '/agent/ai-profiles', { name: 'ada', provider: 'ollama', model: 'llama3.1' });
  const session = await call(token['token'], 'POST', '/agent/sessions', { goal: 'fix it', repo_url: 'https://github.com/o/r.git' });
  return {
    app,
    lines,
    state,
    close,
    userToken: token['token'],
    ids: { session: session['session_id'], profile: profile['id'], user: user['id'], token: spare['id'] },
  };
}

async function send(f: Fixture, principal: Principal, route: ApiRoute, c: Case): Promise<{ status: number; type: string; text: string }> {
  const headers: Record<string, string> = { ...c.headers };
  if (principal === 'user') headers['authorization'] = `Bearer ${f.userToken}`;
  const body = encode(c);
  if (body !== undefined && c.type !== null) headers['content-type'] = c.type ?? 'application/json';
  const ctl = new AbortController();
  const path = fillPath(route, f.ids) + (c.query !== undefined ? `?${c.query}` : '');
  const res = await f.app.request(path, { method: route.method.toUpperCase(), headers, signal: ctl.signal, ...(body !== undefined ? { body } : {}) });
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    // A live stream never ends by itself: hang up, as a client would.
    ctl.abort();
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, type, text: '' };
  }
  return { status: res.status, type, text: await res.text() };
}

// ----------------------------------------------------------------- the run

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype];
const PROTO_NAMES = PROTOTYPES.map((p) => Object.getOwnPropertyNames(p).sort().join());
const polluted = () => ({} as Record<string, unknown>)['polluted'] !== undefined || PROTOTYPES.some((p, i) => Object.getOwnPropertyNames(p).sort().join() !== PROTO_NAMES[i]);

const tally = { cases: 0, rejected: 0, accepted: 0, byStatus: new Map<number, number>() };

/** Runs every case of one route as one principal; returns the problems found, one line each. */
async function fuzzRoute(kind: StoreKind, principal: Principal, route: ApiRoute): Promise<string[]> {
  const rnd = prng(seedFor(SEED, `${kind} ${principal} ${route.method} ${route.path}`));
  const cases: Case[] = [];
  if (route.body) {
    const { base, cases: own, fields } = bodyCases(route);
    // First the valid body: the cases around it mean something only if it gets through.
    cases.push({ name: 'valid body', body: JSON.stringify(base), valid: true }, ...own, ...headerCases(route, JSON.stringify(base)));
    for (let i = 0; i < RANDOM_CASES; i++) cases.push(randomBodyCase(rnd, i, base, fields));
  }
  if (route.query) {
    cases.push(...queryCases(route), ...headerCases(route, undefined));
    for (let i = 0; i < RANDOM_CASES; i++) cases.push(randomQueryCase(rnd, i, route));
  }
  const f = await fixture(kind);
  const problems: string[] = [];
  try {
    let current = await f.state();
    for (const c of cases) {
      const where = `${kind} ${principal} ${route.method.toUpperCase()} ${route.path} [${c.name}]`;
      let res: Awaited<ReturnType<typeof send>>;
      try {
        res = await send(f, principal, route, c);
      } catch (err) {
        problems.push(`${where}: the request threw ${String(err)}`);
        continue;
      }
      tally.cases++;
      tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1);
      const after = await f.state();
      if (c.valid && principal === 'admin' && res.status >= 300 && res.status !== 409) problems.push(`${where}: the valid body was refused: ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status >= 500) problems.push(`${where}: ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status >= 400) {
        tally.rejected++;
        let error: { code?: unknown; message?: unknown } | undefined;
        try {
          error = (JSON.parse(res.text) as { error?: typeof error }).error;
        } catch {
          // reported below
        }
        if (!res.type.startsWith('application/json') || typeof error?.code !== 'string' || typeof error.message !== 'string') {
          problems.push(`${where}: ${res.status} is not {error: {code, message}}: ${res.type} ${res.text.slice(0, 200)}`);
        }
        if (after !== current) problems.push(`${where}: rejected with ${res.status} but the store changed`);
      } else {
        tally.accepted++;
        if (c.reject) problems.push(`${where}: invalid, but answered ${res.status}`);
      }
      current = after;
      if (polluted()) problems.push(`${where}: a prototype was polluted`);
    }
    for (const l of f.lines) if (JSON.parse(l).level === 'error') problems.push(`${kind} ${principal} ${route.path}: logged an error: ${l.slice(0, 300)}`);
    const health = await f.app.request('/health');
    if (health.status !== 200) problems.push(`${kind} ${principal} ${route.path}: /health answered ${health.status} afterwards`);
  } finally {
    await f.close();
  }
  return problems;
}

describe('fuzzing every JSON route', () => {
  afterAll(() => {
    const statuses = [...tally.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
    console.log(`fuzz: ${tally.cases} cases on ${FUZZED.length} routes × 2 principals × 2 stores (seed ${SEED}, ${RANDOM_CASES} random per route): ${tally.rejected} rejected, ${tally.accepted} accepted; ${statuses}`);
  });

  it('covers every route with a body or a query', () => {
    expect(FUZZED.length).toBeGreaterThanOrEqual(12);
    for (const r of FUZZED) expect(() => fillPath(r, { session: 's', profile: 'p', user: 'u', token: 't' }), `${r.method} ${r.path}`).not.toThrow();
  });

  for (const kind of ['memory', 'redis'] as const) {
    describe(kind, () => {
      for (const route of FUZZED) {
        it(`${route.method.toUpperCase()} ${route.path}`, async () => {
          const problems = [...(await fuzzRoute(kind, 'admin', route)), ...(await fuzzRoute(kind, 'user', route))];
          expect(problems, `${problems.length} problems (FUZZ_SEED=${SEED})`).toEqual([]);
        });
      }
    });
  }
});
