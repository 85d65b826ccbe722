/**
 * The `{g}` half of a removal: the session's entries in every global index,
 * once its own keys are gone (`remove-session-n.ts`). A retry runs it again,
 * so each step is a no-op when already done.
 * KEYS (variable count): due; then the sorted sets holding the id (ARGV[2] of
 * them: created, status:<S>, ready, leases, the user's created and parked);
 * then the sets holding it (ARGV[3]: the user's running); then the
 * reservations of the session's request keys, each deleted only while it
 * still names this session.
 * ARGV: session id, sorted set count, set count, then its `due` members.
 * Returns how many entries it removed.
 */
export const UNINDEX_SESSION_N = `
local id = ARGV[1]
local zsets = tonumber(ARGV[2])
local sets = tonumber(ARGV[3])
local removed = 0
for i = 4, #ARGV do removed = removed + redis.call('ZREM', KEYS[1], ARGV[i]) end
for i = 2, 1 + zsets do removed = removed + redis.call('ZREM', KEYS[i], id) end
for i = 2 + zsets, 1 + zsets + sets do removed = removed + redis.call('SREM', KEYS[i], id) end
for i = 2 + zsets + sets, #KEYS do
  local r = redis.call('GET', KEYS[i])
  -- A reservation is 'fingerprint\\nsessionId'.
  if r and string.match(r, '\\n([^\\n]*)$') == id then
    removed = removed + redis.call('DEL', KEYS[i])
  end
end
return removed
`;
