/**
 * What the soak's simulated users do, and the ledger of what the service
 * accepted from them. Every session has one client, which acts in sequence
 * (it waits for each answer), so the order of its accepted events is the
 * order of its inbox. Every event carries a unique marker, so its effect can
 * be counted afterwards (`invariants.ts`).
 */
import { call, sleep, type Answer, type CallOptions, type NodeDirectory } from './http.ts';
import type { Prng } from '../support/prng.ts';

export type SessionKind =
  /** Auto mode, no events. */
  | 'plain'
  /** Auto mode; inputs at random moments, some after it completed (it starts again). */
  | 'inputs'
  /** Review mode: inputs while the plan waits (a replan each), then approve. */
  | 'review'
  /** Auto or review mode, cancelled at a random moment (a 409 if it had completed by then). */
  | 'cancel';

export interface SessionPlan {
  /** The soak's seed in base 36: part of every key and marker. */
  tag: string;
  index: number;
  kind: SessionKind;
  mode: 'auto' | 'review';
  goal: string;
  /** `flaky` in the URL: the first clone fails with a retryable error, so a durable timer (a `timer` inbox event) retries it. */
  repoUrl: string;
  /** Offset from the soak's start at which the session is created, ms. */
  startMs: number;
  /** Inputs with the pause before each (for `inputs`; `review` uses the markers only). */
  inputs: { delayMs: number; marker: string }[];
  cancelAfterMs: number;
}

export type EventType = 'approve' | 'input' | 'cancel';

/** An event the service answered 2xx: it is durable and must be applied exactly once. */
export interface AcceptedEvent {
  type: EventType;
  eventId: string;
  key: string;
  /** The input's message, or the cancel's reason: unique in the whole soak. */
  marker?: string;
  node: string;
  attempts: number;
  /** A retry was answered with the first attempt's id: that attempt had been stored, its answer lost. */
  duplicate: boolean;
}

export interface SessionLedger {
  plan: SessionPlan;
  id: string | null;
  accepted: AcceptedEvent[];
  /** Events whose POST never got a 2xx before the deadline: may or may not have been stored. */
  unacknowledged: { type: EventType; key: string; marker?: string }[];
  /** A cancel answered 409: the session had ended first. */
  cancelRefused: boolean;
  /** Answers no correct service gives here (e.g. a 409 to an approve sent while waiting). */
  anomalies: string[];
}

/** The message of an input, and the log line its application writes (`logInput` in the machine). */
export const inputMessage = (marker: string) => `chaos input ${marker}`;
export const inputLogLine = (marker: string) => `User input received: ${inputMessage(marker)}`;

/** The plans of `n` sessions, spread over `spreadMs`. */
export function planSessions(r: Prng, n: number, spreadMs: number): SessionPlan[] {
  const tag = r.seed.toString(36);
  return Array.from({ length: n }, (_, index) => {
    const kind = r.weighted<SessionKind>({ plain: 3, inputs: 3, review: 3, cancel: 1 });
    const mode = kind === 'review' || (kind === 'cancel' && r.chance(0.3)) ? 'review' : 'auto';
    // Some reviewers reject the first round: a longer life, one more coding step.
    const reject = kind !== 'review' && r.chance(0.25) ? ' [reject:1]' : '';
    const goal =
      `soak ${tag} session ${index}: ${r.pick(WORDS)} the ${r.pick(THINGS)}${reject}` +
      (r.chance(0.3) ? `\nalso ${r.pick(WORDS)} its tests` : '');
    const count = kind === 'inputs' ? r.int(1, 3) : kind === 'review' ? r.int(0, 2) : 0;
    const inputs = Array.from({ length: count }, (_, k) => ({
      delayMs: r.int(100, 2500),
      marker: `${tag}-s${index}-i${k}`,
    }));
    const startMs = Math.floor((index / n) * spreadMs + r.int(0, 200));
    const repoUrl = `https://example.com/org/${kind !== 'review' && r.chance(0.15) ? 'flaky' : 'soak'}.git`;
    return {
      tag,
      index,
      kind,
      mode,
      goal,
      repoUrl,
      startMs,
      inputs,
      cancelAfterMs: r.int(50, 3000),
    };
  });
}

const WORDS = ['fix', 'refactor', 'document', 'speed up', 'harden', 'rename'];
const THINGS = ['parser', 'cache', 'login form', 'retry loop', 'scheduler', 'exporter'];

export interface ClientContext {
  nodes: NodeDirectory;
  http: Omit<CallOptions, 'r'>;
  r: Prng;
  /** How often to look at a session while waiting for it, ms. */
  pollMs: number;
  /** Told the id as soon as the session exists. */
  onCreated?(id: string): void;
}

