/**
 * The agent as the runtime's work: clone, plan, code and review, each a role
 * run on the session's sandbox. Everything the work keeps between steps lives
 * in the store, not in the process: the sandbox id and base commit, a
 * checkpoint of the change after every coding step, the usage of every call,
 * the transcripts. So a node that takes a session over re-attaches to its
 * sandbox (or re-clones and re-applies the checkpoint) and goes on.
 */
import type { BudgetOverride, WorkContext, WorkImplementations } from '../actors/work-contract.ts';
import type { Sandbox, SandboxProvider } from '../sandbox/port.ts';
import type { ChatModel, ProviderProfile } from './llm/port.ts';
import { costOf, pricesFor } from './llm/prices.ts';
import { measuredModel } from './llm/measured.ts';
import { AppError } from '../kernel/errors.ts';
import { createRedactor } from '../kernel/redact.ts';
import { Budget, type BudgetLimits } from './budget.ts';
import { codeTask, planTask, reviewTask, SYSTEM } from './prompts.ts';
import { runRole, type RoleLimits } from './run-role.ts';
import type { RoleName, Terminal } from './tools.ts';

/** What the agent is given; `P` is the profile type the wiring reads (its store's, with ids and names). */
export interface AgentDeps<P extends ProviderProfile = ProviderProfile> {
  sandboxes: SandboxProvider;
  /**
   * The profile a role's calls in a session use, read at every step (edits
   * apply to running sessions). Null when there is none at all; throws when a
   * profile the session names no longer exists.
   */
  profile(sessionId: string, role: RoleName): Promise<P | null>;
  makeModel(profile: P): ChatModel;
  budget: BudgetLimits;
  roleLimits?: Partial<RoleLimits>;
  /**
   * The service's own secrets (SECRET_KEY, ADMIN_TOKEN, the environment's
   * provider and Daytona keys, the Redis password): cut, with each run's
   * profile key, out of everything the sandbox gives back before the model,
   * the transcript or the session log sees it.
   */
  secrets?: readonly (string | undefined)[];
}

/** The clone's progress, indented under the step's own lines in the session log. */
const cloneProgress = (ctx: WorkContext, deps: Pick<AgentDeps, 'secrets'>) => {
  const redact = createRedactor(deps.secrets ?? []);
  return (line: string) => ctx.log(`  | ${redact(line)}`);
};

/** Attaches to the session's sandbox, or rebuilds it from the repository and the last checkpoint. */
async function sandboxFor<P extends ProviderProfile>(
  deps: AgentDeps<P>,
  sessionId: string,
  repoUrl: string,
  ctx: WorkContext,
): Promise<Sandbox> {
  const art = await ctx.session.getArtifacts();
  if (art['sandbox_id']) {
    const attached = await deps.sandboxes.attach(sessionId, art['sandbox_id']);
    if (attached) return attached;
  }
  ctx.log('Re-creating the workspace from the repository and the last checkpoint...');
  const sandbox = await deps.sandboxes.create({
    sessionId,
    repoUrl,
    onOutput: cloneProgress(ctx, deps),
    signal: ctx.signal,
    ...(art['base_commit'] ? { ref: art['base_commit'] } : {}),
  });
  if (art['checkpoint']) await sandbox.applyDiff(art['checkpoint']);
  await ctx.session.putArtifacts({ sandbox_id: sandbox.id, base_commit: sandbox.baseCommit });
  return sandbox;
}

