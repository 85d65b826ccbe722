import type { BudgetOverride } from './work-contract.ts';

/** Events the session machine takes from its inbox; `eventId` is the inbox entry applied. */
export type SessionEvent =
  | { type: 'approve'; eventId: string }
  | { type: 'input'; eventId: string; message: string; budget?: BudgetOverride }
  | { type: 'cancel'; eventId: string; reason?: string }
  | { type: 'timer'; eventId: string; key: string };

/** Events the machine emits for its host: log lines and durable timers to arm. */
export type SessionEmitted = { type: 'log'; line: string } | { type: 'timer'; timer: ArmedTimer };

export interface ArmedTimer {
  key: string;
  delayMs: number;
  payload: Record<string, unknown>;
}

/** The kinds of inbox entry: what the API appends (approve, input, cancel) and what timers deliver. */
export type InboxEventType = 'approve' | 'input' | 'cancel' | 'timer';

export interface InboxEvent {
  /** Stream-style id `"<ms>-<seq>"`, strictly increasing per session. */
  id: string;
  type: InboxEventType;
  payload: Record<string, unknown>;
  /** Store time at append, ms. */
  at: number;
}

/**
 * Most characters a goal holds with every input folded in. The API refuses
 * an input that would pass it (400 naming `message`), and the machine cuts a
 * fold that raced past that check, so the goal every prompt carries stays
 * bounded (40 inputs grew one to 800,000 characters before).
 */
export const GOAL_MAX_CHARS = 100_000;
