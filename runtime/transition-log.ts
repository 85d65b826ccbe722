/**
 * The transitions of a hosted actor, from its inspection events, as history
 * entries waiting for the next commit: one per change of phase, with what
 * its event carried made safe to show.
 */
import type { InspectionEvent } from 'xstate';
import { derivePhase } from '../actors/status.ts';
import { historyPayload } from '../actors/payload.ts';
import type { Commit } from './store/records.ts';

export class TransitionLog {
  #phase = '';
  #pending: Commit['history'] = [];

  /** Where the actor starts: its restored phase, or `queued` for a new session. */
  start(phase: string): void {
    this.#phase = phase;
  }

  /**
   * Takes an inspection event; true when it is a snapshot of the session's
   * own actor (not a child's): its state may have changed, so a commit is due.
   */
  observe(ev: InspectionEvent): boolean {
    if (ev.type !== '@xstate.snapshot' || ev.actorRef.sessionId !== ev.rootId) return false;
    const to = derivePhase(ev.snapshot as never);
    if (to !== this.#phase) {
      const payload = historyPayload(ev.event as { type: string } & Record<string, unknown>);
      this.#pending.push({
        event: ev.event.type,
        from: this.#phase,
        to,
        ...(payload ? { payload } : {}),
      });
      this.#phase = to;
    }
    return true;
  }

  /** The entries since the last take, for a commit. */
  take(): Commit['history'] {
    return this.#pending.splice(0);
  }
}
