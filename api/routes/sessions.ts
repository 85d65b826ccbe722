import { Hono, type Context } from 'hono';
import { monotonicFactory } from 'ulid';
import { SESSION_STATUSES, type AppendResult, type InboxEventType, type SessionStatus, type SessionSummary, type Store } from '../../runtime/store/port.ts';
import { badRequest, conflict, notFound } from '../../runtime/errors.ts';
import { readJsonObject, type BodyReader } from '../body.ts';
import type { Profiles } from '../../runtime/profiles.ts';
import { activeIds, chartOf } from '../../actors/chart.ts';
import { createSessionMachine } from '../../actors/index.ts';
import { hostedWork, unconfiguredWork } from '../../runtime/work.ts';
import { budget, oneOf, optionalString, rejectUnknown, repoUrl, requiredString } from '../validate.ts';

// Monotonic: sessions created in the same millisecond on this node still list in creation order.
const ulid = monotonicFactory();
const MAX_GOAL = 20_000;
const MAX_MESSAGE = 20_000;

/** The session machine's chart: the same for every session, so computed once (its work is never run here). */
const CHART = chartOf(createSessionMachine(hostedWork(unconfiguredWork, () => undefined)));

/** Statuses in which each event is accepted; anything else is a 409. */
const ACCEPTS: Record<InboxEventType, readonly SessionStatus[]> = {
  approve: ['WAITING_FOR_USER'],
  input: ['QUEUED', 'RUNNING', 'WAITING_FOR_USER', 'COMPLETED', 'FAILED'],
  cancel: ['QUEUED', 'RUNNING', 'WAITING_FOR_USER'],
  timer: [],
};

/** The guide's session routes, plus listing and cancel. */
export function sessionRoutes(store: Store, opts: { read?: BodyReader; allowLocalRepos: boolean; profiles?: Profiles; requireProfile?: boolean }): Hono {
  const app = new Hono();
  const { read } = opts;

  app.post('/', async (c) => {
    const body = await readJsonObject(c, { ...(read ? { read } : {}) });
    rejectUnknown(body, ['goal', 'repo_url', 'mode', 'budget', 'ai_profile_id']);
    const goal = requiredString(body, 'goal', MAX_GOAL);
    const repo_url = repoUrl(body, { allowLocalRepos: opts.allowLocalRepos });
    const mode = oneOf(body, 'mode', ['auto', 'review'] as const, 'auto');
    const limits = budget(body);
    const profileId = await chooseProfile(body, opts);
    const { record, created } = await store.createSession({ id: ulid(), goal, repo_url, mode, ...(limits ? { budget: limits } : {}), ...(profileId ? { profileId } : {}) }, idempotencyKey(c));
    c.header('Location', `/agent/sessions/${record.id}`);
    return c.json({ session_id: record.id, status: record.status }, created ? 201 : 200);
  });

  app.get('/', async (c) => {
    const status = c.req.query('status');
    if (status !== undefined && !SESSION_STATUSES.includes(status as SessionStatus)) {
      throw badRequest(`status must be one of: ${SESSION_STATUSES.join(', ')}`, 'status');
    }
    const limitRaw = c.req.query('limit') ?? '50';
    const limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw badRequest('limit must be an integer from 1 to 500', 'limit');
    const before = c.req.query('cursor') ?? c.req.query('before');
    if (before !== undefined && !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(before)) throw badRequest('cursor must be a session id', 'cursor');
    const createdAfter = timeParam(c.req.query('created_after'), 'created_after');
    const createdBefore = timeParam(c.req.query('created_before'), 'created_before');
    const rows = await store.listSessions({
      limit,
      ...(status ? { status: status as SessionStatus } : {}),
      ...(before ? { before } : {}),
      ...(createdAfter !== undefined ? { createdAfter } : {}),
      ...(createdBefore !== undefined ? { createdBefore } : {}),
    });
    const next = rows.length === limit ? rows[rows.length - 1]?.id ?? null : null;
    return c.json({ sessions: rows.map(summaryView), next_cursor: next });
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    const record = await store.getSession(id);
    if (!record) throw notFound('session', id);
    const [logs, spent, artifacts] = await Promise.all([store.getLogs(id), store.getUsage(id), store.getArtifacts(id)]);
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
    const result = view.result && typeof view.result === 'object' ? { ...(view.result as Record<string, unknown>), usage } : view.result;
    // Without a result (failed, cancelled, still running) the last checkpointed change is still the user's.
    const partial = !view.result && artifacts['checkpoint'] ? { partial_diff: artifacts['checkpoint'] } : {};
    return c.json({ ...view, result, usage, ...partial, logs });
  });

  // The machine as data and where this session is in it, for the state-chart visualizer.
  app.get('/:id/chart', async (c) => {
    const id = c.req.param('id');
    const record = await store.getSession(id);
    if (!record) throw notFound('session', id);
    const value = (record.snapshot?.state as { value?: unknown } | undefined)?.value ?? 'queued';
    return c.json({ machine: CHART, active: activeIds(CHART.id, value), status: record.status, phase: record.phase });
  });

  app.get('/:id/history', async (c) => {
    const id = c.req.param('id');
    if (!(await store.getSession(id))) throw notFound('session', id);
    return c.json({ history: await store.getHistory(id) });
  });

  const event = (type: InboxEventType, payloadOf: (body: Record<string, unknown>) => Record<string, unknown>, optionalBody: boolean) =>
    async (c: Context) => {
      const id = c.req.param('id') ?? '';
      const body = await readJsonObject(c, { optional: optionalBody, ...(read ? { read } : {}) });
      const payload = payloadOf(body);
      const key = idempotencyKey(c);
      const res = await store.appendEvent(id, { type, payload }, { allowedStatuses: ACCEPTS[type], ...(key ? { idempotencyKey: key } : {}) });
      return c.json(accepted(id, type, res), 202);
    };

  app.post('/:id/approve', event('approve', (b) => (rejectUnknown(b, []), {}), true));
  app.post('/:id/input', event('input', (b) => {
    rejectUnknown(b, ['message', 'budget']);
    // A budget here raises the session's limits (a session stopped by its budget goes on).
    const limits = budget(b);
    return { message: requiredString(b, 'message', MAX_MESSAGE), ...(limits ? { budget: limits } : {}) };
  }, false));
  app.post('/:id/cancel', event('cancel', (b) => {
    rejectUnknown(b, ['reason']);
    const reason = optionalString(b, 'reason', 1000);
    return reason ? { reason } : {};
  }, true));

  return app;
}

