/**
 * HTTP metrics and `GET /metrics`. Requests are counted by the route pattern
 * that matched (`/agent/sessions/:id`), never the raw URL, so the number of
 * series stays bounded whatever clients send. `/metrics` reveals cluster
 * state: it needs an admin, like `/agent/nodes` (on a loopback-only server an
 * unauthenticated local request is the admin; beyond it, Prometheus sends
 * `Authorization: Bearer <token of an admin user>`).
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { forbidden } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';
import { CONTENT_TYPE } from '../kernel/metrics.ts';
import type { ServiceMetrics } from '../kernel/service-metrics.ts';
import type { StoreCounts } from '../runtime/store/port.ts';
import { SESSION_STATUSES } from '../actors/status.ts';
import { type AuthStore, authenticate } from './auth.ts';
import type { FailedAuthLimiter } from './auth-limit.ts';
import { isAdmin, type AppEnv } from './principal.ts';

const NOT_ADMIN = 'metrics are for admins: send Authorization: Bearer <token of an admin user>';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route pattern a request matched: the handler that answered, or would have (a 401 before it); `unmatched` for none. */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  const answered = routes[c.req.routeIndex];
  if (answered && answered.method !== 'ALL') return c.req.routePath;
  return routes.find((r) => r.method !== 'ALL')?.path ?? 'unmatched';
}

/** Counts every request and times it to the response head. Mount it first. */
export function httpMetrics(metrics: ServiceMetrics): MiddlewareHandler {
  return async function measureRequest(c, next) {
    const started = performance.now();
    await next();
    const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER';
    const route = routeOf(c);
    metrics.httpRequests.labels(method, route, String(c.res.status)).inc();
    metrics.httpDuration.labels(method, route).observe((performance.now() - started) / 1000);
  };
}

export interface MetricsRouteOptions {
  store: StoreCounts & AuthStore;
  metrics: ServiceMetrics;
  logger: Logger;
  localAdmin: boolean;
  /** Failed token attempts per address, shared with `/agent`. */
  limiter?: FailedAuthLimiter;
}

/** `GET /metrics` in the Prometheus text format; the store's counts are read at each scrape. */
export function metricsRoutes(opts: MetricsRouteOptions): Hono<AppEnv> {
  const { store, metrics } = opts;
  const app = new Hono<AppEnv>();
  app.get(
    '/metrics',
    authenticate({
      store,
      localAdmin: opts.localAdmin,
      ...(opts.limiter ? { limiter: opts.limiter } : {}),
    }),
    async function scrape(c) {
      if (!isAdmin(c.get('principal'))) throw forbidden(NOT_ADMIN);
      try {
        const [counts, stats] = await Promise.all([store.countByStatus(), store.stats()]);
        for (const s of SESSION_STATUSES) metrics.sessions.labels(s).set(counts[s]);
        metrics.storeFencedWrites.set(stats.fenced_writes);
        metrics.storeUp.set(1);
      } catch (err) {
        // The node's own metrics still tell something; stale cluster counts would mislead.
        metrics.sessions.reset();
        metrics.storeUp.set(0);
        opts.logger.warn('metrics: the store did not answer', { err: String(err) });
      }
      return c.body(await metrics.registry.render(), 200, {
        'content-type': CONTENT_TYPE,
        'cache-control': 'no-store',
      });
    },
  );
  return app;
}
