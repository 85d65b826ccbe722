/**
 * A small structured logger: one JSON line per event, with the node id.
 * Fields whose names look secret are redacted here, at the logger, so no
 * call site can leak them by accident.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /(key|token|secret|password|authorization)/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(opts: { level?: LogLevel; base?: Record<string, unknown>; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const base = opts.base ?? {};
  const write = opts.write ?? ((line: string) => console.log(line));
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return;
    const out: Record<string, unknown> = { t: new Date().toISOString(), level, msg };
    for (const [k, v] of Object.entries({ ...base, ...fields })) out[k] = SECRET_FIELD.test(k) ? '[redacted]' : v;
    write(JSON.stringify(out));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}
