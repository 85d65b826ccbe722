import { LUA_HOLDS, LUA_FENCE, LUA_PUSH } from './lib.ts';

/**
 * Fenced transcript append: the role's capped list, and the role in the
 * session's set of roles in the same step, so a removal finds every
 * transcript key from the session's own keys.
 * KEYS: record, the role's list, roles set. ARGV: node, epoch, role, cap, messages (JSON)...
 * Returns `{'not_found'}`, `{'fenced'}` or `{'ok'}`.
 */
export const APPEND_TRANSCRIPT_3 = `${LUA_HOLDS}${LUA_FENCE}${LUA_PUSH}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if not holds(KEYS[1], ARGV[1], ARGV[2]) then return fence(KEYS[1]) end
local cap = tonumber(ARGV[4])
redis.call('SADD', KEYS[3], ARGV[3])
-- Messages older than the newest cap would be trimmed at once: skip them.
push(KEYS[2], ARGV, math.max(5, #ARGV - cap + 1))
redis.call('LTRIM', KEYS[2], -cap, -1)
return {'ok'}
`;
