import { assign, emit, setup, type DoneActorEvent, type ErrorActorEvent } from 'xstate';
import {
  type ArmedTimer,
  GOAL_MAX_CHARS,
  type SessionEmitted,
  type SessionEvent,
} from './events.ts';
import {
  errorMessage,
  isRetryable,
  type BudgetOverride,
  type PlanOutput,
  type ReviewOutput,
  type CodeOutput,
  type SessionActors,
  type WorkName,
} from './work-contract.ts';

export interface SessionInput {
  sessionId: string;
  goal: string;
  repoUrl: string;
  mode: 'auto' | 'review';
  budget?: BudgetOverride;
  maxReviewRounds?: number;
  maxRetries?: number;
  retryDelayMs?: number;
}

export interface SessionResult {
  summary: string;
  diff: string;
  /** Paths the diff touches (new paths for renames), in diff order. */
  files_changed: string[];
  plan: PlanOutput;
  review: ReviewOutput;
}

/** Paths named by a unified git diff's `diff --git a/… b/…` headers. */
export function filesChanged(diff: string): string[] {
  const out: string[] = [];
  for (const m of diff.matchAll(/^diff --git a\/(?:.+?) b\/(.+)$/gm))
    if (m[1] && !out.includes(m[1])) out.push(m[1]);
  return out;
}

/** Persisted on every transition: keep it small (no transcripts, no file contents). */
export interface SessionContext {
  sessionId: string;
  goal: string;
  repoUrl: string;
  mode: 'auto' | 'review';
  cloned: boolean;
  plan: PlanOutput | null;
  code: CodeOutput | null;
  pendingInputs: string[];
  inputsApplied: number;
  iteration: number;
  reviewRound: number;
  feedback: string | null;
  /** Counts work invocations; part of every effect key. */
  step: number;
  retries: number;
  reason: string | null;
  result: SessionResult | null;
  /** Durable timers armed now; the host keeps them in the store and re-arms them after a restore. */
  timers: ArmedTimer[];
  /** Limits over the node's defaults; input may raise them. */
  budget: BudgetOverride;
  limits: { maxReviewRounds: number; maxRetries: number; retryDelayMs: number };
}

type WorkEvent = DoneActorEvent<unknown> | ErrorActorEvent;
type Ev = SessionEvent | WorkEvent;

const key = (c: SessionContext, name: WorkName) => `${c.sessionId}:${name}:${c.step}`;
// Inputs that raced past the API's check (`GOAL_MAX_CHARS`) are cut here, so the goal every prompt carries stays bounded.
const fold = (goal: string, messages: string[]) =>
  messages
    .reduce((g, m) => `${g}\n\nUser input: ${m}`, goal)
    .slice(0, Math.max(goal.length, GOAL_MAX_CHARS));
const output = <T>(e: Ev) => (e as DoneActorEvent<T>).output;
const failure = (e: Ev) => (e as ErrorActorEvent).error;

/**
 * The session state machine. Work is injected by name (`clone`, `plan`,
 * `code`, `review`), so the runtime provides the agent and tests provide
 * deterministic stand-ins; every guard and action is named for the visualizer.
 */
