/**
 * What the routes answer, for the OpenAPI document only: the routes build
 * these objects by hand, and the tests check the answers against them.
 */
import { z } from 'zod';
import { SESSION_STATUSES } from '../../actors/status.ts';
import { PROVIDERS } from './requests.ts';

// --------------------------------------------------------------- responses
// What the routes answer, for the docs: the routes build these objects by hand.

// A plain string with the format named: the routes write `toISOString()`, and the regex of z.iso.datetime() would only clutter the docs.
const isoTime = (what: string) =>
  z
    .string()
    .describe(what)
    .meta({ format: 'date-time', examples: ['2026-11-25T12:00:00.000Z'] });
const id = (what: string) =>
  z
    .string()
    .describe(what)
    .meta({ examples: ['01JD7X3Q9M2KQ8ZC4W6T5R1N0B'] });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z
        .string()
        .describe(
          'Stable code: bad_request, unauthorized, forbidden, not_found, conflict, idempotency_key_reused, payload_too_large, unsupported_media_type, rate_limited, store_unavailable, internal.',
        )
        .meta({ examples: ['bad_request'] }),
      message: z
        .string()
        .describe('What went wrong, in plain words.')
        .meta({ examples: ['goal is required'] }),
      field: z
        .string()
        .optional()
        .describe(
          'The request field at fault (`budget.max_calls`, `Idempotency-Key`, `body`), when there is one.',
        )
        .meta({ examples: ['goal'] }),
      correlation_id: z
        .string()
        .optional()
        .describe('On 500 and 503: the id under which the server logged the detail.'),
      status: z
        .enum(SESSION_STATUSES)
        .optional()
        .describe(
          'On a 409 from deleting a session: the status it is in (cancel it first, or wait for it to end).',
        ),
    }),
  })
  .describe('Every error answer.');

export const Health = z.object({ ok: z.literal(true) });
export const Ready = z.object({
  ok: z.literal(true),
  store: z.string().describe('The session store: `redis` or `memory`.'),
});

export const SessionCreated = z.object({
  session_id: id('The new session (a ULID).'),
  status: z
    .enum(SESSION_STATUSES)
    .describe(
      'QUEUED: the session is new (a replay with the same Idempotency-Key answers as the first request did).',
    ),
});

export const SessionSummary = z.object({
  id: id('The session.'),
  status: z.enum(SESSION_STATUSES),
  phase: z
    .string()
    .describe('Where the machine is, e.g. `coding` or `preparing.waitingRetry`.')
    .meta({ examples: ['planning'] }),
  reason: z.string().nullable().describe('Why the session failed or waits; null otherwise.'),
  goal: z.string(),
  repo_url: z.string(),
  mode: z.enum(['auto', 'review']),
  user_id: z
    .string()
    .nullable()
    .describe('The user who created it (null: from before users existed).'),
  result: z
    .object({
      summary: z.string(),
      diff: z.string().describe('The change as a unified diff.'),
      files_changed: z.array(z.string()),
      plan: z.unknown(),
      review: z.unknown(),
      usage: z.unknown().optional().describe('In the session detail: the same as its `usage`.'),
    })
    .nullable()
    .describe('The change, once produced; null before.'),
  created_at: isoTime('When the session was created.'),
  updated_at: isoTime('Its last change.'),
  owner: z
    .object({ node_id: z.string(), epoch: z.number().int() })
    .nullable()
    .describe('The node running it now, under a lease; null when none.'),
  epoch: z.number().int().describe('How many times a node has claimed it.'),
});

export const Retention = z
  .object({
    retention_days: z
      .number()
      .int()
      .describe(
        'SESSION_RETENTION_DAYS: ended sessions are kept this long after their last update; 0: for ever.',
      ),
    cutoff: isoTime(
      'Ended sessions last updated before this are removed; null when sessions are kept for ever.',
    ).nullable(),
    sessions: z
      .array(SessionSummary)
      .describe(
        'What the sweep removes next, oldest update first, at most `limit`. One that was started again by an input since it ended is listed, but kept.',
      ),
    more: z.boolean().describe('More sessions than these are past the cutoff.'),
  })
  .describe('What the retention sweep will remove (it runs at start and every hour on each node).');

