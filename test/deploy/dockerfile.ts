/**
 * Just enough of the Dockerfile and .dockerignore formats to check our image
 * and replay its steps without a Docker engine: stages, instructions with
 * line continuations, exec (JSON) and shell forms, ENV pairs, COPY flags,
 * HEALTHCHECK options.
 */

export interface Instruction {
  op: string;
  /** The text after the keyword, continuations joined. */
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  from: string;
  steps: Instruction[];
}

/** A command in exec form (`["node", "x"]`) or shell form (a string run by `/bin/sh -c`). */
export type Command = { form: 'exec'; argv: string[] } | { form: 'shell'; text: string };

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let raw = lines[i]!;
    if (/^\s*(#|$)/.test(raw)) continue;
    // A trailing backslash continues the instruction; comment lines inside it are dropped.
    while (/\\\s*$/.test(raw) && i + 1 < lines.length) {
      raw = raw.replace(/\\\s*$/, ' ');
      i++;
      while (i < lines.length - 1 && /^\s*#/.test(lines[i]!)) i++;
      raw += lines[i]!;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(raw);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: not an instruction`);
    const step = {
      op: m[1]!.toUpperCase(),
      args: m[2]!.trim().replace(/\s+/g, ' '),
      line: start + 1,
    };
    if (step.op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(step.args);
      if (!f) throw new Error(`Dockerfile line ${step.line}: bad FROM`);
      stages.push({ name: f[2] ?? String(stages.length), from: f[1]!, steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${step.line}: ${step.op} before FROM`);
    stage.steps.push(step);
  }
  return stages;
}

export function parseCommand(args: string): Command {
  if (args.startsWith('[')) return { form: 'exec', argv: JSON.parse(args) as string[] };
  return { form: 'shell', text: args };
}

/** `ENV A=1 B="two words"` (or the old `ENV A 1`) as pairs. */
export function parseEnv(args: string): Record<string, string> {
  if (!/^[A-Za-z_]\w*=/.test(args)) {
    const [k, ...rest] = args.split(' ');
    return { [k!]: rest.join(' ') };
  }
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_]\w*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
    const v = m[2]!;
    out[m[1]!] = /^["']/.test(v) ? v.slice(1, -1) : v;
  }
  return out;
}

/** `--flag=value` options at the start of an instruction, and what follows them. */
export function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([\w-]+)=(\S+)\s*/.exec(rest); m; m = /^--([\w-]+)=(\S+)\s*/.exec(rest)) {
    flags[m[1]!] = m[2]!;
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

export function parseCopy(args: string): {
  from: string | undefined;
  chown: string | undefined;
  sources: string[];
  dest: string;
} {
  const { flags, rest } = splitFlags(args);
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(' ');
  if (parts.length < 2) throw new Error(`COPY ${args}: needs a source and a destination`);
  return {
    from: flags['from'],
    chown: flags['chown'],
    sources: parts.slice(0, -1),
    dest: parts.at(-1)!,
  };
}

export function parseHealthcheck(
  args: string,
): { options: Record<string, string>; command: Command } | 'NONE' {
  if (args.trim().toUpperCase() === 'NONE') return 'NONE';
  const { flags, rest } = splitFlags(args);
  const m = /^CMD\s+(.*)$/i.exec(rest);
  if (!m) throw new Error(`HEALTHCHECK ${args}: expected CMD`);
  return { options: flags, command: parseCommand(m[1]!) };
}

/** The last instruction `op` of a stage, if any. */
export function last(stage: Stage, op: string): Instruction | undefined {
  return stage.steps.filter((s) => s.op === op).at(-1);
}

/**
 * A .dockerignore as a predicate on context-relative paths (`a/b.ts`): a
 * pattern matches a path or any folder above it; `!` re-includes; the last
 * matching line wins.
 */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const keep = l.startsWith('!');
      const pattern = (keep ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      return { keep, re: globToRegExp(pattern) };
    });
  return (path) => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.keep;
    return ignored;
  };
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
