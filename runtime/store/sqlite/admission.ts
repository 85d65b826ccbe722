/**
 * The SQLite adapter's per-user running limit: who is counted as running
 * (`running`), and who waits (`parked`, with the time it first waited), as
 * the Redis adapter keeps them in `{g}:running:<user>` and `{g}:parked:<user>`.
 */
import type { AdmitResult, CommitResult, Lease } from '../records.ts';
import { num, type SqliteContext, str } from './db.ts';
import { cancelWaits } from './inbox.ts';
import { fence, sessionRow } from './state.ts';

export function admit(ctx: SqliteContext, id: string, userId: string, limit: number): AdmitResult {
  const running = ctx.db
    .all('SELECT session_id FROM running WHERE user_id = ? ORDER BY session_id', userId)
    .map((r) => str(r['session_id']));
  if (running.includes(id) || running.length < limit) {
    count(ctx, id, userId);
    return { admitted: true };
  }
  ctx.db.run(
    'INSERT OR IGNORE INTO parked (user_id, session_id, at) VALUES (?, ?, ?)',
    userId,
    id,
    ctx.clock(),
  );
  return { admitted: false, running };
}

function count(ctx: SqliteContext, id: string, userId: string): void {
  ctx.db.run('INSERT OR IGNORE INTO running (user_id, session_id) VALUES (?, ?)', userId, id);
  ctx.db.run('DELETE FROM parked WHERE user_id = ? AND session_id = ?', userId, id);
}

/** Counts the session or not; uncounting puts every session of the user it un-parks back on the ready queue, in its first waiting order. */
export function setRunning(ctx: SqliteContext, id: string, userId: string, running: boolean): void {
  if (running) {
    count(ctx, id, userId);
    return;
  }
  ctx.db.run('DELETE FROM running WHERE user_id = ? AND session_id = ?', userId, id);
  const promoted = ctx.db.all(
    'SELECT session_id, at FROM parked WHERE user_id = ? AND session_id != ? ORDER BY rowid',
    userId,
    id,
  );
  ctx.db.run('DELETE FROM parked WHERE user_id = ?', userId);
  for (const p of promoted) {
    ctx.db.run(
      'INSERT OR IGNORE INTO ready (session_id, at) VALUES (?, ?)',
      str(p['session_id']),
      num(p['at']),
    );
  }
  if (promoted.length > 0) for (const h of ctx.readyHandlers) setTimeout(h, 0);
}

export function park(
  ctx: SqliteContext,
  id: string,
  lease: Lease,
  reason: string,
  recheckMs: number,
): CommitResult {
  const row = sessionRow(ctx, id);
  const refused = fence(ctx, row, lease);
  if (refused || !row) return refused ?? { kind: 'not_found' };
  if (cancelWaits(ctx, id, str(row['last_event_id']))) return { kind: 'ok', released: false };
  const now = ctx.clock();
  ctx.db.run(
    "UPDATE sessions SET reason = ?, updated_at = ?, lease_node = '', lease_until = 0 WHERE id = ?",
    reason,
    now,
    id,
  );
  ctx.db.run('DELETE FROM ready WHERE session_id = ?', id);
  ctx.db.run(
    'INSERT OR REPLACE INTO deadlines (session_id, until) VALUES (?, ?)',
    id,
    now + recheckMs,
  );
  return { kind: 'ok', released: true };
}
