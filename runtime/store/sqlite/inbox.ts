/**
 * Session inboxes of the SQLite adapter: appending events (keyed or not,
 * status-checked, then waking the owner or queueing the session) and reading
 * them in order.
 */
import type { InboxEvent, InboxEventType } from '../../../actors/events.ts';
import type { SessionStatus } from '../../../actors/status.ts';
import { idempotencyKeyReused } from '../../../kernel/errors.ts';
import { requestKeyOf, type AppendOptions, type AppendResult } from '../records.ts';
import { num, type SqliteContext, str } from './db.ts';
import { keyAnswer, remember, reservedFor } from './sessions.ts';
import { nextEventId, parseEventId, sessionRow } from './state.ts';
import { notify } from './wake-ups.ts';

export function appendEvent(
  ctx: SqliteContext,
  id: string,
  event: { type: InboxEventType; payload: Record<string, unknown> },
  options: AppendOptions = {},
): AppendResult {
  const rk =
    options.idempotencyKey === undefined ? undefined : requestKeyOf(options.idempotencyKey);
  if (rk) reservedFor(ctx, rk, id);
  const row = sessionRow(ctx, id);
  if (!row) return { kind: 'not_found' };
  const first = rk ? keyAnswer(ctx, id, rk) : null;
  // '' is a create's record: this key was sent with another request.
  if (first === '') throw idempotencyKeyReused();
  if (first) {
    notify(ctx, row);
    return { kind: 'appended', eventId: first, duplicate: true };
  }
  const status = str(row['status']) as SessionStatus;
  if (options.allowedStatuses && !options.allowedStatuses.includes(status))
    return { kind: 'conflict', status };
  const ev: InboxEvent = {
    id: '',
    type: event.type,
    payload: structuredClone(event.payload),
    at: ctx.clock(),
  };
  const next = nextEventId(ctx);
  ev.id = next.id;
  insertEvent(ctx, id, ev, next.ms, next.seq);
  const prevId = str(row['last_inbox_id']);
  if (rk) remember(ctx, id, rk, ev.id);
  notify(ctx, row, { event: ev, prevId });
  return { kind: 'appended', eventId: ev.id, duplicate: false };
}

/** Writes one event and moves the session's newest-event mark. */
export function insertEvent(
  ctx: SqliteContext,
  id: string,
  ev: InboxEvent,
  ms: number,
  seq: number,
): void {
  ctx.db.run(
    'INSERT INTO inbox (session_id, ms, seq, type, payload, at) VALUES (?, ?, ?, ?, ?, ?)',
    id,
    ms,
    seq,
    ev.type,
    JSON.stringify(ev.payload),
    ev.at,
  );
  ctx.db.run('UPDATE sessions SET last_inbox_id = ? WHERE id = ?', ev.id, id);
}

export function readEvents(
  ctx: SqliteContext,
  id: string,
  afterId: string,
  count: number,
): InboxEvent[] {
  const [ms, seq] = parseEventId(afterId);
  return ctx.db
    .all(
      `SELECT ms, seq, type, payload, at FROM inbox
       WHERE session_id = ? AND (ms > ? OR (ms = ? AND seq > ?)) ORDER BY ms, seq LIMIT ?`,
      id,
      ms,
      ms,
      seq,
      Math.max(0, count),
    )
    .map((r) => ({
      id: `${num(r['ms'])}-${num(r['seq'])}`,
      type: str(r['type']) as InboxEventType,
      payload: JSON.parse(str(r['payload'])) as Record<string, unknown>,
      at: num(r['at']),
    }));
}

/** Whether an unapplied `cancel` waits in the inbox (a parked session must be hosted to apply it). */
export function cancelWaits(ctx: SqliteContext, id: string, lastEventId: string): boolean {
  const [ms, seq] = parseEventId(lastEventId);
  return (
    ctx.db.get(
      `SELECT 1 FROM inbox WHERE session_id = ? AND type = 'cancel' AND (ms > ? OR (ms = ? AND seq > ?)) LIMIT 1`,
      id,
      ms,
      ms,
      seq,
    ) !== undefined
  );
}
