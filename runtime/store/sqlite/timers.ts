/**
 * Delivery of due durable timers in the SQLite adapter: each armed timer past
 * its due time goes into its session's inbox once and is marked fired, in
 * one transaction, then the owner is woken or the session queued.
 */
import type { InboxEvent } from '../../../actors/events.ts';
import { num, type SqliteContext, str } from './db.ts';
import { insertEvent } from './inbox.ts';
import { nextEventId, sessionRow } from './state.ts';
import { notify } from './wake-ups.ts';

export function fireDueTimers(ctx: SqliteContext, max: number): number {
  const now = ctx.clock();
  const due = ctx.db.all(
    'SELECT session_id, key, payload FROM timers WHERE fired = 0 AND due <= ? ORDER BY due, rowid LIMIT ?',
    now,
    Math.max(0, max),
  );
  for (const t of due) {
    const id = str(t['session_id']);
    ctx.db.run('UPDATE timers SET fired = 1 WHERE session_id = ? AND key = ?', id, str(t['key']));
    const next = nextEventId(ctx);
    const ev: InboxEvent = {
      id: next.id,
      type: 'timer',
      payload: JSON.parse(str(t['payload'])) as Record<string, unknown>,
      at: now,
    };
    insertEvent(ctx, id, ev, next.ms, next.seq);
    const row = sessionRow(ctx, id);
    if (row) notify(ctx, row);
  }
  return num(due.length);
}
