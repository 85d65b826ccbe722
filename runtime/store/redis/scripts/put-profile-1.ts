/**
 * Stores a profile; one stored as default clears the flag on every other
 * profile in the same script, so two concurrent defaults cannot both stay.
 * Profiles are JSON with `isDefault` first (`encodeProfile`), so clearing the
 * flag is an exact prefix replacement; anything else is re-encoded.
 * KEYS: profiles hash. ARGV: id, JSON, '1' when default.
 * Returns 'ok'.
 */
export const PUT_PROFILE_1 = `
if ARGV[3] == '1' then
  local all = redis.call('HGETALL', KEYS[1])
  local on = '{"isDefault":true'
  for i = 1, #all - 1, 2 do
    local id, json = all[i], all[i + 1]
    if id ~= ARGV[1] then
      if string.sub(json, 1, #on) == on then
        redis.call('HSET', KEYS[1], id, '{"isDefault":false' .. string.sub(json, #on + 1))
      else
        local ok, p = pcall(cjson.decode, json)
        if ok and type(p) == 'table' and p['isDefault'] == true then
          p['isDefault'] = false
          redis.call('HSET', KEYS[1], id, cjson.encode(p))
        end
      end
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
`;
