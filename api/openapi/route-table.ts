/**
 * Every route of the app as the docs show it: what it takes, what it
 * answers, who may call it. Adding a route to the app means adding a row
 * here; `test/support/openapi-coverage.ts` fails when the two differ.
 */
import type { z } from 'zod';
import * as S from '../schemas/index.ts';

export type Method = 'get' | 'post' | 'patch' | 'delete';
export type Tag = 'Service' | 'Sessions' | 'AI profiles' | 'Users' | 'Cluster' | 'UI';
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

/** A success answer: JSON described by `schema`, or another media type. */
export interface Answer {
  description: string;
  schema?: z.ZodType;
  /** Media type when not JSON; several when the route serves files of several types. */
  type?: string | readonly string[];
}

/** One operation of the API, as the docs show it. */
export interface ApiRoute {
  method: Method;
  /** OpenAPI style: `{id}`, not `:id`. */
  path: string;
  tag: Tag;
  summary: string;
  description?: string;
  /** False: public, no token needed (and none checked). */
  auth: boolean;
  /** Only admins may call it (403 for others). */
  admin?: boolean;
  query?: z.ZodObject;
  /** Descriptions of path parameters other than an `id`. */
  params?: Record<string, string>;
  headers?: readonly ('Idempotency-Key' | 'Last-Event-ID')[];
  body?: z.ZodType;
  /** An empty body is allowed (as `{}`). */
  bodyOptional?: boolean;
  ok: Partial<Record<200 | 201 | 202 | 204, Answer>>;
  /** Errors particular to this route; the common ones follow from the fields above. */
  errors?: Partial<Record<ErrorStatus, string>>;
}

const json = (schema: z.ZodType, description: string): Answer => ({ schema, description });
const created = (schema: z.ZodType, what: string): Answer => ({
  schema,
  description: `${what} created; \`Location\` names it.`,
});
const deleted: Answer = { description: 'Deleted.' };
export const notAdmin = 'The caller is not an admin.';
const eventConflict = (what: string) => `The session's status does not accept ${what} now.`;

