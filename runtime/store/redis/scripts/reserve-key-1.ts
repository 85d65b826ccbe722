/**
 * Reserves a request key (`Idempotency-Key`) of a user for one request, or
 * answers the reservation made first. It lives in `{g}`, apart from the
 * session the write goes to, so it only says which request owns the key and
 * for which session; whether the write happened is recorded with the write
 * (`key_answer` in the session's `idem` hash).
 * KEYS: the key's reservation. ARGV: `fingerprint\nsessionId`, TTL ms.
 * Returns the earlier reservation, or nil when this call made it.
 */
export const RESERVE_KEY_1 = `
local first = redis.call('GET', KEYS[1])
if first then return first end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;
