/**
 * Delivery of due durable timers in the in-process store: each armed timer
 * past its due time goes into its session's inbox once and is marked fired,
 * then the owner is woken or the session queued.
 */
import { copy, type MemoryState, nextEventId } from './state.ts';
import { notify } from './wake-ups.ts';

export async function fireDueTimers(st: MemoryState, max: number): Promise<number> {
  const now = st.clock();
  let fired = 0;
  for (const [id, s] of st.sessions) {
    for (const t of s.timers.values()) {
      if (fired >= max) return fired;
      if (t.state !== 'armed' || t.due > now) continue;
      t.state = 'fired';
      s.inbox.push({ id: nextEventId(st), type: 'timer', payload: copy(t.payload), at: now });
      notify(st, id, s);
      fired++;
    }
  }
  return fired;
}
