import type { InboxEvent, SessionEvent } from './events.ts';

/** Maps a stored inbox event to the machine event it stands for. */
export function toMachineEvent(ev: InboxEvent): SessionEvent {
  const p = ev.payload;
  switch (ev.type) {
    case 'approve':
      return { type: 'approve', eventId: ev.id };
    case 'input': {
      const b = p['budget'] as { maxCalls?: number; maxTokens?: number } | undefined;
      return {
        type: 'input',
        eventId: ev.id,
        message: String(p['message'] ?? ''),
        ...(b && typeof b === 'object' ? { budget: b } : {}),
      };
    }
    case 'cancel':
      return typeof p['reason'] === 'string'
        ? { type: 'cancel', eventId: ev.id, reason: p['reason'] }
        : { type: 'cancel', eventId: ev.id };
    case 'timer':
      return { type: 'timer', eventId: ev.id, key: String(p['key'] ?? '') };
  }
}
