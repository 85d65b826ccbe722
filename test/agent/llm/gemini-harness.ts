import { chatModelFor } from '../../../agent/llm/chat-model.ts';
import type { ProviderProfile } from '../../../agent/llm/port.ts';
import { GeminiServer, type RecordedRequest, type Scripted } from './gemini-server.ts';
import {
  CONTRACT_MODEL_OPTIONS,
  type LlmHarness,
  type ScriptedReply,
  type WireMessage,
  type WireRequest,
} from './harness.ts';

const KEY = 'AIza-contract-SECRET-123';
const MODEL = 'gemini-contract';

/** The Gemini adapter under the chat model contract, against a local Gemini REST server. */
export async function geminiHarness(): Promise<LlmHarness> {
  const server = new GeminiServer({ apiKey: KEY, models: [MODEL] });
  await server.start();
  const profile = (baseUrl: string): ProviderProfile => ({
    provider: 'gemini',
    model: MODEL,
    apiKey: KEY,
    baseUrl,
  });
  return {
    model: chatModelFor(profile(server.baseUrl), CONTRACT_MODEL_OPTIONS),
    apiKey: KEY,
    reply: (...replies) => server.script(...replies.map(encode)),
    requests: () => server.requests.map(decode),
    pending: () => server.pending,
    async unreachableModel() {
      const gone = new GeminiServer({ apiKey: KEY, models: [MODEL] });
      await gone.start();
      const url = gone.baseUrl;
      await gone.stop();
      return chatModelFor(profile(url), CONTRACT_MODEL_OPTIONS);
    },
    close: () => server.stop(),
  };
}

/** The status Google's APIs pair with each HTTP status. */
const STATUS_NAMES = {
  400: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
} as const;

function encode(reply: ScriptedReply): Scripted {
  switch (reply.kind) {
    case 'answer': {
      const parts: Record<string, unknown>[] = [];
      if (reply.text !== undefined) parts.push({ text: reply.text });
      // Gemini sends arguments as an object, never as text.
      for (const c of reply.toolCalls ?? [])
        parts.push({ functionCall: { name: c.name, args: JSON.parse(c.arguments) } });
      const u = reply.usage;
      return {
        parts,
        finishReason: reply.cutShort ? 'MAX_TOKENS' : 'STOP',
        ...(u === undefined
          ? {}
          : {
              usage: u && {
                promptTokenCount: u.inputTokens,
                candidatesTokenCount: u.outputTokens,
                totalTokenCount: u.totalTokens,
              },
            }),
        ...(reply.servedBy ? { modelVersion: reply.servedBy } : {}),
      };
    }
    case 'refusal':
      return { parts: [], finishReason: 'SAFETY' };
    case 'rejected_key':
      // Gemini answers a bad key with a 400 that says so in its ErrorInfo.
      return {
        error: {
          httpStatus: 400,
          status: 'INVALID_ARGUMENT',
          message: `API key not valid. Please pass a valid API key. (got ${KEY})`,
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'API_KEY_INVALID',
              domain: 'googleapis.com',
            },
          ],
        },
      };
    case 'unknown_model':
      return {
        error: {
          httpStatus: 404,
          status: 'NOT_FOUND',
          message: 'The requested model is not found for API version v1beta.',
        },
      };
    case 'http_error': {
      const details =
        reply.retryAfterMs === undefined
          ? undefined
          : [
              {
                '@type': 'type.googleapis.com/google.rpc.RetryInfo',
                retryDelay: `${reply.retryAfterMs / 1000}s`,
              },
            ];
      return {
        error: {
          httpStatus: reply.status,
          status: STATUS_NAMES[reply.status],
          message: reply.message,
          ...(details ? { details } : {}),
        },
      };
    }
    case 'garbage':
      return { raw: '<html>proxy login</html>', contentType: 'text/html' };
    case 'hang':
      return { hang: true };
  }
}

function decode(req: RecordedRequest): WireRequest {
  const body = req.body ?? {};
  const messages: WireMessage[] = [];
  const system = body.systemInstruction?.parts ?? [];
  if (system.length > 0)
    messages.push({ role: 'system', text: system.map((p: any) => p.text).join('') });
  for (const content of body.contents ?? []) {
    const parts: any[] = content.parts ?? [];
    if (content.role === 'model') {
      const texts = parts.filter((p) => typeof p.text === 'string' && p.thought !== true);
      messages.push({
        role: 'assistant',
        text: texts.length > 0 ? texts.map((p) => p.text).join('') : null,
        toolCalls: parts
          .filter((p) => p.functionCall)
          .map((p) => ({
            name: p.functionCall.name,
            arguments: argumentsText(p.functionCall.args),
          })),
      });
    } else if (parts.some((p) => p.functionResponse)) {
      for (const p of parts)
        messages.push({
          role: 'tool',
          name: p.functionResponse?.name,
          content: responseText(p.functionResponse?.response),
        });
    } else {
      messages.push({ role: 'user', text: parts.map((p) => p.text).join('') });
    }
  }
  const declarations = (body.tools ?? []).flatMap((t: any) => t.functionDeclarations ?? []);
  return {
    credential: header(req.headers['x-goog-api-key']),
    messages,
    tools: declarations.map((d: any) => d.name),
    at: req.at,
  };
}

/** Arguments that were not a JSON object travel as `{_unparsed: text}` (args must be an object): that text is what the model sees. */
function argumentsText(args: unknown): string {
  const a = args as Record<string, unknown> | undefined;
  if (a && Object.keys(a).length === 1 && typeof a['_unparsed'] === 'string') return a['_unparsed'];
  return JSON.stringify(args ?? {});
}

/** A tool result that was not a JSON object travels as `{content: text}` (a response must be an object). */
function responseText(response: unknown): string {
  const r = response as Record<string, unknown> | undefined;
  if (r && Object.keys(r).length === 1 && typeof r['content'] === 'string') return r['content'];
  return JSON.stringify(response ?? {});
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
