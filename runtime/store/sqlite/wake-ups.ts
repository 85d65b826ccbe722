/**
 * Wake-up hints of the SQLite adapter: one node per data directory, so they
 * are in-process, as in the memory adapter. Handlers run on a later tick,
 * after the transaction that scheduled them has committed.
 */
import type { WakeHint } from '../records.ts';
import { num, type Row, type SqliteContext, str } from './db.ts';

/** Puts a session on the ready queue (keeping its place if it is there) and tells the ready handlers. */
export function enqueue(ctx: SqliteContext, id: string, at = ctx.clock()): void {
  ctx.db.run('INSERT OR IGNORE INTO ready (session_id, at) VALUES (?, ?)', id, at);
  for (const h of ctx.readyHandlers) setTimeout(h, 0);
}

/** After an append: wake the valid owner (with the new event, if any), else queue for any node. */
export function notify(ctx: SqliteContext, row: Row, hint?: WakeHint): void {
  const id = str(row['id']);
  const owner = str(row['lease_node']);
  if (owner && num(row['lease_until']) > ctx.clock()) {
    for (const h of ctx.wake.get(owner) ?? []) {
      setTimeout(() => h(id, hint && structuredClone(hint)), 0);
    }
  } else {
    enqueue(ctx, id);
  }
}

export { onReady, onWake } from '../in-process-wake-ups.ts';
