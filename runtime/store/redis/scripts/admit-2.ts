import { LUA_NOW_MS } from './lib.ts';

/**
 * Admission of a session under its user's running limit.
 * KEYS: running (set), parked (zset). ARGV: session id, limit.
 * Admitted (counted, no longer parked) when already counted or fewer than
 * `limit` are; otherwise parked (keeping the time it first waited).
 * Returns `{1}` or `{0, counted ids}`.
 */
export const ADMIT_2 = `${LUA_NOW_MS}
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 or redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {1}
end
redis.call('ZADD', KEYS[2], 'NX', now_ms(), ARGV[1])
return {0, redis.call('SMEMBERS', KEYS[1])}
`;
