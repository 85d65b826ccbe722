import { LUA_NOW_MS, LUA_OWNER } from './lib.ts';
import { LUA_TIMER_VALUE, LUA_TIMER_PARSE } from './timer-lib.ts';

/**
 * Delivers one due timer into the inbox exactly once: XADD and the switch to
 * `fired` happen in one script, so a retry after a crash finds it fired.
 * KEYS: record, inbox, timers. ARGV: key.
 * Returns `{'gone'}` (no session or no such timer), `{'already'}`,
 * `{'early', due}` or `{'fired', eventId, ownerNode|''}`.
 */
export const DELIVER_TIMER_3 = `${LUA_NOW_MS}${LUA_OWNER}${LUA_TIMER_VALUE}${LUA_TIMER_PARSE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end
local v = redis.call('HGET', KEYS[3], ARGV[1])
if not v then return {'gone'} end
local state, due, payload = timer_parse(v)
if not state then return {'gone'} end
if state ~= 'armed' then return {'already'} end
local now = now_ms()
if due > now then return {'early', due} end
local id = redis.call('XADD', KEYS[2], '*', 'type', 'timer', 'payload', payload, 'at', now)
redis.call('HSET', KEYS[3], ARGV[1], timer_value('fired', due, payload))
return {'fired', id, owner(KEYS[1], now)}
`;
