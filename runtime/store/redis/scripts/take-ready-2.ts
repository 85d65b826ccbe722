import { LUA_NOW_MS } from './lib.ts';

/**
 * Reserves up to max session ids: due entries of `ready` first (removed), then
 * entries of `leases` whose deadline passed. Every returned id gets a
 * `leases` score of now + ttl, so it is not handed out again before then.
 * KEYS: ready, leases. ARGV: max, ttl ms. Returns the ids.
 */
export const TAKE_READY_2 = `${LUA_NOW_MS}
local max = tonumber(ARGV[1])
local out, seen = {}, {}
if max <= 0 then return out end
local now = now_ms()
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max)) do
  redis.call('ZREM', KEYS[1], id)
  out[#out + 1] = id
  seen[id] = true
end
if #out < max then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, max)) do
    if #out < max and not seen[id] then out[#out + 1] = id end
  end
end
local untilMs = now + tonumber(ARGV[2])
for _, id in ipairs(out) do redis.call('ZADD', KEYS[2], untilMs, id) end
return out
`;
