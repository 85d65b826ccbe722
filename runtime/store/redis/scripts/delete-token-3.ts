import { LUA_USER_TOKEN, LUA_DROP_TOKEN } from './token-lib.ts';

/**
 * Revokes one of a user's tokens; another user's token is left alone.
 * KEYS: tokens, tokens:hash, the user's token ids. ARGV: user id, token id.
 * Returns 1 when deleted, 0 when there was no such token of that user.
 */
export const DELETE_TOKEN_3 = `${LUA_USER_TOKEN}${LUA_DROP_TOKEN}
local t = user_token(ARGV[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[2])
if not t then return 0 end
drop_token(ARGV[2], t)
return 1
`;