function accepted(id: string, type: InboxEventType, res: AppendResult) {
  if (res.kind === 'not_found') throw notFound('session', id);
  if (res.kind === 'conflict') {
    throw conflict(`cannot ${type} session ${id} while it is ${res.status}` + (type === 'approve' ? ' (approve needs WAITING_FOR_USER)' : ''));
  }
  return { session_id: id, event_id: res.eventId, accepted: true, duplicate: res.duplicate };
}

function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (key.length < 1 || key.length > 200 || !/^[\x21-\x7e]+$/.test(key)) {
    throw badRequest('Idempotency-Key must be 1-200 printable ASCII characters', 'Idempotency-Key');
  }
  return key;
}

function summaryView(s: SessionSummary) {
  return {
    id: s.id,
    status: s.status,
    phase: s.phase,
    reason: s.reason,
    goal: s.goal,
    repo_url: s.repo_url,
    mode: s.mode,
    result: s.result ?? null,
    created_at: new Date(s.created_at).toISOString(),
    updated_at: new Date(s.updated_at).toISOString(),
    owner: s.owner ? { node_id: s.owner.nodeId, epoch: s.owner.epoch } : null,
    epoch: s.epoch,
  };
}

/** A time as ISO 8601 or epoch milliseconds, for filters. */
function timeParam(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw badRequest(`${field} must be an ISO 8601 time (e.g. 2026-11-25T12:00:00Z) or epoch milliseconds`, field);
  return ms;
}

/** The profile a new session uses: the one named, else the default; 400 when neither exists and the work needs one. */
async function chooseProfile(body: Record<string, unknown>, opts: { profiles?: Profiles; requireProfile?: boolean }): Promise<string | undefined> {
  const id = optionalString(body, 'ai_profile_id', 100);
  if (id !== undefined) {
    if (!opts.profiles || !(await opts.profiles.get(id))) throw badRequest(`ai_profile_id ${id} is not an AI profile (GET /agent/ai-profiles lists them)`, 'ai_profile_id');
    return id;
  }
  if (opts.requireProfile && opts.profiles && !(await opts.profiles.defaultProfile())) {
    throw badRequest('no AI profile to run the session with: create one with POST /agent/ai-profiles (is_default: true), or name one in ai_profile_id', 'ai_profile_id');
  }
  return undefined;
}
