/**
 * Bad input on every JSON route. The routes come from `API_ROUTES` (every
 * route with a request body or a query), the cases from each route's own
 * schema plus a seeded random phase, so a new route or field is fuzzed
 * without touching this file. Each case goes through `app.request()` as the
 * local admin and as a user with a token, on the embedded store and on
 * Redis; and again over real HTTP to the app served the way
 * server/serve-node.ts serves it (@hono/node-server, the Node body reader),
 * a third of the bodies chunked at seeded points, plus framings only a raw
 * socket sends (`wireCases`).
 * The rules: never a 5xx, every 4xx is JSON `{error: {code, message}}` (over
 * HTTP, Node's parser may refuse a request itself with a bare 400 or 431),
 * a rejected request changes nothing in the store, nothing is logged as an
 * error, no prototype is polluted, and the server still answers afterwards.
 * A body cut short (the client hangs up) is a 400 no one reads: neither a
 * logged error nor a request left pending. `FUZZ_SEED=<n>` replays a run; `FUZZ_RANDOM=<n>` sets
 * how many random cases each route gets; `FUZZ_HTTP_SHARE` how many run over
 * HTTP on Redis.
 */
import { Agent } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { createApp } from '../../api/app.ts';
import { nodeBodyReader } from '../../api/body-node.ts';
import { API_ROUTES, type ApiRoute } from '../../api/openapi/index.ts';
import type { AppEnv } from '../../api/principal.ts';
import { bootstrapAdmin } from '../../server/bootstrap.ts';
import { createLogger } from '../../kernel/logger.ts';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { createSecretBox } from '../../kernel/secret-box.ts';
import {
  httpRequest,
  rawExchange,
  serveApp,
  type NodeServer,
  type Reply,
} from '../support/node-http.ts';
import { prng, seedFor, type Prng } from '../support/prng.ts';
import { fillPath, type ResourceIds } from '../support/route-table.ts';
import { openStore, type StoreKind } from '../support/stores.ts';
import {
  bodyCases,
  encode,
  headerCases,
  queryCases,
  randomBodyCase,
  randomQueryCase,
  wireCases,
  type Case,
} from './fuzz-cases.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_251_125);
const RANDOM_CASES = Number(process.env['FUZZ_RANDOM'] ?? 60);
/**
 * Over HTTP on Redis, the share of the cases (the valid body and the wire
 * cases aside) that run, picked by the seed: all of them would double the
 * file's time, and the embedded store runs them all. `FUZZ_HTTP_SHARE=1`: all.
 */
const HTTP_SHARE_ON_REDIS = Number(process.env['FUZZ_HTTP_SHARE'] ?? 0.25);

type Principal = 'admin' | 'user';
/** `app.request()` in process, or real HTTP to @hono/node-server with the Node body reader. */
type Transport = 'web' | 'node';

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
  /** The served app, on the Node path. */
  http?: NodeServer;
  close(): Promise<void>;
}

