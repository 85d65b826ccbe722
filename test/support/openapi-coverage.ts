/**
 * Drift check between an app and the OpenAPI document: every route the app
 * serves must be documented, and every documented route served.
 */
import type { Hono } from 'hono';
import { openApiDocument } from '../../api/openapi/index.ts';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** `POST /agent/sessions/{id}/approve` for Hono's `POST /agent/sessions/:id/approve`. */
export function normalizeRoute(method: string, path: string): string {
  const p = path.replace(/:([A-Za-z_]\w*)(\{[^}]*\})?/g, '{$1}').replace(/(.)\/+$/, '$1');
  return `${method.toUpperCase()} ${p}`;
}

/** The app's routes (middleware excluded) and the document's, as `METHOD /path`. */
export function routeDifferences(
  app: Hono<any>,
  doc: Record<string, unknown> = openApiDocument(),
): { undocumented: string[]; unserved: string[] } {
  const served = new Set(
    app.routes.filter((r) => r.method !== 'ALL').map((r) => normalizeRoute(r.method, r.path)),
  );
  const documented = new Set(
    Object.entries(doc['paths'] as Record<string, Record<string, unknown>>).flatMap(
      ([path, item]) =>
        Object.keys(item)
          .filter((m) => METHODS.includes(m))
          .map((m) => normalizeRoute(m, path)),
    ),
  );
  return {
    undocumented: [...served].filter((r) => !documented.has(r)).sort(),
    unserved: [...documented].filter((r) => !served.has(r)).sort(),
  };
}

/**
 * Throws, listing the differences, unless the app serves exactly the
 * documented routes. `unserved` names documented routes the given app is
 * known not to serve (a partial app in a test); listing one it does serve is
 * an error too, so the allowance cannot go stale.
 */
export function assertCoversApp(app: Hono<any>, opts: { unserved?: readonly string[] } = {}): void {
  const { undocumented, unserved } = routeDifferences(app);
  const allowed = new Set(opts.unserved ?? []);
  const missing = unserved.filter((r) => !allowed.has(r));
  const stale = [...allowed].filter((r) => !unserved.includes(r));
  const problems = [
    ...undocumented.map(
      (r) =>
        `served but not in the OpenAPI document (add it to API_ROUTES in api/openapi/route-table.ts): ${r}`,
    ),
    ...missing.map((r) => `in the OpenAPI document but not served: ${r}`),
    ...stale.map((r) => `listed as unserved but served or not documented: ${r}`),
  ];
  if (problems.length)
    throw new Error(`routes and OpenAPI document differ:\n  ${problems.join('\n  ')}`);
}
