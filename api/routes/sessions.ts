import { Hono, type Context } from 'hono';
import { monotonicFactory } from 'ulid';
import type {
  SessionIntake,
  SessionReads,
  SessionRemoval,
  UserRecords,
  WorkRecords,
} from '../../runtime/store/port.ts';

/** What the session routes use: intake, reads and removal, the work's usage and result, the caller's user. */
export type SessionStore = SessionIntake &
  SessionReads &
  Pick<SessionRemoval, 'removeSession'> &
  Pick<WorkRecords, 'getUsage' | 'getArtifacts'> &
  Pick<UserRecords, 'getUser'>;
import {
  IDEMPOTENCY_TTL_MS,
  type AppendResult,
  type RequestKey,
  type RoleProfiles,
  type SessionRecord,
  type SessionSummary,
} from '../../runtime/store/records.ts';
import { GOAL_MAX_CHARS, type InboxEventType } from '../../actors/events.ts';
import {
  badRequest,
  conflict,
  forbidden,
  idempotencyKeyReused,
  notFound,
} from '../../kernel/errors.ts';
import { readJsonObject, type BodyReader } from '../body.ts';
import type { Profiles } from '../../runtime/profiles.ts';
import { activeIds } from '../../actors/chart.ts';
import { SESSION_CHART } from '../../actors/session-chart.ts';
import { ACCEPTS, ENDED_STATUSES, type SessionStatus } from '../../actors/status.ts';
import { repoUrl } from '../validate.ts';
import {
  ApproveBody,
  CancelBody,
  IdempotencyKey,
  InputBody,
  SessionCreate,
  SessionListQuery,
  parse,
  type Budget,
} from '../schemas/index.ts';
import type { z } from 'zod';
import { canUseProfile, isAdmin, owns, type AppEnv, type Principal } from '../principal.ts';
import { sha256Hex } from '../../kernel/hash.ts';

// Monotonic: sessions created in the same millisecond on this node still list in creation order.
const ulid = monotonicFactory();

/** Header of an answer that repeats the first answer to a request with the same `Idempotency-Key`. */
const REPLAYED = 'Idempotent-Replayed';

export interface SessionRouteOptions {
  read?: BodyReader;
  allowLocalRepos: boolean;
  profiles?: Profiles;
  requireProfile?: boolean;
  /** USER_MAX_RUNNING_SESSIONS, for users without a limit of their own (0: none). */
  defaultMaxRunning?: number;
  /** Called once per session a DELETE removed (the node's `swe_sessions_removed_total`). */
  onRemoved?: () => void;
  /** BUDGET_MAX_CALLS / BUDGET_MAX_TOKENS: the most a user (not an admin) may set a budget to; none when absent. */
  budgetCaps?: { maxCalls: number; maxTokens: number };
}

/**
 * The guide's session routes, plus listing, cancel and delete. A user reaches only
 * its own sessions (another's id is a 404, as if it did not exist); admins
 * reach all.
 */
