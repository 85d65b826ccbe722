/**
 * The node registry of the in-process store: heartbeats at store time; a
 * node stays listed for three heartbeat TTLs after its last one.
 */
import type { NodeInfo } from '../records.ts';
import { copy, type MemoryState } from './state.ts';

export async function heartbeat(st: MemoryState, node: NodeInfo, ttlMs: number): Promise<void> {
  st.nodes.set(node.id, { info: { ...copy(node), heartbeat_at: st.clock() }, ttlMs });
}

export async function listNodes(st: MemoryState): Promise<NodeInfo[]> {
  const now = st.clock();
  return [...st.nodes.values()]
    .filter((n) => now - n.info.heartbeat_at <= n.ttlMs * 3)
    .sort((a, b) => b.info.heartbeat_at - a.info.heartbeat_at)
    .map((n) => copy(n.info));
}
