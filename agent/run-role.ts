/**
 * One role's run: the model and the sandbox talk through the role's tools
 * until the model calls the role's terminal tool (submit_plan, finish,
 * submit_review). Every call is checked against the budget first and charged
 * after; the transcript is handed out as it grows so it can be stored outside
 * the snapshot.
 */
import { AppError } from '../kernel/errors.ts';
import { redactSecretShapes } from '../kernel/redact.ts';
import type { Sandbox } from '../sandbox/port.ts';
import type { ChatMessage, ChatModel, ChatResponse } from './llm/port.ts';
import type { Budget } from './budget.ts';
import { printable } from './truncate.ts';
import {
  runTool,
  TERMINAL_TOOL,
  toolSpecs,
  type RoleName,
  type Terminal,
  type ToolContext,
} from './tools.ts';

export interface RoleLimits {
  /** Most model turns in one run of the role. */
  maxTurns: number;
  /** The same failing call (same tool, same arguments) this many times stops the run. */
  repeatedFailures: number;
  /** Characters of tool output the model gets back per call. */
  outputCap: number;
  maxCommandSeconds: number;
  /** finish refuses a change (its diff) larger than this, telling the model (DIFF_MAX_MB); 0: no limit. */
  maxDiffBytes: number;
}

export const DEFAULT_ROLE_LIMITS: RoleLimits = {
  maxTurns: 40,
  repeatedFailures: 3,
  outputCap: 12_000,
  maxCommandSeconds: 600,
  maxDiffBytes: 5 * 1024 * 1024,
};

export interface RoleRunOptions {
  role: RoleName;
  model: ChatModel;
  sandbox: Sandbox;
  system: string;
  task: string;
  budget: Budget;
  signal: AbortSignal;
  /**
   * Resolves when the session may act (at once, unless its node lost touch
   * with the store: then it waits until the lease is confirmed again, or
   * rejects if it was lost). Awaited before each model call and each tool call.
   */
  ready?(): Promise<void>;
  limits?: Partial<RoleLimits>;
  /** Cost of one response (null when the price is unknown). */
  costOf(res: ChatResponse): number | null;
  /** After each call is charged: persist the usage (every call counts, even in a run that fails later). */
  onCharge?(res: ChatResponse, cost: number | null): Promise<void>;
  /** Progress lines for the session log, already prefixed with the role. */
  log(line: string): void;
  /** New transcript messages, as they happen. */
  record?(messages: ChatMessage[]): void;
  /**
   * Cuts what must never be shown out of text that leaves the sandbox: every
   * tool answer before the model (and so the transcript) gets it, and every
   * log line. The service passes its configured secrets and the profile's key;
   * default: credential-shaped values only.
   */
  redact?(text: string): string;
  /** After each command the role ran: its duration and whether it timed out. */
  onCommand?(seconds: number, timedOut: boolean): void;
}

const PREFIX: Record<RoleName, string> = {
  planner: 'PLANNER',
  programmer: 'PROGRAMMER',
  reviewer: 'REVIEWER',
};

/** A one-line view of a tool call for the log (redacted where it is logged). */
function describeCall(name: string, rawArgs: string): string {
  return printable(describeRaw(name, rawArgs));
}

function describeRaw(name: string, rawArgs: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawArgs);
  } catch {
    return `${name} (unreadable arguments)`;
  }
  // The model may send any JSON (`null` too): only an object has fields to show.
  if (typeof parsed !== 'object' || parsed === null) return name;
  const args = parsed as Record<string, unknown>;
  const main = args['command'] ?? args['path'] ?? args['pattern'] ?? args['summary'] ?? '';
  let text: string;
  try {
    text = typeof main === 'string' ? main : JSON.stringify(main);
  } catch {
    // JSON.stringify recurses: a value nested thousands deep overflows the stack.
    text = '(nested too deeply to show)';
  }
  return `${name}${text ? ` ${text.length > 120 ? `${text.slice(0, 117)}...` : text}` : ''}`;
}

export async function runRole(
  opts: RoleRunOptions,
): Promise<{ terminal: Terminal; turns: number }> {
  const limits = { ...DEFAULT_ROLE_LIMITS, ...opts.limits };
  const prefix = PREFIX[opts.role];
  const terminalName = TERMINAL_TOOL[opts.role];
  const tools = toolSpecs(opts.role);
  const redact = opts.redact ?? redactSecretShapes;
  const log = (line: string) => opts.log(redact(line));
  const toolCtx: ToolContext = {
    ...limits,
    log,
    ...(opts.onCommand ? { onCommand: opts.onCommand } : {}),
  };
  const messages: ChatMessage[] = [
    { role: 'system', content: opts.system },
    { role: 'user', content: opts.task },
  ];
  opts.record?.(messages.slice());
  const failures = new Map<string, number>();
  for (let turn = 1; turn <= limits.maxTurns; turn++) {
    opts.signal.throwIfAborted();
    await opts.ready?.();
    opts.budget.check();
    const res = await opts.model.chat({ messages, tools, signal: opts.signal });
    const cost = opts.costOf(res);
    opts.budget.charge(res.usage, cost);
    await opts.onCharge?.(res, cost);
    const added: ChatMessage[] = [res.message];
    messages.push(res.message);
    if (res.message.content?.trim())
      log(`${prefix}: ${printable(res.message.content.trim().split('\n')[0]!.slice(0, 300))}`);
    const calls = res.message.toolCalls ?? [];
    if (calls.length === 0) {
      const nudge: ChatMessage = {
        role: 'user',
        content: `Use the tools to work, and call ${terminalName} when you are done.`,
      };
      messages.push(nudge);
      added.push(nudge);
      opts.record?.(added);
      continue;
    }
    let terminal: Terminal | undefined;
    for (const call of calls) {
      if (!terminal) await opts.ready?.();
      log(`${prefix}: ${describeCall(call.name, call.arguments)}`);
      const outcome = terminal
        ? { output: `ignored: ${terminal.name} already ended this run`, failed: false }
        : await runTool(opts.role, call, opts.sandbox, toolCtx);
      const reply: ChatMessage = {
        role: 'tool',
        toolCallId: call.id,
        name: call.name,
        // What the sandbox gave back (a command's output, a file) may hold a secret of the service's.
        content: redact(outcome.output),
      };
      messages.push(reply);
      added.push(reply);
      if ('terminal' in outcome && outcome.terminal) terminal = outcome.terminal;
      if (outcome.failed) {
        const key = `${call.name} ${call.arguments}`;
        const n = (failures.get(key) ?? 0) + 1;
        failures.set(key, n);
        if (n >= limits.repeatedFailures) {
          opts.record?.(added);
          throw new AppError(
            'agent_stuck',
            422,
            redact(
              `the ${opts.role} repeated the same failing call ${n} times: ${describeCall(call.name, call.arguments)} → ${outcome.output.slice(0, 300)}`,
            ),
          );
        }
      }
    }
    opts.record?.(added);
    if (terminal) return { terminal, turns: turn };
  }
  throw new AppError(
    'agent_stuck',
    422,
    `the ${opts.role} did not call ${terminalName} within ${limits.maxTurns} turns`,
  );
}