export function sessionRoutes(store: SessionStore, opts: SessionRouteOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { read } = opts;

  /** The session if the caller may see it; 404 otherwise, the same answer as for an unknown id. */
  const visible = async (c: Context<AppEnv>): Promise<SessionRecord> => {
    const id = c.req.param('id') ?? '';
    const record = await store.getSession(id);
    if (!record || !owns(c.get('principal'), record.userId)) throw notFound('session', id);
    return record;
  };

  app.post('/', async (c) => {
    const p = c.get('principal');
    const body = parse(SessionCreate, await readJsonObject(c, { ...(read ? { read } : {}) }));
    const key = await requestKey(c, p.userId, 'POST /agent/sessions', body);
    if (key) {
      // A retry gets the first answer before any other work (the checks below might come out otherwise by
      // now); the lookup also re-adds the index entries that a reply lost after the create may have left out.
      const seen = await store.findRequestKey(key);
      if (seen.kind === 'reused') throw idempotencyKeyReused();
      if (seen.kind === 'used') return sessionCreated(c, seen.sessionId, true);
    }
    const { goal, mode } = body;
    // The URL policy depends on the server's configuration, so it is checked here, after the schema.
    const repo_url = repoUrl(body.repo_url, { allowLocalRepos: opts.allowLocalRepos });
    const limits = limitsOf(body.budget);
    withinCaps(limits, p, opts.budgetCaps);
    const user = await store.getUser(p.userId);
    const profileId = await chooseProfile(body, p, user?.defaultProfileId, opts);
    const roleProfiles = await chooseRoleProfiles(body, p, opts);
    // The limit as it stands now travels with the session: nodes need no user lookup to enforce it.
    const maxRunning = user?.maxRunning ?? opts.defaultMaxRunning ?? 0;
    const { record, created } = await store.createSession(
      {
        id: ulid(),
        goal,
        repo_url,
        mode,
        userId: p.userId,
        ...(maxRunning > 0 ? { maxRunning } : {}),
        ...(limits ? { budget: limits } : {}),
        ...(profileId ? { profileId } : {}),
        ...(roleProfiles ? { roleProfiles } : {}),
      },
      key,
    );
    return sessionCreated(c, record.id, !created);
  });

  app.get('/', async (c) => {
    const {
      status,
      limit,
      cursor,
      before: oldCursor,
      created_after: createdAfter,
      created_before: createdBefore,
      user_id: userFilter,
    } = parse(SessionListQuery, c.req.query());
    const before = cursor ?? oldCursor;
    const p = c.get('principal');
    if (!isAdmin(p) && userFilter !== undefined && userFilter !== p.userId)
      throw forbidden("only admins list other users' sessions", 'user_id');
    const userId = isAdmin(p) ? userFilter : p.userId;
    const rows = await store.listSessions({
      limit,
      ...(userId !== undefined ? { userId } : {}),
      ...(status ? { status } : {}),
      ...(before ? { before } : {}),
      ...(createdAfter !== undefined ? { createdAfter } : {}),
      ...(createdBefore !== undefined ? { createdBefore } : {}),
    });
    const next = rows.length === limit ? (rows[rows.length - 1]?.id ?? null) : null;
    return c.json({ sessions: rows.map(summaryView), next_cursor: next });
  });

  app.get('/:id', async (c) => {
    const record = await visible(c);
    const id = record.id;
    const [logs, spent, artifacts] = await Promise.all([
      store.getLogs(id),
      store.getUsage(id),
      store.getArtifacts(id),
    ]);
    const { snapshot: _snapshot, ...summary } = record;
    const view = summaryView(summary);
    // Every LLM call of every role, counted in the store as it happens (not in the snapshot).
    const usage = {
      calls: spent.calls,
      tokens: spent.inputTokens + spent.outputTokens,
      input_tokens: spent.inputTokens,
      output_tokens: spent.outputTokens,
      cost: spent.costMicros === null ? null : spent.costMicros / 1e6,
    };
    const result =
      view.result && typeof view.result === 'object'
        ? { ...(view.result as Record<string, unknown>), usage }
        : view.result;
    // Without a result (failed, cancelled, still running) the last checkpointed change is still the user's.
    const partial =
      !view.result && artifacts['checkpoint'] ? { partial_diff: artifacts['checkpoint'] } : {};
    // The plan under review lives in the machine's context until a result holds it.
    const plan =
      (record.snapshot?.state as { context?: { plan?: unknown } } | undefined)?.context?.plan ??
      null;
    return c.json({ ...view, result, usage, plan, ...partial, logs });
  });

  // Owners and admins remove an ended session with everything it owns; one that may still run is a 409.
  app.delete('/:id', async (c) => {
    const { id } = await visible(c);
    const res = await store.removeSession(id);
    if (res.kind === 'not_found') throw notFound('session', id);
    if (res.kind === 'active') throw stillActive(id, res.status);
    opts.onRemoved?.();
    return c.body(null, 204);
  });

  // The machine as data and where this session is in it, for the state-chart visualizer.
  app.get('/:id/chart', async (c) => {
    const record = await visible(c);
    const value = (record.snapshot?.state as { value?: unknown } | undefined)?.value ?? 'queued';
    const accepts = (['approve', 'input', 'cancel'] as const).filter((t) =>
      ACCEPTS[t].includes(record.status),
    );
    return c.json({
      machine: SESSION_CHART,
      active: activeIds(SESSION_CHART.id, value),
      status: record.status,
      phase: record.phase,
      accepts,
    });
  });

  app.get('/:id/history', async (c) => {
    const record = await visible(c);
    return c.json({ history: await store.getHistory(record.id) });
  });

  const event =
    (
      type: InboxEventType,
      payloadOf: (body: Record<string, unknown>, c: Context<AppEnv>) => Record<string, unknown>,
      optionalBody: boolean,
    ) =>
    async (c: Context<AppEnv>) => {
      const id = c.req.param('id') ?? '';
      // Admins reach every session, so only users pay for the ownership read (an input reads it anyway).
      let record = isAdmin(c.get('principal')) ? undefined : await visible(c);
      const body = await readJsonObject(c, { optional: optionalBody, ...(read ? { read } : {}) });
      const payload = payloadOf(body, c);
      if (type === 'input') {
        record ??= (await store.getSession(id)) ?? undefined;
        // An unknown session is the append's 404, below.
        if (record) goalRoom(record.goal, String(payload['message'] ?? ''));
      }
      const key = await requestKey(
        c,
        c.get('principal').userId,
        `POST /agent/sessions/${id}/${type}`,
        payload,
      );
      const res = await store.appendEvent(
        id,
        { type, payload },
        { allowedStatuses: ACCEPTS[type], ...(key ? { idempotencyKey: key } : {}) },
      );
      const answer = accepted(id, type, res);
      // The first answer again; `duplicate` (older than the header) says so too.
      if (answer.duplicate) c.header(REPLAYED, 'true');
      return c.json(answer, 202);
    };

  app.post(
    '/:id/approve',
    event('approve', (b) => parse(ApproveBody, b), true),
  );
  app.post(
    '/:id/input',
    event(
      'input',
      (b, c) => {
        const { message, budget } = parse(InputBody, b);
        // A budget here raises the session's limits (a session stopped by its budget goes on).
        const limits = limitsOf(budget);
        withinCaps(limits, c.get('principal'), opts.budgetCaps);
        return { message, ...(limits ? { budget: limits } : {}) };
      },
      false,
    ),
  );
  app.post(
    '/:id/cancel',
    event(
      'cancel',
      (b) => {
        const { reason } = parse(CancelBody, b);
        return reason ? { reason } : {};
      },
      true,
    ),
  );

  return app;
}