/** Every route of the app. */
export const API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/health',
    tag: 'Service',
    auth: false,
    summary: 'Liveness',
    description: 'The process answers; says nothing about the store.',
    ok: { 200: json(S.Health, 'Alive.') },
  },
  {
    method: 'get',
    path: '/ready',
    tag: 'Service',
    auth: false,
    summary: 'Readiness',
    description: 'The session store answers: route traffic here.',
    ok: { 200: json(S.Ready, 'Ready.') },
    errors: { 503: 'The store is unavailable.' },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'Service',
    auth: false,
    summary: 'This document',
    description: 'The OpenAPI 3.1 document, built from the schemas the routes validate with.',
    ok: { 200: { description: 'The document.', type: 'application/json' } },
  },
  {
    method: 'get',
    path: '/docs',
    tag: 'Service',
    auth: false,
    summary: 'API reference page',
    description: 'This document as a page; it loads nothing from the network.',
    ok: { 200: { description: 'An HTML page.', type: 'text/html' } },
  },
  {
    method: 'get',
    path: '/',
    tag: 'UI',
    auth: false,
    summary: 'Web UI',
    description:
      'The web interface: one page that loads its modules and styles from `/ui/` and reads everything it shows from the `/agent` API (beyond loopback it asks for an API token). Nothing is loaded from other origins.',
    ok: {
      200: {
        description: 'An HTML page, with a strict Content-Security-Policy.',
        type: 'text/html',
      },
    },
  },
  {
    method: 'get',
    path: '/ui/{path}',
    tag: 'UI',
    auth: false,
    summary: 'Web UI file',
    params: { path: 'The file under `/ui/`, e.g. `app.js` or `pages/sessions.js`.' },
    description:
      'A JavaScript module, the stylesheet or the icon of the web UI. Answers carry an `ETag` and `Cache-Control: no-cache`: a request with a matching `If-None-Match` is a 304.',
    ok: {
      200: { description: 'The file.', type: ['text/javascript', 'text/css', 'image/svg+xml'] },
    },
    errors: { 404: 'No such file.' },
  },

  {
    method: 'post',
    path: '/agent/sessions',
    tag: 'Sessions',
    auth: true,
    summary: 'Start a session',
    body: S.SessionCreate,
    headers: ['Idempotency-Key'],
    description:
      "Queues a session; a node picks it up. In `review` mode it pauses after planning (WAITING_FOR_USER) until approved. The repository URL must also pass the server's policy (no options, no `ext::`, local paths only when allowed).",
    ok: {
      201: {
        schema: S.SessionCreated,
        description:
          'Session created; `Location` names it. A retry with the same Idempotency-Key gets this answer again, with `Idempotent-Replayed: true`.',
      },
    },
  },
  {
    method: 'get',
    path: '/agent/sessions',
    tag: 'Sessions',
    auth: true,
    summary: 'List sessions',
    description:
      'Newest first, a page at a time: pass `next_cursor` as `cursor`. A user lists its own sessions; admins list all.',
    query: S.SessionListQuery,
    ok: { 200: json(S.SessionList, 'A page of sessions.') },
  },
  {
    method: 'get',
    path: '/agent/sessions/{id}',
    tag: 'Sessions',
    auth: true,
    summary: 'Session status, logs and result',
    description: "Another user's session is a 404, as if it did not exist (admins see all).",
    ok: { 200: json(S.SessionDetail, 'The session.') },
  },
  {
    method: 'delete',
    path: '/agent/sessions/{id}',
    tag: 'Sessions',
    auth: true,
    summary: 'Delete an ended session',
    description:
      "Removes a COMPLETED, FAILED or CANCELLED session with everything it owns (logs, history, inbox, transcripts, usage, result, request keys), as the retention sweep (`SESSION_RETENTION_DAYS`) does once it is old enough. The owner or an admin; another user's session is a 404, as if it did not exist.",
    ok: { 204: { description: 'Removed: it is gone for good.' } },
    errors: {
      409: 'The session may still run: it has not ended (cancel it first), or an input not yet applied will start it again. `error.status` names its status.',
    },
  },
  {
    method: 'post',
    path: '/agent/sessions/{id}/approve',
    tag: 'Sessions',
    auth: true,
    summary: 'Approve the plan',
    body: S.ApproveBody,
    bodyOptional: true,
    headers: ['Idempotency-Key'],
    description: 'A session in WAITING_FOR_USER (review mode) goes on to code.',
    ok: { 202: json(S.EventAccepted, 'Added to the session inbox.') },
    errors: { 409: eventConflict('approval (it needs WAITING_FOR_USER)') },
  },
  {
    method: 'post',
    path: '/agent/sessions/{id}/input',
    tag: 'Sessions',
    auth: true,
    summary: 'Send instructions or feedback',
    body: S.InputBody,
    headers: ['Idempotency-Key'],
    description:
      "Waiting or finished: the agent updates its goal and replans. Coding: the input waits until the current iteration ends. A `budget` raises the session's limits.",
    ok: { 202: json(S.EventAccepted, 'Added to the session inbox.') },
    errors: { 409: eventConflict('input (e.g. CANCELLED)') },
  },
  {
    method: 'post',
    path: '/agent/sessions/{id}/cancel',
    tag: 'Sessions',
    auth: true,
    summary: 'Cancel a session',
    body: S.CancelBody,
    bodyOptional: true,
    headers: ['Idempotency-Key'],
    ok: { 202: json(S.EventAccepted, 'Added to the session inbox.') },
    errors: { 409: eventConflict('cancelling (it has finished)') },
  },
  {
    method: 'get',
    path: '/agent/sessions/{id}/history',
    tag: 'Sessions',
    auth: true,
    summary: 'State transitions',
    description: 'Every transition of the session machine, oldest first (the newest 500).',
    ok: { 200: json(S.History, 'The history.') },
  },
  {
    method: 'get',
    path: '/agent/sessions/{id}/chart',
    tag: 'Sessions',
    auth: true,
    summary: 'State chart',
    description: 'The session machine as data and the states this session is in, for a visualizer.',
    ok: { 200: json(S.Chart, 'The chart.') },
  },
  {
    method: 'get',
    path: '/agent/retention',
    tag: 'Sessions',
    auth: true,
    admin: true,
    summary: 'What retention will remove',
    description:
      'The ended sessions the retention sweep removes next: last updated more than `SESSION_RETENTION_DAYS` ago, oldest first. Every node sweeps once at start and then every hour.',
    query: S.RetentionQuery,
    ok: { 200: json(S.Retention, 'The retention and the sessions past it.') },
    errors: { 403: notAdmin },
  },
  {
    method: 'get',
    path: '/agent/chart',
    tag: 'Sessions',
    auth: true,
    summary: 'State chart with its layout',
    description:
      "The session machine (as in a session's chart) laid out for drawing: every state and transition with absolute coordinates. The same for every session; it has an `ETag`, so send `If-None-Match` to get a 304 when it has not changed.",
    ok: { 200: json(S.MachineChart, 'The machine and its layout.') },
  },
  {
    method: 'get',
    path: '/agent/sessions/{id}/events',
    tag: 'Sessions',
    auth: true,
    summary: 'Live events (server-sent events)',
    headers: ['Last-Event-ID'],
    query: S.EventsQuery,
    description:
      'A `text/event-stream` of the session: what happened so far, then live. Event types, each with JSON data: ' +
      '`transition` (a state change, as in history), `log` (`{index, line}`), `status` (`{status, phase, reason, owner, updated_at}` when they change), ' +
      '`gap` (`{transitions_lost, first_available}`: old transitions were trimmed), `end` (`{status}`: the session ended; input may start it again, so the stream stays open). ' +
      "Each event's `id` is a cursor `<logs>.<transitions>`; reconnect with `Last-Event-ID` (as `EventSource` does) to miss nothing and get nothing twice. Idle streams get `: ping` comments.",
    ok: { 200: { description: 'The event stream; it stays open.', type: 'text/event-stream' } },
    errors: { 400: "The resume cursor is malformed, or past the end of the session's events." },
  },

  {
    method: 'post',
    path: '/agent/ai-profiles',
    tag: 'AI profiles',
    auth: true,
    summary: 'Create an AI profile',
    body: S.ProfileCreate,
    description:
      'Which provider and model sessions use; the caller owns it. `is_default` and `user_ids` are for admins.',
    ok: { 201: created(S.ProfileView, 'Profile') },
    errors: { 403: 'A non-admin set `is_default` or `user_ids`.' },
  },
  {
    method: 'get',
    path: '/agent/ai-profiles',
    tag: 'AI profiles',
    auth: true,
    summary: 'List AI profiles',
    description: 'Yours, those assigned to you and the default (admins: all).',
    ok: { 200: json(S.ProfileList, 'The profiles.') },
  },
  {
    method: 'get',
    path: '/agent/ai-profiles/{id}',
    tag: 'AI profiles',
    auth: true,
    summary: 'Read an AI profile',
    ok: { 200: json(S.ProfileView, 'The profile.') },
  },
  {
    method: 'patch',
    path: '/agent/ai-profiles/{id}',
    tag: 'AI profiles',
    auth: true,
    summary: 'Change an AI profile',
    body: S.ProfilePatch,
    ok: { 200: json(S.ProfileView, 'The profile as changed.') },
    errors: {
      403: 'The profile is shared with the caller, not owned; or a non-admin set `is_default` or `user_ids`.',
    },
  },
  {
    method: 'delete',
    path: '/agent/ai-profiles/{id}',
    tag: 'AI profiles',
    auth: true,
    summary: 'Delete an AI profile',
    ok: { 204: deleted },
    errors: { 403: 'The profile is shared with the caller, not owned.' },
  },
  {
    method: 'post',
    path: '/agent/ai-profiles/{id}/test',
    tag: 'AI profiles',
    auth: true,
    summary: 'Test an AI profile',
    description:
      "A tiny real call with the profile: `ok`, or the provider's error (worded without the key).",
    ok: {
      200: json(
        S.ProfileTestResult,
        'The outcome (a refused key is `ok: false`, not an HTTP error).',
      ),
    },
  },

  {
    method: 'post',
    path: '/agent/users',
    tag: 'Users',
    auth: true,
    admin: true,
    summary: 'Create a user',
    body: S.UserCreate,
    ok: { 201: created(S.UserView, 'User') },
    errors: { 403: notAdmin },
  },
  {
    method: 'get',
    path: '/agent/users',
    tag: 'Users',
    auth: true,
    admin: true,
    summary: 'List users',
    ok: { 200: json(S.UserList, 'The users.') },
    errors: { 403: notAdmin },
  },
  {
    method: 'get',
    path: '/agent/users/{id}',
    tag: 'Users',
    auth: true,
    summary: 'Read a user',
    description: 'Admins read anyone; a user reads itself (another id is a 404).',
    ok: { 200: json(S.UserView, 'The user.') },
  },
  {
    method: 'patch',
    path: '/agent/users/{id}',
    tag: 'Users',
    auth: true,
    summary: 'Change a user',
    body: S.UserPatch,
    description:
      'A user may change its own name and default profile; role and limit are for admins.',
    ok: { 200: json(S.UserView, 'The user as changed.') },
    errors: {
      403: 'A non-admin changed `role` or `max_running_sessions`.',
      409: 'The built-in admin stays an admin.',
    },
  },
  {
    method: 'delete',
    path: '/agent/users/{id}',
    tag: 'Users',
    auth: true,
    admin: true,
    summary: 'Delete a user',
    ok: { 204: deleted },
    errors: { 403: notAdmin, 409: 'The built-in admin cannot be deleted.' },
  },
  {
    method: 'post',
    path: '/agent/users/{id}/tokens',
    tag: 'Users',
    auth: true,
    summary: 'Create an API token',
    body: S.TokenCreate,
    bodyOptional: true,
    description:
      'The token is in this answer only; the server keeps its hash. Admins create tokens for anyone, a user for itself.',
    ok: { 201: created(S.TokenCreated, 'Token') },
  },
  {
    method: 'get',
    path: '/agent/users/{id}/tokens',
    tag: 'Users',
    auth: true,
    summary: "List a user's tokens",
    description: 'Without the secrets.',
    ok: { 200: json(S.TokenList, 'The tokens.') },
  },
  {
    method: 'delete',
    path: '/agent/users/{id}/tokens/{token_id}',
    tag: 'Users',
    auth: true,
    summary: 'Revoke a token',
    ok: { 204: deleted },
  },
  {
    method: 'get',
    path: '/agent/me',
    tag: 'Users',
    auth: true,
    summary: 'Who am I',
    description: 'The calling user and how the request authenticated.',
    ok: { 200: json(S.Me, 'The caller.') },
  },
  {
    method: 'patch',
    path: '/agent/me',
    tag: 'Users',
    auth: true,
    summary: 'Change my settings',
    body: S.MePatch,
    ok: { 200: json(S.Me, 'The caller as changed.') },
  },

  {
    method: 'get',
    path: '/metrics',
    tag: 'Cluster',
    auth: true,
    admin: true,
    summary: 'Metrics (Prometheus)',
    description:
      "This node's metrics and the cluster's session counts in the Prometheus text format 0.0.4: sessions by status, leases, commits, event latency, model calls and tokens, sandbox commands, HTTP requests by route pattern. Prometheus scrapes it with `authorization: Bearer <token of an admin user>` (on a loopback-only server, without one).",
    ok: { 200: { description: 'The metrics.', type: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/agent/nodes',
    tag: 'Cluster',
    auth: true,
    admin: true,
    summary: 'Nodes',
    description: 'Nodes with a recent heartbeat and what each runs now.',
    ok: { 200: json(S.NodeList, 'The nodes.') },
    errors: { 403: notAdmin },
  },
];
