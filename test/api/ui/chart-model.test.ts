import { beforeAll, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { activeIds } from '../../../actors/chart.ts';
import {
  layoutChart,
  shortEvent as serverShortEvent,
  type ChartLayout,
} from '../../../api/chart-layout.ts';
import { createSessionMachine, derivePhase } from '../../../actors/index.ts';
import { SESSION_CHART } from '../../../actors/session-chart.ts';
// @ts-expect-error -- a browser module: tsconfig.web.json checks its JSDoc types
import * as model from '../../../api/ui/static/chart-model.js';
import { fakeWork } from '../../support/fake-work.ts';
import { flush } from '../../support/wait.ts';

type Entry = { event: string; from: string; to: string };

const index = model.indexMachine(SESSION_CHART);
let layout: ChartLayout;
beforeAll(async () => {
  layout = await layoutChart(SESSION_CHART);
});

const edge = (id: string | null) => layout.edges.find((e) => e.id === id);
const match = (entry: Entry) => {
  const e = edge(model.matchTransition(index, layout.edges, entry));
  return e ? `${e.source} -${e.label}${e.guard ? ` [${e.guard}]` : ''}-> ${e.target}` : null;
};

describe('chart model: states', () => {
  it('turns a phase into the ids of its states, outermost first, as the server does', () => {
    expect(model.phaseToIds('session', 'planning.running')).toEqual([
      'session',
      'session.planning',
      'session.planning.running',
    ]);
    expect(model.phaseToIds('session', 'awaitingApproval')).toEqual([
      'session',
      'session.awaitingApproval',
    ]);
    expect(model.phaseToIds('session', '')).toEqual(['session']);
    expect(model.phaseToIds('session', 'coding.waitingRetry')).toEqual(
      activeIds('session', { coding: 'waitingRetry' }),
    );
    expect(model.idToPhase('session', 'session.coding.running')).toBe('coding.running');
    expect(model.idToPhase('session', 'session')).toBe('');
  });

  it('indexes the machine and settles a target into its initial leaf', () => {
    expect(index.rootId).toBe('session');
    expect(index.parent.get('session.planning.running')).toBe('session.planning');
    expect(index.depth.get('session.planning.running')).toBe(2);
    expect(model.settle(index, 'session.planning')).toBe('session.planning.running');
    expect(model.settle(index, 'session')).toBe('session.queued');
    expect(model.settle(index, 'session.awaitingApproval')).toBe('session.awaitingApproval');
  });

  it('shortens events exactly as the server labels its edges', () => {
    for (const e of layout.edges)
      expect(model.shortEvent(e.event, 'session'), e.id).toBe(serverShortEvent(e.event, 'session'));
    expect(model.shortEvent('xstate.done.actor.0.session.planning.running', 'session')).toBe(
      'done: planning.running',
    );
    expect(model.shortEvent('xstate.error.actor.0.session.reviewing.running', 'session')).toBe(
      'error: reviewing.running',
    );
    expect(model.shortEvent('', 'session')).toBe('always');
    expect(model.shortEvent('xstate.init', 'session')).toBe('xstate.init');
  });
});

describe('chart model: the last transition', () => {
  it('finds the edge each kind of history entry took', () => {
    expect(match({ event: 'xstate.init', from: 'queued', to: 'preparing.running' })).toBe(
      'session.queued -always-> session.preparing',
    );
    expect(
      match({
        event: 'xstate.done.actor.0.session.preparing.running',
        from: 'preparing.running',
        to: 'planning.running',
      }),
    ).toBe('session.preparing.running -done: preparing.running-> session.planning');
    expect(
      match({
        event: 'xstate.done.actor.0.session.planning.running',
        from: 'planning.running',
        to: 'awaitingApproval',
      }),
    ).toBe(
      'session.planning.running -done: planning.running [isReviewMode]-> session.awaitingApproval',
    );
    expect(match({ event: 'approve', from: 'awaitingApproval', to: 'coding.running' })).toBe(
      'session.awaitingApproval -approve-> session.coding',
    );
    expect(match({ event: 'input', from: 'awaitingApproval', to: 'planning.running' })).toBe(
      'session.awaitingApproval -input-> session.planning',
    );
    expect(
      match({
        event: 'xstate.error.actor.0.session.coding.running',
        from: 'coding.running',
        to: 'coding.waitingRetry',
      }),
    ).toBe(
      'session.coding.running -error: coding.running [canRetry]-> session.coding.waitingRetry',
    );
    expect(match({ event: 'timer', from: 'coding.waitingRetry', to: 'coding.running' })).toBe(
      'session.coding.waitingRetry -timer [timerMatches]-> session.coding.running',
    );
    // An ancestor's transition: the root's cancel.
    expect(match({ event: 'cancel', from: 'coding.running', to: 'cancelled' })).toBe(
      'session -cancel-> session.cancelled',
    );
    // Two edges go from reviewing.running to failed (a last rejection, an error): the event decides.
    expect(
      match({
        event: 'xstate.done.actor.0.session.reviewing.running',
        from: 'reviewing.running',
        to: 'failed',
      }),
    ).toBe('session.reviewing.running -done: reviewing.running-> session.failed');
    expect(
      match({
        event: 'xstate.error.actor.0.session.reviewing.running',
        from: 'reviewing.running',
        to: 'failed',
      }),
    ).toBe('session.reviewing.running -error: reviewing.running-> session.failed');
    // failed accepts input two ways; where it went tells which.
    expect(match({ event: 'input', from: 'failed', to: 'planning.running' })).toBe(
      'session.failed -input [isCloned]-> session.planning',
    );
    expect(match({ event: 'input', from: 'failed', to: 'preparing.running' })).toBe(
      'session.failed -input-> session.preparing',
    );
  });

  it('marks nothing when no edge explains the move', () => {
    expect(match({ event: 'approve', from: 'planning.running', to: 'coding.running' })).toBeNull();
    expect(match({ event: 'input', from: 'queued', to: 'completed' })).toBeNull();
    expect(match({ event: 'input', from: 'nowhere', to: 'planning.running' })).toBeNull();
    // Entering planning lands in running, never in waitingRetry.
    expect(match({ event: 'input', from: 'completed', to: 'planning.waitingRetry' })).toBeNull();
  });

  it('explains every transition of a real run (review mode, a retry, input, approval, completion)', async () => {
    const work = fakeWork({ hold: 'every' });
    const entries: Entry[] = [];
    let phase = 'queued';
    // As the session host records history: an entry when the phase changes, with the event that changed it.
    const actor = createActor(createSessionMachine(work.actors), {
      input: {
        sessionId: 'S',
        goal: 'g',
        repoUrl: 'https://x/y.git',
        mode: 'review',
        retryDelayMs: 1,
      },
      inspect: (ev) => {
        if (ev.type !== '@xstate.snapshot' || ev.actorRef.sessionId !== ev.rootId) return;
        const to = derivePhase(ev.snapshot as never);
        if (to !== phase) entries.push({ event: ev.event.type, from: phase, to });
        phase = to;
      },
    });
    actor.start();
    work.last('clone').reject(Object.assign(new Error('net down'), { retryable: true }));
    await flush();
    const timer = (actor.getSnapshot().context as { timers: { key: string }[] }).timers[0]!;
    actor.send({ type: 'timer', key: timer.key } as never);
    await flush();
    work.last('clone').resolve({});
    await flush();
    work.last('plan').resolve({ summary: 'p', steps: [] });
    await flush();
    actor.send({ type: 'input', message: 'more' } as never);
    await flush();
    work.last('plan').resolve({ summary: 'p2', steps: [] });
    await flush();
    actor.send({ type: 'approve' } as never);
    await flush();
    work.last('code').resolve({ summary: 'c', diff: '' });
    await flush();
    work.last('review').resolve({ approved: true, feedback: 'ok' });
    await flush();
    expect(phase).toBe('completed');
    expect(entries.map((e) => e.to)).toEqual([
      'preparing.running',
      'preparing.waitingRetry',
      'preparing.running',
      'planning.running',
      'awaitingApproval',
      'planning.running',
      'awaitingApproval',
      'coding.running',
      'reviewing.running',
      'completed',
    ]);
    for (const e of entries) expect(match(e), `${e.event}: ${e.from} → ${e.to}`).not.toBeNull();
  });
});

describe('chart model: possible events', () => {
  const events = (phase: string) =>
    model
      .possibleEvents(index, model.phaseToIds('session', phase), { hidden: ['timer'] })
      .map((p: any) => ({
        event: p.event,
        branches: p.branches.map(
          (b: any) =>
            `${b.guard ? `[${b.guard}] ` : ''}${b.internal ? '(stays)' : `→ ${model.idToPhase('session', b.target)}`}`,
        ),
      }));

  it('lists the named events of the active states and their ancestors, innermost first', () => {
    expect(events('awaitingApproval')).toEqual([
      { event: 'approve', branches: ['→ coding'] },
      { event: 'input', branches: ['→ planning'] },
      { event: 'cancel', branches: ['→ cancelled'] },
    ]);
    expect(events('planning.running')).toEqual([
      { event: 'input', branches: ['(stays)'] },
      { event: 'cancel', branches: ['→ cancelled'] },
    ]);
    expect(events('failed')).toEqual([
      { event: 'input', branches: ['[isCloned] → planning', '→ preparing'] },
      { event: 'cancel', branches: ['→ cancelled'] },
    ]);
    expect(events('cancelled')).toEqual([{ event: 'cancel', branches: ['→ cancelled'] }]);
  });

  it('leaves out done, error and eventless transitions, and hidden events', () => {
    expect(events('queued').map((e: any) => e.event)).toEqual(['cancel']);
    expect(events('coding.waitingRetry').map((e: any) => e.event)).toEqual(['input', 'cancel']);
    const withTimer = model.possibleEvents(
      index,
      model.phaseToIds('session', 'coding.waitingRetry'),
    );
    expect(withTimer.map((p: any) => p.event)).toEqual(['timer', 'input', 'cancel']);
    expect(withTimer[0].branches).toEqual([
      {
        source: 'session.coding.waitingRetry',
        target: 'session.coding.running',
        guard: 'timerMatches',
        internal: false,
      },
    ]);
  });

  it('keeps only the events the API accepts for the status, with their branches', () => {
    const accepted = (phase: string, accepts: string[] | null | undefined) =>
      model.acceptedEvents(
        model.possibleEvents(index, model.phaseToIds('session', phase), { hidden: ['timer'] }),
        accepts,
      );
    // COMPLETED: the machine would take cancel (the root's), the API answers it 409.
    expect(events('completed').map((e: any) => e.event)).toEqual(['input', 'cancel']);
    expect(accepted('completed', ['input'])).toEqual([
      {
        event: 'input',
        branches: [
          { source: 'session.completed', target: 'session.planning', guard: null, internal: false },
        ],
      },
    ]);
    expect(
      accepted('awaitingApproval', ['approve', 'input', 'cancel']).map((e: any) => e.event),
    ).toEqual(['approve', 'input', 'cancel']);
    // CANCELLED accepts nothing; the machine's final state still lists the root's cancel.
    expect(accepted('cancelled', [])).toEqual([]);
    // An event the API accepts but the machine does not take here stays out.
    expect(
      accepted('planning.running', ['approve', 'input', 'cancel']).map((e: any) => e.event),
    ).toEqual(['input', 'cancel']);
    // No `accepts` (an older server): the machine's list.
    expect(accepted('completed', undefined).map((e: any) => e.event)).toEqual(['input', 'cancel']);
    expect(accepted('completed', null).map((e: any) => e.event)).toEqual(['input', 'cancel']);
  });
});

describe('chart model: timeline', () => {
  it('shows local times with milliseconds', () => {
    expect(model.clockTime(new Date(2025, 0, 2, 3, 4, 5, 6).getTime())).toBe('03:04:05.006');
    expect(model.clockTime(new Date(2025, 0, 2, 23, 59, 59, 999).getTime())).toBe('23:59:59.999');
  });

  it('names each replay control by its step, event and move', () => {
    expect(
      model.replayLabel(
        { n: 3, event: 'approve', from: 'awaitingApproval', to: 'coding.running' },
        'session',
      ),
    ).toBe('Show the state after step 4: approve, awaitingApproval → coding.running');
    expect(
      model.replayLabel(
        { n: 0, event: 'xstate.init', from: '', to: 'preparing.running' },
        'session',
      ),
    ).toBe('Show the state after step 1: xstate.init, (start) → preparing.running');
    expect(
      model.replayLabel(
        {
          n: 2,
          event: 'xstate.done.actor.0.session.planning.running',
          from: 'planning.running',
          to: 'awaitingApproval',
        },
        'session',
      ),
    ).toBe(
      'Show the state after step 3: done: planning.running, planning.running → awaitingApproval',
    );
  });

  it('merges history by position, later copies winning, oldest first', () => {
    const e = (n: number, to = `s${n}`) => ({
      n,
      at: n,
      event: 'x',
      from: '',
      to,
      node: 'a',
      epoch: 1,
    });
    expect(
      model.mergeHistory([e(2), e(0)], [e(1), e(2, 'again')]).map((h: any) => [h.n, h.to]),
    ).toEqual([
      [0, 's0'],
      [1, 's1'],
      [2, 'again'],
    ]);
  });

  it('steps through the replay: back from live, forward to live', () => {
    expect(model.stepReplay(null, 'previous', 5)).toBe(3);
    expect(model.stepReplay(3, 'previous', 5)).toBe(2);
    expect(model.stepReplay(0, 'previous', 5)).toBe(0);
    expect(model.stepReplay(2, 'next', 5)).toBe(3);
    expect(model.stepReplay(4, 'next', 5)).toBeNull();
    expect(model.stepReplay(null, 'next', 5)).toBeNull();
    expect(model.stepReplay(null, 'previous', 1)).toBe(0);
    expect(model.stepReplay(null, 'previous', 0)).toBeNull();
  });
});