async function fixture(kind: StoreKind, transport: Transport): Promise<Fixture> {
  const { store, state, close } = await openStore(kind);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  await bootstrapAdmin(store, { adminToken: undefined, needsToken: false, logger });
  const profiles = sealedProfiles(store, await createSecretBox('fuzz-secret-key-0123456789'));
  const app = createApp({
    store,
    logger,
    profiles,
    ...(transport === 'node' ? { readBody: nodeBodyReader } : {}),
  });
  const call = async (token: string | undefined, method: string, path: string, body: unknown) => {
    const res = await app.request(path, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, any>;
    if (res.status >= 300)
      throw new Error(`fixture: ${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const user = await call(undefined, 'POST', '/agent/users', { name: 'ada' });
  const token = await call(undefined, 'POST', `/agent/users/${user['id']}/tokens`, {
    name: 'fuzzing',
  });
  const spare = await call(undefined, 'POST', `/agent/users/${user['id']}/tokens`, {
    name: 'spare',
  });
  const profile = await call(token['token'], 'POST', '/agent/ai-profiles', {
    name: 'ada',
    provider: 'ollama',
    model: 'llama3.1',
  });
  const session = await call(token['token'], 'POST', '/agent/sessions', {
    goal: 'fix it',
    repo_url: 'https://github.com/o/r.git',
  });
  const http = transport === 'node' ? await serveApp(app) : undefined;
  return {
    app,
    lines,
    state,
    ...(http ? { http } : {}),
    async close() {
      await http?.close();
      await close();
    },
    userToken: token['token'],
    ids: {
      session: session['session_id'],
      profile: profile['id'],
      user: user['id'],
      token: spare['id'],
    },
  };
}

/** How one case is sent: the principal's headers, the path filled in, the body encoded. */
function requestOf(f: Fixture, principal: Principal, route: ApiRoute, c: Case) {
  const headers: Record<string, string> = { ...c.headers };
  if (principal === 'user') headers['authorization'] = `Bearer ${f.userToken}`;
  const body = encode(c);
  if (body !== undefined && c.type !== null) headers['content-type'] = c.type ?? 'application/json';
  const path = fillPath(route, f.ids) + (c.query !== undefined ? `?${c.query}` : '');
  return { method: route.method.toUpperCase(), path, headers, body };
}

async function sendWeb(
  f: Fixture,
  principal: Principal,
  route: ApiRoute,
  c: Case,
): Promise<Reply[]> {
  const { method, path, headers, body } = requestOf(f, principal, route, c);
  const ctl = new AbortController();
  const res = await f.app.request(path, {
    method,
    headers,
    signal: ctl.signal,
    ...(body !== undefined ? { body } : {}),
  });
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    // A live stream never ends by itself: hang up, as a client would.
    ctl.abort();
    await res.body?.cancel().catch(() => undefined);
    return [{ status: res.status, type, text: '' }];
  }
  return [{ status: res.status, type, text: await res.text() }];
}

/**
 * Over real HTTP: through node:http on a kept-alive connection, or a fresh
 * one when the case sets its own Content-Length (the server would read the
 * next request as the rest of the body); a body is chunked at seeded points
 * one time in three; a wire case goes to a raw socket byte for byte.
 */
async function sendNode(
  f: Fixture,
  principal: Principal,
  route: ApiRoute,
  c: Case,
  agent: Agent,
  rnd: Prng,
): Promise<Reply[]> {
  const http = f.http!;
  const { method, path: raw, headers, body } = requestOf(f, principal, route, c);
  // On the request line as a client library would put it (the URL parser's encoding, as app.request() gets it).
  const url = new URL(raw, 'http://127.0.0.1');
  const path = url.pathname + url.search;
  if (c.wire) {
    const auth = headers['authorization'] ? `Authorization: ${headers['authorization']}\r\n` : '';
    const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${http.port}\r\nConnection: close\r\nContent-Type: application/json\r\n${auth}${c.wire.framing}\r\n`;
    tally.wire++;
    return rawExchange(
      http,
      Buffer.concat([Buffer.from(head, 'latin1'), c.wire.payload]),
      c.wire.then,
    );
  }
  const ownLength = Object.keys(headers).some((h) => h.toLowerCase() === 'content-length');
  if (body !== undefined && !ownLength && rnd.chance(1 / 3)) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const cuts = [
      ...new Set(Array.from({ length: rnd.int(1, 4) }, () => rnd.int(0, bytes.length))),
    ].sort((a, b) => a - b);
    const edges = [0, ...cuts, bytes.length];
    const chunks = edges
      .slice(1)
      .map((end, i) => bytes.subarray(edges[i], end))
      .filter((b) => b.length > 0);
    tally.chunked++;
    return [await httpRequest(http.port, { method, path, headers, chunks, agent })];
  }
  try {
    return [
      await httpRequest(http.port, {
        method,
        path,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(ownLength ? {} : { agent }),
      }),
    ];
  } catch (err) {
    // Node 24's server refuses a head over its 16 KiB limit and closes while
    // a keep-alive client still writes a 1 MiB request line: the client may
    // see the reset before the 431. Refused either way, and never by the app.
    const head = path.length + Object.entries(headers).join('').length;
    if ((err as { code?: string }).code === 'ECONNRESET' && head > 16 * 1024) {
      resetOversized.add(c);
      return [];
    }
    throw err;
  }
}

/** Cases whose head was over Node's limit and whose connection Node reset instead of answering 431. */
const resetOversized = new WeakSet<Case>();

// ----------------------------------------------------------------- the run

const PROTOTYPES = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Number.prototype,
];
const PROTO_NAMES = PROTOTYPES.map((p) => Object.getOwnPropertyNames(p).sort().join());
const polluted = () =>
  (({}) as Record<string, unknown>)['polluted'] !== undefined ||
  PROTOTYPES.some((p, i) => Object.getOwnPropertyNames(p).sort().join() !== PROTO_NAMES[i]);

