/**
 * Lua helpers for the per-session timer hash, one constant per function. A
 * timer value is JSON `{"state":"armed"|"fired","due":<ms>,"payload":<json>}`,
 * written and read with string functions so the payload passes through byte
 * for byte (cjson would turn `[]` into `{}`).
 */
export const LUA_TIMER_VALUE = `
local function timer_value(state, due, payload)
  return '{"state":"' .. state .. '","due":' .. string.format('%d', due) .. ',"payload":' .. payload .. '}'
end
`;

export const LUA_TIMER_PARSE = `
-- state, due (number), payload JSON; nil for a foreign value.
local function timer_parse(v)
  local state, due, payload = string.match(v, '^{"state":"(%a+)","due":(%d+),"payload":(.*)}$')
  if not state then return nil end
  return state, tonumber(due), payload
end
`;
