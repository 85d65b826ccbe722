/**
 * Each Lua script of the Redis adapter prepends exactly the helpers it calls
 * (`redis/scripts/lib.ts`, `timer-lib.ts`, `token-lib.ts`): every local
 * function or upper-case local it defines is used after its definition, and
 * every function it calls and every upper-case name it reads is defined in it
 * first. Whether the scripts run is the redis contract suite's job.
 */
import { describe, expect, it } from 'vitest';
import { SCRIPTS } from '../../../runtime/store/redis/scripts/index.ts';

const KEYWORDS = new Set(
  'and break do else elseif end false for function goto if in local nil not or repeat return then true until while'.split(
    ' ',
  ),
);
/** Lua's own globals that scripts call bare (the rest is reached through `redis.`, `string.` …). */
const GLOBALS = new Set(
  'assert error getmetatable ipairs next pairs pcall rawget rawset select setmetatable tonumber tostring type unpack'.split(
    ' ',
  ),
);
/** Upper-case names Redis provides. */
const PROVIDED = new Set(['KEYS', 'ARGV']);

/** The code without comments and without the contents of string literals (which may hold any word). */
function codeOnly(lua: string): string {
  const longBracket = /(--)?\[(=*)\[/y;
  let out = '';
  let i = 0;
  while (i < lua.length) {
    longBracket.lastIndex = i;
    const long = longBracket.exec(lua);
    if (long) {
      const closing = `]${long[2]}]`;
      const close = lua.indexOf(closing, longBracket.lastIndex);
      out += long[1] ? ' ' : "''";
      i = close < 0 ? lua.length : close + closing.length;
    } else if (lua.startsWith('--', i)) {
      const nl = lua.indexOf('\n', i);
      i = nl < 0 ? lua.length : nl;
    } else if (lua[i] === "'" || lua[i] === '"') {
      const quote = lua[i];
      let j = i + 1;
      while (j < lua.length && lua[j] !== quote && lua[j] !== '\n') j += lua[j] === '\\' ? 2 : 1;
      out += "''";
      i = j + 1;
    } else {
      out += lua[i];
      i++;
    }
  }
  return out;
}

/** What is wrong with a script's helpers; empty when nothing is. */
function helperProblems(lua: string): string[] {
  const code = codeOnly(lua);
  const problems: string[] = [];
  /** Each definition with where it ends: a use must come after it. */
  const functions: { name: string; end: number }[] = [];
  const locals: { name: string; end: number }[] = [];
  for (const m of code.matchAll(/\blocal\s+function\s+([A-Za-z_]\w*)/g))
    functions.push({ name: m[1]!, end: m.index + m[0].length });
  for (const m of code.matchAll(/\blocal\s+([A-Z][A-Z0-9_]*)\s*=/g))
    locals.push({ name: m[1]!, end: m.index + m[0].length });
  const after = (pattern: string, from: number) => {
    const re = new RegExp(pattern, 'g');
    re.lastIndex = from;
    return re.exec(code) !== null;
  };
  const before = (defs: { name: string; end: number }[], name: string, at: number) =>
    defs.some((d) => d.name === name && d.end <= at);

  for (const d of functions)
    if (!after(`(?<![\\w.:])${d.name}[ \\t]*\\(`, d.end))
      problems.push(`${d.name} is defined but not called`);
  for (const d of locals)
    if (!after(`(?<![\\w.:])${d.name}\\b`, d.end))
      problems.push(`${d.name} is defined but not used`);
  // Bare calls: not `x.f(` or `x:f(`, and not the name in `local function f(`.
  for (const m of code.matchAll(/(?<![\w.:])(?<!\bfunction\s+)([A-Za-z_]\w*)[ \t]*\(/g)) {
    const name = m[1]!;
    if (KEYWORDS.has(name) || GLOBALS.has(name)) continue;
    if (!before(functions, name, m.index))
      problems.push(`${name} is called but not defined before`);
  }
  for (const m of code.matchAll(/(?<![\w.:])(?<!\blocal\s+)([A-Z][A-Z0-9_]*)\b/g)) {
    const name = m[1]!;
    if (PROVIDED.has(name)) continue;
    if (!before(locals, name, m.index)) problems.push(`${name} is read but not defined before`);
  }
  return [...new Set(problems)];
}

describe('Lua scripts include exactly the helpers they use', () => {
  for (const [name, { lua }] of Object.entries(SCRIPTS)) {
    it(`${name}: every helper it defines is used, every one it uses is defined`, () => {
      expect(helperProblems(lua)).toEqual([]);
    });
  }

  it('the check finds a missing helper, an unused one, and a missing local', () => {
    const nowMs = "local function now_ms()\n  return redis.call('TIME')\nend\n";
    expect(helperProblems(`${nowMs}return now_ms()`)).toEqual([]);
    expect(helperProblems('return now_ms()')).toEqual(['now_ms is called but not defined before']);
    expect(helperProblems(`${nowMs}return 1`)).toEqual(['now_ms is defined but not called']);
    expect(helperProblems(`return now_ms()\n${nowMs}`)).toEqual([
      'now_ms is defined but not called',
      'now_ms is called but not defined before',
    ]);
    expect(helperProblems("return string.find(PASSIVE, ',X,')")).toEqual([
      'PASSIVE is read but not defined before',
    ]);
    expect(helperProblems("local PASSIVE = ',A,'\nreturn 1")).toEqual([
      'PASSIVE is defined but not used',
    ]);
    // Words in comments and strings are neither calls nor uses.
    expect(helperProblems("-- holds() is inlined here\nreturn {'fence(x)'}")).toEqual([]);
    expect(helperProblems(`${nowMs}-- now_ms()\nreturn 'now_ms()'`)).toEqual([
      'now_ms is defined but not called',
    ]);
  });
});