const tally = {
  cases: { web: 0, node: 0 } as Record<Transport, number>,
  chunked: 0,
  wire: 0,
  rejected: 0,
  accepted: 0,
  /** No answer at all: the client hung up. */
  unanswered: 0,
  /** Bare 400/431 from Node's HTTP parser, before the app saw the request. */
  byParser: 0,
  byStatus: new Map<number, number>(),
};

/** Node's own refusal of a request it cannot parse (bad framing, a head over 16 KiB): no body, no type. */
const fromParser = (transport: Transport, r: Reply) =>
  transport === 'node' && (r.status === 400 || r.status === 431) && r.type === '' && r.text === '';

/** The case's problems, one line each, from the answers it got and whether the store changed. */
function judge(
  where: string,
  transport: Transport,
  principal: Principal,
  c: Case,
  replies: Reply[],
  changed: boolean,
): string[] {
  const problems: string[] = [];
  if (replies.length === 0) tally.unanswered++;
  if (replies.length === 0 && c.wire?.then !== 'hang up' && !resetOversized.has(c))
    problems.push(`${where}: no answer`);
  const fromApp = replies.filter((r) => !fromParser(transport, r));
  tally.byParser += replies.length - fromApp.length;
  for (const res of replies) {
    tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1);
    if (c.valid && principal === 'admin' && res.status >= 300 && res.status !== 409)
      problems.push(
        `${where}: the valid body was refused: ${res.status} ${res.text.slice(0, 300)}`,
      );
    if (res.status >= 500) problems.push(`${where}: ${res.status} ${res.text.slice(0, 300)}`);
  }
  for (const res of fromApp.filter((r) => r.status >= 400)) {
    let error: { code?: unknown; message?: unknown } | undefined;
    try {
      error = (JSON.parse(res.text) as { error?: typeof error }).error;
    } catch {
      // reported below
    }
    if (
      !res.type.startsWith('application/json') ||
      typeof error?.code !== 'string' ||
      typeof error.message !== 'string'
    ) {
      problems.push(
        `${where}: ${res.status} is not {error: {code, message}}: ${res.type} ${res.text.slice(0, 200)}`,
      );
    }
  }
  const statuses = replies.map((r) => r.status).join(', ') || 'no answer';
  if (fromApp.some((r) => r.status < 400)) {
    tally.accepted++;
    if (c.reject) problems.push(`${where}: invalid, but answered ${statuses}`);
    return problems;
  }
  tally.rejected++;
  // Rejected by the app, or bound to be: when Node refused the bytes after a request, the app's own answer is lost.
  if (changed && (fromApp.length > 0 || c.reject))
    problems.push(`${where}: rejected with ${statuses} but the store changed`);
  return problems;
}

/** The cases of one route: the same on both paths, plus the wire cases over HTTP. */
function casesOf(
  kind: StoreKind,
  principal: Principal,
  route: ApiRoute,
  transport: Transport,
): Case[] {
  const rnd = prng(seedFor(SEED, `${kind} ${principal} ${route.method} ${route.path}`));
  const cases: Case[] = [];
  if (route.body) {
    const { base, cases: own, fields } = bodyCases(route);
    // First the valid body: the cases around it mean something only if it gets through.
    cases.push(
      { name: 'valid body', body: JSON.stringify(base), valid: true },
      ...own,
      ...headerCases(route, JSON.stringify(base)),
    );
    for (let i = 0; i < RANDOM_CASES; i++) cases.push(randomBodyCase(rnd, i, base, fields));
    if (transport === 'node') cases.push(...wireCases(route, base, fields));
  }
  if (route.query) {
    cases.push(...queryCases(route), ...headerCases(route, undefined));
    for (let i = 0; i < RANDOM_CASES; i++) cases.push(randomQueryCase(rnd, i, route));
  }
  if (transport === 'web' || kind === 'memory' || HTTP_SHARE_ON_REDIS >= 1) return cases;
  const sample = prng(seedFor(SEED, `sample ${principal} ${route.method} ${route.path}`));
  return cases.filter((c) => c.valid || c.wire || sample.chance(HTTP_SHARE_ON_REDIS));
}