/** Runs one session's client to the end of its plan. Never throws: problems go to `anomalies`. */
export async function runClient(plan: SessionPlan, ctx: ClientContext): Promise<SessionLedger> {
  const ledger: SessionLedger = {
    plan,
    id: null,
    accepted: [],
    unacknowledged: [],
    cancelRefused: false,
    anomalies: [],
  };
  const opts: CallOptions = { ...ctx.http, r: ctx.r };
  const { tag } = plan;
  try {
    const created = await call(
      ctx.nodes,
      opts,
      'POST',
      '/agent/sessions',
      { goal: plan.goal, repo_url: plan.repoUrl, mode: plan.mode },
      `create-${tag}-${plan.index}`,
    );
    if (created.status === 'gave-up' || (created.status !== 201 && created.status !== 200)) {
      ledger.anomalies.push(`create: ${describe(created)}`);
      return ledger;
    }
    const id = created.body.session_id as string;
    ledger.id = id;
    ctx.onCreated?.(id);
    const send = (type: EventType, n: number, body?: unknown, marker?: string) =>
      postEvent(ctx, opts, ledger, id, type, `${type}-${tag}-${plan.index}-${n}`, body, marker);
    if (plan.kind === 'inputs') {
      for (const [k, input] of plan.inputs.entries()) {
        await sleep(input.delayMs);
        const status = await send(
          'input',
          k,
          { message: inputMessage(input.marker) },
          input.marker,
        );
        if (status === 409) ledger.anomalies.push(`input ${input.marker} refused with 409`);
      }
    } else if (plan.kind === 'review') {
      let lastMarker: string | undefined;
      for (let k = 0; ; ) {
        // Waiting with a plan that includes every input sent so far. The plan and the status come
        // from one read of the record; the logs are read after it and may be newer than the status.
        const waiting = await until(
          ctx,
          opts,
          id,
          (s) =>
            s.status === 'WAITING_FOR_USER' &&
            (!lastMarker || planIncludes(s.plan, inputMessage(lastMarker))),
        );
        if (!waiting) {
          ledger.anomalies.push('gave up waiting for the plan');
          return ledger;
        }
        const input = plan.inputs[k];
        if (input) {
          const status = await send(
            'input',
            k,
            { message: inputMessage(input.marker) },
            input.marker,
          );
          if (status === 409) ledger.anomalies.push(`input ${input.marker} refused with 409`);
          lastMarker = input.marker;
          k++;
          continue;
        }
        const status = await send('approve', 0);
        if (status !== 409) break;
        ledger.anomalies.push('approve refused with 409 while the session waited');
      }
    } else if (plan.kind === 'cancel') {
      await sleep(plan.cancelAfterMs);
      const marker = `${tag}-s${plan.index}-cancel`;
      const status = await send('cancel', 0, { reason: marker }, marker);
      if (status === 409) ledger.cancelRefused = true;
    }
  } catch (err) {
    ledger.anomalies.push(`client failed: ${String(err)}`);
  }
  return ledger;
}

/** Posts an event until it is answered; records it as accepted (2xx) or unacknowledged. Returns the status. */
async function postEvent(
  ctx: ClientContext,
  opts: CallOptions,
  ledger: SessionLedger,
  id: string,
  type: EventType,
  key: string,
  body?: unknown,
  marker?: string,
): Promise<number | 'gave-up'> {
  const res = await call(ctx.nodes, opts, 'POST', `/agent/sessions/${id}/${type}`, body, key);
  if (res.status === 'gave-up') {
    ledger.unacknowledged.push({ type, key, ...(marker ? { marker } : {}) });
    return 'gave-up';
  }
  if (res.status === 202) {
    ledger.accepted.push({
      type,
      eventId: res.body.event_id,
      key,
      ...(marker ? { marker } : {}),
      node: res.node,
      attempts: res.attempts,
      duplicate: res.body.duplicate === true,
    });
  } else if (res.status !== 409) {
    ledger.anomalies.push(`${type}: ${describe(res)}`);
  }
  return res.status;
}

/** Polls the session until `ok` holds; null at the deadline. */
async function until(
  ctx: ClientContext,
  opts: CallOptions,
  id: string,
  ok: (s: any) => boolean,
): Promise<any | null> {
  for (;;) {
    const res = await call(ctx.nodes, opts, 'GET', `/agent/sessions/${id}`);
    if (res.status === 'gave-up') return null;
    if (res.status === 200 && ok(res.body)) return res.body;
    await sleep(ctx.pollMs + ctx.r.int(0, ctx.pollMs));
  }
}

function planIncludes(plan: { steps?: string[] } | null, message: string): boolean {
  return (plan?.steps ?? []).some((step) => step.endsWith(message));
}

function describe(a: Answer): string {
  return a.status === 'gave-up'
    ? `gave up after ${a.attempts} attempts (${a.last})`
    : `${a.status} ${JSON.stringify(a.body)}`;
}
