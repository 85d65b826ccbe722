import { LUA_USER_TOKEN, LUA_DROP_TOKEN } from './token-lib.ts';

/**
 * Stores a token, replacing one with the same id (whose old hash stops
 * working). With `only if none`, the check and the write are one script:
 * of several nodes creating a user's first token at once, exactly one wins.
 * KEYS: tokens, tokens:hash, the user's token ids.
 * ARGV: id, user id, hash, JSON, '1' for only if the user has none.
 * Returns 1 when stored, 0 when refused.
 */
export const PUT_TOKEN_3 = `${LUA_USER_TOKEN}${LUA_DROP_TOKEN}
if ARGV[5] == '1' then
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    if user_token(id, ARGV[2]) then return 0 end
  end
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then drop_token(ARGV[1], cjson.decode(old)) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
`;