/** Runs every case of one route as one principal over one path; returns the problems found, one line each. */
async function fuzzRoute(
  kind: StoreKind,
  principal: Principal,
  route: ApiRoute,
  transport: Transport,
): Promise<string[]> {
  const cases = casesOf(kind, principal, route, transport);
  const chunking = prng(seedFor(SEED, `chunks ${kind} ${principal} ${route.method} ${route.path}`));
  const f = await fixture(kind, transport);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const problems: string[] = [];
  try {
    let current = await f.state();
    for (const c of cases) {
      const where = `${kind} ${transport} ${principal} ${route.method.toUpperCase()} ${route.path} [${c.name}]`;
      const since = f.http?.started ?? 0;
      let replies: Reply[];
      try {
        replies =
          transport === 'web'
            ? await sendWeb(f, principal, route, c)
            : await sendNode(f, principal, route, c, agent, chunking);
      } catch (err) {
        problems.push(`${where}: the request threw ${String(err)}`);
        continue;
      }
      // The app may still have a request whose client has gone.
      const left = (await f.http?.settle(since, 10_000)) ?? 0;
      if (left > 0) problems.push(`${where}: the app still had the request after 10 s`);
      tally.cases[transport]++;
      const after = await f.state();
      problems.push(...judge(where, transport, principal, c, replies, after !== current));
      current = after;
      if (polluted()) problems.push(`${where}: a prototype was polluted`);
    }
    for (const l of f.lines) {
      if (JSON.parse(l).level !== 'error') continue;
      problems.push(
        `${kind} ${transport} ${principal} ${route.path}: logged an error: ${l.slice(0, 300)}`,
      );
    }
    const health = f.http
      ? await httpRequest(f.http.port, { method: 'GET', path: '/health' })
      : await f.app.request('/health');
    if (health.status !== 200)
      problems.push(
        `${kind} ${transport} ${principal} ${route.path}: /health answered ${health.status} afterwards`,
      );
  } finally {
    agent.destroy();
    await f.close();
  }
  return problems;
}

describe('fuzzing every JSON route', () => {
  afterAll(() => {
    const statuses = [...tally.byStatus]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    console.log(
      `fuzz: ${tally.cases.web + tally.cases.node} cases on ${FUZZED.length} routes × 2 principals × 2 stores (seed ${SEED}, ${RANDOM_CASES} random per route): ` +
        `${tally.cases.web} through app.request(), ${tally.cases.node} over HTTP to @hono/node-server ` +
        `(${tally.chunked} bodies chunked, ${tally.wire} raw framings; ${HTTP_SHARE_ON_REDIS < 1 ? `a seeded ${HTTP_SHARE_ON_REDIS} of the rest on Redis` : 'all on Redis'}); ` +
        `${tally.rejected} rejected, ${tally.accepted} accepted; ${statuses}; ${tally.byParser} refused by Node's HTTP parser, ${tally.unanswered} hung up before an answer`,
    );
  });

  it('covers every route with a body or a query', () => {
    expect(FUZZED.length).toBeGreaterThanOrEqual(12);
    for (const r of FUZZED)
      expect(
        () => fillPath(r, { session: 's', profile: 'p', user: 'u', token: 't' }),
        `${r.method} ${r.path}`,
      ).not.toThrow();
  });

  for (const kind of ['memory', 'redis'] as const) {
    describe(kind, () => {
      for (const route of FUZZED) {
        it(`${route.method.toUpperCase()} ${route.path}`, async () => {
          const problems = [
            ...(await fuzzRoute(kind, 'admin', route, 'web')),
            ...(await fuzzRoute(kind, 'user', route, 'web')),
          ];
          expect(problems, `${problems.length} problems (FUZZ_SEED=${SEED})`).toEqual([]);
        });
        it(`${route.method.toUpperCase()} ${route.path} over Node HTTP`, async () => {
          const problems = [
            ...(await fuzzRoute(kind, 'admin', route, 'node')),
            ...(await fuzzRoute(kind, 'user', route, 'node')),
          ];
          expect(problems, `${problems.length} problems (FUZZ_SEED=${SEED})`).toEqual([]);
        });
      }
    });
  }
});
