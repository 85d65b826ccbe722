import { readFileSync } from 'node:fs';
import { CONFIG_VARIABLES, type ConfigVariable } from './config.ts';
import { parseDotenv, type DotenvFile } from './dotenv.ts';
import { ConfigError } from '../kernel/errors.ts';

type Env = Record<string, string | undefined>;

interface Runtime {
  Deno?: { env: { toObject(): Record<string, string> }; cwd(): string };
  process?: { env: Env; cwd(): string };
}

let fromFile: DotenvFile | undefined;

/**
 * The environment a node runs with, on Node and on Deno through one function:
 * the process environment over the settings of `.env` in the working
 * directory (or `ENV_FILE`). The file is read once, when first asked; its
 * errors throw a ConfigError, its warnings (and likely typos in variable
 * names) are printed once on stderr.
 */
export function readEnv(): Env {
  const g = globalThis as Runtime;
  const real = g.Deno ? g.Deno.env.toObject() : (g.process?.env ?? {});
  if (fromFile === undefined) {
    const cwd = g.Deno ? g.Deno.cwd() : (g.process?.cwd() ?? '.');
    fromFile = readEnvFile(real, cwd);
    for (const line of [...fromFile.warnings, ...typoWarnings(real, fromFile)])
      console.error(`swe-agent: warning: ${line}`);
  }
  return mergeEnv(real, fromFile.vars);
}

/** The `.env` file's settings (none when the default file is absent); throws a ConfigError for a bad or missing file. */
export function readEnvFile(real: Env, cwd: string): DotenvFile {
  const named = real['ENV_FILE']?.trim() || undefined;
  const path = absolute(named ?? '.env', cwd);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (named === undefined && isNotFound(err)) return { path, vars: {}, lines: {}, warnings: [] };
    throw new ConfigError(
      'ENV_FILE',
      `cannot read ${path} (${(err as Error).message})`,
      named === undefined
        ? 'Make .env readable by the user the node runs as, or remove it.'
        : 'Point ENV_FILE at a readable file, or unset it to read ./.env when there is one.',
    );
  }
  return parseDotenv(text, path);
}

/**
 * The process environment over the file's settings: a variable set in the
 * environment wins, even when empty. Values of our variables are tidied the
 * way a `.env` line would be, because `docker run --env-file` passes a line's
 * ` # comment` and quotes through as part of the value.
 */
export function mergeEnv(real: Env, file: Record<string, string>): Env {
  const out: Env = { ...file, ...real };
  for (const name of Object.keys(CONFIG_VARIABLES)) {
    const v = real[name];
    if (v !== undefined) out[name] = tidy(v);
  }
  return out;
}

/** Names in the file or the environment that are probably misspellings of ours, as warnings. */
export function typoWarnings(real: Env, file: DotenvFile): string[] {
  const out: string[] = [];
  for (const name of Object.keys(file.vars)) {
    const meant = suggestVariable(name);
    if (meant)
      out.push(
        `${file.path} line ${file.lines[name]} sets ${name}, which swe-agent does not read: did you mean ${meant}?`,
      );
  }
  for (const name of Object.keys(real)) {
    if (file.vars[name] !== undefined) continue;
    const meant = suggestVariable(name);
    if (meant)
      out.push(
        `the environment sets ${name}, which swe-agent does not read: did you mean ${meant}?`,
      );
  }
  return out;
}

/**
 * Names people reach for that mean one of ours. Not REDIS_HOST or REDIS_PORT:
 * Kubernetes sets those for a service named redis.
 */
const SAID_OTHERWISE: Record<string, ConfigVariable> = {
  REDIS_PASS: 'REDIS_PASSWORD',
};

/**
 * The variable `name` was probably meant to be, when it is not one of ours
 * but close to one (a typo such as REDIS_ULR); undefined for ours and for
 * names unlike any of ours (other programs' variables).
 */
export function suggestVariable(name: string): ConfigVariable | undefined {
  if (Object.hasOwn(CONFIG_VARIABLES, name)) return undefined;
  const said = SAID_OTHERWISE[name];
  if (said) return said;
  const upper = name.toUpperCase();
  let best: { v: ConfigVariable; d: number } | undefined;
  for (const v of Object.keys(CONFIG_VARIABLES) as ConfigVariable[]) {
    const d = upper === v ? 0 : editDistance(upper, v);
    // Short names allow one slip, longer ones two: HOME is not HOST, but LOGLEVEL is LOG_LEVEL.
    if (d <= (v.length >= 8 ? 2 : 1) && (!best || d < best.d)) best = { v, d };
  }
  return best?.v;
}

/** Edit distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function tidy(value: string): string {
  const v = value.replace(/\s+#.*$/, '').trim();
  const quoted = /^(["'])(.*)\1$/.exec(v);
  return quoted ? quoted[2]! : v;
}

function absolute(path: string, cwd: string): string {
  return path.startsWith('/') ? path : `${cwd.replace(/\/$/, '')}/${path.replace(/^\.\//, '')}`;
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e.code === 'ENOENT' || e.name === 'NotFound';
}
