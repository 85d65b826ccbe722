/** Helpers for tests that use the one Redis found by `redis-global.ts`. */
import { inject } from 'vitest';

/** URL of the shared test Redis. */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** A key prefix no other test uses, so test files can share one server. */
export function uniquePrefix(): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `t${Date.now().toString(36)}${random}`;
}
