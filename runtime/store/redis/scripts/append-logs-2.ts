import { LUA_HOLDS, LUA_FENCE, LUA_PUSH } from './lib.ts';

/**
 * Fenced log append outside a commit.
 * KEYS: record, log. ARGV: node, epoch, lines...
 * Returns `{'not_found'}`, `{'fenced'}` or `{'ok'}`.
 */
export const APPEND_LOGS_2 = `${LUA_HOLDS}${LUA_FENCE}${LUA_PUSH}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if not holds(KEYS[1], ARGV[1], ARGV[2]) then return fence(KEYS[1]) end
push(KEYS[2], ARGV, 3)
return {'ok'}
`;
