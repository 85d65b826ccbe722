/**
 * A small `.env` parser: `NAME=value` lines, `#` comments, an optional
 * `export ` prefix, single- or double-quoted values, and a ` # comment` after
 * an unquoted value. No interpolation: `${X}` stays as written. Errors never
 * repeat a line's text, because a line may hold a secret.
 */
import { ConfigError } from '../kernel/errors.ts';

export interface DotenvFile {
  /** The file's path, as named in messages. */
  path: string;
  /** The file's settings; a name set twice keeps its last value. */
  vars: Record<string, string>;
  /** The line (1-based) that set each name. */
  lines: Record<string, number>;
  /** Things worth saying that do not stop the node (a name set twice). */
  warnings: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };
const FIX =
  'Write each setting on its own line as NAME=value (quote a value with "…" or \'…\'; # starts a comment), or delete the line.';

/** Parses the text of `file` (named in errors); throws a ConfigError for `ENV_FILE` naming the line and the fix. */
export function parseDotenv(text: string, file: string): DotenvFile {
  const vars: Record<string, string> = {};
  const lines: Record<string, number> = {};
  const warnings: string[] = [];
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  rows.forEach((row, i) => {
    const n = i + 1;
    const line = row.trim();
    if (line === '' || line.startsWith('#')) return;
    const fail = (problem: string): never => {
      throw new ConfigError('ENV_FILE', `${file} line ${n} ${problem}`, FIX);
    };
    const body = line.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq < 0) fail('is not a setting: it has no "="');
    const name = body.slice(0, eq).trim();
    if (!NAME.test(name)) {
      fail(
        name === ''
          ? 'has no name before "="'
          : `has a name that is not valid ("${name.slice(0, 40)}": use letters, digits and _, not starting with a digit)`,
      );
    }
    const value = parseValue(body.slice(eq + 1), fail);
    if (lines[name] !== undefined)
      warnings.push(
        `${file} line ${n} sets ${name} again (first on line ${lines[name]}); the last one wins`,
      );
    vars[name] = value;
    lines[name] = n;
  });
  return { path: file, vars, lines, warnings };
}

function parseValue(after: string, fail: (problem: string) => never): string {
  const raw = after.trimStart();
  const quote = raw[0];
  if (quote !== '"' && quote !== "'") {
    // An unquoted value ends where a comment starts: `#` after whitespace (`a#b` keeps its `#`).
    return after.replace(/\s+#.*$/, '').trim();
  }
  let out = '';
  let i = 1;
  for (; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === quote) break;
    if (quote === '"' && c === '\\' && i + 1 < raw.length) {
      const next = raw[i + 1]!;
      out += ESCAPES[next] ?? `\\${next}`;
      i++;
      continue;
    }
    out += c;
  }
  if (i >= raw.length)
    fail(
      `opens a ${quote === '"' ? 'double' : 'single'} quote that is not closed on the same line (values span one line)`,
    );
  const rest = raw.slice(i + 1).trim();
  if (rest !== '' && !rest.startsWith('#'))
    fail('has text after the closing quote (only a # comment may follow it)');
  return out;
}
