import { chatModelFor } from '../../../agent/llm/chat-model.ts';
import type { ProviderProfile } from '../../../agent/llm/port.ts';
import {
  CONTRACT_MODEL_OPTIONS,
  type LlmHarness,
  type ScriptedReply,
  type WireMessage,
  type WireRequest,
} from './harness.ts';
import {
  startOpenAIServer,
  type RecordedRequest,
  type ScriptedReply as Wire,
} from './openai-server.ts';

const KEY = 'sk-contract-SECRET-123';

/**
 * The OpenAI adapter under the chat model contract, against a local chat
 * completions server: as plain OpenAI (bearer key, `/v1` base URL) or as
 * Azure (deployment path, `api-version`, `api-key` header), the two wire
 * dialects the adapter speaks.
 */
export async function openaiHarness(mode: 'openai' | 'azure'): Promise<LlmHarness> {
  const server = await startOpenAIServer({ apiKey: KEY });
  const profile = (url: string): ProviderProfile =>
    mode === 'azure'
      ? { provider: 'azure', model: 'gpt-4o', apiKey: KEY, baseUrl: url, apiVersion: '2024-10-21' }
      : { provider: 'openai', model: 'gpt-4o', apiKey: KEY, baseUrl: `${url}/v1` };
  return {
    model: chatModelFor(profile(server.url), CONTRACT_MODEL_OPTIONS),
    apiKey: KEY,
    reply: (...replies) => server.script(...replies.map(encode)),
    requests: () => server.requests.map((r) => decode(r, mode)),
    pending: () => server.pending(),
    async unreachableModel() {
      const gone = await startOpenAIServer({ apiKey: KEY });
      await gone.close();
      return chatModelFor(profile(gone.url), CONTRACT_MODEL_OPTIONS);
    },
    close: () => server.close(),
  };
}

function encode(reply: ScriptedReply): Wire {
  switch (reply.kind) {
    case 'answer':
      return {
        kind: 'completion',
        content: reply.text ?? null,
        toolCalls: (reply.toolCalls ?? []).map((c, i) => ({ id: `call_${i + 1}`, ...c })),
        ...(reply.usage === undefined
          ? {}
          : {
              usage: reply.usage && {
                prompt_tokens: reply.usage.inputTokens,
                completion_tokens: reply.usage.outputTokens,
                total_tokens: reply.usage.totalTokens,
              },
            }),
        ...(reply.servedBy ? { model: reply.servedBy } : {}),
        ...(reply.cutShort ? { finishReason: 'length' } : {}),
      };
    case 'refusal':
      return { kind: 'completion', content: null, refusal: "I can't help with that." };
    case 'rejected_key':
      // OpenAI quotes the key it was sent (masked; some compatible servers in full).
      return {
        kind: 'error',
        status: 401,
        message: `Incorrect API key provided: ${KEY}.`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      };
    case 'unknown_model':
      return {
        kind: 'error',
        status: 404,
        message: 'The model does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        code: 'model_not_found',
      };
    case 'http_error':
      return {
        kind: 'error',
        status: reply.status,
        message: reply.message,
        type: reply.status === 400 ? 'invalid_request_error' : 'server_error',
        ...(reply.status === 429 ? { code: 'rate_limit_exceeded' } : {}),
        ...(reply.retryAfterMs === undefined
          ? {}
          : { headers: { 'retry-after': String(reply.retryAfterMs / 1000) } }),
      };
    case 'garbage':
      return {
        kind: 'raw',
        status: 200,
        contentType: 'text/html',
        body: '<html>proxy login</html>',
      };
    case 'hang':
      return { kind: 'hang' };
  }
}

function decode(req: RecordedRequest, mode: 'openai' | 'azure'): WireRequest {
  const raw: any[] = req.body?.messages ?? [];
  // A tool result names only the id of the call it answers; the call itself says which tool.
  const toolOfCall = new Map<string, string>();
  for (const m of raw) for (const c of m.tool_calls ?? []) toolOfCall.set(c.id, c.function?.name);
  const messages = raw.map((m): WireMessage => {
    if (m.role === 'assistant')
      return {
        role: 'assistant',
        text: typeof m.content === 'string' && m.content !== '' ? m.content : null,
        toolCalls: (m.tool_calls ?? []).map((c: any) => ({
          name: c.function.name,
          arguments: c.function.arguments,
        })),
      };
    if (m.role === 'tool')
      return { role: 'tool', name: toolOfCall.get(m.tool_call_id), content: m.content };
    return { role: m.role, text: m.content };
  });
  const credential =
    mode === 'azure' ? header(req.headers['api-key']) : bearer(req.headers.authorization);
  return {
    credential,
    messages,
    tools: (req.body?.tools ?? []).map((t: any) => t.function?.name),
    at: req.at,
  };
}

function bearer(v: string | undefined): string | undefined {
  return v?.startsWith('Bearer ') ? v.slice('Bearer '.length) : undefined;
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
