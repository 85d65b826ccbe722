import { LUA_HOLDS, LUA_FENCE } from './lib.ts';

/**
 * One fenced write to one per-session key: the lease check and the write in
 * the same script, as in `commit`.
 * KEYS: record, target. ARGV: node, epoch, op, args...
 * Ops:
 * - `hincrby` field, increment, field, increment...;
 * - `hset` field, value, field, value...
 * Returns `{'not_found'}`, `{'fenced'}` or `{'ok'}`.
 */
export const FENCED_WRITE_2 = `${LUA_HOLDS}${LUA_FENCE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if not holds(KEYS[1], ARGV[1], ARGV[2]) then return fence(KEYS[1]) end
local op = ARGV[3]
if op == 'hincrby' then
  for i = 4, #ARGV - 1, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
elseif op == 'hset' then
  local i = 4
  while i + 1 <= #ARGV do
    local j = math.min(i + 999, #ARGV)
    if (j - i) % 2 == 0 then j = j - 1 end
    redis.call('HSET', KEYS[2], unpack(ARGV, i, j))
    i = j + 1
  end
else
  return redis.error_reply('fenced-write: unknown op ' .. tostring(op))
end
return {'ok'}
`;
