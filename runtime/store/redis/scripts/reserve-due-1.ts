import { LUA_NOW_MS } from './lib.ts';

/**
 * Reserves up to max due timer members by pushing their score to now +
 * reserve, so a node dying mid-delivery only delays them.
 * KEYS: due. ARGV: max, reserve ms. Returns the members.
 */
export const RESERVE_DUE_1 = `${LUA_NOW_MS}
local now = now_ms()
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local untilMs = now + tonumber(ARGV[2])
for _, m in ipairs(members) do redis.call('ZADD', KEYS[1], untilMs, m) end
return members
`;