async function run<P extends ProviderProfile>(
  deps: AgentDeps<P>,
  role: RoleName,
  sessionId: string,
  sandbox: Sandbox,
  task: string,
  ctx: WorkContext,
  over: BudgetOverride = {},
): Promise<Terminal> {
  const profile = await deps.profile(sessionId, role);
  if (!profile) {
    throw new AppError(
      'bad_request',
      400,
      'no AI profile is configured: store a default profile (provider, model, key) before starting sessions',
    );
  }
  const m = ctx.metrics;
  const model = m ? measuredModel(deps.makeModel(profile), m) : deps.makeModel(profile);
  const kind = deps.sandboxes.kind;
  const onCommand = m
    ? (seconds: number, timedOut: boolean) => {
        m.sandboxCommandDuration.labels(kind).observe(seconds);
        if (timedOut) m.sandboxTimeouts.labels(kind).inc();
      }
    : undefined;
  // This role's profile prices its calls: a session whose roles use different models is charged per model.
  const prices = pricesFor(profile);
  const usage = await ctx.session.getUsage();
  const limits = {
    maxCalls: over.maxCalls ?? deps.budget.maxCalls,
    maxTokens: over.maxTokens ?? deps.budget.maxTokens,
  };
  const budget = new Budget(limits, {
    calls: usage.calls,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    cost: usage.costMicros === null ? null : usage.costMicros / 1e6,
  });
  const { terminal } = await runRole({
    role,
    model,
    sandbox,
    system: SYSTEM[role],
    task,
    budget,
    signal: ctx.signal,
    ready: ctx.ready,
    ...(deps.roleLimits ? { limits: deps.roleLimits } : {}),
    costOf: (res) => costOf(res.usage, prices),
    onCharge: (res, cost) =>
      ctx.session.addUsage({
        calls: 1,
        inputTokens: res.usage.inputTokens,
        outputTokens: res.usage.outputTokens,
        costMicros: cost === null ? null : Math.round(cost * 1e6),
      }),
    log: ctx.log,
    redact: createRedactor([...(deps.secrets ?? []), profile.apiKey]),
    ...(onCommand ? { onCommand } : {}),
    // The transcript is for reading later; a failed write must not fail the step (a fenced one stops the host anyway).
    record: (messages) => void ctx.session.appendTranscript(role, messages).catch(() => undefined),
  });
  return terminal;
}

export function agentWork<P extends ProviderProfile>(deps: AgentDeps<P>): WorkImplementations {
  return {
    async clone(input, ctx) {
      const sandbox = await deps.sandboxes.create({
        sessionId: input.sessionId,
        repoUrl: input.repoUrl,
        onOutput: cloneProgress(ctx, deps),
        signal: ctx.signal,
      });
      // Later steps get no repository URL in their input: they find it here.
      await ctx.session.putArtifacts({
        sandbox_id: sandbox.id,
        base_commit: sandbox.baseCommit,
        checkpoint: '',
        repo_url: input.repoUrl,
      });
      ctx.log(`Cloned ${input.repoUrl} at ${sandbox.baseCommit.slice(0, 12)}`);
      return {};
    },
    async plan(input, ctx) {
      const sandbox = await sandboxFor(deps, input.sessionId, input.repoUrl, ctx);
      const t = await run(
        deps,
        'planner',
        input.sessionId,
        sandbox,
        planTask(input),
        ctx,
        input.budget,
      );
      if (t.name !== 'submit_plan') throw new Error(`planner ended with ${t.name}`);
      return { summary: t.args.summary, steps: t.args.steps };
    },
    async code(input, ctx) {
      const repoUrl = (await ctx.session.getArtifacts())['repo_url'] ?? '';
      const sandbox = await sandboxFor(deps, input.sessionId, repoUrl, ctx);
      const t = await run(
        deps,
        'programmer',
        input.sessionId,
        sandbox,
        codeTask(input),
        ctx,
        input.budget,
      );
      if (t.name !== 'finish') throw new Error(`programmer ended with ${t.name}`);
      // The change finish checked against DIFF_MAX_MB (a change over it was refused to the model, which could shrink it).
      const diff = t.diff ?? (await sandbox.diff());
      // The checkpoint a node that takes over re-applies to a fresh clone.
      await ctx.session.putArtifacts({ checkpoint: diff });
      return { summary: t.args.summary, diff };
    },
    async ended(sessionId, session) {
      // The result and the checkpoint are in the store: input later re-creates the workspace from them.
      const art = await session.getArtifacts();
      if (art['sandbox_id']) await deps.sandboxes.destroy(sessionId, art['sandbox_id']);
    },
    async review(input, ctx) {
      const repoUrl = (await ctx.session.getArtifacts())['repo_url'] ?? '';
      const sandbox = await sandboxFor(deps, input.sessionId, repoUrl, ctx);
      const t = await run(
        deps,
        'reviewer',
        input.sessionId,
        sandbox,
        reviewTask(input),
        ctx,
        input.budget,
      );
      if (t.name !== 'submit_review') throw new Error(`reviewer ended with ${t.name}`);
      return { approved: t.args.approved, feedback: t.args.feedback };
    },
  };
}
