/**
 * The soak's verdict, from what the clients were told (the ledger) and what
 * the store holds at the end. Pure: unit-tested on made-up facts
 * (`invariants.test.ts`), so a check that cannot fail would be noticed.
 *
 * Exactly once, per accepted (2xx) event:
 * - durable: its id is in the session's inbox, once, with its type and marker;
 * - consumed: the record's `last_event_id` is at or after the last inbox entry;
 * - applied once, counted by its effect, which the machine commits with the
 *   snapshot that includes the event: an input's log line
 *   `User input received: chaos input <marker>` (written in the same fenced
 *   commit, never by work), an approve's `awaitingApproval → coding` history
 *   entry (the client approves only a waiting session with all its earlier
 *   events applied, so each approve makes exactly one), a cancel's
 *   transition to `cancelled` with its marker as the reason.
 *   0 effects: lost; more than 1: duplicated.
 * And per session: the expected terminal status; for a completed one the goal
 * is the original with every accepted input folded in, in order, and the diff
 * the one an undisturbed run of that goal gives; history positions are
 * contiguous and epochs never go back (no write from a stale epoch landed).
 */
import {
  HISTORY_CAP,
  compareEventIds,
  type HistoryEntry,
  type SessionRecord,
} from '../../runtime/store/records.ts';
import type { InboxEvent } from '../../actors/events.ts';
import { expectedDiff } from '../support/expected.ts';
import { inputLogLine, inputMessage, type SessionLedger } from './clients.ts';

export interface SessionFacts {
  ledger: SessionLedger;
  record: Omit<SessionRecord, 'snapshot'> | null;
  history: HistoryEntry[];
  logs: string[];
  inbox: InboxEvent[];
}

export interface Verdict {
  sessions: number;
  byStatus: Record<string, number>;
  accepted: number;
  applied: number;
  lost: number;
  duplicated: number;
  /** POSTs that never got a 2xx (the client gave up); not counted as accepted. */
  unacknowledged: number;
  /** Durable timers delivered into inboxes (each key at most once). */
  timersFired: number;
  /** Retries answered with the id of an attempt whose answer was lost. */
  retriedDuplicates: number;
  /** Writes refused for a stale epoch, summed over the sessions' records. */
  fencedWrites: number;
  /** History entries whose epoch is older than one committed before them. */
  staleEpochEntries: number;
  diffsChecked: number;
  /** Completed sessions whose goal or diff differs from an undisturbed run's. */
  diffMismatches: number;
  violations: string[];
}

/** The goal after inputs, as the machine folds them in. */
export function foldedGoal(goal: string, messages: string[]): string {
  return messages.reduce((g, m) => `${g}\n\nUser input: ${m}`, goal);
}

export function checkSessions(all: SessionFacts[]): Verdict {
  const v: Verdict = {
    sessions: all.length,
    byStatus: {},
    accepted: 0,
    applied: 0,
    lost: 0,
    duplicated: 0,
    unacknowledged: 0,
    retriedDuplicates: 0,
    timersFired: 0,
    fencedWrites: 0,
    staleEpochEntries: 0,
    diffsChecked: 0,
    diffMismatches: 0,
    violations: [],
  };
  for (const facts of all) checkOne(facts, v);
  return v;
}

