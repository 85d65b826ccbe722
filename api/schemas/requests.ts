/** The request bodies, queries and headers of the API: what the routes validate with `parse()`. */
import { z } from 'zod';
import { SESSION_STATUSES } from '../../actors/status.ts';
import { int, profileRef, strict, text, ULID } from './fields.ts';

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

export const RetentionQuery = strict({
  limit: int(1, 500, true).default(100).describe('Most sessions to show.'),
}).describe('How many of the sessions the retention sweep removes next to show.');

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
