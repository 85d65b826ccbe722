/**
 * Lua helpers of the per-session scripts, one constant per Lua function (or
 * local): each script prepends exactly the ones it calls, so what runs is
 * what the script needs (`test/runtime/store/lua-scripts.test.ts` checks it:
 * no helper missing, none unused). Kept in .ts strings (not .lua files) so
 * the scripts load on Deno without file-system access.
 */
import { ENDED_STATUSES, PASSIVE_STATUSES } from '../../../../actors/status.ts';

/** `,A,B,` list of statuses, for plain `string.find` membership tests. */
const csv = (statuses: readonly string[]) => `,${statuses.join(',')},`;

/** The passive statuses as a Lua local, for `in_csv(PASSIVE, status)`. */
export const LUA_PASSIVE = `
local PASSIVE = '${csv(PASSIVE_STATUSES)}'
`;

/** The ended statuses as a Lua local, for `in_csv(ENDED, status)`. */
export const LUA_ENDED = `
local ENDED = '${csv(ENDED_STATUSES)}'
`;

export const LUA_NOW_MS = `
-- Store time in ms: every deadline comes from this one clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

export const LUA_IN_CSV = `
local function in_csv(csv, value)
  return string.find(csv, ',' .. value .. ',', 1, true) ~= nil
end
`;

export const LUA_PENDING = `
-- Inbox entries after the last applied one exist.
local function pending(inbox, last)
  return #redis.call('XRANGE', inbox, '(' .. last, '+', 'COUNT', 1) > 0
end
`;

export const LUA_HOLDS = `
-- The caller holds the current epoch. The check sits in the same script as
-- the write it guards, so a failover cannot split them.
local function holds(rec, node, epoch)
  local v = redis.call('HMGET', rec, 'epoch', 'lease_node')
  return v[1] == epoch and v[2] == node
end
`;

export const LUA_FENCE = `
local function fence(rec)
  redis.call('HINCRBY', rec, 'fenced', 1)
  return {'fenced'}
end
`;

export const LUA_OWNER = `
-- Node holding a lease that has not expired, or ''.
local function owner(rec, now)
  local v = redis.call('HMGET', rec, 'lease_node', 'lease_until')
  if v[1] and v[1] ~= '' and tonumber(v[2] or '0') > now then return v[1] end
  return ''
end
`;

export const LUA_KEY_ANSWER = `
-- A request key's record in a session's idem hash: 'until\\nfingerprint\\nanswer'
-- (the event id; '' for a create). The answer while the key is remembered
-- with this fingerprint; false with another; nil when none (or expired).
local function key_answer(idem, field, fingerprint, now)
  local v = redis.call('HGET', idem, field)
  if not v then return nil end
  local until_ms, seen, answer = string.match(v, '^(%d+)\\n(.-)\\n(.*)$')
  if not until_ms or tonumber(until_ms) <= now then return nil end
  if seen ~= fingerprint then return false end
  return answer
end
`;

export const LUA_REMEMBER_KEY = `
-- Records a request key with the write it protects; the hash lives as long as its longest-lived key.
local function remember_key(idem, field, fingerprint, answer, now, ttl)
  redis.call('HSET', idem, field, string.format('%d', now + ttl) .. '\\n' .. fingerprint .. '\\n' .. answer)
  if redis.call('PTTL', idem) < ttl then redis.call('PEXPIRE', idem, ttl) end
end
`;

export const LUA_PUSH = `
-- RPUSH in slices: unpack() of a huge table would overflow the Lua C stack.
local function push(key, list, from)
  local i = from
  while i <= #list do
    local j = math.min(i + 999, #list)
    redis.call('RPUSH', key, unpack(list, i, j))
    i = j + 1
  end
end
`;