/** An input that would take the goal past `GOAL_MAX_CHARS` once folded in is a 400 naming `message`. */
function goalRoom(goal: string, message: string): void {
  const folded = goal.length + '\n\nUser input: '.length + message.length;
  if (folded > GOAL_MAX_CHARS) {
    throw badRequest(
      `the goal with this input would be ${folded.toLocaleString('en')} characters, over the limit of ${GOAL_MAX_CHARS.toLocaleString('en')}: send a shorter message, or start a new session with a goal that says it all`,
      'message',
    );
  }
}

function accepted(id: string, type: InboxEventType, res: AppendResult) {
  if (res.kind === 'not_found') throw notFound('session', id);
  if (res.kind === 'conflict') {
    throw conflict(
      `cannot ${type} session ${id} while it is ${res.status}` +
        (type === 'approve' ? ' (approve needs WAITING_FOR_USER)' : ''),
    );
  }
  return { session_id: id, event_id: res.eventId, accepted: true, duplicate: res.duplicate };
}

/** The 409 of a delete, naming the status: what to do depends on whether the session has ended. */
function stillActive(id: string, status: SessionStatus) {
  const ended = ENDED_STATUSES.includes(status);
  return conflict(
    ended
      ? `session ${id} is ${status} but still has work to do (an input not yet applied, or a node still holding it); delete it once that is done`
      : `session ${id} is ${status}: cancel it first (POST /agent/sessions/${id}/cancel), then delete it once it has ended`,
    { status },
  );
}

/** 201 `{session_id, status}`: a new session is QUEUED, and a replay answers what the first request got. */
function sessionCreated(c: Context, id: string, replayed: boolean) {
  c.header('Location', `/agent/sessions/${id}`);
  if (replayed) c.header(REPLAYED, 'true');
  return c.json({ session_id: id, status: 'QUEUED' as const }, 201);
}

/**
 * The request's `Idempotency-Key`, scoped to the caller and tied to the
 * request: the route and the validated body (so the order of JSON fields
 * or defaults left out make no difference), hashed.
 */
async function requestKey(
  c: Context,
  userId: string,
  route: string,
  body: unknown,
): Promise<RequestKey | undefined> {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!IdempotencyKey.safeParse(key).success) {
    throw badRequest(
      'Idempotency-Key must be 1-200 printable ASCII characters, without spaces',
      'Idempotency-Key',
    );
  }
  const fingerprint = await sha256Hex(`${route}\n${JSON.stringify(body)}`);
  return { userId, key, fingerprint, ttlMs: IDEMPOTENCY_TTL_MS };
}

