/**
 * The agent protocol's tools: OpenAI-style functions with JSON Schemas. The
 * names and arguments are part of the documented protocol (docs/agent-protocol.md).
 * Each role gets only its own set, so the planner is read-only because it
 * has no tool that writes, not because a prompt asks it to be.
 */
import { isAppError } from '../kernel/errors.ts';
import { redactSecretShapes } from '../kernel/redact.ts';
import type { Sandbox } from '../sandbox/port.ts';
import type { ToolSpec } from './llm/port.ts';
import { validate, type Schema } from './schema.ts';
import { printable, truncateMiddle } from './truncate.ts';

export type RoleName = 'planner' | 'programmer' | 'reviewer';

/** A call that ends the role's run, with its checked arguments. */
export type Terminal =
  | { name: 'submit_plan'; args: { summary: string; steps: string[] } }
  /** `diff`: the change as finish checked it against the size limit; the step keeps this one. */
  | { name: 'finish'; args: { summary: string }; diff?: string }
  | { name: 'submit_review'; args: { approved: boolean; feedback: string } };

export interface ToolOutcome {
  /** What the model reads back. */
  output: string;
  /** The call failed (bad arguments, refused path, non-zero exit is NOT a failure). */
  failed: boolean;
  terminal?: Terminal;
}

/** What a tool gets besides its arguments. */
export interface ToolContext {
  outputCap: number;
  maxCommandSeconds: number;
  /** Progress for the session log: a command and its output as it runs. */
  log?(line: string): void;
  /** After each command: how long it took and whether it was killed at its timeout. */
  onCommand?(seconds: number, timedOut: boolean): void;
  /** finish refuses a change (its diff) larger than this (DIFF_MAX_MB); absent or 0: no limit. */
  maxDiffBytes?: number;
}

