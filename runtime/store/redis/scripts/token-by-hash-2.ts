/**
 * Looks a token up by its hash in one round trip (it runs on every
 * authenticated request). KEYS: tokens, tokens:hash. ARGV: hash.
 * Returns the token's JSON, or nil.
 */
export const TOKEN_BY_HASH_2 = `
local id = redis.call('HGET', KEYS[2], ARGV[1])
if not id then return false end
return redis.call('HGET', KEYS[1], id)
`;
