import { LUA_NOW_MS, LUA_HOLDS, LUA_FENCE } from './lib.ts';

/**
 * Fenced: a claimed session that was not admitted gives its lease up and
 * records why it waits. Refused while an unapplied `cancel` is in the inbox
 * (the owner must host the session to apply it).
 * KEYS: record, inbox. ARGV: node, epoch, reason (JSON).
 * Returns `{'not_found'}`, `{'fenced'}` or `{'ok', released 0|1, now}`.
 */
export const PARK_2 = `${LUA_NOW_MS}${LUA_HOLDS}${LUA_FENCE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if not holds(KEYS[1], ARGV[1], ARGV[2]) then return fence(KEYS[1]) end
local now = now_ms()
local last = redis.call('HGET', KEYS[1], 'last_event_id')
-- A queued session's inbox holds few entries: read them in pages.
local from = '(' .. last
repeat
  local entries = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', 100)
  for _, e in ipairs(entries) do
    local f = e[2]
    for i = 1, #f, 2 do
      if f[i] == 'type' and f[i + 1] == 'cancel' then return {'ok', 0, now} end
    end
    from = '(' .. e[1]
  end
until #entries < 100
redis.call('HSET', KEYS[1], 'reason', ARGV[3], 'updated_at', now, 'lease_node', '', 'lease_until', 0)
return {'ok', 1, now}
`;
