/**
 * Helpers more than one role file of the SQLite adapter uses: a session row
 * as the port's record, the lease fence, whether events wait, the next event
 * id. Each runs inside the calling method's transaction.
 */
import { PASSIVE_STATUSES, type SessionStatus } from '../../../actors/status.ts';
import { compareEventIds, type CommitResult, type Lease, type SessionRecord } from '../records.ts';
import { num, type Row, type SqliteContext, str } from './db.ts';

export const SESSION_COLUMNS =
  'id, status, phase, reason, goal, result, init, snapshot, created_at, updated_at, epoch, last_event_id, last_inbox_id, lease_node, lease_until, commit_tag, history_n, fenced_writes';

/** The columns of a listing: the record without its snapshot. */
export const SUMMARY_COLUMNS = SESSION_COLUMNS.replace(', snapshot', '');

export const isPassive = (s: string) => (PASSIVE_STATUSES as readonly string[]).includes(s);

export function sessionRow(ctx: SqliteContext, id: string): Row | undefined {
  return ctx.db.get(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`, id);
}

/** The record a row holds; `withSnapshot: false` for listings. */
export function view(ctx: SqliteContext, row: Row, withSnapshot = true): SessionRecord {
  const now = ctx.clock();
  const leaseNode = str(row['lease_node']);
  const leaseUntil = num(row['lease_until']);
  const epoch = num(row['epoch']);
  const historyN = num(row['history_n']);
  const record = {
    ...(JSON.parse(str(row['init'])) as object),
    id: str(row['id']),
    status: str(row['status']) as SessionStatus,
    phase: str(row['phase']),
    reason: row['reason'] === null ? null : str(row['reason']),
    goal: str(row['goal']),
    result: JSON.parse(str(row['result'])) as unknown,
    created_at: num(row['created_at']),
    updated_at: num(row['updated_at']),
    last_event_id: str(row['last_event_id']),
    epoch,
    owner: leaseNode && leaseUntil > now ? { nodeId: leaseNode, epoch, until: leaseUntil } : null,
    fenced_writes: num(row['fenced_writes']),
    // As in the other adapters: counted from the first commit that brings transitions.
    ...(historyN > 0 ? { history_count: historyN } : {}),
  } as SessionRecord;
  if (withSnapshot) {
    record.snapshot = row['snapshot'] === null ? null : JSON.parse(str(row['snapshot']));
  }
  return record;
}

/** Events after the last applied one wait in the inbox. */
export const pending = (row: Row): boolean =>
  compareEventIds(str(row['last_inbox_id']), str(row['last_event_id'])) > 0;

/** A refused write (counted on the session and the store) or null when the lease holds. */
export function fence(ctx: SqliteContext, row: Row | undefined, lease: Lease): CommitResult | null {
  if (!row) return { kind: 'not_found' };
  if (str(row['lease_node']) !== lease.nodeId || num(row['epoch']) !== lease.epoch) {
    ctx.db.run(
      'UPDATE sessions SET fenced_writes = fenced_writes + 1 WHERE id = ?',
      str(row['id']),
    );
    ctx.db.run(
      "INSERT INTO meta (k, v) VALUES ('fenced', 1) ON CONFLICT (k) DO UPDATE SET v = v + 1",
    );
    return { kind: 'fenced' };
  }
  return null;
}

/** Stream-style ids `<ms>-<seq>`, increasing across restarts even if the clock steps back. */
export function nextEventId(ctx: SqliteContext): { id: string; ms: number; seq: number } {
  const lastMs = num(ctx.db.get("SELECT v FROM meta WHERE k = 'event_ms'")?.['v']);
  const lastSeq = num(ctx.db.get("SELECT v FROM meta WHERE k = 'event_seq'")?.['v']);
  const ms = Math.max(ctx.clock(), lastMs);
  const seq = ms === lastMs ? lastSeq + 1 : 0;
  ctx.db.run(
    "INSERT INTO meta (k, v) VALUES ('event_ms', ?), ('event_seq', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    ms,
    seq,
  );
  return { id: `${ms}-${seq}`, ms, seq };
}

/** `<ms>-<seq>` as its two numbers. */
export function parseEventId(id: string): [number, number] {
  const [ms = 0, seq = 0] = id.split('-').map(Number);
  return [ms, seq];
}
