import type { Context } from 'hono';
import { isAppError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';

/**
 * The one place where errors become HTTP responses. Known errors keep their
 * status and message; anything else is masked as a 500 with a correlation id,
 * and the detail goes to the log only.
 */
export function errorResponder(logger: Logger) {
  return function onError(err: unknown, c: Context): Response {
    if (isAppError(err) && err.expose) {
      const body: Record<string, unknown> = {
        ...err.details,
        code: err.code,
        message: err.message,
      };
      if (err.field !== undefined) body['field'] = err.field;
      return c.json({ error: body }, err.status as 400);
    }
    const correlationId = crypto.randomUUID();
    const status = isAppError(err) ? err.status : looksLikeStoreOutage(err) ? 503 : 500;
    const session = SESSION_PATH.exec(c.req.path)?.[1];
    logger.error('request failed', {
      correlation_id: correlationId,
      method: c.req.method,
      path: c.req.path,
      ...(session ? { session } : {}),
      err: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    const code = status === 503 ? 'store_unavailable' : 'internal';
    const message =
      status === 503 ? 'the session store is unavailable; retry shortly' : 'internal error';
    return c.json({ error: { code, message, correlation_id: correlationId } }, status as 500);
  };
}

/** A request about one session: its log lines carry `session`, like the runtime's. */
const SESSION_PATH = /^\/agent\/sessions\/([^/]+)/;

/**
 * ioredis failures: the store is down or cannot serve now, not the request
 * wrong. The client fails fast while disconnected (`runtime/store/redis`):
 * `Stream isn't writeable…` for a command issued without a connection,
 * `…maxRetriesPerRequest…` for one in flight when it dropped; `Command timed
 * out` when Redis stops answering with the connection open; the rest are
 * socket errors and Redis refusing while it loads, fails over or is busy.
 */
const STORE_OUTAGE =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|Connection is closed|MaxRetriesPerRequest|Stream isn't writeable|Command timed out/i;
const STORE_BUSY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|MISCONF|NOREPLICAS)\b/;

function looksLikeStoreOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return STORE_OUTAGE.test(err.message) || STORE_BUSY.test(err.message);
}
