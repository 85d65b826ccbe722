import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  API_ROUTES,
  jsonSchemaOf,
  openApiDocument,
  openApiRoutes,
} from '../../api/openapi/index.ts';
import * as S from '../../api/schemas/index.ts';
import { startApp } from '../support/service/app.ts';
import { assertCoversApp, routeDifferences } from '../support/openapi-coverage.ts';

const REPO = 'https://github.com/example/my-repo.git';
const doc = openApiDocument() as any;

/** The whole app, on the embedded store; no token is the local admin. */
async function wholeApp() {
  return (await startApp()).app;
}

const errorOf = (schema: z.ZodType, value: unknown) => {
  try {
    S.parse(schema, value);
  } catch (e) {
    return { field: (e as { field?: string }).field, message: (e as Error).message };
  }
  return undefined;
};

function resolvePointer(ref: string): unknown {
  expect(ref.startsWith('#/'), ref).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => node?.[key], doc);
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with operations that all answer something', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      description: expect.stringMatching(/loopback/),
    });
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      expect(path.startsWith('/'), path).toBe(true);
      for (const [method, op] of Object.entries<any>(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(['get', 'post', 'patch', 'delete'], where).toContain(method);
        expect(Object.keys(op.responses).length, where).toBeGreaterThan(0);
        for (const r of Object.values<any>(op.responses))
          expect(r.description, where).toEqual(expect.any(String));
        expect(ids.has(op.operationId), `duplicate operationId ${op.operationId}`).toBe(false);
        ids.add(op.operationId);
        const declared = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect(
          (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name),
          where,
        ).toEqual(declared);
      }
    }
  });

  it('resolves every $ref', () => {
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) k === '$ref' ? refs.push(x as string) : walk(x);
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(resolvePointer(ref), ref).toBeTypeOf('object');
  });

  it('documents every route of the API', () => {
    const routes = Object.entries<any>(doc.paths).flatMap(([p, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /health',
        'GET /ready',
        'GET /openapi.json',
        'GET /docs',
        'GET /',
        'GET /ui/{path}',
        'POST /agent/sessions',
        'GET /agent/sessions',
        'GET /agent/sessions/{id}',
        'DELETE /agent/sessions/{id}',
        'GET /agent/retention',
        'POST /agent/sessions/{id}/approve',
        'POST /agent/sessions/{id}/input',
        'POST /agent/sessions/{id}/cancel',
        'GET /agent/sessions/{id}/history',
        'GET /agent/sessions/{id}/chart',
        'GET /agent/sessions/{id}/events',
        'GET /agent/chart',
        'POST /agent/ai-profiles',
        'GET /agent/ai-profiles',
        'GET /agent/ai-profiles/{id}',
        'PATCH /agent/ai-profiles/{id}',
        'DELETE /agent/ai-profiles/{id}',
        'POST /agent/ai-profiles/{id}/test',
        'POST /agent/users',
        'GET /agent/users',
        'GET /agent/users/{id}',
        'PATCH /agent/users/{id}',
        'DELETE /agent/users/{id}',
        'POST /agent/users/{id}/tokens',
        'GET /agent/users/{id}/tokens',
        'DELETE /agent/users/{id}/tokens/{token_id}',
        'GET /agent/me',
        'PATCH /agent/me',
        'GET /agent/nodes',
        'GET /metrics',
      ].sort(),
    );
  });

  it('marks public, admin-only, idempotent and streaming routes, with their errors', () => {
    const op = (m: string, p: string) => doc.paths[p][m];
    for (const p of ['/health', '/ready', '/openapi.json', '/docs'])
      expect(op('get', p).security).toEqual([]);
    expect(op('post', '/agent/sessions').security).toBeUndefined();
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(op('post', '/agent/users')['x-admin-only']).toBe(true);
    expect(Object.keys(op('post', '/agent/users').responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '413', '415', '429', '503']),
    );
    for (const p of [
      '/agent/sessions',
      '/agent/sessions/{id}/approve',
      '/agent/sessions/{id}/input',
      '/agent/sessions/{id}/cancel',
    ]) {
      expect(op('post', p).parameters.map((x: any) => `${x.in}:${x.name}`)).toContain(
        'header:Idempotency-Key',
      );
    }
    expect(Object.keys(op('post', '/agent/sessions/{id}/approve').responses)).toEqual(
      expect.arrayContaining(['202', '404', '409']),
    );
    const events = op('get', '/agent/sessions/{id}/events');
    expect(Object.keys(events.responses['200'].content)).toEqual(['text/event-stream']);
    expect(events.parameters.map((x: any) => x.name)).toContain('Last-Event-ID');
    for (const type of ['log', 'transition', 'status', 'gap'])
      expect(events.description).toContain(`\`${type}\``);
    expect(
      op('post', '/agent/users/{id}/tokens').responses['201'].content['application/json'].schema
        .$ref,
    ).toBe('#/components/schemas/TokenCreated');
    expect(doc.components.schemas.TokenCreated.required).toContain('token');
    expect(
      doc.components.schemas.TokenList.properties.tokens.items.properties.token,
    ).toBeUndefined();
    expect(op('get', '/ready').responses['503']).toBeDefined();
  });

  it('has query parameters from the same schema as the route', () => {
    const params = doc.paths['/agent/sessions'].get.parameters;
    const byName = Object.fromEntries(params.map((p: any) => [p.name, p]));
    expect(Object.keys(byName)).toEqual(Object.keys(S.SessionListQuery.shape));
    expect(byName.limit).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    });
    expect(byName.status.schema.enum).toContain('WAITING_FOR_USER');
  });

  it('request bodies are exactly the JSON Schema of the schemas the routes validate with', () => {
    const bodies = API_ROUTES.filter((r) => r.body);
    expect(bodies.length).toBe(10);
    for (const r of bodies) {
      const schema = resolvePointer(
        doc.paths[r.path][r.method].requestBody.content['application/json'].schema.$ref,
      );
      const { $schema: _, ...expected } = z.toJSONSchema(r.body!, { io: 'input' }) as Record<
        string,
        unknown
      >;
      expect(schema, `${r.method} ${r.path}`).toEqual(expected);
      expect(schema).toEqual(jsonSchemaOf(r.body!, 'input'));
      expect(
        (schema as any).additionalProperties,
        `${r.method} ${r.path} rejects unknown fields`,
      ).toBe(false);
    }
    const body = (m: string, p: string) =>
      API_ROUTES.find((r) => r.method === m && r.path === p)?.body;
    expect(body('post', '/agent/sessions')).toBe(S.SessionCreate);
    expect(body('patch', '/agent/ai-profiles/{id}')).toBe(S.ProfilePatch);
    expect(body('post', '/agent/users')).toBe(S.UserCreate);
    expect(body('patch', '/agent/me')).toBe(S.MePatch);
  });

  it('carries descriptions and examples into the document', () => {
    const create = doc.components.schemas.SessionCreate;
    expect(create.required).toEqual(['goal', 'repo_url']);
    expect(create.properties.goal).toMatchObject({
      type: 'string',
      maxLength: 20000,
      description: expect.any(String),
      examples: [expect.any(String)],
    });
    expect(create.properties.budget.properties.max_calls).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 1000000,
    });
    expect(create.properties.mode).toMatchObject({ enum: ['auto', 'review'], default: 'auto' });
  });
});

