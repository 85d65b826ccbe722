import { LUA_NOW_MS, LUA_HOLDS, LUA_FENCE } from './lib.ts';
import { LUA_TIMER_VALUE, LUA_TIMER_PARSE } from './timer-lib.ts';

/**
 * Fenced: arms a timer unless one with this key exists (armed or fired).
 * KEYS: record, timers. ARGV: node, epoch, key, payload JSON, delay ms.
 * Returns `{'not_found'}`, `{'fenced'}` or `{'ok', created 0|1, state, due}`:
 * the adapter indexes `due` whenever the timer is armed, so a lost index
 * entry is restored by scheduling again.
 */
export const SCHEDULE_TIMER_2 = `${LUA_NOW_MS}${LUA_HOLDS}${LUA_FENCE}${LUA_TIMER_VALUE}${LUA_TIMER_PARSE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if not holds(KEYS[1], ARGV[1], ARGV[2]) then return fence(KEYS[1]) end
local existing = redis.call('HGET', KEYS[2], ARGV[3])
if existing then
  local state, due = timer_parse(existing)
  return {'ok', 0, state or 'fired', due or 0}
end
local due = now_ms() + math.max(0, tonumber(ARGV[5]))
redis.call('HSET', KEYS[2], ARGV[3], timer_value('armed', due, ARGV[4]))
return {'ok', 1, 'armed', due}
`;
