import type { Context } from 'hono';
import { AppError, badRequest } from '../kernel/errors.ts';

export const MAX_BODY_BYTES = 64 * 1024;
const NOT_JSON = 'request body must be JSON (Content-Type: application/json)';
const TOO_LARGE = `request body is larger than ${MAX_BODY_BYTES} bytes`;
const NOT_OBJECT = 'request body must be a JSON object';

/**
 * Reads a request's raw body; at most `limit` + 1 bytes need to be read (more
 * means too large). A server adapter may bring a faster one (`body-node.ts`).
 */
export type BodyReader = (c: Context, limit: number) => Promise<Uint8Array>;

/** The web-standard reader: works on every runtime. */
export const webBodyReader: BodyReader = async (c) => new Uint8Array(await c.req.arrayBuffer());

/**
 * Reads a JSON object body, with a size limit and a content-type check.
 * An empty body is `{}` when `optional` (the guide's approve has no body).
 */
export async function readJsonObject(
  c: Context,
  opts: { optional?: boolean; read?: BodyReader } = {},
): Promise<Record<string, unknown>> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) throw new AppError('payload_too_large', 413, TOO_LARGE);
  const bytes = await (opts.read ?? webBodyReader)(c, MAX_BODY_BYTES);
  if (bytes.byteLength > MAX_BODY_BYTES) throw new AppError('payload_too_large', 413, TOO_LARGE);
  if (bytes.byteLength === 0) {
    if (opts.optional) return {};
    throw badRequest('request body is required', 'body');
  }
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type))
    throw new AppError('unsupported_media_type', 415, NOT_JSON);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('request body is not valid UTF-8', 'body');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw badRequest(`malformed JSON: ${(e as Error).message}`, 'body');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badRequest(NOT_OBJECT, 'body');
  return value as Record<string, unknown>;
}
