/**
 * Wake-up hints of the in-process store: the owner's wake handlers, or the
 * ready queue and its handlers for a session without a valid owner. Handlers
 * run on a later tick, as a message from Redis would arrive.
 */
import type { WakeHint } from '../records.ts';
import { copy, type MemoryState, type Session } from './state.ts';

export function enqueue(st: MemoryState, id: string): void {
  if (!st.ready.has(id)) st.ready.set(id, st.clock());
  for (const h of st.readyHandlers) setTimeout(h, 0);
}

/** After an append: wake the valid owner (with the new event, if any), else queue for any node. */
export function notify(st: MemoryState, id: string, s: Session, hint?: WakeHint): void {
  if (s.leaseNode && s.leaseUntil > st.clock()) {
    for (const h of st.wake.get(s.leaseNode) ?? []) setTimeout(() => h(id, hint && copy(hint)), 0);
  } else {
    enqueue(st, id);
  }
}

export { onReady, onWake } from '../in-process-wake-ups.ts';
