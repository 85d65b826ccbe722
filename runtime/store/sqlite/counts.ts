/** Store-wide counts of the SQLite adapter, for metrics: fenced writes, sessions per status. */
import { SESSION_STATUSES, type SessionStatus } from '../../../actors/status.ts';
import type { StoreStats } from '../records.ts';
import { num, type SqliteContext, str } from './db.ts';

export function stats(ctx: SqliteContext): StoreStats {
  return { fenced_writes: num(ctx.db.get("SELECT v FROM meta WHERE k = 'fenced'")?.['v']) };
}

export function countByStatus(ctx: SqliteContext): Record<SessionStatus, number> {
  const counts = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<
    SessionStatus,
    number
  >;
  for (const r of ctx.db.all('SELECT status, COUNT(*) AS n FROM sessions GROUP BY status')) {
    counts[str(r['status']) as SessionStatus] = num(r['n']);
  }
  return counts;
}
