import { LUA_NOW_MS } from './lib.ts';

/**
 * Records a node heartbeat at store time. The node hash expires after
 * `keep` ms without a heartbeat, and older entries are pruned from `nodes`.
 * KEYS: nodes, node hash. ARGV: node id, keep ms, field/value pairs...
 * Returns now.
 */
export const HEARTBEAT_2 = `${LUA_NOW_MS}
local now = now_ms()
local keep = tonumber(ARGV[2])
redis.call('HSET', KEYS[2], 'heartbeat_at', now, unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - keep)
return now
`;
