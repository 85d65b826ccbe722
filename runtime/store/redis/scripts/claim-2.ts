import { LUA_PASSIVE, LUA_NOW_MS, LUA_IN_CSV, LUA_PENDING } from './lib.ts';

/**
 * Takes the lease with epoch + 1 when no valid lease exists and there is
 * something to run (an active status, or inbox events not yet applied).
 * KEYS: record, inbox. ARGV: node, ttl ms.
 * Returns `{'not_found'}`, `{'busy', until}`, `{'idle', status, created_at}` or
 * `{'claimed', epoch, until, now, HGETALL}`.
 */
export const CLAIM_2 = `${LUA_PASSIVE}${LUA_NOW_MS}${LUA_IN_CSV}${LUA_PENDING}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local now = now_ms()
local v = redis.call('HMGET', KEYS[1], 'lease_node', 'lease_until', 'status', 'last_event_id')
if v[1] and v[1] ~= '' and tonumber(v[2]) > now then return {'busy', v[2]} end
if in_csv(PASSIVE, v[3]) and not pending(KEYS[2], v[4]) then
  return {'idle', v[3], redis.call('HGET', KEYS[1], 'created_at')}
end
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
local untilMs = now + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'lease_node', ARGV[1], 'lease_until', untilMs)
return {'claimed', epoch, untilMs, now, redis.call('HGETALL', KEYS[1])}
`;
