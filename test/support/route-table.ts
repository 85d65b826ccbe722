/**
 * Walking the API's route table (`API_ROUTES`) for generated tests: a valid
 * sample of a route's body from its schema, and its path filled with ids of
 * real resources. A route whose path names a resource these helpers do not
 * know fails loudly, so a new kind of id gets a fixture instead of being skipped.
 */
import { jsonSchemaOf, type ApiRoute } from '../../api/openapi/index.ts';

/** The JSON Schema subset the generators read. */
export interface JS {
  type?: string;
  properties?: Record<string, JS>;
  required?: string[];
  additionalProperties?: unknown;
  anyOf?: JS[];
  enum?: unknown[];
  items?: JS;
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
}

/** A value the schema accepts: required fields only, examples where given. */
export function sample(js: JS): unknown {
  const s = js.anyOf?.find((a) => a.type !== 'null') ?? js;
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object':
      return Object.fromEntries((s.required ?? []).map((k) => [k, sample(s.properties![k]!)]));
    case 'string':
      return typeof s.examples?.[0] === 'string' ? s.examples[0] : 'x';
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    default:
      return null;
  }
}

/** Bodies for routes whose minimal sample would not pass the route's own cross-field checks. */
const VALID: Record<string, Record<string, unknown>> = {
  'post /agent/sessions': {
    goal: 'Fix the bug',
    repo_url: 'https://github.com/o/r.git',
    mode: 'review',
    budget: { max_calls: 5 },
  },
  'post /agent/ai-profiles': {
    name: 'sample',
    provider: 'openai',
    model: 'gpt-4o-mini',
    api_key: 'sk-sample-profile-key-0000',
  },
};

/** A valid body for the route, or undefined when it takes none. */
export function validBody(route: ApiRoute): unknown {
  if (!route.body) return undefined;
  return VALID[`${route.method} ${route.path}`] ?? sample(jsonSchemaOf(route.body, 'input') as JS);
}

/** Ids of resources, one per kind a path can name. */
export interface ResourceIds {
  session: string;
  profile: string;
  user: string;
  token: string;
}

/** The kind of resource a path parameter names. */
export function paramKind(route: ApiRoute, param: string): keyof ResourceIds {
  if (param === 'token_id') return 'token';
  if (param === 'id' && route.path.startsWith('/agent/sessions/')) return 'session';
  if (param === 'id' && route.path.startsWith('/agent/ai-profiles/')) return 'profile';
  if (param === 'id' && route.path.startsWith('/agent/users/')) return 'user';
  throw new Error(
    `no fixture id for {${param}} in ${route.path}: add its kind to test/support/route-table.ts`,
  );
}

/** The path parameters of a route, in order. */
export const pathParams = (route: ApiRoute): string[] =>
  [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);

/** The route's path with each parameter replaced by the id of its kind (or by `over[param]`). */
export function fillPath(
  route: ApiRoute,
  ids: ResourceIds,
  over: Record<string, string> = {},
): string {
  return route.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
    encodeURIComponent(over[name] ?? ids[paramKind(route, name)]),
  );
}
