import { LUA_USER_TOKEN, LUA_DROP_TOKEN } from './token-lib.ts';

/**
 * Deletes a user and all its tokens in one step, so no token outlives its user.
 * KEYS: tokens, tokens:hash, the user's token ids, users. ARGV: user id.
 * Returns 1 when the user was there, else 0.
 */
export const DELETE_USER_4 = `${LUA_USER_TOKEN}${LUA_DROP_TOKEN}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local t = user_token(id, ARGV[1])
  if t then drop_token(id, t) end
end
redis.call('DEL', KEYS[3])
return redis.call('HDEL', KEYS[4], ARGV[1])
`;
