/**
 * Ownership in the SQLite adapter: handing sessions out (ready queue, then
 * passed lease deadlines), claims with a new epoch, renewals, and giving a
 * lease up without a commit.
 */
import type { ClaimResult, CommitResult, Lease, RenewResult } from '../records.ts';
import { num, type SqliteContext, str } from './db.ts';
import { fence, isPassive, pending, sessionRow, view } from './state.ts';
import { enqueue } from './wake-ups.ts';

const setDeadline = (ctx: SqliteContext, id: string, until: number) =>
  ctx.db.run('INSERT OR REPLACE INTO deadlines (session_id, until) VALUES (?, ?)', id, until);

export function takeReady(ctx: SqliteContext, max: number, ttlMs: number): string[] {
  const now = ctx.clock();
  const out: string[] = [];
  for (const r of ctx.db.all(
    'SELECT session_id FROM ready WHERE at <= ? ORDER BY at, rowid LIMIT ?',
    now,
    Math.max(0, max),
  )) {
    out.push(str(r['session_id']));
    ctx.db.run('DELETE FROM ready WHERE session_id = ?', str(r['session_id']));
  }
  if (out.length < max) {
    for (const r of ctx.db.all(
      'SELECT session_id FROM deadlines WHERE until <= ? ORDER BY until, rowid LIMIT ?',
      now,
      max,
    )) {
      const id = str(r['session_id']);
      if (out.length >= max) break;
      if (!out.includes(id)) out.push(id);
    }
  }
  for (const id of out) setDeadline(ctx, id, now + ttlMs);
  return out;
}

export function claim(ctx: SqliteContext, id: string, nodeId: string, ttlMs: number): ClaimResult {
  const row = sessionRow(ctx, id);
  if (!row) return { kind: 'not_found' };
  const now = ctx.clock();
  const leaseUntil = num(row['lease_until']);
  if (str(row['lease_node']) && leaseUntil > now) {
    setDeadline(ctx, id, leaseUntil);
    return { kind: 'busy', until: leaseUntil };
  }
  if (isPassive(str(row['status'])) && !pending(row)) {
    ctx.db.run('DELETE FROM deadlines WHERE session_id = ?', id);
    return { kind: 'idle' };
  }
  const until = now + ttlMs;
  ctx.db.run(
    'UPDATE sessions SET epoch = epoch + 1, lease_node = ?, lease_until = ? WHERE id = ?',
    nodeId,
    until,
    id,
  );
  setDeadline(ctx, id, until);
  const claimed = sessionRow(ctx, id);
  if (!claimed) throw new Error(`session ${id} vanished in its own transaction`);
  return {
    kind: 'claimed',
    lease: { nodeId, epoch: num(claimed['epoch']) },
    until,
    record: view(ctx, claimed),
  };
}

export function forget(ctx: SqliteContext, id: string): void {
  ctx.db.run('DELETE FROM ready WHERE session_id = ?', id);
  ctx.db.run('DELETE FROM deadlines WHERE session_id = ?', id);
}

export function renew(
  ctx: SqliteContext,
  nodeId: string,
  leases: { id: string; epoch: number }[],
  ttlMs: number,
): RenewResult[] {
  const now = ctx.clock();
  return leases.map(({ id, epoch }) => {
    const row = sessionRow(ctx, id);
    if (!row || str(row['lease_node']) !== nodeId || num(row['epoch']) !== epoch) {
      return { id, ok: false, until: row ? num(row['lease_until']) : 0, pending: false };
    }
    const until = now + ttlMs;
    ctx.db.run('UPDATE sessions SET lease_until = ? WHERE id = ?', until, id);
    setDeadline(ctx, id, until);
    return { id, ok: true, until, pending: pending(row) };
  });
}

export function release(
  ctx: SqliteContext,
  id: string,
  lease: Lease,
  requeue: boolean,
): CommitResult {
  const row = sessionRow(ctx, id);
  const refused = fence(ctx, row, lease);
  if (refused || !row) return refused ?? { kind: 'not_found' };
  ctx.db.run("UPDATE sessions SET lease_node = '', lease_until = 0 WHERE id = ?", id);
  if (requeue) enqueue(ctx, id);
  else if (isPassive(str(row['status'])))
    ctx.db.run('DELETE FROM deadlines WHERE session_id = ?', id);
  return { kind: 'ok', released: true };
}

/**
 * At open: one node per data directory, so every lease in the file belongs
 * to a process that is gone. They are dropped, and the sessions that were
 * working go straight to the ready queue instead of waiting out the lease.
 */
export function releaseOrphans(ctx: SqliteContext): number {
  const rows = ctx.db.all(
    "SELECT id, status, last_event_id, last_inbox_id FROM sessions WHERE lease_node != ''",
  );
  ctx.db.run("UPDATE sessions SET lease_node = '', lease_until = 0 WHERE lease_node != ''");
  for (const r of rows) {
    if (!isPassive(str(r['status'])) || pending(r)) enqueue(ctx, str(r['id']));
  }
  return rows.length;
}
