import type { BudgetOverride } from './work.ts';

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
