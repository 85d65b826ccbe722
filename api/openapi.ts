/**
 * The OpenAPI 3.1 document of the API, built from the route table below and
 * the zod schemas the routes validate with (`api/schemas.ts`), and the routes
 * that serve it: `GET /openapi.json` and `GET /docs` (a page that needs no
 * network). Adding a route to the app means adding a row here;
 * `test/support/openapi-coverage.ts` fails when the two differ.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import * as S from './schemas.ts';
import { renderDocsPage } from './docs-page.ts';
import { VERSION } from '../kernel/version.ts';

export type Method = 'get' | 'post' | 'patch' | 'delete';
export type Tag = 'Service' | 'Sessions' | 'AI profiles' | 'Users' | 'Cluster' | 'UI';
type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

/** A success answer: JSON described by `schema`, or another media type. */
export interface Answer {
  description: string;
  schema?: z.ZodType;
  /** Media type when not JSON; several when the route serves files of several types. */
  type?: string | readonly string[];
}

/** One operation of the API, as the docs show it. */
export interface ApiRoute {
  method: Method;
  /** OpenAPI style: `{id}`, not `:id`. */
  path: string;
  tag: Tag;
  summary: string;
  description?: string;
  /** False: public, no token needed (and none checked). */
  auth: boolean;
  /** Only admins may call it (403 for others). */
  admin?: boolean;
  query?: z.ZodObject;
  /** Descriptions of path parameters other than an `id`. */
  params?: Record<string, string>;
  headers?: readonly ('Idempotency-Key' | 'Last-Event-ID')[];
  body?: z.ZodType;
  /** An empty body is allowed (as `{}`). */
  bodyOptional?: boolean;
  ok: Partial<Record<200 | 201 | 202 | 204, Answer>>;
  /** Errors particular to this route; the common ones follow from the fields above. */
  errors?: Partial<Record<ErrorStatus, string>>;
}

const json = (schema: z.ZodType, description: string): Answer => ({ schema, description });
const created = (schema: z.ZodType, what: string): Answer => ({
  schema,
  description: `${what} created; \`Location\` names it.`,
});
const deleted: Answer = { description: 'Deleted.' };
const notAdmin = 'The caller is not an admin.';
const eventConflict = (what: string) => `The session's status does not accept ${what} now.`;

