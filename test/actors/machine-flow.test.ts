import { GOAL_MAX_CHARS } from '../../actors/events.ts';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createSessionMachine, derivePhase, deriveStatus } from '../../actors/index.ts';
import { fakeWork } from '../support/fake-work.ts';
import { flush } from '../support/wait.ts';

const PLAN = { summary: 'do it', steps: ['1. do it'] };
const DIFF = { summary: 'done', diff: '+x\n' };

function start(mode: 'auto' | 'review' = 'auto', extra: Record<string, unknown> = {}) {
  const work = fakeWork({ hold: 'every' });
  const machine = createSessionMachine(work.actors);
  const logs: string[] = [];
  const timers: unknown[] = [];
  const actor = createActor(machine, {
    input: { sessionId: 'S', goal: 'the goal', repoUrl: 'https://x/y.git', mode, ...extra },
  });
  actor.on('log', (e) => logs.push(e.line));
  actor.on('timer', (e) => timers.push(e.timer));
  actor.start();
  const status = () => deriveStatus(actor.getSnapshot());
  const phase = () => derivePhase(actor.getSnapshot());
  return { ...work, machine, actor, logs, timers, status, phase };
}

async function toCoding(t: ReturnType<typeof start>) {
  t.last('clone').resolve({});
  await flush();
  t.last('plan').resolve(PLAN);
  await flush();
}

