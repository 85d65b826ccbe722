/**
 * One error hierarchy for the whole service. Each error carries a stable
 * `code`, the HTTP status it maps to, and whether its message is safe to show
 * (`expose`). The HTTP edge (`api/errors.ts`) masks everything else.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'not_found'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'store_unavailable'
  | 'idempotency_key_reused'
  | 'config_invalid'
  | 'internal'
  // LLM providers (agent/llm): shown on the session as its reason.
  | 'llm_auth'
  | 'llm_model_not_found'
  | 'llm_refused'
  | 'llm_rate_limited'
  | 'llm_timeout'
  | 'llm_bad_request'
  | 'llm_unavailable'
  | 'llm_invalid_response'
  // Sandboxes (sandbox/).
  | 'sandbox_path'
  | 'sandbox_repo_url'
  | 'sandbox_failed'
  // The agent (agent/).
  | 'budget_exhausted'
  | 'agent_stuck';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  /** The request field the error is about, when there is one. */
  readonly field: string | undefined;
  /** More the client can act on, shown beside `code` and `message` (e.g. a session's `status` on a 409). */
  readonly details: Readonly<Record<string, string>> | undefined;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    opts: {
      expose?: boolean;
      field?: string;
      details?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.expose = opts.expose ?? status < 500;
    this.field = opts.field;
    this.details = opts.details;
  }
}

export const badRequest = (message: string, field?: string) =>
  new AppError('bad_request', 400, message, field === undefined ? {} : { field });
export const notFound = (what: string, id: string) =>
  new AppError('not_found', 404, `${what} ${id} not found`);
export const conflict = (message: string, details?: Record<string, string>) =>
  new AppError('conflict', 409, message, details ? { details } : {});
export const unauthorized = (message: string) => new AppError('unauthorized', 401, message);
/** The caller can see the thing but may not do this to it (a thing it cannot see is a 404). */
export const forbidden = (message: string, field?: string) =>
  new AppError('forbidden', 403, message, field === undefined ? {} : { field });
export const rateLimited = (message: string) => new AppError('rate_limited', 429, message);
/** An `Idempotency-Key` sent again with another request (route or body): the store refuses it while it remembers the key. */
export const idempotencyKeyReused = () =>
  new AppError(
    'idempotency_key_reused',
    422,
    'this Idempotency-Key was already used for another request (another route or body); send a new key with a new request',
    { field: 'Idempotency-Key' },
  );

/** Matches by brand, not `instanceof`, so errors crossing module copies still match. */
export function isAppError(e: unknown): e is AppError {
  return e instanceof Error && e.name === 'AppError' && typeof (e as AppError).status === 'number';
}

/** A startup configuration error: names the variable and the fix. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string, fix: string) {
    super(`${variable}: ${problem}. ${fix}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}
