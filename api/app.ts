import { Hono, type Context } from 'hono';
import type {
  NodeRegistry,
  SessionRemoval,
  Store,
  StoreClock,
  StoreCounts,
  TokenRecords,
  UserRecords,
} from '../runtime/store/port.ts';
import type { Logger } from '../kernel/logger.ts';
import type { BodyReader } from './body.ts';
import { browserGuard } from './edge.ts';
import { sessionIdParam } from './validate.ts';
import { errorResponder } from './errors.ts';
import { type SessionStore, sessionRoutes } from './routes/sessions.ts';
import { profileRoutes } from './routes/profiles.ts';
import { meRoutes, userRoutes } from './routes/users.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { retentionRoutes } from './routes/retention.ts';
import { chartRoutes } from './routes/chart.ts';
import { type EventStore, eventRoutes } from './routes/events.ts';
import { openApiRoutes } from './openapi/index.ts';
import { uiRoutes } from './ui/routes.ts';
import { type AuthStore, authenticate } from './auth.ts';
import { failedAuthLimiter } from './auth-limit.ts';
import { rateLimit } from './rate-limit.ts';
import { httpMetrics, metricsRoutes } from './metrics.ts';
import { createServiceMetrics, type ServiceMetrics } from '../kernel/service-metrics.ts';
import { owns, type AppEnv } from './principal.ts';
import type { Profiles } from '../runtime/profiles.ts';
import type { StoredProfile } from '../runtime/store/records.ts';

/** The store as the API uses it: each route's slice, and the clock and kind for readiness. */
export type ApiStore = SessionStore &
  SessionRemoval &
  EventStore &
  AuthStore &
  StoreCounts &
  NodeRegistry &
  StoreClock &
  UserRecords &
  TokenRecords &
  Pick<Store, 'kind'>;

export interface AppDeps {
  store: ApiStore;
  logger: Logger;
  /** How request bodies are read; the web-standard reader unless the server adapter brings a faster one. */
  readBody?: BodyReader;
  /** Local repositories as `repo_url` (ALLOW_LOCAL_REPOS). */
  allowLocalRepos?: boolean;
  /** AI profiles, keys sealed; without it the profile routes are not served. */
  profiles?: Profiles;
  /** New sessions need a profile (the node runs the LLM agent): without one, 400 says how to make one. */
  requireProfile?: boolean;
  /** `POST /agent/ai-profiles/{id}/test`: a tiny real call with the profile. */
  checkProfile?: (profile: StoredProfile) => Promise<unknown>;
  /**
   * Unauthenticated requests act as the built-in admin: true only when the
   * server listens on loopback alone. Defaults to true for apps built in
   * process (tests); the service sets it from HOST.
   */
  localAdmin?: boolean;
  /** Requests per minute per user (0 or absent: no limit). */
  rateLimitPerMinute?: number;
  /** USER_MAX_RUNNING_SESSIONS: a user's running-session limit unless the user has its own. */
  userMaxRunning?: number;
  /** BUDGET_MAX_CALLS / BUDGET_MAX_TOKENS: the most a user may set a session's budget to. */
  budgetCaps?: { maxCalls: number; maxTokens: number };
  /** SESSION_RETENTION_DAYS, as `GET /agent/retention` shows it (0 or absent: kept for ever). */
  retentionDays?: number;
  /** How often the event stream looks for news, ms. */
  eventsPollMs?: number;
  /** The process's metrics (the node's too), shown at `GET /metrics`; the app makes its own when absent. */
  metrics?: ServiceMetrics;
  /** The client's address, from the server adapter (Node: the socket; Deno: the connection info), for limits per address. */
  clientAddress?: (c: Context) => string | undefined;
  /** Host names the node answers to besides localhost, 127.0.0.1 and [::1] (ALLOWED_HOSTS; `*`: any); see `edge.ts`. */
  allowedHosts?: readonly string[];
}

