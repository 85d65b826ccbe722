/**
 * The soak's checks must be able to fail: each case breaks one fact of a
 * correct run (as the soak gathers them) and expects the verdict to say so.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../runtime/store/records.ts';
import type { InboxEvent } from '../../actors/events.ts';
import { expectedDiff } from '../support/expected.ts';
import { inputLogLine, inputMessage, type AcceptedEvent, type SessionPlan } from './clients.ts';
import { checkSessions, foldedGoal, type SessionFacts } from './invariants.ts';

const plan = (over: Partial<SessionPlan> = {}): SessionPlan => ({
  tag: 't',
  index: 1,
  kind: 'review',
  mode: 'review',
  goal: 'fix the parser',
  repoUrl: 'https://example.com/r.git',
  startMs: 0,
  inputs: [],
  cancelAfterMs: 0,
  ...over,
});
const accepted = (
  type: AcceptedEvent['type'],
  eventId: string,
  marker?: string,
): AcceptedEvent => ({
  type,
  eventId,
  key: `${type}-${eventId}`,
  ...(marker ? { marker } : {}),
  node: 'n1',
  attempts: 1,
  duplicate: false,
});
let n = 0;
const entry = (event: string, from: string, to: string, epoch = 1, node = 'n1'): HistoryEntry => ({
  n: n++,
  at: 1,
  event,
  from,
  to,
  node,
  epoch,
});
const inbox = (
  id: string,
  type: InboxEvent['type'],
  payload: Record<string, unknown> = {},
): InboxEvent => ({ id, type, payload, at: 1 });

/** A review session that got one input while its plan waited, then an approve, and completed. */
function good(): SessionFacts {
  n = 0;
  const goal = foldedGoal('fix the parser', [inputMessage('m1')]);
  return {
    ledger: {
      plan: plan(),
      id: 'S1',
      accepted: [accepted('input', '10-0', 'm1'), accepted('approve', '20-0')],
      unacknowledged: [],
      cancelRefused: false,
      anomalies: [],
    },
    record: {
      id: 'S1',
      goal,
      repo_url: 'r',
      mode: 'review',
      status: 'COMPLETED',
      phase: 'completed',
      reason: null,
      result: { diff: expectedDiff(goal) },
      created_at: 0,
      updated_at: 0,
      last_event_id: '20-0',
      epoch: 3,
      owner: null,
      fenced_writes: 1,
      history_count: 9,
    },
    history: [
      entry('xstate.init', 'queued', 'preparing'),
      entry('done.clone', 'preparing', 'planning'),
      entry('done.plan', 'planning', 'awaitingApproval'),
      entry('input', 'awaitingApproval', 'planning', 2, 'n2'),
      entry('done.plan', 'planning', 'awaitingApproval', 2, 'n2'),
      entry('approve', 'awaitingApproval', 'coding', 3, 'n1'),
      entry('done.code', 'coding', 'reviewing', 3, 'n1'),
      entry('done.review', 'reviewing', 'completed', 3, 'n1'),
    ],
    logs: ['Starting session...', inputLogLine('m1'), 'Session completed'],
    inbox: [inbox('10-0', 'input', { message: inputMessage('m1') }), inbox('20-0', 'approve')],
  };
}

const verdictOf = (change: (f: SessionFacts) => void) => {
  const f = good();
  change(f);
  return checkSessions([f]);
};

describe('soak invariants', () => {
  it('pass a correct run', () => {
    const v = checkSessions([good()]);
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({
      accepted: 2,
      applied: 2,
      lost: 0,
      duplicated: 0,
      diffsChecked: 1,
      diffMismatches: 0,
      fencedWrites: 1,
    });
  });

  it('count an input applied twice as duplicated, and one never applied as lost', () => {
    expect(verdictOf((f) => f.logs.push(inputLogLine('m1')))).toMatchObject({
      duplicated: 1,
      lost: 0,
      applied: 1,
    });
    expect(
      verdictOf((f) => (f.logs = f.logs.filter((l) => l !== inputLogLine('m1')))),
    ).toMatchObject({ lost: 1, applied: 1 });
  });

  it('count a second approval as duplicated and a missing one as lost', () => {
    const dup = verdictOf((f) =>
      f.history.splice(6, 0, entry('approve', 'awaitingApproval', 'coding', 3)),
    );
    expect(dup.duplicated).toBe(1);
    const lost = verdictOf((f) => (f.history = f.history.filter((h) => h.event !== 'approve')));
    expect(lost.lost).toBe(1);
  });

  it('flag an accepted event missing from the inbox, one stored twice, one no client sent, and one never consumed', () => {
    expect(verdictOf((f) => f.inbox.shift()).violations.join()).toContain('is not in the inbox');
    expect(
      verdictOf((f) =>
        f.inbox.push(inbox('30-0', 'input', { message: inputMessage('m1') })),
      ).violations.join(),
    ).toContain('in the inbox 2 times');
    expect(verdictOf((f) => f.inbox.push(inbox('30-0', 'approve'))).violations.join()).toContain(
      'accepted by no client',
    );
    expect(verdictOf((f) => (f.record!.last_event_id = '10-0')).violations.join()).toContain(
      'never applied',
    );
  });

  it('flag a durable timer delivered twice', () => {
    const timer = (id: string) => inbox(id, 'timer', { kind: 'retry', key: 'S1:retry:1' });
    expect(verdictOf((f) => f.inbox.splice(0, 0, timer('5-0'))).violations).toEqual([]);
    expect(
      verdictOf((f) => f.inbox.splice(0, 0, timer('5-0'), timer('6-0'))).violations.join(),
    ).toContain('delivered 2 times');
  });

  it('flag a write that landed from a stale epoch', () => {
    const v = verdictOf((f) =>
      f.history.splice(7, 0, entry('done.code', 'coding', 'reviewing', 2, 'n2')),
    );
    expect(v.staleEpochEntries).toBe(1);
  });

  it('flag a wrong ending: status, goal, diff, a lease still held, a gap in the history', () => {
    expect(verdictOf((f) => (f.record!.status = 'FAILED')).violations.join()).toContain(
      'expected COMPLETED',
    );
    expect(verdictOf((f) => (f.record!.result = { diff: 'other' })).diffMismatches).toBe(1);
    expect(verdictOf((f) => (f.record!.goal = 'fix the parser')).diffMismatches).toBe(1);
    expect(
      verdictOf((f) => (f.record!.owner = { nodeId: 'n1', epoch: 3, until: 1 })).violations.join(),
    ).toContain('still leased');
    expect(verdictOf((f) => f.history.splice(2, 1)).violations.join()).toContain('has n=');
  });

  it('expect CANCELLED after an accepted cancel, applied once with its reason', () => {
    const cancelled = (f: SessionFacts) => {
      f.ledger.accepted.push(accepted('cancel', '25-0', 'c1'));
      f.inbox.push(inbox('25-0', 'cancel', { reason: 'c1' }));
      f.record!.last_event_id = '25-0';
      f.history.splice(5);
      n = 5;
      f.history.push(entry('cancel', 'awaitingApproval', 'cancelled', 3));
      f.ledger.accepted.splice(1, 1);
      f.inbox.splice(1, 1);
      Object.assign(f.record!, { status: 'CANCELLED', reason: 'cancelled: c1', result: null });
    };
    expect(verdictOf(cancelled).violations).toEqual([]);
    expect(
      verdictOf((f) => {
        cancelled(f);
        f.record!.status = 'COMPLETED';
      }).violations.join(),
    ).toContain('expected CANCELLED');
  });
});