/** A session as listings show it. */
export function summaryView(s: SessionSummary) {
  return {
    id: s.id,
    status: s.status,
    phase: s.phase,
    reason: s.reason,
    goal: s.goal,
    repo_url: s.repo_url,
    mode: s.mode,
    user_id: s.userId ?? null,
    result: s.result ?? null,
    created_at: new Date(s.created_at).toISOString(),
    updated_at: new Date(s.updated_at).toISOString(),
    owner: s.owner ? { node_id: s.owner.nodeId, epoch: s.owner.epoch } : null,
    epoch: s.epoch,
  };
}

/**
 * A user's budget stays within what the operator allows (BUDGET_MAX_CALLS,
 * BUDGET_MAX_TOKENS): calls cost money on profiles the user may not own.
 * Admins set any budget.
 */
function withinCaps(
  limits: { maxCalls?: number; maxTokens?: number } | undefined,
  p: Principal,
  caps: SessionRouteOptions['budgetCaps'],
): void {
  if (!limits || !caps || isAdmin(p)) return;
  if (limits.maxCalls !== undefined && limits.maxCalls > caps.maxCalls)
    throw forbidden(
      `budget.max_calls is at most ${caps.maxCalls.toLocaleString('en')} for users (BUDGET_MAX_CALLS; an admin may set more)`,
      'budget.max_calls',
    );
  if (limits.maxTokens !== undefined && limits.maxTokens > caps.maxTokens)
    throw forbidden(
      `budget.max_tokens is at most ${caps.maxTokens.toLocaleString('en')} for users (BUDGET_MAX_TOKENS; an admin may set more)`,
      'budget.max_tokens',
    );
}

/** The API's `budget` as the agent's limits; undefined when absent or empty. */
function limitsOf(
  b: z.infer<typeof Budget> | undefined,
): { maxCalls?: number; maxTokens?: number } | undefined {
  if (!b) return undefined;
  return {
    ...(b.max_calls !== undefined ? { maxCalls: b.max_calls } : {}),
    ...(b.max_tokens !== undefined ? { maxTokens: b.max_tokens } : {}),
  };
}

/**
 * The profile a new session names, checked; when it names none and the work
 * needs one, the user's default or the global default must exist (the agent
 * resolves them at each step, so later changes to the defaults apply).
 */
async function chooseProfile(
  body: z.infer<typeof SessionCreate>,
  p: Principal,
  userDefault: string | undefined,
  opts: { profiles?: Profiles; requireProfile?: boolean },
): Promise<string | undefined> {
  const id = body.ai_profile_id;
  if (id !== undefined) {
    await checkProfile(id, 'ai_profile_id', p, opts);
    return id;
  }
  if (!opts.requireProfile || !opts.profiles) return undefined;
  const mine = userDefault ? await opts.profiles.get(userDefault) : null;
  if (!mine && !(await opts.profiles.defaultProfile())) {
    throw badRequest(
      'no AI profile to run the session with: create one with POST /agent/ai-profiles (is_default: true), or name one in ai_profile_id',
      'ai_profile_id',
    );
  }
  return undefined;
}

/** Per-role profiles (`planner_profile_id`, …), each one that exists; undefined when none is named. */
async function chooseRoleProfiles(
  body: z.infer<typeof SessionCreate>,
  p: Principal,
  opts: { profiles?: Profiles },
): Promise<RoleProfiles | undefined> {
  const roles: RoleProfiles = {};
  for (const role of ['planner', 'programmer', 'reviewer'] as const) {
    const id = body[`${role}_profile_id`];
    if (id === undefined) continue;
    await checkProfile(id, `${role}_profile_id`, p, opts);
    roles[role] = id;
  }
  return Object.keys(roles).length ? roles : undefined;
}

/** A named profile must exist and be one the caller may use (its own, assigned to it, or the global default). */
async function checkProfile(
  id: string,
  field: string,
  p: Principal,
  opts: { profiles?: Profiles },
): Promise<void> {
  const profile = opts.profiles ? await opts.profiles.get(id) : null;
  if (!profile || !canUseProfile(p, profile))
    throw badRequest(
      `${field} ${id} is not an AI profile (GET /agent/ai-profiles lists them)`,
      field,
    );
}