export function createSessionMachine(actors: SessionActors) {
  const s = setup({
    types: {
      context: {} as SessionContext,
      events: {} as Ev,
      input: {} as SessionInput,
      emitted: {} as SessionEmitted,
    },
    actors,
    guards: {
      isReviewMode: ({ context }) => context.mode === 'review',
      hasPendingInputs: ({ context }) => context.pendingInputs.length > 0,
      isCloned: ({ context }) => context.cloned,
      canRetry: ({ context, event }) =>
        isRetryable(failure(event)) && context.retries < context.limits.maxRetries,
      timerMatches: ({ context, event }) =>
        event.type === 'timer' && context.timers.some((t) => t.key === event.key),
      reviewApproved: ({ event }) => output<ReviewOutput>(event).approved,
      canReviewAgain: ({ context }) => context.reviewRound + 1 < context.limits.maxReviewRounds,
    },
    actions: {
      log: emit((_, params: { line: string }) => ({ type: 'log' as const, line: params.line })),
      nextStep: assign({ step: ({ context }) => context.step + 1 }),
      foldInput: assign(({ context, event }) => {
        const message = event.type === 'input' ? event.message : '';
        return {
          goal: fold(context.goal, [message]),
          inputsApplied: context.inputsApplied + 1,
          reason: null,
          retries: 0,
        };
      }),
      raiseBudget: assign(({ context, event }) => {
        if (event.type !== 'input' || !event.budget) return {};
        const max = (a: number | undefined, b: number | undefined) =>
          a === undefined ? b : b === undefined ? a : Math.max(a, b);
        const calls = max(context.budget.maxCalls, event.budget.maxCalls);
        const tokens = max(context.budget.maxTokens, event.budget.maxTokens);
        return {
          budget: {
            ...(calls !== undefined ? { maxCalls: calls } : {}),
            ...(tokens !== undefined ? { maxTokens: tokens } : {}),
          },
        };
      }),
      queueInput: assign({
        pendingInputs: ({ context, event }) => [
          ...context.pendingInputs,
          event.type === 'input' ? event.message : '',
        ],
      }),
      foldPending: assign(({ context }) => ({
        goal: fold(context.goal, context.pendingInputs),
        inputsApplied: context.inputsApplied + context.pendingInputs.length,
        pendingInputs: [],
      })),
      logInput: emit(({ event }) => ({
        type: 'log' as const,
        line: `User input received: ${event.type === 'input' ? event.message : ''}`,
      })),
      markCloned: assign({ cloned: true, retries: 0 }),
      setPlan: assign(({ event }) => ({
        plan: output<PlanOutput>(event),
        reviewRound: 0,
        feedback: null,
        retries: 0,
      })),
      logPlan: emit(({ event }) => {
        const plan = output<PlanOutput>(event);
        return {
          type: 'log' as const,
          line: `PLANNER: Plan ready: ${plan.summary}${plan.steps.map((st) => `\n  ${st}`).join('')}`,
        };
      }),
      setCode: assign(({ event }) => ({ code: output<CodeOutput>(event), retries: 0 })),
      takeFeedback: assign(({ context, event }) => ({
        feedback: output<ReviewOutput>(event).feedback,
        reviewRound: context.reviewRound + 1,
        iteration: context.iteration + 1,
        retries: 0,
      })),
      logReview: emit(({ event }) => {
        const r = output<ReviewOutput>(event);
        return {
          type: 'log' as const,
          line: r.approved ? 'REVIEWER: Approved' : `REVIEWER: Changes requested: ${r.feedback}`,
        };
      }),
      setResult: assign(({ context, event }) => {
        const diff = context.code?.diff ?? '';
        const review = output<ReviewOutput>(event);
        return {
          result: {
            summary: context.code?.summary ?? '',
            diff,
            files_changed: filesChanged(diff),
            plan: context.plan ?? { summary: '', steps: [] },
            review: { approved: review.approved, feedback: review.feedback },
          },
          reason: null,
        };
      }),
      rejectedTooOften: assign(({ context, event }) => ({
        reason: `the reviewer rejected the change ${context.reviewRound + 1} times; last feedback: ${output<ReviewOutput>(event).feedback}`,
      })),
      failStep: assign(({ event }, params: { step: string }) => ({
        reason: `${params.step} failed: ${errorMessage(failure(event))}`,
      })),
      armRetry: assign(({ context }) => {
        const timer: ArmedTimer = {
          key: `${context.sessionId}:retry:${context.step}`,
          delayMs: context.limits.retryDelayMs * 2 ** context.retries,
          payload: { kind: 'retry' },
        };
        return { timers: [timer], retries: context.retries + 1 };
      }),
      emitTimers: emit(({ context }) => ({ type: 'timer' as const, timer: context.timers[0]! })),
      logRetry: emit(({ context, event }) => ({
        type: 'log' as const,
        line: `Transient failure (${errorMessage(failure(event))}); retry ${context.retries}/${context.limits.maxRetries} in ${context.timers[0]?.delayMs ?? 0} ms`,
      })),
      clearTimers: assign({ timers: [] }),
      logFailed: emit(({ context }) => ({
        type: 'log' as const,
        line: `Session failed: ${context.reason ?? 'unknown reason'}`,
      })),
      setCancelReason: assign(({ event }) => ({
        reason:
          event.type === 'cancel' && event.reason
            ? `cancelled: ${event.reason}`
            : 'cancelled by the user',
        timers: [],
      })),
    },
  });

  /**
   * A work state: `running` invokes the work; transient failures wait in
   * `waitingRetry` on a durable timer. The invoke is asserted to the config's
   * type: XState's invoke types cannot follow a `src` given as a parameter;
   * the tests pin the behaviour.
   */
  type StateConfig = NonNullable<Parameters<typeof s.createMachine>[0]['states']>[string];
  type Invoke = NonNullable<StateConfig['invoke']>;
  type Transitions = NonNullable<StateConfig['always']>;
  const work = (
    name: WorkName,
    step: string,
    input: (c: SessionContext) => unknown,
    onDone: Transitions,
  ): StateConfig => ({
    initial: 'running' as const,
    states: {
      running: {
        entry: 'nextStep' as const,
        invoke: {
          src: name,
          input: ({ context }: { context: SessionContext }) => input(context),
          onDone,
          onError: [
            {
              guard: 'canRetry' as const,
              target: 'waitingRetry',
              actions: ['armRetry', 'emitTimers', 'logRetry'] as const,
            },
            {
              target: '#session.failed',
              actions: [{ type: 'failStep' as const, params: { step } }],
            },
          ],
        } as Invoke,
      },
      waitingRetry: {
        exit: 'clearTimers' as const,
        on: { timer: { guard: 'timerMatches' as const, target: 'running' } },
      },
    },
  });

  return s.createMachine({
    id: 'session',
    initial: 'queued',
    context: ({ input }) => ({
      sessionId: input.sessionId,
      goal: input.goal,
      repoUrl: input.repoUrl,
      mode: input.mode,
      cloned: false,
      plan: null,
      code: null,
      pendingInputs: [],
      inputsApplied: 0,
      iteration: 0,
      reviewRound: 0,
      feedback: null,
      step: 0,
      retries: 0,
      reason: null,
      result: null,
      timers: [],
      budget: input.budget ?? {},
      limits: {
        maxReviewRounds: input.maxReviewRounds ?? 3,
        maxRetries: input.maxRetries ?? 3,
        retryDelayMs: input.retryDelayMs ?? 1000,
      },
    }),
    on: {
      cancel: { target: '.cancelled', actions: 'setCancelReason' },
    },
    states: {
      queued: {
        always: {
          target: 'preparing',
          actions: { type: 'log', params: { line: 'Starting session...' } },
        },
      },
      preparing: {
        tags: ['running'],
        entry: { type: 'log', params: { line: 'Cloning repo...' } },
        on: { input: { actions: ['raiseBudget', 'foldInput', 'logInput'] } },
        ...work(
          'clone',
          'cloning the repository',
          (c) => ({ sessionId: c.sessionId, repoUrl: c.repoUrl, key: key(c, 'clone') }),
          {
            target: '#session.planning',
            actions: 'markCloned',
          },
        ),
      },
      planning: {
        tags: ['running'],
        entry: { type: 'log', params: { line: 'PLANNER: Generating plan...' } },
        on: { input: { actions: ['raiseBudget', 'queueInput', 'logInput'] } },
        ...work(
          'plan',
          'planning',
          (c) => ({
            sessionId: c.sessionId,
            goal: c.goal,
            repoUrl: c.repoUrl,
            key: key(c, 'plan'),
            budget: c.budget,
          }),
          [
            {
              guard: 'hasPendingInputs',
              target: '#session.planning',
              reenter: true,
              actions: ['foldPending'],
            },
            {
              guard: 'isReviewMode',
              target: '#session.awaitingApproval',
              actions: ['setPlan', 'logPlan'],
            },
            { target: '#session.coding', actions: ['setPlan', 'logPlan'] },
          ],
        ),
      },
      awaitingApproval: {
        tags: ['waiting'],
        entry: {
          type: 'log',
          params: { line: 'Waiting for approval of the plan (POST /agent/sessions/{id}/approve)' },
        },
        on: {
          approve: { target: 'coding' },
          input: { target: 'planning', actions: ['raiseBudget', 'foldInput', 'logInput'] },
        },
      },
      coding: {
        tags: ['running'],
        entry: { type: 'log', params: { line: 'PROGRAMMER: Executing plan...' } },
        on: { input: { actions: ['raiseBudget', 'queueInput', 'logInput'] } },
        ...work(
          'code',
          'coding',
          (c) => ({
            sessionId: c.sessionId,
            goal: c.goal,
            plan: c.plan,
            iteration: c.iteration,
            feedback: c.feedback,
            key: key(c, 'code'),
            budget: c.budget,
          }),
          [
            // Input that arrived during this iteration: fold it in and replan before reviewing.
            {
              guard: 'hasPendingInputs',
              target: '#session.planning',
              actions: ['setCode', 'foldPending'],
            },
            { target: '#session.reviewing', actions: 'setCode' },
          ],
        ),
      },
      reviewing: {
        tags: ['running'],
        entry: { type: 'log', params: { line: 'REVIEWER: Reviewing changes...' } },
        on: { input: { actions: ['raiseBudget', 'queueInput', 'logInput'] } },
        ...work(
          'review',
          'reviewing',
          (c) => ({
            sessionId: c.sessionId,
            goal: c.goal,
            plan: c.plan,
            diff: c.code?.diff ?? '',
            round: c.reviewRound,
            key: key(c, 'review'),
            budget: c.budget,
          }),
          [
            {
              guard: 'hasPendingInputs',
              target: '#session.planning',
              actions: ['logReview', 'foldPending'],
            },
            {
              guard: 'reviewApproved',
              target: '#session.completed',
              actions: ['logReview', 'setResult'],
            },
            {
              guard: 'canReviewAgain',
              target: '#session.coding',
              actions: ['logReview', 'takeFeedback'],
            },
            { target: '#session.failed', actions: ['logReview', 'rejectedTooOften'] },
          ],
        ),
      },
      completed: {
        tags: ['completed'],
        entry: { type: 'log', params: { line: 'Session completed' } },
        on: { input: { target: 'planning', actions: ['raiseBudget', 'foldInput', 'logInput'] } },
      },
      failed: {
        tags: ['failed'],
        entry: 'logFailed',
        on: {
          input: [
            {
              guard: 'isCloned',
              target: 'planning',
              actions: ['raiseBudget', 'foldInput', 'logInput'],
            },
            { target: 'preparing', actions: ['raiseBudget', 'foldInput', 'logInput'] },
          ],
        },
      },
      cancelled: {
        type: 'final',
        tags: ['cancelled'],
        entry: { type: 'log', params: { line: 'Session cancelled' } },
      },
    },
  });
}

export type SessionMachine = ReturnType<typeof createSessionMachine>;
