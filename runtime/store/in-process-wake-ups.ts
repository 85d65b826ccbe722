/**
 * Wake-up subscriptions of the stores that live in the node's own process
 * (the in-process store, and SQLite, which one node owns): handlers kept in
 * maps and called on a later tick by the adapter that appends or queues.
 */
import type { WakeHandler } from './records.ts';

export interface WakeRegistry {
  wake: Map<string, Set<WakeHandler>>;
  readyHandlers: Set<() => void>;
}

export async function onWake(
  reg: WakeRegistry,
  nodeId: string,
  handler: WakeHandler,
): Promise<() => Promise<void>> {
  const set = reg.wake.get(nodeId) ?? new Set();
  set.add(handler);
  reg.wake.set(nodeId, set);
  return async () => void set.delete(handler);
}

export async function onReady(
  reg: WakeRegistry,
  handler: () => void,
): Promise<() => Promise<void>> {
  reg.readyHandlers.add(handler);
  return async () => void reg.readyHandlers.delete(handler);
}
