/**
 * Sessions of the SQLite adapter: creating them, the request keys that
 * protect a create or an append (reservations per user key, and the keys
 * recorded with a session's writes), and reading records, listings, logs
 * and history.
 */
import { idempotencyKeyReused } from '../../../kernel/errors.ts';
import {
  requestKeyOf,
  type HistoryEntry,
  type ListQuery,
  type NewSession,
  type RequestKey,
  type RequestKeyState,
  type SessionRecord,
  type SessionSummary,
} from '../records.ts';
import { num, type Param, type SqliteContext, str } from './db.ts';
import { SUMMARY_COLUMNS, sessionRow, view } from './state.ts';
import { enqueue } from './wake-ups.ts';

/** A user's request key, as one name (the user id escaped, as in the other adapters). */
const keyName = (rk: RequestKey) => `${encodeURIComponent(rk.userId)}:${rk.key}`;

export function createSession(
  ctx: SqliteContext,
  init: NewSession,
  idempotencyKey?: string | RequestKey,
): { record: SessionRecord; created: boolean } {
  const rk = idempotencyKey === undefined ? undefined : requestKeyOf(idempotencyKey);
  // The first request's id wins, as in the Redis adapter (where its write may not have happened).
  const id = rk ? reservedFor(ctx, rk, init.id) : init.id;
  const existing = sessionRow(ctx, id);
  if (existing) {
    if (rk) keyAnswer(ctx, id, rk);
    return { record: view(ctx, existing), created: false };
  }
  const now = ctx.clock();
  const { id: _id, goal, ...rest } = init;
  ctx.db.run(
    `INSERT INTO sessions (id, user_id, status, phase, reason, goal, result, init, snapshot, created_at, updated_at)
     VALUES (?, ?, 'QUEUED', 'queued', NULL, ?, 'null', ?, NULL, ?, ?)`,
    id,
    init.userId ?? null,
    goal,
    JSON.stringify(rest),
    now,
    now,
  );
  if (rk) remember(ctx, id, rk, '');
  enqueue(ctx, id);
  const row = sessionRow(ctx, id);
  if (!row) throw new Error(`session ${id} vanished in its own transaction`);
  return { record: view(ctx, row), created: true };
}

export function findRequestKey(ctx: SqliteContext, rk: RequestKey): RequestKeyState {
  const r = reservation(ctx, rk);
  if (!r) return { kind: 'unused' };
  if (str(r['fingerprint']) !== rk.fingerprint) return { kind: 'reused' };
  const sessionId = str(r['session_id']);
  const seen = recorded(ctx, sessionId, rk);
  if (!seen) return { kind: 'unused' };
  if (str(seen['fingerprint']) !== rk.fingerprint) return { kind: 'reused' };
  const answer = str(seen['answer']);
  return { kind: 'used', sessionId, ...(answer ? { eventId: answer } : {}) };
}

function reservation(ctx: SqliteContext, rk: RequestKey) {
  return ctx.db.get(
    'SELECT fingerprint, session_id FROM reservations WHERE name = ? AND until > ?',
    keyName(rk),
    ctx.clock(),
  );
}

function recorded(ctx: SqliteContext, sessionId: string, rk: RequestKey) {
  return ctx.db.get(
    'SELECT fingerprint, answer FROM request_keys WHERE session_id = ? AND name = ? AND until > ?',
    sessionId,
    keyName(rk),
    ctx.clock(),
  );
}

/** The session the first request with this key is for (`sessionId` when there is none); throws for another request. */
export function reservedFor(ctx: SqliteContext, rk: RequestKey, sessionId: string): string {
  const r = reservation(ctx, rk);
  if (r && str(r['fingerprint']) !== rk.fingerprint) throw idempotencyKeyReused();
  return r ? str(r['session_id']) : sessionId;
}

/** The answer recorded with the session's write for this key, or null; throws for another request. */
export function keyAnswer(ctx: SqliteContext, sessionId: string, rk: RequestKey): string | null {
  const seen = recorded(ctx, sessionId, rk);
  if (!seen) return null;
  if (str(seen['fingerprint']) !== rk.fingerprint) throw idempotencyKeyReused();
  return str(seen['answer']);
}

/** Records the key with the write it protects (and reserves it, if that is still to do); drops expired keys on the way. */
export function remember(
  ctx: SqliteContext,
  sessionId: string,
  rk: RequestKey,
  answer: string,
): void {
  const now = ctx.clock();
  const until = now + rk.ttlMs;
  if (!reservation(ctx, rk)) {
    ctx.db.run('DELETE FROM reservations WHERE until <= ?', now);
    ctx.db.run(
      'INSERT OR REPLACE INTO reservations (name, fingerprint, session_id, until) VALUES (?, ?, ?, ?)',
      keyName(rk),
      rk.fingerprint,
      sessionId,
      until,
    );
  }
  ctx.db.run('DELETE FROM request_keys WHERE session_id = ? AND until <= ?', sessionId, now);
  ctx.db.run(
    'INSERT OR REPLACE INTO request_keys (session_id, name, until, fingerprint, answer) VALUES (?, ?, ?, ?, ?)',
    sessionId,
    keyName(rk),
    until,
    rk.fingerprint,
    answer,
  );
}

export function getSession(ctx: SqliteContext, id: string): SessionRecord | null {
  const row = sessionRow(ctx, id);
  return row ? view(ctx, row) : null;
}

/** Newest first by (created_at, id); the cursor is the last id of the previous page. */
export function listSessions(ctx: SqliteContext, q: ListQuery): SessionSummary[] {
  const where: string[] = [];
  const params: Param[] = [];
  if (q.status) {
    where.push('status = ?');
    params.push(q.status);
  }
  if (q.userId !== undefined) {
    where.push('user_id = ?');
    params.push(q.userId);
  }
  if (q.createdAfter !== undefined) {
    where.push('created_at > ?');
    params.push(q.createdAfter);
  }
  if (q.createdBefore !== undefined) {
    where.push('created_at < ?');
    params.push(q.createdBefore);
  }
  const cursor =
    q.before === undefined
      ? undefined
      : ctx.db.get('SELECT created_at, id FROM sessions WHERE id = ?', q.before);
  if (cursor) {
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    params.push(num(cursor['created_at']), num(cursor['created_at']), str(cursor['id']));
  }
  const rows = ctx.db.all(
    `SELECT ${SUMMARY_COLUMNS} FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT ?`,
    ...params,
    Math.max(0, q.limit),
  );
  return rows.map((r) => view(ctx, r, false));
}

export function getLogs(ctx: SqliteContext, id: string, from = 0, count?: number): string[] {
  const limit = count === undefined ? -1 : Math.max(0, count);
  return ctx.db
    .all(
      'SELECT line FROM logs WHERE session_id = ? AND n >= ? ORDER BY n LIMIT ?',
      id,
      Math.max(0, from),
      limit,
    )
    .map((r) => str(r['line']));
}

export function getHistory(ctx: SqliteContext, id: string, from?: number): HistoryEntry[] {
  return ctx.db
    .all('SELECT entry FROM history WHERE session_id = ? AND n >= ? ORDER BY n', id, from ?? 0)
    .map((r) => JSON.parse(str(r['entry'])) as HistoryEntry);
}
