import { LUA_ENDED, LUA_NOW_MS, LUA_IN_CSV, LUA_PENDING } from './lib.ts';

/**
 * The session's half of a removal: every key of its `{id}` slot, unlinked in
 * one step with the checks that allow it, so no append, commit or claim can
 * come between them (each of those finds no record afterwards). What the
 * `{g}` half needs (the user, the request key fields, the timer keys) is
 * left in `gone`, which the adapter deletes once that half is done: a
 * removal that crashed in between is finished by the next try.
 * KEYS (variable count): record, inbox, log, history, idem, timers, usage,
 * artifacts, transcript roles set, gone, then each transcript list the
 * caller found in the roles set (and the agent's earlier roles).
 * Returns `{'active', status}` (not ended, a valid lease, or an event not
 * yet applied), `{'retry'}` (a role was added since the caller read the
 * set), `{'not_found', gone or ''}` or `{'removed', gone}`; `gone` is JSON
 * `{"user", "fields", "timers"}` (empty lists may come as `{}`).
 */
export const REMOVE_SESSION_N = `${LUA_ENDED}${LUA_NOW_MS}${LUA_IN_CSV}${LUA_PENDING}
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'not_found', redis.call('GET', KEYS[10]) or ''}
end
local v = redis.call('HMGET', KEYS[1], 'status', 'lease_node', 'lease_until', 'last_event_id', 'user_id')
local leased = v[2] and v[2] ~= '' and tonumber(v[3] or '0') > now_ms()
if not in_csv(ENDED, v[1]) or leased or pending(KEYS[2], v[4] or '0-0') then
  return {'active', v[1]}
end
local listed = {}
for i = 11, #KEYS do listed[KEYS[i]] = true end
for _, role in ipairs(redis.call('SMEMBERS', KEYS[9])) do
  if not listed[KEYS[9] .. ':' .. role] then return {'retry'} end
end
local gone = cjson.encode({
  user = v[5] or '',
  fields = redis.call('HKEYS', KEYS[5]),
  timers = redis.call('HKEYS', KEYS[6]),
})
for i = 1, #KEYS do
  if i ~= 10 then redis.call('UNLINK', KEYS[i]) end
end
redis.call('SET', KEYS[10], gone)
return {'removed', gone}
`;