interface ToolDef {
  spec: ToolSpec;
  schema: Schema;
  run(sandbox: Sandbox, args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutcome>;
}

/** A command as one log line: its first line, cut, credential-shaped values hidden. */
function commandLine(command: string): string {
  const first = command.trim().split('\n', 1)[0]!;
  const more = first.length > 200 || first.length < command.trim().length;
  return redactSecretShapes(printable(`${first.slice(0, 200)}${more ? ' …' : ''}`));
}

const obj = (properties: Record<string, Schema>, required: string[]): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const str = (description: string): Schema => ({ type: 'string', description });
const ok = (output: string): ToolOutcome => ({ output, failed: false });

function def(name: string, description: string, schema: Schema, run: ToolDef['run']): ToolDef {
  return {
    spec: { name, description, parameters: schema as unknown as Record<string, unknown> },
    schema,
    run,
  };
}

const TOOLS: Record<string, ToolDef> = {
  list_files: def(
    'list_files',
    'List files and directories under a path of the repository (the root when no path is given).',
    obj({ path: str('Directory relative to the repository root.') }, []),
    async (sb, a) => {
      const entries = await sb.listFiles(a['path'] as string | undefined);
      return ok(
        entries.length === 0
          ? '(empty)'
          : entries
              .map((e) => (e.type === 'dir' ? `${e.path}/` : `${e.path} (${e.size} B)`))
              .join('\n'),
      );
    },
  ),
  read_file: def(
    'read_file',
    'Read a text file of the repository, optionally only some lines (1-based, inclusive).',
    obj(
      {
        path: str('File relative to the repository root.'),
        start_line: { type: 'integer', minimum: 1 },
        end_line: { type: 'integer', minimum: 1 },
      },
      ['path'],
    ),
    async (sb, a, ctx) => {
      const text = await sb.readFile(a['path'] as string);
      const start = a['start_line'] as number | undefined;
      const end = a['end_line'] as number | undefined;
      if (start === undefined && end === undefined) return ok(truncateMiddle(text, ctx.outputCap));
      const lines = text.split('\n');
      const from = (start ?? 1) - 1;
      const to = Math.min(lines.length, end ?? lines.length);
      const numbered = lines
        .slice(from, to)
        .map((l, i) => `${from + i + 1}: ${l}`)
        .join('\n');
      return ok(truncateMiddle(numbered, ctx.outputCap));
    },
  ),
  search_code: def(
    'search_code',
    'Search the repository for a regular expression; answers path:line: text for each hit.',
    obj(
      {
        pattern: { type: 'string', minLength: 1, description: 'Extended regular expression.' },
        path: str('Limit the search to this directory or file.'),
      },
      ['pattern'],
    ),
    async (sb, a, ctx) => {
      const hits = await sb.searchCode(a['pattern'] as string, a['path'] as string | undefined);
      return ok(
        hits.length === 0
          ? 'no matches'
          : truncateMiddle(
              hits.map((h) => `${h.path}:${h.line}: ${h.text}`).join('\n'),
              ctx.outputCap,
            ),
      );
    },
  ),
  write_file: def(
    'write_file',
    'Create or overwrite a file with the given content.',
    obj(
      {
        path: str('File relative to the repository root.'),
        content: str('The whole new content.'),
      },
      ['path', 'content'],
    ),
    async (sb, a) => {
      await sb.writeFile(a['path'] as string, a['content'] as string);
      return ok(`wrote ${a['path']} (${(a['content'] as string).length} characters)`);
    },
  ),
  edit_file: def(
    'edit_file',
    'Replace exactly one occurrence of old_text with new_text in a file.',
    obj(
      {
        path: str('File relative to the repository root.'),
        old_text: { type: 'string', minLength: 1 },
        new_text: { type: 'string' },
      },
      ['path', 'old_text', 'new_text'],
    ),
    async (sb, a) => {
      await sb.editFile(a['path'] as string, a['old_text'] as string, a['new_text'] as string);
      return ok(`edited ${a['path']}`);
    },
  ),
  run_command: def(
    'run_command',
    'Run a shell command in the repository root (tests, builds, linters). Answers the exit code and output.',
    obj(
      {
        command: { type: 'string', minLength: 1 },
        timeout_s: { type: 'integer', minimum: 1, maximum: 3600 },
      },
      ['command'],
    ),
    async (sb, a, ctx) => {
      const seconds = Math.min(
        (a['timeout_s'] as number | undefined) ?? 120,
        ctx.maxCommandSeconds,
      );
      const command = a['command'] as string;
      const log = ctx.log;
      // The session log follows the command as it runs; the model gets the capped result below.
      log?.(`  $ ${commandLine(command)}`);
      const started = performance.now();
      const r = await sb.runCommand(command, {
        timeoutMs: seconds * 1000,
        // The context's log redacts (run-role.ts).
        ...(log ? { onOutput: (line: string) => log(`  | ${line}`) } : {}),
      });
      const took = (performance.now() - started) / 1000;
      ctx.onCommand?.(took, r.timedOut);
      // `killed` is a limit the command ran into (the workspace quota): it was killed for it, or ended over it.
      const killed = !r.timedOut && r.killed !== undefined && r.exitCode === null;
      const limit = r.killed !== undefined && !killed ? `; ${r.killed}` : '';
      log?.(
        `  ${r.timedOut ? `killed at its timeout of ${seconds} s` : killed ? `killed: ${r.killed}` : `exit ${r.exitCode ?? 'by a signal'}${limit}`} (${took.toFixed(1)} s)`,
      );
      const head = r.timedOut
        ? `timed out after ${seconds} s (killed)`
        : killed
          ? `killed: ${r.killed}`
          : `exit code ${r.exitCode}${limit}`;
      return ok(`${head}\n${truncateMiddle(r.output, ctx.outputCap)}`);
    },
  ),
  submit_plan: def(
    'submit_plan',
    'Submit the plan: a short summary and the ordered steps. Ends planning.',
    obj(
      {
        summary: { type: 'string', minLength: 1 },
        steps: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      },
      ['summary', 'steps'],
    ),
    async (_sb, a) => ({
      output: 'plan submitted',
      failed: false,
      terminal: {
        name: 'submit_plan',
        args: { summary: a['summary'] as string, steps: a['steps'] as string[] },
      },
    }),
  ),
  finish: def(
    'finish',
    'Declare the change done, with a summary of what was changed. Ends this coding step.',
    obj({ summary: { type: 'string', minLength: 1 } }, ['summary']),
    async (sb, a, ctx) => {
      // Checked here, in the loop: a change over the limit is the model's to shrink, and it can.
      const diff = await sb.diff();
      const max = ctx.maxDiffBytes ?? 0;
      const bytes = max > 0 ? utf8Bytes(diff) : 0;
      if (bytes > max) {
        const over = `the change is ${sizeText(bytes)}, over the ${sizeText(max)} limit (DIFF_MAX_MB)`;
        ctx.log?.(`  refused: ${over}`);
        const largest = largestFiles(diff, 5)
          .map((f) => `${f.path} (${sizeText(f.bytes)})`)
          .join(', ');
        return {
          output: `error: ${over}. Largest files in it: ${largest}. Delete generated, downloaded or binary files that are not part of the change (or add them to .gitignore), then call finish again.`,
          failed: true,
        };
      }
      return {
        output: 'finished',
        failed: false,
        terminal: { name: 'finish', args: { summary: a['summary'] as string }, diff },
      };
    },
  ),
  submit_review: def(
    'submit_review',
    'Submit the review: approved or not, and feedback the programmer can act on. Ends the review.',
    obj({ approved: { type: 'boolean' }, feedback: { type: 'string' } }, ['approved', 'feedback']),
    async (_sb, a) => ({
      output: 'review submitted',
      failed: false,
      terminal: {
        name: 'submit_review',
        args: { approved: a['approved'] as boolean, feedback: a['feedback'] as string },
      },
    }),
  ),
};

/** UTF-8 length of a string without encoding it (a diff can be hundreds of MB). */
function utf8Bytes(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 2 bytes from U+0080, 3 from U+0800; a surrogate pair (4 bytes) is 2 units of 2.
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
}

/** The files of a git diff with the most bytes in it, largest first (`diff --git a/p b/p` sections, no renames). */
function largestFiles(diff: string, n: number): Array<{ path: string; bytes: number }> {
  const files: Array<{ path: string; bytes: number }> = [];
  let start = diff.indexOf('diff --git ');
  while (start !== -1) {
    const next = diff.indexOf('\ndiff --git ', start);
    const end = next === -1 ? diff.length : next + 1;
    // `a/<p> b/<p>` (or both quoted): the second half, without its prefix.
    const eol = diff.indexOf('\n', start);
    const header = diff.slice(start + 11, eol === -1 ? end : eol);
    const second = header.slice((header.length + 1) / 2);
    const path = second.startsWith('"') ? unquote(second.slice(3, -1)) : second.slice(2);
    files.push({ path: printable(path).slice(0, 200), bytes: utf8Bytes(diff.slice(start, end)) });
    start = next === -1 ? -1 : next + 1;
  }
  return files.sort((x, y) => y.bytes - x.bytes).slice(0, n);
}

/** A path git quoted (`sp ace/\303\274.txt`, without its quotes), as the file is named. */
function unquote(quoted: string): string {
  const named: Record<string, number> = {
    a: 7,
    b: 8,
    t: 9,
    n: 10,
    v: 11,
    f: 12,
    r: 13,
    '"': 34,
    '\\': 92,
  };
  const bytes: number[] = [];
  for (let i = 0; i < quoted.length; i++) {
    const octal = quoted[i] === '\\' ? /^[0-7]{3}/.exec(quoted.slice(i + 1, i + 4)) : null;
    const namedByte = quoted[i] === '\\' ? named[quoted[i + 1] ?? ''] : undefined;
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else if (namedByte !== undefined) {
      bytes.push(namedByte);
      i += 1;
    } else {
      bytes.push(...new TextEncoder().encode(quoted[i]));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** `31.2 MB`, `5 MB`, `12.5 KB`, `300 bytes`. */
function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KB`;
  return `${bytes} bytes`;
}

const READ = ['list_files', 'read_file', 'search_code'];
export const ROLE_TOOLS: Record<RoleName, string[]> = {
  planner: [...READ, 'submit_plan'],
  programmer: [...READ, 'write_file', 'edit_file', 'run_command', 'finish'],
  reviewer: [...READ, 'run_command', 'submit_review'],
};

export const TERMINAL_TOOL: Record<RoleName, Terminal['name']> = {
  planner: 'submit_plan',
  programmer: 'finish',
  reviewer: 'submit_review',
};

export function toolSpecs(role: RoleName): ToolSpec[] {
  return ROLE_TOOLS[role].map((n) => TOOLS[n]!.spec);
}

/**
 * Runs one tool call of the model: unknown tools, unreadable JSON, arguments
 * that break the schema and refusals from the sandbox (a path outside the
 * workspace, an edit that does not match) come back as a tool error the
 * model can correct. Failures of the sandbox itself are thrown.
 */
export async function runTool(
  role: RoleName,
  call: { name: string; arguments: string },
  sandbox: Sandbox,
  ctx: ToolContext,
): Promise<ToolOutcome> {
  const fail = (output: string): ToolOutcome => ({ output: `error: ${output}`, failed: true });
  if (!ROLE_TOOLS[role].includes(call.name)) {
    return fail(
      `unknown tool "${call.name}" for the ${role}; available: ${ROLE_TOOLS[role].join(', ')}`,
    );
  }
  const tool = TOOLS[call.name]!;
  let args: unknown;
  try {
    args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (err) {
    return fail(
      `the arguments are not valid JSON (${(err as Error).message}); send a JSON object matching the schema of ${call.name}`,
    );
  }
  const problems = validate(tool.schema, args);
  if (problems.length > 0)
    return fail(`invalid arguments for ${call.name}: ${problems.join('; ')}`);
  try {
    return await tool.run(sandbox, args as Record<string, unknown>, ctx);
  } catch (err) {
    if (isAppError(err) && err.status < 500) return fail(err.message);
    throw err;
  }
}
