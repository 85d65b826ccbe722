/**
 * Counts a session of a user as running ('1') or not ('0'). Not running also
 * moves every other parked session of the user onto the ready queue, at the
 * time it first waited (older first), and publishes the ready hint.
 * KEYS: running (set), parked (zset), ready. ARGV: session id, '1'|'0', ready channel.
 * Returns how many sessions were un-parked.
 */
export const SET_RUNNING_3 = `
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' then
  redis.call('SADD', KEYS[1], ARGV[1])
  return 0
end
redis.call('SREM', KEYS[1], ARGV[1])
local parked = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
if #parked == 0 then return 0 end
for i = 1, #parked, 2 do redis.call('ZADD', KEYS[3], 'NX', parked[i + 1], parked[i]) end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[3], parked[1])
return #parked / 2
`;
