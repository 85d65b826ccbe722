import { LUA_NOW_MS } from './lib.ts';

/**
 * Sets the `leases` deadline of the given ids to now + ttl. Runs in the same
 * pipeline as the renewals, so the index is rewritten every renew interval
 * and repairs itself after a lost write.
 * KEYS: leases. ARGV: ttl ms, ids...
 */
export const TOUCH_LEASES_1 = `${LUA_NOW_MS}
local untilMs = now_ms() + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], untilMs, ARGV[i]) end
return untilMs
`;
