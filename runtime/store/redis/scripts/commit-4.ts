import { LUA_NOW_MS, LUA_PENDING, LUA_FENCE, LUA_PUSH } from './lib.ts';

/**
 * Fenced snapshot write with its history and logs, and optional release.
 * KEYS: record, inbox, log, history.
 * ARGV: node, epoch, release '1'|'0', history cap, seq, n field pairs, the
 * pairs, n history entries, (event, from, to, payload JSON or "") per entry,
 * then the log lines.
 * Returns `{'not_found'}`, `{'fenced'}` or
 * `{'ok', released 0|1, old status ('' when a repeat), new status, created_at}`.
 * A repeat (same epoch and seq as the last commit written: a retry after a
 * lost reply) writes nothing and reports the current state.
 * History entries are numbered from the record's `hist_n` counter; a record
 * from before the counter starts it at the list's length, so the entries
 * already there keep their positions (see `decodeHistory`).
 */
export const COMMIT_4 = `${LUA_NOW_MS}${LUA_PENDING}${LUA_FENCE}${LUA_PUSH}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local tag = ARGV[2] .. ':' .. ARGV[5]
local c = redis.call('HMGET', KEYS[1], 'epoch', 'commit_tag', 'lease_node', 'status', 'created_at')
if c[1] == ARGV[2] and c[2] == tag then
  return {'ok', c[3] == '' and 1 or 0, '', c[4], c[5]}
end
-- holds(), from the fields read above
if not (c[1] == ARGV[2] and c[3] == ARGV[1]) then return fence(KEYS[1]) end
local now = now_ms()
local old = c[4]
local i = 7
local fields = {'updated_at', now, 'commit_tag', tag}
for _ = 1, tonumber(ARGV[6]) * 2 do
  fields[#fields + 1] = ARGV[i]
  i = i + 1
end
redis.call('HSET', KEYS[1], unpack(fields))
local nh = tonumber(ARGV[i])
i = i + 1
if nh > 0 then
  local entries = {}
  local epoch = tonumber(ARGV[2])
  if redis.call('HEXISTS', KEYS[1], 'hist_n') == 0 then
    redis.call('HSET', KEYS[1], 'hist_n', redis.call('LLEN', KEYS[4]))
  end
  local first = redis.call('HINCRBY', KEYS[1], 'hist_n', nh) - nh
  for j = 1, nh do
    local e = cjson.encode({n = first + j - 1, at = now, event = ARGV[i], from = ARGV[i + 1], to = ARGV[i + 2], node = ARGV[1], epoch = epoch})
    -- The payload is spliced in as the caller wrote it: a decode/encode round trip in Lua would turn [] into {}.
    if ARGV[i + 3] ~= '' then e = string.sub(e, 1, -2) .. ',"payload":' .. ARGV[i + 3] .. '}' end
    entries[j] = e
    i = i + 4
  end
  push(KEYS[4], entries, 1)
  redis.call('LTRIM', KEYS[4], -tonumber(ARGV[4]), -1)
end
push(KEYS[3], ARGV, i)
local released = 0
-- Passivation is refused while unapplied events wait: the owner must run them.
if ARGV[3] == '1' and not pending(KEYS[2], redis.call('HGET', KEYS[1], 'last_event_id')) then
  redis.call('HSET', KEYS[1], 'lease_node', '', 'lease_until', 0)
  released = 1
end
local v = redis.call('HMGET', KEYS[1], 'status', 'created_at')
return {'ok', released, old, v[1], v[2]}
`;
