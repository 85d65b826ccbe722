/**
 * Removing ended sessions in the SQLite adapter: every row a session owns
 * goes in one transaction with the checks that keep it from racing an input
 * (not ended, leased, or an event waiting: refused as `active`).
 */
import { ENDED_STATUSES, type SessionStatus } from '../../../actors/status.ts';
import type { RemovalResult, SessionSummary } from '../records.ts';
import { num, type SqliteContext, str } from './db.ts';
import { pending, SUMMARY_COLUMNS, sessionRow, view } from './state.ts';

const ENDED = ENDED_STATUSES.map((s) => `'${s}'`).join(', ');

/** Tables holding rows of a session, by their session column. */
const OWNED = [
  'inbox',
  'logs',
  'history',
  'request_keys',
  'reservations',
  'ready',
  'deadlines',
  'timers',
  'transcripts',
  'artifacts',
  'running',
  'parked',
];

export function listEnded(ctx: SqliteContext, before: number, limit: number): SessionSummary[] {
  return ctx.db
    .all(
      `SELECT ${SUMMARY_COLUMNS} FROM sessions WHERE status IN (${ENDED}) AND updated_at < ?
       ORDER BY updated_at, id LIMIT ?`,
      before,
      Math.max(0, limit),
    )
    .map((r) => view(ctx, r, false));
}

export function removeSession(ctx: SqliteContext, id: string): RemovalResult {
  const row = sessionRow(ctx, id);
  if (!row) return { kind: 'not_found' };
  const status = str(row['status']) as SessionStatus;
  const leased = str(row['lease_node']) !== '' && num(row['lease_until']) > ctx.clock();
  if (!(ENDED_STATUSES as readonly string[]).includes(status) || leased || pending(row)) {
    return { kind: 'active', status };
  }
  for (const table of OWNED) ctx.db.run(`DELETE FROM ${table} WHERE session_id = ?`, id);
  ctx.db.run('DELETE FROM sessions WHERE id = ?', id);
  return { kind: 'removed' };
}
