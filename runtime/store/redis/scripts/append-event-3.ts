import { LUA_NOW_MS, LUA_IN_CSV, LUA_OWNER, LUA_KEY_ANSWER, LUA_REMEMBER_KEY } from './lib.ts';

/**
 * Appends an inbox event.
 * KEYS: record, inbox, idem. ARGV: type, payload JSON, request key field (''
 * for none), allowed statuses (`*` for any, else `,A,B,`), key TTL ms, wake
 * channel prefix (the owner's node id is appended), session id, the key's
 * request fingerprint. The key is recorded with the event, in this one step:
 * a retry finds it if and only if the event was appended.
 * A valid owner is woken from here, in the same round trip: PUBLISH takes no
 * key, so this also holds on Redis Cluster (classic pub/sub reaches every
 * shard). A new event's wake message carries the event and the id before it
 * (`codec.ts` decodeWake); a repeat's carries the session id only.
 * Returns `{'not_found'}`, `{'conflict', status}`, `{'reused'}` (the key names
 * another request), or
 * `{'appended'|'duplicate', eventId, ownerNode|''}`.
 */
export const APPEND_EVENT_3 = `${LUA_NOW_MS}${LUA_IN_CSV}${LUA_OWNER}${LUA_KEY_ANSWER}${LUA_REMEMBER_KEY}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local now = now_ms()
local function wake(node, message)
  if node ~= '' then redis.call('PUBLISH', ARGV[6] .. node, message) end
  return node
end
-- A retry with a known key returns the first id even if the status moved on.
if ARGV[3] ~= '' then
  local first = key_answer(KEYS[3], ARGV[3], ARGV[8], now)
  if first == false or first == '' then return {'reused'} end
  if first then return {'duplicate', first, wake(owner(KEYS[1], now), ARGV[7])} end
end
local status = redis.call('HGET', KEYS[1], 'status')
if ARGV[4] ~= '*' and not in_csv(ARGV[4], status) then return {'conflict', status} end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local prev = last[1] and last[1][1] or '0-0'
local id = redis.call('XADD', KEYS[2], '*', 'type', ARGV[1], 'payload', ARGV[2], 'at', now)
if ARGV[3] ~= '' then remember_key(KEYS[3], ARGV[3], ARGV[8], id, now, tonumber(ARGV[5])) end
local hint = table.concat({ARGV[7], id, prev, ARGV[1], now, ARGV[2]}, '\\n')
return {'appended', id, wake(owner(KEYS[1], now), hint)}
`;