describe('schemas and parse()', () => {
  it.each<[string, z.ZodType, unknown, string | undefined]>([
    ['a minimal session', S.SessionCreate, { goal: 'g', repo_url: REPO }, undefined],
    [
      'a full session',
      S.SessionCreate,
      {
        goal: 'g',
        repo_url: REPO,
        mode: 'review',
        budget: { max_calls: 5, max_tokens: 9 },
        ai_profile_id: 'p',
        planner_profile_id: 'q',
      },
      undefined,
    ],
    ['goal missing', S.SessionCreate, { repo_url: REPO }, 'goal'],
    ['goal blank', S.SessionCreate, { goal: ' \n', repo_url: REPO }, 'goal'],
    ['goal too long', S.SessionCreate, { goal: 'x'.repeat(20_001), repo_url: REPO }, 'goal'],
    ['goal with tab and newline', S.SessionCreate, { goal: 'a\tb\nc', repo_url: REPO }, undefined],
    [
      'goal with a control character',
      S.SessionCreate,
      { goal: 'a\u001bb', repo_url: REPO },
      'goal',
    ],
    ['repo_url too long', S.SessionCreate, { goal: 'g', repo_url: 'x'.repeat(2049) }, 'repo_url'],
    ['null mode', S.SessionCreate, { goal: 'g', repo_url: REPO, mode: null }, 'mode'],
    ['budget as an array', S.SessionCreate, { goal: 'g', repo_url: REPO, budget: [] }, 'budget'],
    [
      'max_tokens over 1e9',
      S.SessionCreate,
      { goal: 'g', repo_url: REPO, budget: { max_tokens: 1e9 + 1 } },
      'budget.max_tokens',
    ],
    [
      'reviewer profile too long',
      S.SessionCreate,
      { goal: 'g', repo_url: REPO, reviewer_profile_id: 'p'.repeat(101) },
      'reviewer_profile_id',
    ],
    ['approve {}', S.ApproveBody, {}, undefined],
    ['approve with a field', S.ApproveBody, { now: true }, 'now'],
    ['input without message', S.InputBody, { budget: { max_calls: 1 } }, 'message'],
    ['cancel with a long reason', S.CancelBody, { reason: 'r'.repeat(1001) }, 'reason'],
    ['profile without provider', S.ProfileCreate, { name: 'n', model: 'm' }, 'provider'],
    [
      'profile with prices',
      S.ProfileCreate,
      {
        name: 'n',
        provider: 'ollama',
        model: 'm',
        prices: { input_per_mtok: 0, output_per_mtok: 1.5 },
      },
      undefined,
    ],
    [
      'profile with half the prices',
      S.ProfileCreate,
      { name: 'n', provider: 'ollama', model: 'm', prices: { input_per_mtok: 1 } },
      'prices.output_per_mtok',
    ],
    [
      'profile with too many users',
      S.ProfileCreate,
      {
        name: 'n',
        provider: 'ollama',
        model: 'm',
        user_ids: Array.from({ length: 101 }, (_, i) => `u${i}`),
      },
      'user_ids',
    ],
    [
      'profile create with null key',
      S.ProfileCreate,
      { name: 'n', provider: 'ollama', model: 'm', api_key: null },
      'api_key',
    ],
    [
      'profile patch clearing',
      S.ProfilePatch,
      { api_key: null, base_url: null, prices: null },
      undefined,
    ],
    ['profile patch with null name', S.ProfilePatch, { name: null }, 'name'],
    ['user', S.UserCreate, { name: 'ada' }, undefined],
    ['user with a bad role', S.UserCreate, { name: 'ada', role: 'root' }, 'role'],
    [
      'user with a negative limit',
      S.UserCreate,
      { name: 'ada', max_running_sessions: -1 },
      'max_running_sessions',
    ],
    ['user name too long', S.UserCreate, { name: 'a'.repeat(101) }, 'name'],
    [
      'user patch clearing',
      S.UserPatch,
      { max_running_sessions: null, default_profile_id: null },
      undefined,
    ],
    ['token without a name', S.TokenCreate, {}, undefined],
    ['me with an unknown field', S.MePatch, { theme: 'dark' }, 'theme'],
    ['list: limit 0', S.SessionListQuery, { limit: '0' }, 'limit'],
    [
      'list: a good page',
      S.SessionListQuery,
      { limit: '10', status: 'RUNNING', cursor: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
      undefined,
    ],
    ['list: an unknown parameter', S.SessionListQuery, { stauts: 'RUNNING' }, 'stauts'],
  ])('%s', (_name, schema, value, field) => {
    expect(errorOf(schema, value)?.field).toBe(field);
  });

  it('words the problem in plain words, naming the field', () => {
    expect(errorOf(S.SessionCreate, { repo_url: REPO })).toEqual({
      field: 'goal',
      message: 'goal is required',
    });
    expect(errorOf(S.SessionCreate, { goal: 'g', repo_url: REPO, mode: 'turbo' })).toEqual({
      field: 'mode',
      message: 'mode must be one of: auto, review',
    });
    expect(
      errorOf(S.SessionCreate, { goal: 'g', repo_url: REPO, budget: { max_calls: 1.5 } }),
    ).toEqual({
      field: 'budget.max_calls',
      message: 'budget.max_calls must be an integer from 1 to 1000000',
    });
    expect(errorOf(S.SessionCreate, { goal: 'g', repo_url: REPO, budget: { foo: 1 } })).toEqual({
      field: 'budget.foo',
      message: 'budget.foo is not a known field (allowed: max_calls, max_tokens)',
    });
    expect(errorOf(S.SessionCreate, { goal: 'g', repo_url: REPO, budget: 5 })?.message).toBe(
      'budget must be an object like {"max_calls": 100, "max_tokens": 500000}',
    );
    expect(errorOf(S.SessionCreate, { goal: 42, repo_url: REPO })?.message).toBe(
      'goal must be a string',
    );
    expect(errorOf(S.SessionCreate, { goal: 'x'.repeat(20_001), repo_url: REPO })?.message).toBe(
      'goal must be at most 20000 characters',
    );
    expect(errorOf(S.ProfileCreate, { name: 'n', model: 'm' })?.message).toBe(
      'provider is required: one of openai, azure, ollama, openai-compatible, gemini',
    );
    expect(
      errorOf(S.ProfileCreate, { name: 'n', provider: 'ollama', model: 'm', is_default: 'yes' })
        ?.message,
    ).toBe('is_default must be true or false');
    expect(errorOf(S.ApproveBody, { x: 1 })).toEqual({
      field: 'x',
      message: 'x is not a known field (this request takes no fields)',
    });
    expect(errorOf(S.SessionCreate, 'nope')).toEqual({
      field: 'body',
      message: 'request body must be an object',
    });
  });

  it('reports an unknown field before the errors it causes', () => {
    const e = errorOf(S.SessionCreate, { gaol: 'g', repo_url: REPO });
    expect(e?.field).toBe('gaol');
    expect(e?.message).toMatch(
      /^gaol is not a known field \(allowed: goal, repo_url, mode, budget, /,
    );
  });

  it('gives parsed values their defaults and types', () => {
    expect(S.parse(S.SessionCreate, { goal: 'g', repo_url: REPO })).toEqual({
      goal: 'g',
      repo_url: REPO,
      mode: 'auto',
    });
    expect(
      S.parse(S.SessionListQuery, {
        limit: '7',
        created_after: '1764072000000',
        created_before: '2026-11-25T12:00:00Z',
      }),
    ).toEqual({
      limit: 7,
      created_after: 1764072000000,
      created_before: Date.parse('2026-11-25T12:00:00Z'),
    });
    expect(S.parse(S.UserCreate, { name: 'ada' }).role).toBe('user');
  });
});

describe('routes validate with the documented schemas', () => {
  it('answers exactly what parse() says for the same input', async () => {
    const h = await startApp();
    const profile = await h.admin('POST', '/agent/ai-profiles', {
      name: 'local',
      provider: 'ollama',
      model: 'llama3.1',
    });
    expect(profile.status).toBe(201);
    const cases: [string, string, z.ZodType, unknown][] = [
      [
        'POST',
        '/agent/sessions',
        S.SessionCreate,
        { goal: 'g', repo_url: REPO, budget: { max_dollars: 5 } },
      ],
      ['POST', '/agent/sessions', S.SessionCreate, { goal: '', repo_url: REPO }],
      [
        'POST',
        '/agent/sessions/01ARZ3NDEKTSV4RRFFQ69G5FAV/input',
        S.InputBody,
        { message: 'm', budget: { max_calls: 0 } },
      ],
      ['POST', '/agent/ai-profiles', S.ProfileCreate, { name: 'n', provider: 'nope', model: 'm' }],
      [
        'PATCH',
        `/agent/ai-profiles/${profile.body.id}`,
        S.ProfilePatch,
        { prices: { input_per_mtok: -1, output_per_mtok: 0 } },
      ],
      ['POST', '/agent/users', S.UserCreate, { name: 'ada', role: 'root' }],
      ['PATCH', '/agent/me', S.MePatch, { default_profile_id: 5 }],
    ];
    for (const [method, path, schema, body] of cases) {
      const res = await h.admin(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.error).toEqual({ code: 'bad_request', ...errorOf(schema, body) });
    }
    const list = await h.admin('GET', '/agent/sessions?limit=501');
    expect(list.body.error).toEqual({
      code: 'bad_request',
      ...errorOf(S.SessionListQuery, { limit: '501' }),
    });
  });

  it('checks per-role profiles of a new session', async () => {
    const app = await wholeApp();
    const res = await app.request('/agent/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ goal: 'g', repo_url: REPO, planner_profile_id: 'nope' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.field).toBe('planner_profile_id');
  });
});

describe('GET /openapi.json and GET /docs', () => {
  it('serves the document', async () => {
    const res = await openApiRoutes().request('/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('serves a self-contained page listing every route', async () => {
    const res = await openApiRoutes().request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<html lang="en">');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/url\(/i);
    for (const r of API_ROUTES) expect(html).toContain(`<code>${r.path}</code>`);
    expect(html).toContain('<h2 id="sessions">Sessions</h2>');
    expect(html).toContain('<code>budget.max_calls</code>');
    expect(html).toContain('href="/openapi.json"');
  });
});

describe('route coverage', () => {
  it('documents exactly the routes the app serves', async () => {
    assertCoversApp(await wholeApp());
  });

  it('lists routes that the document misses and routes that are not served', async () => {
    const app = await wholeApp();
    app.get('/agent/secret/:name', (c) => c.text('x'));
    expect(routeDifferences(app).undocumented).toEqual(['GET /agent/secret/{name}']);
    expect(() => assertCoversApp(app)).toThrow(
      /served but not in the OpenAPI document.*GET \/agent\/secret\/\{name\}/,
    );
    const whole = await wholeApp();
    expect(() => assertCoversApp(whole, { unserved: ['GET /agent/me'] })).toThrow(
      /listed as unserved but served or not documented: GET \/agent\/me/,
    );
    const partial = new Hono().route('/', openApiRoutes());
    expect(routeDifferences(partial).unserved).toContain('POST /agent/sessions');
    expect(() => assertCoversApp(partial)).toThrow(
      /in the OpenAPI document but not served: GET \/agent\/me/,
    );
  });
});
