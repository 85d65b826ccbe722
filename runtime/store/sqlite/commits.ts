/**
 * What the owner of a session writes under its lease in the SQLite adapter,
 * each write fenced by the epoch: commits (snapshot, history, logs, optional
 * release), log appends, and timers armed.
 */
import {
  HISTORY_CAP,
  type Commit,
  type CommitResult,
  type Lease,
  type TimerSpec,
} from '../records.ts';
import { num, type SqliteContext, str } from './db.ts';
import { fence, pending, sessionRow } from './state.ts';

export function commit(ctx: SqliteContext, id: string, lease: Lease, c: Commit): CommitResult {
  const row = sessionRow(ctx, id);
  const tag = `${lease.epoch}:${c.seq}`;
  // A retry after a lost reply: acknowledged, not written twice.
  if (row && num(row['epoch']) === lease.epoch && str(row['commit_tag']) === tag) {
    return { kind: 'ok', released: str(row['lease_node']) === '' };
  }
  const refused = fence(ctx, row, lease);
  if (refused || !row) return refused ?? { kind: 'not_found' };
  const now = ctx.clock();
  ctx.db.run(
    `UPDATE sessions SET commit_tag = ?, snapshot = ?, status = ?, phase = ?, reason = ?, goal = ?,
       result = ?, last_event_id = ?, updated_at = ? WHERE id = ?`,
    tag,
    JSON.stringify(c.snapshot),
    c.status,
    c.phase,
    c.reason,
    c.goal,
    JSON.stringify(c.result ?? null),
    c.lastEventId,
    now,
    id,
  );
  appendLines(ctx, id, c.logs);
  let n = num(row['history_n']);
  for (const h of c.history) {
    const entry = { ...h, n, at: now, node: lease.nodeId, epoch: lease.epoch };
    ctx.db.run(
      'INSERT INTO history (session_id, n, entry) VALUES (?, ?, ?)',
      id,
      n,
      JSON.stringify(entry),
    );
    n++;
  }
  if (c.history.length > 0) {
    ctx.db.run('UPDATE sessions SET history_n = ? WHERE id = ?', n, id);
    ctx.db.run('DELETE FROM history WHERE session_id = ? AND n < ?', id, n - HISTORY_CAP);
  }
  let released = false;
  if (c.release && !pending({ ...row, last_event_id: c.lastEventId })) {
    ctx.db.run("UPDATE sessions SET lease_node = '', lease_until = 0 WHERE id = ?", id);
    ctx.db.run('DELETE FROM deadlines WHERE session_id = ?', id);
    released = true;
  }
  return { kind: 'ok', released };
}

/** Appends to the session log, numbering lines from the session's count. */
function appendLines(ctx: SqliteContext, id: string, lines: string[]): void {
  if (lines.length === 0) return;
  const first = num(ctx.db.get('SELECT log_n FROM sessions WHERE id = ?', id)?.['log_n']);
  lines.forEach((line, i) => {
    ctx.db.run('INSERT INTO logs (session_id, n, line) VALUES (?, ?, ?)', id, first + i, line);
  });
  ctx.db.run('UPDATE sessions SET log_n = ? WHERE id = ?', first + lines.length, id);
}

export function appendLogs(
  ctx: SqliteContext,
  id: string,
  lease: Lease,
  lines: string[],
): CommitResult {
  const row = sessionRow(ctx, id);
  const refused = fence(ctx, row, lease);
  if (refused || !row) return refused ?? { kind: 'not_found' };
  appendLines(ctx, id, lines);
  return { kind: 'ok', released: false };
}

export function scheduleTimer(
  ctx: SqliteContext,
  id: string,
  lease: Lease,
  timer: TimerSpec,
): CommitResult {
  const row = sessionRow(ctx, id);
  const refused = fence(ctx, row, lease);
  if (refused || !row) return refused ?? { kind: 'not_found' };
  ctx.db.run(
    'INSERT OR IGNORE INTO timers (session_id, key, payload, due) VALUES (?, ?, ?, ?)',
    id,
    timer.key,
    JSON.stringify({ ...timer.payload, key: timer.key }),
    ctx.clock() + timer.delayMs,
  );
  return { kind: 'ok', released: false };
}
