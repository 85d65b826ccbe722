/**
 * Reads a session's inbox after the last applied event and hands each event
 * to the host, one read at a time: wake-ups that come during a read ask for
 * one more round instead of a second reader. A wake-up hint whose event
 * directly follows the last applied one is handed over as it is, without a
 * read (one round trip less per event). The inbox stays the record: a lost
 * hint costs a read, never an event.
 */
import type { InboxEvent } from '../actors/events.ts';
import type { Logger } from '../kernel/logger.ts';
import type { WakeHint } from './store/records.ts';

/** Events read per round; a full batch asks for another round at once. */
const BATCH = 100;

export interface InboxPumpContext {
  sessionId: string;
  logger: Logger;
  read(afterId: string, count: number): Promise<InboxEvent[]>;
  /** The id of the last event handed to the actor. */
  lastApplied(): string;
  apply(ev: InboxEvent): void;
  /** Events are taken only while the host runs (not suspended, draining or stopped). */
  running(): boolean;
}

export class InboxPump {
  #ctx: InboxPumpContext;
  #pumping = false;
  #again = false;

  constructor(ctx: InboxPumpContext) {
    this.#ctx = ctx;
  }

  /** A new inbox event may exist: read and apply everything after the last applied one. */
  wake(hint?: WakeHint): void {
    const ctx = this.#ctx;
    if (!ctx.running()) return;
    if (hint && !this.#pumping && hint.prevId === ctx.lastApplied()) {
      ctx.apply(hint.event);
      return;
    }
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    void this.#pump().finally(() => {
      this.#pumping = false;
    });
  }

  async #pump(): Promise<void> {
    const ctx = this.#ctx;
    do {
      this.#again = false;
      let events: InboxEvent[];
      try {
        events = await ctx.read(ctx.lastApplied(), BATCH);
      } catch (err) {
        ctx.logger.warn('inbox read failed', { session: ctx.sessionId, err: String(err) });
        return;
      }
      for (const ev of events) {
        if (!ctx.running()) return;
        ctx.apply(ev);
      }
      if (events.length === BATCH) this.#again = true;
    } while (this.#again && ctx.running());
  }
}
