/**
 * A small structured logger: one JSON line per event, with the node id (and,
 * for a line about a session, `session`). Secrets are redacted here, at the
 * logger, so no call site can leak them by accident: fields whose names look
 * secret, and, inside any string (the message, field values, nested ones),
 * the configured secrets and values shaped like keys and tokens.
 */
import { createRedactor, REDACTED } from './redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /(key|token|secret|password|authorization)/i;
const MAX_DEPTH = 5;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  base?: Record<string, unknown>;
  write?: (line: string) => void;
  /** Values never to print wherever they appear (SECRET_KEY, ADMIN_TOKEN, configured API keys). */
  secrets?: readonly (string | undefined)[];
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return build(opts, createRedactor(opts.secrets));
}

function build(opts: LoggerOptions, redact: (text: string) => string): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const base = opts.base ?? {};
  const write = opts.write ?? ((line: string) => console.log(line));
  const clean = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redact(v);
    if (v === null || typeof v !== 'object' || depth >= MAX_DEPTH) return v;
    if (Array.isArray(v)) return v.map((x) => clean(x, depth + 1));
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k] = SECRET_FIELD.test(k) ? REDACTED : clean(x, depth + 1);
    return out;
  };
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return;
    const out: Record<string, unknown> = { t: new Date().toISOString(), level, msg: redact(msg) };
    for (const [k, v] of Object.entries({ ...base, ...fields }))
      out[k] = SECRET_FIELD.test(k) ? REDACTED : clean(v, 0);
    write(JSON.stringify(out));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => build({ ...opts, base: { ...base, ...fields } }, redact),
  };
}