/** Every route of the app. */
export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/health',
    tag: 'Service',
    auth: false,
    summary: 'Liveness',
    description: 'The process answers; says nothing about the store.',
    ok: { 200: json(S.Health, 'Alive.') },
  },
  {
    method: 'get',
    path: '/ready',
    tag: 'Service',
    auth: false,
    summary: 'Readiness',
    description: 'The session store answers: route traffic here.',
    ok: { 200: json(S.Ready, 'Ready.') },
    errors: { 503: 'The store is unavailable.' },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'Service',
    auth: false,
    summary: 'This document',
    description: 'The OpenAPI 3.1 document, built from the schemas the routes validate with.',
    ok: { 200: { description: 'The document.', type: 'application/json' } },
  },
  {
    method: 'get',
    path: '/docs',
    tag: 'Service',
    auth: false,
    summary: 'API reference page',
    description: 'This document as a page; it loads nothing from the network.',
    ok: { 200: { description: 'An HTML page.', type: 'text/html' } },
  },
  {
    method: 'get',
    path: '/',
    tag: 'UI',
    auth: false,
    summary: 'Web UI',
    description:
      'The web interface: one page that loads its modules and styles from `/ui/` and reads everything it shows from the `/agent` API (beyond loopback it asks for an API token). Nothing is loaded from other origins.',
    ok: {
      200: {
        description: 'An HTML page, with a strict Content-Security-Policy.',
        type: 'text/html',
      },
    },
  },
  {
    method: 'get',
    path: '/ui/{path}',
    tag: 'UI',
    auth: false,
    summary: 'Web UI file',
    params: { path: 'The file under `/ui/`, e.g. `app.js` or `pages/sessions.js`.' },
    description:
      'A JavaScript module, the stylesheet or the icon of the web UI. Answers carry an `ETag` and `Cache-Control: no-cache`: a request with a matching `If-None-Match` is a 304.',
    ok: {
      200: { description: 'The file.', type: ['text/javascript', 'text/css', 'image/svg+xml'] },
    },
    errors: { 404: 'No such file.' },
  },

  {
    method: 'post',
    path: '/agent/sessions',
    tag: 'Sessions',
    auth: true,
    summary: 'Start a session',
    body: S.SessionCreate,
    headers: ['Idempotency-Key'],
    description:
      "Queues a session; a node picks it up. In `review` mode it pauses after planning (WAITING_FOR_USER) until approved. The repository URL must also pass the server's policy (no options, no `ext::`, local paths only when allowed).",
    ok: {
      201: {
        schema: S.SessionCreated,
        description:
          'Session created; `Location` names it. A retry with the same Idempotency-Key gets this answer again, with `Idempotent-Replayed: true`.',
      },
    },
  },
  {
    method: 'get',
    path: '/agent/sessions',
    tag: 'Sessions',
    auth: true,
    summary: 'List sessions',
    description:
      'Newest first, a page at a time: pass `next_cursor` as `cursor`. A user lists its own sessions; admins list all.',
    query: S.SessionListQuery,
    ok: { 200: json(S.SessionList, 'A page of sessions.') },
  },
  {
    method: 'get',
    path: '/agent/sessions/{id}',
    tag: 'Sessions',
    auth: true,
    summary: 'Session status, logs and result',
    description: "Another user's session is a 404, as if it did not exist (admins see all).",
    ok: { 200: json(S.SessionDetail, 'The session.') },
  },
  {
    method: 'post',
    path: '/agent/sessions/{id}/approve',
    tag: 'Sessions',
    auth: true,
    summary: 'Approve the plan',
    body: S.ApproveBody,
    bodyOptional: true,
    headers: ['Idempotency-Key'],
    description: 'A session in WAITING_FOR_USER (review mode) goes on to code.',
    ok: { 202: json(S.EventAccepted, 'Added to the session inbox.') },
    errors: { 409: eventConflict('approval (it needs WAITING_FOR_USER)') },
  },
  {
    method: 'post',
    path: '/agent/sessions/{id}/input',
    tag: 'Sessions',
    auth: true,
    summary: 'Send instructions or feedback',
    body: S.InputBody,
    headers: ['Idempotency-Key'],
    description:
      "Waiting or finished: the agent updates its goal and replans. Coding: the input waits until the current iteration ends. A `budget` raises the session's limits.",
    ok: { 202: json(S.EventAccepted, 'Added to the session inbox.') },
    errors: { 409: eventConflict('input (e.g. CANCELLED)') },
  },
  {
    method: 'post',
    path: '/agent/sessions/{id}/cancel',
    tag: 'Sessions',
    auth: true,
    summary: 'Cancel a session',
    body: S.CancelBody,
    bodyOptional: true,
    headers: ['Idempotency-Key'],
    ok: { 202: json(S.EventAccepted, 'Added to the session inbox.') },
    errors: { 409: eventConflict('cancelling (it has finished)') },
  },
  {
    method: 'get',
    path: '/agent/sessions/{id}/history',
    tag: 'Sessions',
    auth: true,
    summary: 'State transitions',
    description: 'Every transition of the session machine, oldest first (the newest 500).',
    ok: { 200: json(S.History, 'The history.') },
  },
  {
    method: 'get',
    path: '/agent/sessions/{id}/chart',
    tag: 'Sessions',
    auth: true,
    summary: 'State chart',
    description: 'The session machine as data and the states this session is in, for a visualizer.',
    ok: { 200: json(S.Chart, 'The chart.') },
  },
  {
    method: 'get',
    path: '/agent/chart',
    tag: 'Sessions',
    auth: true,
    summary: 'State chart with its layout',
    description:
      "The session machine (as in a session's chart) laid out for drawing: every state and transition with absolute coordinates. The same for every session; it has an `ETag`, so send `If-None-Match` to get a 304 when it has not changed.",
    ok: { 200: json(S.MachineChart, 'The machine and its layout.') },
  },
  {
    method: 'get',
    path: '/agent/sessions/{id}/events',
    tag: 'Sessions',
    auth: true,
    summary: 'Live events (server-sent events)',
    headers: ['Last-Event-ID'],
    query: S.EventsQuery,
    description:
      'A `text/event-stream` of the session: what happened so far, then live. Event types, each with JSON data: ' +
      '`transition` (a state change, as in history), `log` (`{index, line}`), `status` (`{status, phase, reason, owner, updated_at}` when they change), ' +
      '`gap` (`{transitions_lost, first_available}`: old transitions were trimmed), `end` (`{status}`: the session ended; input may start it again, so the stream stays open). ' +
      "Each event's `id` is a cursor `<logs>.<transitions>`; reconnect with `Last-Event-ID` (as `EventSource` does) to miss nothing and get nothing twice. Idle streams get `: ping` comments.",
    ok: { 200: { description: 'The event stream; it stays open.', type: 'text/event-stream' } },
    errors: { 400: "The resume cursor is malformed, or past the end of the session's events." },
  },

  {
    method: 'post',
    path: '/agent/ai-profiles',
    tag: 'AI profiles',
    auth: true,
    summary: 'Create an AI profile',
    body: S.ProfileCreate,
    description:
      'Which provider and model sessions use; the caller owns it. `is_default` and `user_ids` are for admins.',
    ok: { 201: created(S.ProfileView, 'Profile') },
    errors: { 403: 'A non-admin set `is_default` or `user_ids`.' },
  },
  {
    method: 'get',
    path: '/agent/ai-profiles',
    tag: 'AI profiles',
    auth: true,
    summary: 'List AI profiles',
    description: 'Yours, those assigned to you and the default (admins: all).',
    ok: { 200: json(S.ProfileList, 'The profiles.') },
  },
  {
    method: 'get',
    path: '/agent/ai-profiles/{id}',
    tag: 'AI profiles',
    auth: true,
    summary: 'Read an AI profile',
    ok: { 200: json(S.ProfileView, 'The profile.') },
  },
  {
    method: 'patch',
    path: '/agent/ai-profiles/{id}',
    tag: 'AI profiles',
    auth: true,
    summary: 'Change an AI profile',
    body: S.ProfilePatch,
    ok: { 200: json(S.ProfileView, 'The profile as changed.') },
    errors: {
      403: 'The profile is shared with the caller, not owned; or a non-admin set `is_default` or `user_ids`.',
    },
  },
  {
    method: 'delete',
    path: '/agent/ai-profiles/{id}',
    tag: 'AI profiles',
    auth: true,
    summary: 'Delete an AI profile',
    ok: { 204: deleted },
    errors: { 403: 'The profile is shared with the caller, not owned.' },
  },
  {
    method: 'post',
    path: '/agent/ai-profiles/{id}/test',
    tag: 'AI profiles',
    auth: true,
    summary: 'Test an AI profile',
    description:
      "A tiny real call with the profile: `ok`, or the provider's error (worded without the key).",
    ok: {
      200: json(
        S.ProfileTestResult,
        'The outcome (a refused key is `ok: false`, not an HTTP error).',
      ),
    },
  },

  {
    method: 'post',
    path: '/agent/users',
    tag: 'Users',
    auth: true,
    admin: true,
    summary: 'Create a user',
    body: S.UserCreate,
    ok: { 201: created(S.UserView, 'User') },
    errors: { 403: notAdmin },
  },
  {
    method: 'get',
    path: '/agent/users',
    tag: 'Users',
    auth: true,
    admin: true,
    summary: 'List users',
    ok: { 200: json(S.UserList, 'The users.') },
    errors: { 403: notAdmin },
  },
  {
    method: 'get',
    path: '/agent/users/{id}',
    tag: 'Users',
    auth: true,
    summary: 'Read a user',
    description: 'Admins read anyone; a user reads itself (another id is a 404).',
    ok: { 200: json(S.UserView, 'The user.') },
  },
  {
    method: 'patch',
    path: '/agent/users/{id}',
    tag: 'Users',
    auth: true,
    summary: 'Change a user',
    body: S.UserPatch,
    description:
      'A user may change its own name and default profile; role and limit are for admins.',
    ok: { 200: json(S.UserView, 'The user as changed.') },
    errors: {
      403: 'A non-admin changed `role` or `max_running_sessions`.',
      409: 'The built-in admin stays an admin.',
    },
  },
  {
    method: 'delete',
    path: '/agent/users/{id}',
    tag: 'Users',
    auth: true,
    admin: true,
    summary: 'Delete a user',
    ok: { 204: deleted },
    errors: { 403: notAdmin, 409: 'The built-in admin cannot be deleted.' },
  },
  {
    method: 'post',
    path: '/agent/users/{id}/tokens',
    tag: 'Users',
    auth: true,
    summary: 'Create an API token',
    body: S.TokenCreate,
    bodyOptional: true,
    description:
      'The token is in this answer only; the server keeps its hash. Admins create tokens for anyone, a user for itself.',
    ok: { 201: created(S.TokenCreated, 'Token') },
  },
  {
    method: 'get',
    path: '/agent/users/{id}/tokens',
    tag: 'Users',
    auth: true,
    summary: "List a user's tokens",
    description: 'Without the secrets.',
    ok: { 200: json(S.TokenList, 'The tokens.') },
  },
  {
    method: 'delete',
    path: '/agent/users/{id}/tokens/{token_id}',
    tag: 'Users',
    auth: true,
    summary: 'Revoke a token',
    ok: { 204: deleted },
  },
  {
    method: 'get',
    path: '/agent/me',
    tag: 'Users',
    auth: true,
    summary: 'Who am I',
    description: 'The calling user and how the request authenticated.',
    ok: { 200: json(S.Me, 'The caller.') },
  },
  {
    method: 'patch',
    path: '/agent/me',
    tag: 'Users',
    auth: true,
    summary: 'Change my settings',
    body: S.MePatch,
    ok: { 200: json(S.Me, 'The caller as changed.') },
  },

  {
    method: 'get',
    path: '/metrics',
    tag: 'Cluster',
    auth: true,
    admin: true,
    summary: 'Metrics (Prometheus)',
    description:
      "This node's metrics and the cluster's session counts in the Prometheus text format 0.0.4: sessions by status, leases, commits, event latency, model calls and tokens, sandbox commands, HTTP requests by route pattern. Prometheus scrapes it with `authorization: Bearer <token of an admin user>` (on a loopback-only server, without one).",
    ok: { 200: { description: 'The metrics.', type: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/agent/nodes',
    tag: 'Cluster',
    auth: true,
    admin: true,
    summary: 'Nodes',
    description: 'Nodes with a recent heartbeat and what each runs now.',
    ok: { 200: json(S.NodeList, 'The nodes.') },
    errors: { 403: notAdmin },
  },
];

const TAGS: Record<Tag, string> = {
  Service: 'Health checks and this documentation; no token needed.',
  Sessions: 'Coding sessions: start, follow, steer and cancel them.',
  'AI profiles': 'Which provider and model sessions use; keys are sealed and never shown.',
  Users: 'Users, their API tokens and settings.',
  Cluster: 'The nodes sharing the work, and their metrics.',
  UI: 'The web interface: a page and its static files; no token needed, as they hold no data (the page reads everything from the API with your token).',
};

const PARAM_NOUN: Record<Tag, string> = {
  Service: 'resource',
  Sessions: 'session',
  'AI profiles': 'AI profile',
  Users: 'user',
  Cluster: 'node',
  UI: 'file',
};

const COMMON_ERRORS: Record<ErrorStatus, string> = {
  400: 'The request is invalid; `error.field` names the field at fault.',
  401: 'No valid token: send `Authorization: Bearer <token>`.',
  403: 'Not allowed for this user.',
  404: 'No such resource (or not one the caller may see).',
  409: 'Conflicts with the current state.',
  413: 'The body is larger than 64 KiB.',
  415: 'The body is not JSON (`Content-Type: application/json`).',
  422: 'The `Idempotency-Key` was sent with another request (another route or body) in the last 24 hours: send a new key with a new request.',
  429: 'Too many requests from this user; `Retry-After` says when to retry.',
  503: 'The session store is unavailable; retry shortly.',
};

const AUTH_TEXT =
  'Send an API token as `Authorization: Bearer <token>` (tokens come from `POST /agent/users/{id}/tokens`). ' +
  'Unauthenticated requests act as the built-in local admin only when the server listens on loopback alone (the default of `npm start`) and the request was not forwarded by a proxy; otherwise they get 401.';

/** A zod schema as the JSON Schema in the document: inputs as accepted, outputs as produced. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io }) as Record<string, unknown>;
  return rest;
}

/** The exported schemas by identity, so the document refers to them by their export names. */
const NAMES = new Map<z.ZodType, string>(
  Object.entries(S).flatMap(([name, v]) => (v instanceof z.ZodType ? [[v, name] as const] : [])),
);

let cached: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document; built on first use. */
export function openApiDocument(): Record<string, unknown> {
  cached ??= build();
  return cached;
}

function build(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  const ref = (schema: z.ZodType, io: 'input' | 'output') => {
    const name = NAMES.get(schema);
    if (!name)
      throw new Error('openapi: a route uses a schema that api/schemas.ts does not export');
    schemas[name] ??= jsonSchemaOf(schema, io);
    return { $ref: `#/components/schemas/${name}` };
  };
  ref(S.ErrorBody, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of API_ROUTES) {
    paths[r.path] ??= {};
    paths[r.path]![r.method] = operation(r, ref);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'SWE Agent API',
      version: VERSION,
      description:
        'Autonomous coding sessions: start one on a repository, follow its logs, approve its plan, send it feedback.\n\n' +
        `${AUTH_TEXT}\n\nErrors are \`{"error": {"code", "message", "field"?}}\`. Request bodies are JSON objects of at most 64 KiB; unknown fields are rejected.`,
    },
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: AUTH_TEXT } },
    },
  };
}

