/**
 * The node registry on Redis: a heartbeat script writes the node's hash at
 * store time and prunes `{g}:nodes`; listing reads back the live ones.
 */
import type { NodeInfo } from '../records.ts';
import type { RedisContext } from './context.ts';
import { exec } from './pipeline.ts';
import { runScript } from './scripts/index.ts';

/** A node stays listed for three heartbeat TTLs after its last heartbeat. */
export async function heartbeat(ctx: RedisContext, node: NodeInfo, ttlMs: number): Promise<void> {
  await runScript(
    ctx.redis,
    'swHeartbeat',
    [ctx.g.nodes, ctx.g.node(node.id)],
    [
      node.id,
      ttlMs * 3,
      'address',
      node.address,
      'started_at',
      node.started_at,
      'version',
      node.version,
      'active_sessions',
      node.active_sessions,
      'sessions',
      JSON.stringify(node.sessions ?? []),
      ...(node.settings ? ['settings', JSON.stringify(node.settings)] : []),
    ],
  );
}

/**
 * Live nodes (heartbeat within their keep window), latest heartbeat first.
 * Each entry of `nodes` is re-checked against the hash it points to: one
 * whose hash has expired is skipped, never shown.
 */
export async function listNodes(ctx: RedisContext): Promise<NodeInfo[]> {
  const { redis, g } = ctx;
  const ids = await redis.zrevrange(g.nodes, 0, -1);
  if (ids.length === 0) return [];
  const p = redis.pipeline();
  for (const id of ids) p.hgetall(g.node(id));
  const hashes = (await exec(p)) as Record<string, string>[];
  const nodes: NodeInfo[] = [];
  ids.forEach((id, i) => {
    const h = hashes[i];
    if (!h || h['heartbeat_at'] === undefined) return;
    nodes.push({
      id,
      address: h['address'] ?? '',
      started_at: Number(h['started_at'] ?? 0),
      version: h['version'] ?? '',
      active_sessions: Number(h['active_sessions'] ?? 0),
      sessions: h['sessions'] ? (JSON.parse(h['sessions']) as string[]) : [],
      heartbeat_at: Number(h['heartbeat_at']),
      ...(h['settings'] ? { settings: JSON.parse(h['settings']) as Record<string, string> } : {}),
    });
  });
  return nodes;
}
