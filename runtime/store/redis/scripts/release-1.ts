import { LUA_NOW_MS, LUA_HOLDS, LUA_FENCE } from './lib.ts';

/**
 * Fenced lease release without a commit.
 * KEYS: record. ARGV: node, epoch.
 * Returns `{'not_found'}`, `{'fenced'}` or `{'ok', status, now}`.
 */
export const RELEASE_1 = `${LUA_NOW_MS}${LUA_HOLDS}${LUA_FENCE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
if not holds(KEYS[1], ARGV[1], ARGV[2]) then return fence(KEYS[1]) end
redis.call('HSET', KEYS[1], 'lease_node', '', 'lease_until', 0)
return {'ok', redis.call('HGET', KEYS[1], 'status'), now_ms()}
`;
