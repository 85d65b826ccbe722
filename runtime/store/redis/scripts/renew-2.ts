import { LUA_NOW_MS, LUA_PENDING } from './lib.ts';

/**
 * Extends one lease held by node at epoch. An expired lease nobody claimed is
 * still extended: any claim would have raised the epoch.
 * KEYS: record, inbox. ARGV: node, epoch, ttl ms.
 * Returns `{ok 0|1, until, pending 0|1}`.
 */
export const RENEW_2 = `${LUA_NOW_MS}${LUA_PENDING}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0} end
local v = redis.call('HMGET', KEYS[1], 'epoch', 'lease_node', 'lease_until', 'last_event_id')
if v[1] ~= ARGV[2] or v[2] ~= ARGV[1] then return {0, tonumber(v[3]) or 0, 0} end
local untilMs = now_ms() + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'lease_until', untilMs)
return {1, untilMs, pending(KEYS[2], v[4]) and 1 or 0}
`;
