/**
 * Every request body and query of the API as a zod schema: the routes
 * validate with `parse()`, and `api/openapi.ts` turns the same schemas into
 * the OpenAPI document, so the docs cannot drift from the checks.
 * The response views at the end are for the docs only.
 */
import { z } from 'zod';
import { badRequest } from '../kernel/errors.ts';
import { SESSION_STATUSES } from '../actors/status.ts';

// Control characters other than tab/newline have no place in goals, names or URLs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejects control characters in goals, names and URLs
const NO_CONTROL = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
// Half a surrogate pair is not Unicode: Redis would store it as U+FFFD (the memory store as it is), and providers refuse it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string with something in it besides spaces, at most `max` characters, without control characters or invalid Unicode. */
export function text(max: number) {
  return z
    .string()
    .regex(/\S/, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(NO_CONTROL, { error: 'contains control characters' })
    .refine((s) => !LONE_SURROGATE.test(s), {
      error: 'contains invalid Unicode (a lone surrogate)',
    });
}

/** An integer in [min, max]: one message for every way to miss it. */
function int(min: number, max: number, coerce = false) {
  const error = `must be an integer from ${min} to ${max}`;
  return (coerce ? z.coerce.number({ error }) : z.number({ error }))
    .int({ error })
    .min(min, { error })
    .max(max, { error });
}

/**
 * An object that rejects fields it does not know, naming the ones it does;
 * `like` shows the expected shape when the value is not an object at all.
 */
function strict<T extends z.core.$ZodLooseShape>(shape: T, like?: string) {
  const keys = Object.keys(shape);
  const allowed = keys.length ? `allowed: ${keys.join(', ')}` : 'this request takes no fields';
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return `is not a known field (${allowed})`;
      if (iss.code === 'invalid_type')
        return iss.input === undefined
          ? 'is required'
          : `must be an object${like ? ` like ${like}` : ''}`;
      return undefined;
    },
  });
}

const profileRef = (role: string) =>
  text(100)
    .describe(`The AI profile ${role} (GET /agent/ai-profiles lists them).`)
    .meta({ examples: ['01JD7X3Q9M2KQ8ZC4W6T5R1N0B'] });

// ---------------------------------------------------------------- sessions

export const Budget = strict(
  {
    max_calls: int(1, 1_000_000)
      .optional()
      .describe('Most LLM calls the session may make, all roles together.'),
    max_tokens: int(1, 1_000_000_000)
      .optional()
      .describe('Most tokens (input + output) the session may use.'),
  },
  '{"max_calls": 100, "max_tokens": 500000}',
)
  .describe(
    "Limits over the node's defaults; on input, they raise the session's limits (a session stopped by its budget goes on).",
  )
  .meta({ examples: [{ max_calls: 100, max_tokens: 500_000 }] });

export const SessionCreate = strict({
  goal: text(20_000)
    .describe('What the agent should do, in plain words.')
    .meta({ examples: ['Refactor the login function in auth.py to use async/await'] }),
  repo_url: text(2048)
    .describe(
      'The git repository to work on: https, ssh or scp-style (user@host:path). Local paths only when the server allows them.',
    )
    .meta({ examples: ['https://github.com/example/my-repo.git'] }),
  mode: z
    .enum(['auto', 'review'])
    .default('auto')
    .describe(
      '`auto` runs to the end; `review` pauses after planning (status WAITING_FOR_USER) until approved.',
    ),
  budget: Budget.optional(),
  ai_profile_id: profileRef('every role uses, over your default and the global default').optional(),
  planner_profile_id: profileRef('the planner uses, over ai_profile_id').optional(),
  programmer_profile_id: profileRef('the programmer uses, over ai_profile_id').optional(),
  reviewer_profile_id: profileRef('the reviewer uses, over ai_profile_id').optional(),
}).describe('A new session.');

export const SessionListQuery = strict({
  status: z.enum(SESSION_STATUSES).optional().describe('Only sessions in this status.'),
  limit: int(1, 500, true).default(50).describe('Page size.'),
  cursor: z
    .string()
    .regex(ULID, { error: 'must be a session id' })
    .optional()
    .describe('`next_cursor` of the previous page: sessions created before this one.'),
  before: z
    .string()
    .regex(ULID, { error: 'must be a session id' })
    .optional()
    .describe('Old name of `cursor`.')
    .meta({ deprecated: true }),
  created_after: time()
    .optional()
    .describe('Only sessions created after this time: ISO 8601 or epoch milliseconds.'),
  created_before: time()
    .optional()
    .describe('Only sessions created before this time: ISO 8601 or epoch milliseconds.'),
  user_id: text(100)
    .optional()
    .describe("Only this user's sessions (admins; a user's list holds only its own anyway)."),
}).describe('Filters and paging of the session list, newest first.');

