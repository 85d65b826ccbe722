import { LUA_LIB } from './lib.ts';

/**
 * Creates a session record unless it exists (idempotent by id).
 * KEYS: record. ARGV: field/value pairs of the new record.
 * Returns `{created 0|1, now, HGETALL}`.
 */
export const CREATE_SESSION_1 = `${LUA_LIB}
local now = now_ms()
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'created_at', now, 'updated_at', now, unpack(ARGV))
  return {1, now, redis.call('HGETALL', KEYS[1])}
end
return {0, now, redis.call('HGETALL', KEYS[1])}
`;
