/**
 * Session inboxes of the in-process store: appending events (keyed or not,
 * status-checked, then waking the owner or queueing the session) and reading
 * them in order.
 */
import type { InboxEvent, InboxEventType } from '../../../actors/events.ts';
import { idempotencyKeyReused } from '../../../kernel/errors.ts';
import {
  compareEventIds,
  requestKeyOf,
  type AppendOptions,
  type AppendResult,
} from '../records.ts';
import { keyAnswer, remember, reservedFor } from './sessions.ts';
import { copy, type MemoryState, nextEventId } from './state.ts';
import { notify } from './wake-ups.ts';

export async function appendEvent(
  st: MemoryState,
  id: string,
  event: { type: InboxEventType; payload: Record<string, unknown> },
  options: AppendOptions = {},
): Promise<AppendResult> {
  const rk =
    options.idempotencyKey === undefined ? undefined : requestKeyOf(options.idempotencyKey);
  if (rk) reservedFor(st, rk, id);
  const s = st.sessions.get(id);
  if (!s) return { kind: 'not_found' };
  const first = rk ? keyAnswer(st, s, rk) : null;
  // '' is a create's record: this key was sent with another request.
  if (first === '') throw idempotencyKeyReused();
  if (first) {
    notify(st, id, s);
    return { kind: 'appended', eventId: first, duplicate: true };
  }
  if (options.allowedStatuses && !options.allowedStatuses.includes(s.record.status))
    return { kind: 'conflict', status: s.record.status };
  const ev: InboxEvent = {
    id: nextEventId(st),
    type: event.type,
    payload: copy(event.payload),
    at: st.clock(),
  };
  const prevId = s.inbox[s.inbox.length - 1]?.id ?? '0-0';
  s.inbox.push(ev);
  if (rk) remember(st, s, rk, ev.id);
  notify(st, id, s, { event: ev, prevId });
  return { kind: 'appended', eventId: ev.id, duplicate: false };
}

export async function readEvents(
  st: MemoryState,
  id: string,
  afterId: string,
  count: number,
): Promise<InboxEvent[]> {
  const inbox = st.sessions.get(id)?.inbox ?? [];
  return copy(inbox.filter((e) => compareEventIds(e.id, afterId) > 0).slice(0, Math.max(0, count)));
}
