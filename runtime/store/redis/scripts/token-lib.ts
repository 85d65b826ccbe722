/**
 * Lua helpers for API tokens, one constant per function. KEYS[1] is always
 * `tokens` (id → JSON) and KEYS[2] `tokens:hash` (SHA-256 → id). A user's id
 * set may name tokens since deleted or given to another user: the token's
 * own JSON decides.
 */
export const LUA_USER_TOKEN = `
-- The token with this id when it belongs to the user, else nil.
local function user_token(id, user)
  local j = redis.call('HGET', KEYS[1], id)
  if not j then return nil end
  local t = cjson.decode(j)
  if t['userId'] ~= user then return nil end
  return t
end
`;

export const LUA_DROP_TOKEN = `
-- Drops a token and its hash entry (unless that hash now names another token).
local function drop_token(id, t)
  redis.call('HDEL', KEYS[1], id)
  if redis.call('HGET', KEYS[2], t['hash']) == id then redis.call('HDEL', KEYS[2], t['hash']) end
end
`;
