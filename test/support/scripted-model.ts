/**
 * A chat model that plays a script, without a server: each role's tool calls
 * in order (the role is told by its tools: `submit_plan`, `finish`,
 * `submit_review`). Past its script, a role repeats its last call.
 */
import type { RoleName } from '../../agent/tools.ts';
import type { ChatModel, ChatRequest, ChatResponse, ProviderKind } from '../../agent/llm/port.ts';

export interface ScriptedCall {
  name: string;
  args: Record<string, unknown>;
}

export const PLAN: ScriptedCall = {
  name: 'submit_plan',
  args: { summary: 'Do it', steps: ['do it'] },
};
export const FINISH: ScriptedCall = { name: 'finish', args: { summary: 'done' } };
export const APPROVE: ScriptedCall = {
  name: 'submit_review',
  args: { approved: true, feedback: 'fine' },
};

/** Tokens each answer reports. */
export const SCRIPTED_USAGE = { inputTokens: 120, outputTokens: 12, totalTokens: 132 };

function roleOf(req: ChatRequest): RoleName {
  const names = req.tools.map((t) => t.name);
  if (names.includes('submit_plan')) return 'planner';
  if (names.includes('finish')) return 'programmer';
  return 'reviewer';
}

export function scriptedModel(
  script: Partial<Record<RoleName, ScriptedCall[]>>,
  provider: ProviderKind = 'openai-compatible',
): ChatModel & { calls: number } {
  let n = 0;
  const model = {
    provider,
    model: 'scripted',
    calls: 0,
    async chat(req: ChatRequest): Promise<ChatResponse> {
      model.calls++;
      const role = roleOf(req);
      const steps = script[role] ?? [
        role === 'planner' ? PLAN : role === 'programmer' ? FINISH : APPROVE,
      ];
      const turn = req.messages.filter((m) => m.role === 'assistant').length;
      const step = steps[Math.min(turn, steps.length - 1)]!;
      return {
        message: {
          role: 'assistant',
          content: null,
          toolCalls: [{ id: `call_${++n}`, name: step.name, arguments: JSON.stringify(step.args) }],
        },
        usage: { ...SCRIPTED_USAGE },
        model: 'scripted',
        finishReason: 'tool_calls',
      };
    },
  };
  return model;
}
