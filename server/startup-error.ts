import { ConfigError, isAppError } from '../kernel/errors.ts';

/**
 * What a node that cannot start prints, and its exit code: a configuration
 * error (a variable and its fix, found while reading the environment or while
 * starting, e.g. SANDBOX_ISOLATION=namespaces on a machine without them) exits
 * 2; a dependency that is not there (Redis) exits 1 with its message; anything
 * else is a bug and keeps its stack.
 */
export function startupFailure(err: unknown): { line: string; code: number } {
  if (err instanceof ConfigError)
    return { line: `swe-agent: configuration error: ${err.message}`, code: 2 };
  if (isAppError(err)) return { line: `swe-agent: cannot start: ${err.message}`, code: 1 };
  return {
    line: `swe-agent: cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    code: 1,
  };
}