export const SessionList = z.object({
  sessions: z.array(SessionSummary),
  next_cursor: z.string().nullable().describe('`cursor` for the next page; null on the last one.'),
});

export const Usage = z
  .object({
    calls: z.number().int(),
    tokens: z.number().int(),
    input_tokens: z.number().int(),
    output_tokens: z.number().int(),
    cost: z
      .number()
      .nullable()
      .describe('USD, from the profiles’ prices; null when a profile has none.'),
  })
  .describe('Every LLM call of every role so far.');

export const SessionDetail = SessionSummary.extend({
  usage: Usage,
  plan: z
    .object({ summary: z.string(), steps: z.array(z.string()) })
    .nullable()
    .describe(
      "The planner's current plan (what review mode waits on); null before the first plan.",
    ),
  partial_diff: z
    .string()
    .optional()
    .describe('Without a result (failed, cancelled, still running): the last checkpointed change.'),
  logs: z
    .array(z.string())
    .describe('Log lines, oldest first.')
    .meta({ examples: [['Starting session...', 'Cloning repo...']] }),
});

export const EventAccepted = z.object({
  session_id: id('The session.'),
  event_id: z
    .string()
    .describe('The event in the session inbox.')
    .meta({ examples: ['1764072000000-0'] }),
  accepted: z.literal(true),
  duplicate: z
    .boolean()
    .describe(
      'True when this answer replays an earlier request with the same Idempotency-Key, which added the event (`Idempotent-Replayed: true` too).',
    ),
});

export const History = z.object({
  history: z.array(
    z.object({
      n: z.number().int().describe('Position in the whole history (0 for the first transition).'),
      at: z.number().int().describe('Epoch milliseconds.'),
      event: z.string(),
      from: z.string(),
      to: z.string(),
      node: z.string().describe('The node that made the transition.'),
      epoch: z.number().int(),
      payload: z
        .record(z.string(), z.unknown())
        .optional()
        .describe(
          'What the event carried, made safe to show: secret-looking fields dropped, long strings cut, diffs reduced to their size.',
        ),
    }),
  ),
});

export const Chart = z.object({
  machine: z
    .object({
      id: z.string(),
      key: z.string(),
      type: z.string(),
      initial: z.string().nullable(),
      tags: z.array(z.string()),
      entry: z.array(z.string()),
      exit: z.array(z.string()),
      invoke: z.array(z.string()),
      transitions: z.array(
        z.object({
          event: z.string(),
          kind: z.enum(['event', 'done', 'error', 'eventless']),
          targets: z.array(z.string()),
          guard: z.string().nullable(),
          actions: z.array(z.string()),
        }),
      ),
      states: z.array(z.looseObject({})).describe('Child states, each shaped like `machine`.'),
    })
    .describe('The session machine as data: the same for every session.'),
  active: z.array(z.string()).describe('Ids of the states this session is in.'),
  status: z.enum(SESSION_STATUSES),
  phase: z.string(),
  accepts: z
    .array(z.enum(['approve', 'input', 'cancel']))
    .describe(
      "The events the API accepts for this session now (others answer 409): the machine's possible events, as the status allows them.",
    ),
});

const point = z.object({ x: z.number(), y: z.number() });
const box = point.extend({ width: z.number(), height: z.number() });