/** A time as ISO 8601 or epoch milliseconds, for filters; undefined when empty. */
function time() {
  const error = 'must be an ISO 8601 time (e.g. 2026-11-25T12:00:00Z) or epoch milliseconds';
  return z
    .string()
    .meta({ examples: ['2026-11-25T12:00:00Z', '1764072000000'] })
    .transform((raw, ctx) => {
      if (raw === '') return undefined;
      const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
      if (Number.isFinite(ms)) return ms;
      ctx.issues.push({ code: 'custom', message: error, input: raw });
      return z.NEVER;
    });
}

export const ApproveBody = strict({}).describe('No fields: the body may be empty or `{}`.');

export const InputBody = strict({
  message: text(20_000)
    .describe("New instructions or feedback; added to the session's goal, and the agent replans.")
    .meta({ examples: ['Please also update the README with the new changes.'] }),
  budget: Budget.optional(),
});

export const CancelBody = strict({
  reason: text(1000)
    .optional()
    .describe("Why, kept as the session's reason.")
    .meta({ examples: ['changed my mind'] }),
}).describe('The body may be empty.');

export const EventsQuery = z
  .object({
    last_event_id: z
      .string()
      .optional()
      .describe(
        'Where to resume, for clients that cannot send the `Last-Event-ID` header (the header wins).',
      )
      .meta({ examples: ['12.4'] }),
  })
  .describe('Resuming a live event stream.');

/** The `Idempotency-Key` header: a retry with the same key answers like the first request. */
export const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/)
  .describe(
    '1-200 printable ASCII characters (no spaces), new for each request you mean (a UUID will do). Send it so that a POST can be retried ' +
      'after a 503, a timeout or a dropped connection: for 24 hours a request of yours with the same key, route and body does nothing again ' +
      'and gets the first answer (same status and ids) with `Idempotent-Replayed: true`; with another route or body it is a 422 ' +
      '`idempotency_key_reused`. Keys are per user. Only accepted requests are remembered: a refused one (404, 409) may be retried as it is.',
  )
  .meta({ examples: ['create-7f3a2c'] });

// ------------------------------------------------------------- AI profiles

export const PROVIDERS = ['openai', 'azure', 'ollama', 'openai-compatible', 'gemini'] as const;

const Prices = strict(
  {
    input_per_mtok: z
      .number({ error: 'must be a number ≥ 0' })
      .min(0, { error: 'must be a number ≥ 0' })
      .describe('USD per million input tokens.'),
    output_per_mtok: z
      .number({ error: 'must be a number ≥ 0' })
      .min(0, { error: 'must be a number ≥ 0' })
      .describe('USD per million output tokens.'),
  },
  '{"input_per_mtok": 2.5, "output_per_mtok": 10} (USD per million tokens)',
)
  .describe('Prices, to show what sessions cost.')
  .meta({ examples: [{ input_per_mtok: 2.5, output_per_mtok: 10 }] });

const profileFields = {
  name: text(100)
    .describe('A name to recognise it by.')
    .meta({ examples: ['My GPT-4'] }),
  provider: z.enum(PROVIDERS).describe('Which API the profile calls.'),
  model: text(200)
    .describe('The model identifier.')
    .meta({ examples: ['gpt-4o-mini', 'gemini-1.5-pro'] }),
  api_key: text(1000).describe(
    'The secret key: sealed at rest, never shown again (answers carry `api_key_hint`). Required for openai, gemini and azure.',
  ),
  base_url: text(2048)
    .describe('http(s) base URL: the Azure endpoint, or the server of ollama / openai-compatible.')
    .meta({ examples: ['https://NAME.openai.azure.com'] }),
  api_version: text(100)
    .describe('Azure API version (azure only).')
    .meta({ examples: ['2024-10-21'] }),
  deployment: text(200).describe('Azure deployment name (azure only).'),
  is_default: z
    .boolean()
    .describe(
      'Sessions that name no profile use the default one; setting it moves the default here.',
    ),
  prices: Prices,
  user_ids: z
    .array(text(100))
    .max(100, { error: 'must list at most 100 user ids' })
    .describe(
      'Users the profile is assigned to besides its owner: they see and use it, but cannot change it. Admins only.',
    ),
};

