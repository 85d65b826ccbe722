/**
 * The node registry of the SQLite adapter: heartbeats at store time; a node
 * stays listed for three heartbeat TTLs after its last one, and is deleted
 * after that, so the table holds only the living.
 */
import type { NodeInfo } from '../records.ts';
import { type SqliteContext, str } from './db.ts';

export function heartbeat(ctx: SqliteContext, node: NodeInfo, ttlMs: number): void {
  const now = ctx.clock();
  ctx.db.run('DELETE FROM nodes WHERE ? - heartbeat_at > ttl_ms * 3', now);
  ctx.db.run(
    'INSERT OR REPLACE INTO nodes (id, info, heartbeat_at, ttl_ms) VALUES (?, ?, ?, ?)',
    node.id,
    JSON.stringify({ ...node, heartbeat_at: now }),
    now,
    ttlMs,
  );
}

export function listNodes(ctx: SqliteContext): NodeInfo[] {
  return ctx.db
    .all(
      'SELECT info FROM nodes WHERE ? - heartbeat_at <= ttl_ms * 3 ORDER BY heartbeat_at DESC',
      ctx.clock(),
    )
    .map((r) => JSON.parse(str(r['info'])) as NodeInfo);
}
