/** The cluster view (admins): nodes with a recent heartbeat and the sessions each hosts. */
import { Hono } from 'hono';
import { forbidden } from '../../kernel/errors.ts';
import type { NodeRegistry, StoreClock } from '../../runtime/store/port.ts';
import { isAdmin, type AppEnv } from '../principal.ts';

export function nodeRoutes(store: NodeRegistry & StoreClock): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    if (!isAdmin(c.get('principal'))) throw forbidden('only admins see the cluster');
    const [nodes, now] = await Promise.all([store.listNodes(), store.now()]);
    return c.json({
      nodes: nodes.map((n) => ({
        id: n.id,
        address: n.address,
        version: n.version,
        started_at: new Date(n.started_at).toISOString(),
        heartbeat_at: new Date(n.heartbeat_at).toISOString(),
        heartbeat_age_ms: Math.max(0, now - n.heartbeat_at),
        active_sessions: n.active_sessions,
        sessions: n.sessions ?? [],
      })),
    });
  });
  return app;
}