type Ref = (schema: z.ZodType, io: 'input' | 'output') => { $ref: string };

function operation(r: ApiRoute, ref: Ref): Record<string, unknown> {
  const pathParams = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const parameters: unknown[] = pathParams.map((name) => ({
    name,
    in: 'path',
    required: true,
    description:
      r.params?.[name] ??
      (name === 'id' ? `The ${PARAM_NOUN[r.tag]} id.` : `The ${name.replace(/_id$/, '')} id.`),
    schema: { type: 'string' },
  }));
  if (r.query) parameters.push(...queryParameters(r.query));
  for (const h of r.headers ?? []) {
    parameters.push(
      h === 'Idempotency-Key'
        ? {
            name: h,
            in: 'header',
            required: false,
            description: S.IdempotencyKey.description,
            schema: withoutDescription(jsonSchemaOf(S.IdempotencyKey, 'input')),
          }
        : {
            name: h,
            in: 'header',
            required: false,
            description:
              'Resume after this event id, `<logs>.<transitions>` (`EventSource` sends it when it reconnects).',
            schema: { type: 'string', examples: ['12.4'] },
          },
    );
  }
  const responses: Record<string, unknown> = {};
  const replayable = r.headers?.includes('Idempotency-Key') ?? false;
  for (const [status, a] of Object.entries(r.ok))
    responses[status] = answer(a, status === '201', replayable, ref);
  for (const [status, description] of Object.entries(errorsOf(r, pathParams.length > 0))) {
    responses[status] = {
      description,
      content: { 'application/json': { schema: ref(S.ErrorBody, 'output') } },
      ...(status === '429'
        ? {
            headers: {
              'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
            },
          }
        : {}),
    };
  }
  return {
    operationId: operationId(r),
    tags: [r.tag],
    summary: r.summary,
    ...(r.description || r.admin
      ? {
          description: [r.admin ? 'Admins only.' : '', r.description ?? '']
            .filter(Boolean)
            .join(' '),
        }
      : {}),
    ...(r.auth ? {} : { security: [] }),
    ...(r.admin ? { 'x-admin-only': true } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(r.body
      ? {
          requestBody: {
            required: !r.bodyOptional,
            ...(r.bodyOptional ? { description: 'May be empty.' } : {}),
            content: { 'application/json': { schema: ref(r.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

const withoutDescription = ({ description: _d, ...rest }: Record<string, unknown>) => rest;

function queryParameters(query: z.ZodObject): unknown[] {
  const js = jsonSchemaOf(query, 'input') as {
    properties: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(js.properties).map(([name, schema]) => {
    const { description, deprecated, ...rest } = schema;
    return {
      name,
      in: 'query',
      required: js.required?.includes(name) ?? false,
      ...(description ? { description } : {}),
      ...(deprecated ? { deprecated } : {}),
      schema: rest,
    };
  });
}

const REPLAYED_HEADER = {
  description:
    '`true` when this answer repeats the first answer to a request with the same `Idempotency-Key`: nothing was done again.',
  schema: { type: 'string', enum: ['true'] },
};

function answer(
  a: Answer,
  isCreated: boolean,
  replayable: boolean,
  ref: Ref,
): Record<string, unknown> {
  const content = a.schema
    ? { 'application/json': { schema: ref(a.schema, 'output') } }
    : a.type
      ? Object.fromEntries(
          ([] as string[])
            .concat(a.type)
            .map((t) => [
              t,
              { schema: t === 'application/json' ? { type: 'object' } : { type: 'string' } },
            ]),
        )
      : undefined;
  const headers = {
    ...(isCreated
      ? { Location: { description: 'The new resource.', schema: { type: 'string' } } }
      : {}),
    ...(replayable ? { 'Idempotent-Replayed': REPLAYED_HEADER } : {}),
  };
  return {
    description: a.description,
    ...(Object.keys(headers).length ? { headers } : {}),
    ...(content ? { content } : {}),
  };
}

/** The errors a route can answer: those that follow from what it takes, and its own. */
function errorsOf(r: ApiRoute, hasPathParams: boolean): Partial<Record<ErrorStatus, string>> {
  const e: Partial<Record<ErrorStatus, string>> = {};
  if (r.body || r.query || r.headers?.length) e[400] = COMMON_ERRORS[400];
  if (r.auth) e[401] = COMMON_ERRORS[401];
  if (r.admin) e[403] = notAdmin;
  if (hasPathParams) e[404] = COMMON_ERRORS[404];
  if (r.body) {
    e[413] = COMMON_ERRORS[413];
    e[415] = COMMON_ERRORS[415];
  }
  if (r.headers?.includes('Idempotency-Key')) e[422] = COMMON_ERRORS[422];
  if (r.auth) {
    e[429] = COMMON_ERRORS[429];
    e[503] =
      r.method === 'post' && r.headers?.includes('Idempotency-Key')
        ? `${COMMON_ERRORS[503]} The request may or may not have taken effect: retry it with the same \`Idempotency-Key\`.`
        : COMMON_ERRORS[503];
  }
  for (const [status, text] of Object.entries(r.errors ?? {}))
    e[Number(status) as ErrorStatus] = text;
  return Object.fromEntries(Object.entries(e).sort(([a], [b]) => Number(a) - Number(b))) as Partial<
    Record<ErrorStatus, string>
  >;
}

function operationId(r: ApiRoute): string {
  const words = r.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return r.method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

/** `GET /openapi.json` and `GET /docs`; public (mount them before the auth middleware). */
export function openApiRoutes(): Hono {
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  let page: string | undefined;
  app.get('/docs', (c) => {
    page ??= renderDocsPage(openApiDocument());
    // The page is self-contained: it may load nothing, run nothing, and not be framed.
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    return c.html(page);
  });
  return app;
}
