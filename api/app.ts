import { Hono } from 'hono';
import type { Store } from '../runtime/store/port.ts';
import type { Logger } from '../runtime/logger.ts';
import type { BodyReader } from './body.ts';
import { errorResponder } from './errors.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { profileRoutes } from './routes/profiles.ts';
import type { Profiles } from '../runtime/profiles.ts';
import type { StoredProfile } from '../runtime/store/port.ts';

export interface AppDeps {
  store: Store;
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
}

/**
 * The HTTP API as a web-standard app: the Node and Deno entry points only
 * adapt it to their servers, and tests call `app.request()` directly.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError(errorResponder(deps.logger));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

  app.get('/health', (c) => c.json({ ok: true }));
  app.get('/ready', async (c) => {
    await deps.store.now();
    return c.json({ ok: true, store: deps.store.kind });
  });
  if (deps.profiles) app.route('/agent/ai-profiles', profileRoutes(deps.profiles, deps.readBody, deps.checkProfile));
  app.route('/agent/sessions', sessionRoutes(deps.store, {
      ...(deps.readBody ? { read: deps.readBody } : {}),
      allowLocalRepos: deps.allowLocalRepos ?? false,
      ...(deps.profiles ? { profiles: deps.profiles } : {}),
      requireProfile: deps.requireProfile ?? false,
    }));
  // The cluster view: nodes with a recent heartbeat, what each runs now.
  app.get('/agent/nodes', async (c) => {
    const nodes = await deps.store.listNodes();
    return c.json({
      nodes: nodes.map((n) => ({
        id: n.id,
        address: n.address,
        version: n.version,
        started_at: new Date(n.started_at).toISOString(),
        heartbeat_at: new Date(n.heartbeat_at).toISOString(),
        active_sessions: n.active_sessions,
      })),
    });
  });
  return app;
}
