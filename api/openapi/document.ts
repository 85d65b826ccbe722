/**
 * The OpenAPI 3.1 document of the API, built from the route table and the
 * zod schemas the routes validate with (`api/schemas/`).
 */
import { z } from 'zod';
import { VERSION } from '../../kernel/version.ts';
import * as S from '../schemas/index.ts';
import {
  type Answer,
  API_ROUTES,
  type ApiRoute,
  type ErrorStatus,
  notAdmin,
  type Tag,
} from './route-table.ts';

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
    if (!name) throw new Error('openapi: a route uses a schema that api/schemas/ does not export');
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
