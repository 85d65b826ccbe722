/** What the retention sweep removes next (admins): `SESSION_RETENTION_DAYS` as the store sees it now. */
import { Hono } from 'hono';
import { forbidden } from '../../kernel/errors.ts';
import { retentionCutoff } from '../../runtime/retention.ts';
import type { SessionRemoval, StoreClock } from '../../runtime/store/port.ts';
import { isAdmin, type AppEnv } from '../principal.ts';
import { parse, RetentionQuery } from '../schemas/index.ts';
import { summaryView } from './sessions.ts';

export function retentionRoutes(
  store: Pick<SessionRemoval, 'listEnded'> & StoreClock,
  opts: { days: number },
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    if (!isAdmin(c.get('principal'))) throw forbidden('only admins see what retention removes');
    const { limit } = parse(RetentionQuery, c.req.query());
    const cutoff = retentionCutoff(await store.now(), opts.days);
    // One more than shown says whether there are more, without counting them all.
    const rows = cutoff === null ? [] : await store.listEnded(cutoff, limit + 1);
    return c.json({
      retention_days: opts.days,
      cutoff: cutoff === null ? null : new Date(cutoff).toISOString(),
      sessions: rows.slice(0, limit).map(summaryView),
      more: rows.length > limit,
    });
  });
  return app;
}
