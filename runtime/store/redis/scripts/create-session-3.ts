import { LUA_NOW_MS, LUA_KEY_ANSWER, LUA_REMEMBER_KEY } from './lib.ts';

/**
 * Creates a session record unless it exists (idempotent by id), and records
 * the request key that asked for it in the same step: a retry finds the key
 * if and only if the record was written.
 * A session whose removal is under way (its `gone` note is there: the first
 * half ran, the second not yet) is not created again under its id.
 * KEYS: record, idem, gone. ARGV: request key field ('' for none), its fingerprint,
 * its TTL ms, then field/value pairs of the new record.
 * Returns `{'removed'}`, `{'reused'}` (the key names another request) or `{created 0|1, now, HGETALL}`.
 */
export const CREATE_SESSION_3 = `${LUA_NOW_MS}${LUA_KEY_ANSWER}${LUA_REMEMBER_KEY}
if redis.call('EXISTS', KEYS[3]) == 1 then return {'removed'} end
local now = now_ms()
if ARGV[1] ~= '' and key_answer(KEYS[2], ARGV[1], ARGV[2], now) == false then return {'reused'} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, now, redis.call('HGETALL', KEYS[1])} end
redis.call('HSET', KEYS[1], 'created_at', now, 'updated_at', now, unpack(ARGV, 4))
if ARGV[1] ~= '' then remember_key(KEYS[2], ARGV[1], ARGV[2], '', now, tonumber(ARGV[3])) end
return {1, now, redis.call('HGETALL', KEYS[1])}
`;