export const ProfileCreate = strict({
  name: profileFields.name,
  provider: profileFields.provider,
  model: profileFields.model,
  api_key: profileFields.api_key.optional(),
  base_url: profileFields.base_url.optional(),
  api_version: profileFields.api_version.optional(),
  deployment: profileFields.deployment.optional(),
  is_default: profileFields.is_default.optional(),
  prices: profileFields.prices.optional(),
  user_ids: profileFields.user_ids.optional(),
}).describe(
  'A new AI profile. Each provider needs its own fields (see api_key, base_url, api_version, deployment).',
);

export const ProfilePatch = strict({
  name: profileFields.name.optional(),
  provider: profileFields.provider.optional(),
  model: profileFields.model.optional(),
  api_key: profileFields.api_key.nullable().optional(),
  base_url: profileFields.base_url.nullable().optional(),
  api_version: profileFields.api_version.nullable().optional(),
  deployment: profileFields.deployment.nullable().optional(),
  is_default: profileFields.is_default.optional(),
  prices: profileFields.prices.nullable().optional(),
  user_ids: profileFields.user_ids.optional(),
}).describe(
  'The fields to change; `null` clears an optional one. The result must still suit its provider.',
);

// ------------------------------------------------------------------- users

const userFields = {
  name: text(100)
    .describe("The user's name.")
    .meta({ examples: ['Ada'] }),
  role: z
    .enum(['admin', 'user'])
    .describe('Admins manage users and see every session and profile.'),
  max_running_sessions: int(0, 10_000).describe(
    "Most of the user's sessions RUNNING at once (0: no limit); others wait in QUEUED.",
  ),
  default_profile_id: text(100).describe(
    "The AI profile the user's sessions use when they name none.",
  ),
};

export const UserCreate = strict({
  name: userFields.name,
  role: userFields.role.default('user'),
  max_running_sessions: userFields.max_running_sessions.optional(),
  default_profile_id: userFields.default_profile_id.optional(),
}).describe('A new user.');

export const UserPatch = strict({
  name: userFields.name.optional(),
  role: userFields.role.optional(),
  max_running_sessions: userFields.max_running_sessions.nullable().optional(),
  default_profile_id: userFields.default_profile_id.nullable().optional(),
}).describe(
  'The fields to change; `null` clears the limit (back to the server default) or the default profile.',
);

export const TokenCreate = strict({
  name: text(100)
    .optional()
    .describe('What the token is for.')
    .meta({ examples: ['laptop'] }),
}).describe('The body may be empty.');

export const MePatch = strict({
  default_profile_id: userFields.default_profile_id.nullable().optional(),
}).describe('Your settings; `null` clears your default profile.');

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

// ------------------------------------------------------------------- parse

/**
 * Validates `value` with `schema`, or throws `badRequest(message, field)` for
 * the first problem: `field` is the issue's path joined by '.', an unknown
 * key with its parent path (`budget.foo`). Unknown keys are reported first:
 * a misspelt field explains the "required" error that follows from it.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value, { error: plainWords, reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues;
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]!);
  const field = path.length ? path.join('.') : 'body';
  throw badRequest(`${path.length ? field : 'request body'} ${issue.message}`, field);
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
};

/** Messages for the issues a schema does not word itself; `parse` puts the field name in front. */
function plainWords(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined
        ? 'is required'
        : `must be ${TYPE_WORDS[iss.expected] ?? iss.expected}`;
    case 'invalid_value': {
      const values = iss.values.map(String).join(', ');
      return iss.input === undefined
        ? `is required: one of ${values}`
        : `must be one of: ${values}`;
    }
    case 'too_small':
      return iss.origin === 'string' ? 'must not be empty' : `must be at least ${iss.minimum}`;
    case 'too_big':
      return iss.origin === 'string'
        ? `must be at most ${iss.maximum} characters`
        : iss.origin === 'array'
          ? `must have at most ${iss.maximum} items`
          : `must be at most ${iss.maximum}`;
    case 'unrecognized_keys':
      return 'is not a known field';
    case 'invalid_format':
      return 'has an invalid format';
    default:
      return undefined;
  }
}