/**
 * The HTTP API as a web-standard app: the Node and Deno entry points only
 * adapt it to their servers, and tests call `app.request()` directly.
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const read = deps.readBody ? { read: deps.readBody } : {};
  app.onError(errorResponder(deps.logger));
  app.notFound((c) =>
    c.json(
      { error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } },
      404,
    ),
  );
  const metrics = deps.metrics ?? createServiceMetrics();
  app.use('*', httpMetrics(metrics));
  // Before every route: a rebound host name or another site's page gets nothing (edge.ts).
  app.use('*', browserGuard(deps.allowedHosts ? { allowedHosts: deps.allowedHosts } : {}));

  // Open to all: liveness and readiness for load balancers, and the API's description.
  app.get('/health', (c) => c.json({ ok: true }));
  app.get('/ready', async (c) => {
    await deps.store.now();
    return c.json({ ok: true, store: deps.store.kind });
  });
  app.route('/', openApiRoutes());
  // One count of failed token attempts per address, for every route that takes a token.
  const limiter = deps.clientAddress ? failedAuthLimiter(deps.clientAddress) : undefined;
  // Admins only (it shows cluster state); outside /agent, so it authenticates itself.
  app.route(
    '/',
    metricsRoutes({
      store: deps.store,
      metrics,
      logger: deps.logger,
      localAdmin: deps.localAdmin ?? true,
      ...(limiter ? { limiter } : {}),
    }),
  );
  // The web UI's page and static files: public, they hold no data (it comes from /agent with the user's token).
  app.route('/', uiRoutes());

  // Everything under /agent needs a principal; see api/auth.ts for who gets one without a token.
  app.use(
    '/agent/*',
    authenticate({
      store: deps.store,
      localAdmin: deps.localAdmin ?? true,
      ...(limiter ? { limiter } : {}),
    }),
  );
  app.use('/agent/*', rateLimit(deps.rateLimitPerMinute ?? 0));

  const userDeps = {
    store: deps.store,
    defaultMaxRunning: deps.userMaxRunning ?? 0,
    ...read,
    ...(deps.profiles ? { profiles: deps.profiles } : {}),
  };
  app.route('/agent/users', userRoutes(userDeps));
  app.route('/agent/me', meRoutes(userDeps));
  if (deps.profiles) {
    app.route(
      '/agent/ai-profiles',
      profileRoutes({
        profiles: deps.profiles,
        store: deps.store,
        ...read,
        ...(deps.checkProfile ? { check: deps.checkProfile } : {}),
      }),
    );
  }
  // A session id is checked before any route reads the store with it.
  app.use('/agent/sessions/:id', sessionIdParam);
  app.use('/agent/sessions/:id/*', sessionIdParam);
  app.route(
    '/agent/sessions',
    sessionRoutes(deps.store, {
      ...read,
      allowLocalRepos: deps.allowLocalRepos ?? false,
      ...(deps.profiles ? { profiles: deps.profiles } : {}),
      requireProfile: deps.requireProfile ?? false,
      defaultMaxRunning: deps.userMaxRunning ?? 0,
      onRemoved: () => metrics.sessionsRemoved.request.inc(),
      ...(deps.budgetCaps ? { budgetCaps: deps.budgetCaps } : {}),
    }),
  );
  // Live events: the same ownership rule as the other session routes (another user's session is a 404).
  app.route(
    '/agent/sessions',
    eventRoutes(deps.store, {
      ...(deps.eventsPollMs !== undefined ? { pollMs: deps.eventsPollMs } : {}),
      canSee: (c, record) =>
        owns((c as unknown as Context<AppEnv>).get('principal'), record.userId),
      userOf: (c) => (c as unknown as Context<AppEnv>).get('principal').userId,
      logger: deps.logger,
    }),
  );
  app.route('/agent/nodes', nodeRoutes(deps.store));
  app.route('/agent/retention', retentionRoutes(deps.store, { days: deps.retentionDays ?? 0 }));
  // The state chart and its layout, the same for every session (the visualizer adds where a session is).
  app.route('/agent/chart', chartRoutes());
  return app;
}