describe('session machine', () => {
  it("auto mode: queued → preparing → planning → coding → reviewing → completed, with the guide's logs", async () => {
    const t = start();
    expect(t.phase()).toBe('preparing.running');
    expect(t.status()).toBe('RUNNING');
    await toCoding(t);
    expect(t.phase()).toBe('coding.running');
    t.last('code').resolve(DIFF);
    await flush();
    expect(t.phase()).toBe('reviewing.running');
    t.last('review').resolve({ approved: true, feedback: 'ok' });
    await flush();
    expect(t.status()).toBe('COMPLETED');
    expect(t.actor.getSnapshot().context.result).toEqual({
      summary: 'done',
      diff: '+x\n',
      files_changed: [],
      plan: PLAN,
      review: { approved: true, feedback: 'ok' },
    });
    expect(t.logs.slice(0, 4)).toEqual([
      'Starting session...',
      'Cloning repo...',
      'PLANNER: Generating plan...',
      expect.stringContaining('PLANNER: Plan ready: do it'),
    ]);
    expect(t.logs).toContain('PROGRAMMER: Executing plan...');
    expect(t.logs.at(-1)).toBe('Session completed');
  });

  it('effect keys are distinct per invocation and name the step', async () => {
    const t = start();
    await toCoding(t);
    expect(t.calls.map((c) => c.input.key)).toEqual(['S:clone:1', 'S:plan:2', 'S:code:3']);
  });

  it('review mode waits for approval; approve goes on; approve elsewhere is ignored', async () => {
    const t = start('review');
    t.actor.send({ type: 'approve', eventId: '1-0' }); // while preparing: ignored
    expect(t.phase()).toBe('preparing.running');
    await toCoding(t);
    expect(t.status()).toBe('WAITING_FOR_USER');
    expect(t.phase()).toBe('awaitingApproval');
    t.actor.send({ type: 'approve', eventId: '2-0' });
    expect(t.phase()).toBe('coding.running');
  });

  it('input while waiting replans at once and, in review mode, waits again', async () => {
    const t = start('review');
    await toCoding(t);
    t.actor.send({ type: 'input', eventId: '1-0', message: 'also docs' });
    expect(t.phase()).toBe('planning.running');
    expect(t.actor.getSnapshot().context.goal).toBe('the goal\n\nUser input: also docs');
    expect(t.last('plan').input.goal).toContain('also docs');
    t.last('plan').resolve(PLAN);
    await flush();
    expect(t.status()).toBe('WAITING_FOR_USER');
  });

  it('input while coding is queued, folded after the iteration, and replanned before reviewing', async () => {
    const t = start();
    await toCoding(t);
    t.actor.send({ type: 'input', eventId: '1-0', message: 'first' });
    t.actor.send({ type: 'input', eventId: '2-0', message: 'second' });
    expect(t.phase()).toBe('coding.running');
    expect(t.actor.getSnapshot().context.pendingInputs).toEqual(['first', 'second']);
    t.last('code').resolve(DIFF);
    await flush();
    expect(t.phase()).toBe('planning.running');
    const ctx = t.actor.getSnapshot().context;
    expect(ctx.goal).toBe('the goal\n\nUser input: first\n\nUser input: second');
    expect(ctx.inputsApplied).toBe(2);
    expect(ctx.pendingInputs).toEqual([]);
  });

  it(`inputs that raced past the API's check are cut at ${GOAL_MAX_CHARS.toLocaleString('en')} characters of goal`, async () => {
    const t = start();
    await toCoding(t);
    const big = 'x'.repeat(GOAL_MAX_CHARS / 2);
    for (let i = 0; i < 4; i++)
      t.actor.send({ type: 'input', eventId: `${i + 1}-0`, message: big });
    t.last('code').resolve(DIFF);
    await flush();
    const goal = t.actor.getSnapshot().context.goal;
    expect(goal.length).toBe(GOAL_MAX_CHARS);
    expect(goal.startsWith('the goal\n\nUser input: x')).toBe(true);
  });

  it('input on a completed or failed session replans at once', async () => {
    const t = start();
    await toCoding(t);
    t.last('code').resolve(DIFF);
    await flush();
    t.last('review').resolve({ approved: true, feedback: '' });
    await flush();
    t.actor.send({ type: 'input', eventId: '1-0', message: 'more' });
    expect(t.phase()).toBe('planning.running');
    t.last('plan').reject(new Error('model refused'));
    await flush();
    expect(t.status()).toBe('FAILED');
    expect(t.actor.getSnapshot().context.reason).toBe('planning failed: model refused');
    t.actor.send({ type: 'input', eventId: '2-0', message: 'try again' });
    expect(t.phase()).toBe('planning.running');
    expect(t.actor.getSnapshot().context.reason).toBeNull();
  });

  it('reviewer rejections loop back to coding with feedback, bounded', async () => {
    const t = start('auto', { maxReviewRounds: 2 });
    await toCoding(t);
    t.last('code').resolve(DIFF);
    await flush();
    t.last('review').resolve({ approved: false, feedback: 'fix tests' });
    await flush();
    expect(t.phase()).toBe('coding.running');
    expect(t.last('code').input).toMatchObject({ feedback: 'fix tests', iteration: 1 });
    t.last('code').resolve(DIFF);
    await flush();
    expect(t.last('review').input.round).toBe(1);
    t.last('review').resolve({ approved: false, feedback: 'still broken' });
    await flush();
    expect(t.status()).toBe('FAILED');
    expect(t.actor.getSnapshot().context.reason).toContain('rejected the change 2 times');
    expect(t.actor.getSnapshot().context.reason).toContain('still broken');
  });

  it('a retryable error arms a durable timer; only the matching timer event retries; retries are bounded', async () => {
    const t = start('auto', { maxRetries: 1, retryDelayMs: 500 });
    t.last('clone').reject(Object.assign(new Error('reset'), { retryable: true }));
    await flush();
    expect(t.phase()).toBe('preparing.waitingRetry');
    const armed = t.actor.getSnapshot().context.timers;
    expect(armed).toEqual([{ key: 'S:retry:1', delayMs: 500, payload: { kind: 'retry' } }]);
    expect(t.timers).toEqual(armed);
    t.actor.send({ type: 'timer', eventId: '1-0', key: 'stale' });
    expect(t.phase()).toBe('preparing.waitingRetry');
    t.actor.send({ type: 'timer', eventId: '2-0', key: 'S:retry:1' });
    expect(t.phase()).toBe('preparing.running');
    expect(t.actor.getSnapshot().context.timers).toEqual([]);
    expect(t.last('clone').input.key).toBe('S:clone:2');
    t.last('clone').reject(Object.assign(new Error('reset again'), { retryable: true }));
    await flush();
    expect(t.status()).toBe('FAILED');
    expect(t.actor.getSnapshot().context.reason).toBe('cloning the repository failed: reset again');
  });

  it('cancel from every non-final state ends in cancelled (final)', async () => {
    for (const steps of [0, 1, 2]) {
      const t = start('review');
      if (steps >= 1) {
        t.last('clone').resolve({});
        await flush();
      }
      if (steps >= 2) {
        t.last('plan').resolve(PLAN);
        await flush();
      }
      t.actor.send({ type: 'cancel', eventId: '9-0', reason: 'nope' });
      expect(t.status()).toBe('CANCELLED');
      expect(t.actor.getSnapshot().status).toBe('done');
      expect(t.actor.getSnapshot().context.reason).toBe('cancelled: nope');
    }
  });

  it('a persisted snapshot restores mid-work: the invocation restarts with the same input and key', async () => {
    const t = start();
    await toCoding(t);
    t.actor.send({ type: 'input', eventId: '1-0', message: 'queued one' });
    const persisted = JSON.parse(JSON.stringify(t.actor.getPersistedSnapshot()));
    const bytes = JSON.stringify(persisted).length;
    console.log(`persisted snapshot in coding: ${bytes} bytes`);
    expect(bytes).toBeLessThan(8_000);
    const before = t.last('code').input;
    t.actor.stop();
    const w2 = fakeWork({ hold: 'every' });
    const restored = createActor(createSessionMachine(w2.actors), { snapshot: persisted } as never);
    restored.start();
    await flush();
    expect(w2.last('code').input).toEqual(before);
    expect(derivePhase(restored.getSnapshot())).toBe('coding.running');
    expect(restored.getSnapshot().context.pendingInputs).toEqual(['queued one']);
    w2.last('code').resolve(DIFF);
    await flush();
    expect(derivePhase(restored.getSnapshot())).toBe('planning.running');
  });

  it('a persisted snapshot in waitingRetry keeps its armed timer and accepts it after restore', async () => {
    const t = start();
    t.last('clone').reject(Object.assign(new Error('reset'), { retryable: true }));
    await flush();
    const persisted = JSON.parse(JSON.stringify(t.actor.getPersistedSnapshot()));
    const w2 = fakeWork({ hold: 'every' });
    const restored = createActor(createSessionMachine(w2.actors), {
      snapshot: persisted,
    } as never).start();
    expect(restored.getSnapshot().context.timers[0]?.key).toBe('S:retry:1');
    restored.send({ type: 'timer', eventId: '1-0', key: 'S:retry:1' });
    expect(derivePhase(restored.getSnapshot())).toBe('preparing.running');
    expect(w2.last('clone').input.key).toBe('S:clone:2');
  });

  it('a persisted snapshot in every resting state round-trips through JSON', async () => {
    const t = start('review');
    await toCoding(t);
    for (const send of [undefined, { type: 'approve', eventId: '1-0' }] as const) {
      if (send) t.actor.send(send);
      const p = JSON.parse(JSON.stringify(t.actor.getPersistedSnapshot()));
      const r = createActor(createSessionMachine(fakeWork({ hold: 'every' }).actors), {
        snapshot: p,
      } as never).start();
      expect(derivePhase(r.getSnapshot())).toBe(t.phase());
      expect(deriveStatus(r.getSnapshot())).toBe(t.status());
      r.stop();
    }
  });
});
