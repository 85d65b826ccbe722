import { LUA_LIB } from './lib.ts';

/**
 * Fenced snapshot write with its history and logs, and optional release.
 * KEYS: record, inbox, log, history.
 * ARGV: node, epoch, release '1'|'0', history cap, n field pairs, the pairs,
 * n history entries, (event, from, to) per entry, then the log lines.
 * Returns `{'not_found'}`, `{'fenced'}` or
 * `{'ok', released 0|1, old status, new status, created_at}`.
 */
export const COMMIT_4 = `${LUA_LIB}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if not holds(KEYS[1], ARGV[1], ARGV[2]) then return fence(KEYS[1]) end
local now = now_ms()
local old = redis.call('HGET', KEYS[1], 'status')
local i = 6
local fields = {'updated_at', now}
for _ = 1, tonumber(ARGV[5]) * 2 do
  fields[#fields + 1] = ARGV[i]
  i = i + 1
end
redis.call('HSET', KEYS[1], unpack(fields))
local nh = tonumber(ARGV[i])
i = i + 1
if nh > 0 then
  local entries = {}
  local epoch = tonumber(ARGV[2])
  for j = 1, nh do
    entries[j] = cjson.encode({at = now, event = ARGV[i], from = ARGV[i + 1], to = ARGV[i + 2], node = ARGV[1], epoch = epoch})
    i = i + 3
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