function checkOne(f: SessionFacts, v: Verdict): void {
  const { ledger, record } = f;
  const name = `session ${ledger.plan.index} (${ledger.plan.kind}, ${ledger.id ?? 'never created'})`;
  const fail = (what: string): void => void v.violations.push(`${name}: ${what}`);
  for (const a of ledger.anomalies) fail(`client: ${a}`);
  v.accepted += ledger.accepted.length;
  v.unacknowledged += ledger.unacknowledged.length;
  v.retriedDuplicates += ledger.accepted.filter((e) => e.duplicate).length;
  if (!ledger.id) return;
  if (!record) {
    v.lost += ledger.accepted.length;
    fail('created (2xx) but its record is gone');
    return;
  }
  v.byStatus[record.status] = (v.byStatus[record.status] ?? 0) + 1;
  v.fencedWrites += record.fenced_writes;

  // Durable: each accepted id in the inbox once, as sent; nothing there that no client sent.
  const inbox = new Map(f.inbox.map((e) => [e.id, e]));
  const markerOf = (e: InboxEvent) => String(e.payload['message'] ?? e.payload['reason'] ?? '');
  const stored = new Set<string>();
  for (const a of ledger.accepted) {
    const e = inbox.get(a.eventId);
    const sent =
      a.type === 'input' ? inputMessage(a.marker!) : a.type === 'cancel' ? a.marker! : '';
    if (!e) fail(`accepted ${a.type} ${a.eventId} is not in the inbox`);
    else if (e.type !== a.type || markerOf(e) !== sent)
      fail(
        `inbox entry ${a.eventId} is ${e.type} "${markerOf(e)}", accepted as ${a.type} "${sent}"`,
      );
    else stored.add(a.eventId);
  }
  const markers = new Map<string, number>();
  for (const e of f.inbox) {
    if (e.type === 'timer') continue;
    if (markerOf(e)) markers.set(markerOf(e), (markers.get(markerOf(e)) ?? 0) + 1);
    if (stored.has(e.id)) continue;
    const unacked = ledger.unacknowledged.some(
      (u) =>
        u.type === e.type &&
        (u.type === 'approve' ||
          inputMessage(u.marker ?? '') === markerOf(e) ||
          u.marker === markerOf(e)),
    );
    if (!unacked)
      fail(`inbox entry ${e.id} (${e.type} "${markerOf(e)}") was accepted by no client`);
  }
  for (const [m, n] of markers) if (n > 1) fail(`"${m}" is in the inbox ${n} times`);
  // Durable timers (a flaky clone's retry): each key delivered once.
  const timerKeys = f.inbox.filter((e) => e.type === 'timer').map((e) => String(e.payload['key']));
  v.timersFired += timerKeys.length;
  for (const key of new Set(timerKeys)) {
    const n = timerKeys.filter((k) => k === key).length;
    if (n > 1) fail(`timer ${key} delivered ${n} times`);
  }
  const lastInbox = f.inbox.at(-1)?.id;
  if (lastInbox && compareEventIds(record.last_event_id, lastInbox) < 0) {
    fail(`inbox events after ${record.last_event_id} (up to ${lastInbox}) were never applied`);
  }

  // Applied exactly once, counted by effect.
  const count = (n: number) => {
    if (n === 1) v.applied++;
    else if (n === 0) v.lost++;
    else v.duplicated++;
  };
  for (const a of ledger.accepted.filter((e) => e.type === 'input')) {
    const n = f.logs.filter((l) => l === inputLogLine(a.marker!)).length;
    count(n);
    if (n !== 1) fail(`input ${a.marker} applied ${n} times (log lines)`);
  }
  const approves = ledger.accepted.filter((e) => e.type === 'approve').length;
  const approvals = f.history.filter((h) => h.event === 'approve').length;
  for (let i = 0; i < Math.max(approves, approvals); i++)
    count(i < Math.min(approves, approvals) ? 1 : i < approves ? 0 : 2);
  if (approvals !== approves) fail(`${approves} approve(s) accepted, ${approvals} applied`);
  const cancels = ledger.accepted.filter((e) => e.type === 'cancel');
  const cancelled = f.history.filter((h) => h.event === 'cancel' && h.to === 'cancelled').length;
  for (const c of cancels) {
    const n = record.reason === `cancelled: ${c.marker}` ? cancelled : 0;
    count(n);
    if (n !== 1)
      fail(`cancel ${c.marker} applied ${n} times (reason ${JSON.stringify(record.reason)})`);
  }
  if (cancels.length === 0 && cancelled > 0)
    fail(`cancelled ${cancelled} times without an accepted cancel`);

  // The end: the expected status, the undisturbed result, nothing held.
  const expected = cancels.length > 0 ? 'CANCELLED' : 'COMPLETED';
  if (record.status !== expected)
    fail(`ended ${record.status} (${record.reason ?? ''}), expected ${expected}`);
  if (record.owner !== null)
    fail(`still leased by ${record.owner.nodeId} at epoch ${record.owner.epoch}`);
  if (record.status === 'COMPLETED' && !ledger.unacknowledged.some((u) => u.type === 'input')) {
    const goal = foldedGoal(
      ledger.plan.goal,
      ledger.accepted.filter((e) => e.type === 'input').map((e) => inputMessage(e.marker!)),
    );
    const diff = (record.result as { diff?: string } | null)?.diff;
    v.diffsChecked++;
    if (record.goal !== goal)
      fail(`goal ${JSON.stringify(record.goal)}, expected ${JSON.stringify(goal)}`);
    if (diff !== expectedDiff(goal))
      fail(`diff differs from an undisturbed run's: ${JSON.stringify(diff)}`);
    if (record.goal !== goal || diff !== expectedDiff(goal)) v.diffMismatches++;
  }

  // History: contiguous positions, epochs that never go back, one node per epoch.
  const h = f.history;
  const full = (record.history_count ?? h.length) > HISTORY_CAP;
  h.forEach((e, i) => {
    if (e.n !== (full ? h[0]!.n : 0) + i) fail(`history entry ${i} has n=${e.n}`);
  });
  const nodeOf = new Map<number, string>();
  let maxEpoch = 0;
  for (const e of h) {
    if (e.epoch < maxEpoch) {
      v.staleEpochEntries++;
      fail(
        `history entry ${e.n} (${e.event}: ${e.from} → ${e.to}) from epoch ${e.epoch} after epoch ${maxEpoch} had committed`,
      );
    }
    maxEpoch = Math.max(maxEpoch, e.epoch);
    const seen = nodeOf.get(e.epoch);
    if (seen !== undefined && seen !== e.node)
      fail(`epoch ${e.epoch} wrote history from ${seen} and ${e.node}`);
    nodeOf.set(e.epoch, e.node);
  }
  if (maxEpoch > record.epoch) fail(`history epoch ${maxEpoch} above the record's ${record.epoch}`);
  const lastTo = h.at(-1)?.to;
  const phase = expected === 'CANCELLED' ? 'cancelled' : 'completed';
  if (record.status === expected && lastTo !== phase)
    fail(`last history entry goes to ${lastTo}, expected ${phase}`);
}