export const ChartLayout = z
  .object({
    width: z.number(),
    height: z.number(),
    nodes: z
      .array(
        box.extend({
          id: z
            .string()
            .describe('The state id, e.g. `session.planning.running`.')
            .meta({ examples: ['session.planning.running'] }),
          label: z.string(),
          kind: z.enum(['atomic', 'compound', 'final']),
          parent: z.string().nullable(),
          depth: z.number().int(),
          initial: z.string().nullable().describe('The initial child (compound states).'),
          invoke: z.array(z.string()),
          tags: z.array(z.string()),
          entry: z.array(z.string()),
          exit: z.array(z.string()),
        }),
      )
      .describe('Every state, outermost first.'),
    edges: z
      .array(
        z.object({
          id: z.string(),
          source: z.string(),
          target: z
            .string()
            .describe('The target state; the source itself for a targetless transition.'),
          event: z.string().describe("The event; `''` for an eventless one."),
          kind: z.enum(['event', 'done', 'error', 'eventless']),
          guard: z.string().nullable(),
          actions: z.array(z.string()),
          internal: z.boolean().describe('Targetless: runs its actions and stays.'),
          label: z
            .string()
            .describe('The event as shown, e.g. `done: planning.running` or `always`.'),
          labelLines: z.array(z.string()),
          points: z.array(point).describe('The route, a polyline from source to target.'),
          labelBox: box.nullable(),
        }),
      )
      .describe('One edge per transition target.'),
    initials: z
      .array(
        point.extend({
          parent: z.string(),
          target: z.string(),
          r: z.number(),
          points: z.array(point),
        }),
      )
      .describe(
        'The initial marker of each compound state: a dot and the route into its initial child.',
      ),
  })
  .describe('The chart laid out by ELK (layered, top to bottom), in absolute coordinates.');

export const MachineChart = z.object({
  machine: Chart.shape.machine,
  layout: ChartLayout,
});

export const ProfileView = z.object({
  id: id('The profile.'),
  name: z.string(),
  provider: z.enum(PROVIDERS),
  model: z.string(),
  base_url: z.string().nullable(),
  api_version: z.string().nullable(),
  deployment: z.string().nullable(),
  is_default: z.boolean(),
  prices: z.object({ input_per_mtok: z.number(), output_per_mtok: z.number() }).nullable(),
  api_key_hint: z
    .string()
    .nullable()
    .describe('The last four characters of the key (`…1234`); never the key.'),
  owner_id: z
    .string()
    .nullable()
    .describe(
      'The user who created it (null: made by the operator); only the owner or an admin changes it.',
    ),
  user_ids: z.array(z.string()).describe('Users it is assigned to: they see and use it.'),
});

export const ProfileList = z.object({ profiles: z.array(ProfileView) });

export const ProfileTestResult = z.object({
  ok: z.boolean(),
  model: z.string().optional().describe('The model that answered, when ok.'),
  error: z
    .object({ code: z.string(), message: z.string() })
    .optional()
    .describe("The provider's refusal, when not ok (never the key)."),
});

export const UserView = z.object({
  id: id('The user.'),
  name: z.string(),
  role: z.enum(['admin', 'user']),
  default_profile_id: z.string().nullable(),
  max_running_sessions: z
    .number()
    .int()
    .nullable()
    .describe("The user's own limit; null: the server default."),
  effective_max_running_sessions: z.number().int().describe('The limit in force (0: none).'),
  created_at: isoTime('When the user was created.'),
});

export const UserList = z.object({ users: z.array(UserView) });

export const TokenView = z.object({
  id: id('The token (not the secret).'),
  user_id: z.string(),
  name: z.string(),
  prefix: z
    .string()
    .describe('The first characters of the token, to recognise it.')
    .meta({ examples: ['swa_Ab12'] }),
  created_at: isoTime('When the token was created.'),
});

export const TokenCreated = TokenView.extend({
  token: z
    .string()
    .describe(
      'The secret: shown in this answer only, stored as a hash. Send it as `Authorization: Bearer <token>`.',
    ),
});

export const TokenList = z.object({ tokens: z.array(TokenView) });

export const Me = UserView.extend({
  auth: z
    .enum(['token', 'local'])
    .describe(
      '`local`: an unauthenticated request on a loopback-only server, acting as the admin.',
    ),
  token_id: z.string().nullable().describe('The token the request came with.'),
});

export const NodeList = z
  .object({
    nodes: z.array(
      z.object({
        id: z.string(),
        address: z.string(),
        version: z.string(),
        started_at: isoTime('When the node started.'),
        heartbeat_at: isoTime('Its latest heartbeat.'),
        heartbeat_age_ms: z
          .number()
          .int()
          .describe('Milliseconds since that heartbeat, by the store clock.'),
        active_sessions: z.number().int().describe('Sessions it runs now.'),
        sessions: z
          .array(z.string())
          .describe('Ids of the sessions it hosts, as of its heartbeat.'),
      }),
    ),
  })
  .describe('Nodes with a recent heartbeat.');
