/**
 * The Gemini adapter: maps the LLM port onto Google's `generateContent`.
 *
 * This is the ONLY file that imports `@google/generative-ai`. That package is
 * deprecated upstream in favour of `@google/genai`; keeping every use of it
 * behind this one adapter means moving to the new SDK touches this file alone.
 *
 * What the wire needs, and why it is done here:
 * - Assistant turns that came from Gemini are sent back as the exact parts
 *   Gemini returned (`providerParts`): newer models attach `thoughtSignature`
 *   to parts and reject a multi-turn tool conversation that drops it.
 * - Gemini has no tool-call ids; a function response is matched by function
 *   name (and order), so the tool message's `name` is what goes on the wire.
 * - Function parameters are an OpenAPI subset of JSON Schema; keywords outside
 *   it make the whole request fail with 400, so they are stripped.
 * - The SDK has no retries of its own; `withRetries` does them, one abortable
 *   attempt at a time.
 */
import {
  GoogleGenerativeAI,
  GoogleGenerativeAIFetchError,
  type GenerateContentResponse,
  type GenerativeModel,
} from '@google/generative-ai';
import {
  LlmError,
  type AssistantMessage,
  type ChatMessage,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type LlmErrorKind,
  type ProviderProfile,
  type ToolCall,
  type ToolSpec,
  type Usage,
} from './port.ts';
import { withRetries, type RetryPolicy } from './retry.ts';
import { cutSecret } from '../../kernel/redact.ts';

export interface GeminiOptions {
  /** Per attempt, when the request names none. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  onRetry?: (err: LlmError, delayMs: number, attempt: number) => void;
}

const DEFAULT_TIMEOUT_MS = 120_000;

type Json = Record<string, unknown>;
type Fail = (
  kind: LlmErrorKind,
  message: string,
  extra?: { retryAfterMs?: number | null },
) => LlmError;

export function createGeminiChatModel(
  profile: ProviderProfile,
  opts: GeminiOptions = {},
): ChatModel {
  const model = profile.model;
  // The SDK sends the key in the `x-goog-api-key` header, never in the URL, so
  // its error messages (which quote the URL) do not hold it; `cutSecret` is a
  // second guard for whatever text a server sends back.
  const key = profile.apiKey ?? '';
  const client: GenerativeModel = new GoogleGenerativeAI(key).getGenerativeModel(
    { model },
    profile.baseUrl ? { baseUrl: profile.baseUrl.replace(/\/+$/, '') } : {},
  );
  const fail: Fail = (kind, message, extra = {}) =>
    new LlmError(kind, 'gemini', cutSecret(message, key, 4), extra);

  async function attempt(body: Json, req: ChatRequest): Promise<ChatResponse> {
    // The SDK only listens for a later 'abort': a signal aborted already would
    // not stop the request, and the caller would be charged for an answer it gave up on.
    req.signal?.throwIfAborted();
    const timeoutMs = req.timeoutMs ?? opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    // One signal per attempt: the SDK hangs a listener on it that it never
    // removes, so it must not be the caller's long-lived signal.
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let response: GenerateContentResponse;
    try {
      // The body is built as plain JSON (the SDK's types are narrower than the
      // wire: no `thoughtSignature`, lower-case schema types); the SDK sends
      // it as is.
      response = (
        await client.generateContent(
          body as unknown as Parameters<GenerativeModel['generateContent']>[0],
          { signal },
        )
      ).response;
    } catch (err) {
      // The caller's abort wins: it is not a provider failure and must not be retried.
      if (req.signal?.aborted) throw req.signal.reason;
      if (timeout.aborted)
        throw fail('timeout', `Gemini model ${model} did not answer within ${timeoutMs} ms`);
      throw fromSdkError(err, model, fail);
    }
    return fromResponse(response, model, fail);
  }

  return {
    provider: 'gemini',
    model,
    async chat(req: ChatRequest): Promise<ChatResponse> {
      if (!profile.apiKey) throw fail('auth', `No API key is configured for Gemini model ${model}`);
      const body = toRequestBody(req.messages, req.tools);
      return withRetries(() => attempt(body, req), {
        ...(opts.retry ? { policy: opts.retry } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
      });
    },
  };
}

// ---------------------------------------------------------------- request

/** The `generateContent` body for a conversation. */
function toRequestBody(messages: ChatMessage[], tools: ToolSpec[]): Json {
  const system: Json[] = [];
  const contents: { role: string; parts: unknown[] }[] = [];
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        system.push({ text: m.content });
        break;
      case 'user':
        contents.push({ role: 'user', parts: [{ text: m.content }] });
        break;
      case 'assistant': {
        const parts =
          m.providerParts && m.providerParts.length > 0 ? m.providerParts : modelParts(m);
        // A turn with no parts is rejected by the API; an empty assistant turn says nothing anyway.
        if (parts.length > 0) contents.push({ role: 'model', parts });
        break;
      }
      case 'tool': {
        // The REST API takes function responses in a 'user' turn (the old
        // 'function' role is a v1beta leftover `@google/genai` no longer
        // uses). Responses to one turn's parallel calls go in one content, as
        // Gemini pairs them with that turn's function calls.
        const part = { functionResponse: { name: m.name, response: toolResponse(m.content) } };
        const last = contents[contents.length - 1];
        if (last && last.role === 'user' && last.parts.every(isFunctionResponse))
          last.parts.push(part);
        else contents.push({ role: 'user', parts: [part] });
        break;
      }
    }
  }
  const body: Json = { contents };
  if (system.length > 0) body['systemInstruction'] = { role: 'system', parts: system };
  if (tools.length > 0) body['tools'] = [{ functionDeclarations: tools.map(toDeclaration) }];
  return body;
}

/** Parts for an assistant turn that did not come from Gemini (or lost its parts). */
function modelParts(m: AssistantMessage): unknown[] {
  const parts: unknown[] = [];
  if (m.content) parts.push({ text: m.content });
  for (const call of m.toolCalls ?? [])
    parts.push({ functionCall: { name: call.name, args: callArgs(call) } });
  return parts;
}

/** Gemini wants args as an object; arguments that are not one are kept as text so the model sees what it sent. */
function callArgs(call: ToolCall): Json {
  const parsed = parseJson(call.arguments);
  return isObject(parsed) ? parsed : { _unparsed: call.arguments };
}

/** `response` must be a JSON object: tool output that is not one is wrapped. */
function toolResponse(content: string): Json {
  const parsed = parseJson(content);
  return isObject(parsed) ? parsed : { content };
}

function isFunctionResponse(part: unknown): boolean {
  return isObject(part) && 'functionResponse' in part;
}

function toDeclaration(tool: ToolSpec): Json {
  const decl: Json = { name: tool.name, description: tool.description };
  const parameters = toGeminiSchema(tool.parameters);
  // An OBJECT with no properties is rejected ("properties: should be non-empty
  // for OBJECT type"); a function without parameters leaves them unset.
  const props = parameters['properties'];
  if (isObject(props) && Object.keys(props).length > 0) decl['parameters'] = parameters;
  return decl;
}

/** The Schema keywords Gemini accepts (https://ai.google.dev/api/caching#Schema); anything else is dropped. */
const SCHEMA_KEYS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

/**
 * JSON Schema → Gemini's OpenAPI subset, recursively: unsupported keywords
 * (`additionalProperties`, `$schema`, `$ref`, …) are dropped, `oneOf` becomes
 * `anyOf`, and a `type` list with "null" becomes `nullable`.
 */
function toGeminiSchema(schema: unknown): Json {
  if (!isObject(schema)) return {};
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'oneOf' && !('anyOf' in schema)) {
      if (Array.isArray(v)) out['anyOf'] = v.map(toGeminiSchema);
      continue;
    }
    if (!SCHEMA_KEYS.has(k)) continue;
    if (k === 'properties' && isObject(v)) {
      // The keys here are parameter names, not keywords: keep them all.
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, toGeminiSchema(s)]));
    } else if (k === 'items') {
      out[k] = toGeminiSchema(v);
    } else if (k === 'anyOf' && Array.isArray(v)) {
      out[k] = v.map(toGeminiSchema);
    } else if (k === 'type' && Array.isArray(v)) {
      const types = v.filter((t) => t !== 'null');
      if (types.length < v.length) out['nullable'] = true;
      // Gemini's `type` is one type; a union of several has no exact mapping, so it is left open.
      if (types.length === 1) out['type'] = types[0];
    } else {
      out[k] = v;
    }
  }
  return out;
}

// ---------------------------------------------------------------- response

/** Finish reasons that mean the content was withheld, not cut short. */
const REFUSED = new Set([
  'SAFETY',
  'RECITATION',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'IMAGE_SAFETY',
  'LANGUAGE',
]);

function fromResponse(response: GenerateContentResponse, model: string, fail: Fail): ChatResponse {
  const raw = response as unknown as Json;
  const blocked = isObject(raw['promptFeedback'])
    ? raw['promptFeedback']['blockReason']
    : undefined;
  const candidate = Array.isArray(raw['candidates']) ? raw['candidates'][0] : undefined;
  if (typeof blocked === 'string' && blocked !== 'BLOCK_REASON_UNSPECIFIED') {
    throw fail('refused', `Gemini model ${model} blocked the prompt (${blocked})`);
  }
  if (!isObject(candidate))
    throw fail('invalid_response', `Gemini model ${model} returned no candidate`);
  const reason =
    typeof candidate['finishReason'] === 'string' ? candidate['finishReason'] : undefined;
  if (reason && REFUSED.has(reason))
    throw fail('refused', `Gemini model ${model} stopped its answer (${reason})`);

  const content = isObject(candidate['content']) ? candidate['content'] : {};
  const parts: unknown[] = Array.isArray(content['parts']) ? content['parts'] : [];
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const part of parts) {
    if (!isObject(part)) continue;
    // Thought summaries (`thought: true`) are the model's reasoning, not its answer.
    if (typeof part['text'] === 'string' && part['thought'] !== true) texts.push(part['text']);
    const fc = part['functionCall'];
    if (isObject(fc) && typeof fc['name'] === 'string') {
      // Gemini has no call ids (only some models send one): a stable id per
      // position; the tool message's `name` is what Gemini matches on.
      const id =
        typeof fc['id'] === 'string' && fc['id'] !== '' ? fc['id'] : `call_${toolCalls.length}`;
      toolCalls.push({ id, name: fc['name'], arguments: JSON.stringify(fc['args'] ?? {}) });
    }
  }
  if (parts.length === 0 && reason !== 'MAX_TOKENS') {
    throw fail(
      'invalid_response',
      `Gemini model ${model} returned an empty answer (${reason ?? 'no finish reason'})`,
    );
  }

  const message: AssistantMessage = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : null,
    // Verbatim, so `thoughtSignature` and anything else Gemini attached goes back unchanged.
    providerParts: parts,
  };
  if (toolCalls.length > 0) message.toolCalls = toolCalls;
  return {
    message,
    usage: usageOf(raw['usageMetadata']),
    model:
      typeof raw['modelVersion'] === 'string' && raw['modelVersion'] !== ''
        ? raw['modelVersion']
        : model,
    finishReason: finishOf(reason, toolCalls.length > 0),
  };
}

function finishOf(reason: string | undefined, calls: boolean): ChatResponse['finishReason'] {
  if (reason === 'MAX_TOKENS') return 'length';
  if (calls) return 'tool_calls';
  if (reason === undefined || reason === 'STOP') return 'stop';
  return 'other';
}

function usageOf(meta: unknown): Usage {
  const m = isObject(meta) ? meta : {};
  const num = (k: string) => (typeof m[k] === 'number' ? (m[k] as number) : 0);
  const inputTokens = num('promptTokenCount');
  // Thinking tokens are billed as output but not counted in candidatesTokenCount.
  const outputTokens = num('candidatesTokenCount') + num('thoughtsTokenCount');
  const total = num('totalTokenCount');
  return { inputTokens, outputTokens, totalTokens: total > 0 ? total : inputTokens + outputTokens };
}

// ---------------------------------------------------------------- errors

/** The SDK's failure → a typed LlmError. The SDK's own message is not reused: it quotes the request URL. */
function fromSdkError(err: unknown, model: string, fail: Fail): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof GoogleGenerativeAIFetchError && typeof err.status === 'number') {
    const status = err.status;
    const info = errorInfo(err);
    const said = serverMessage(err);
    const detail = `HTTP ${status}${info.reason ? ` ${info.reason}` : ''}${said ? `: ${said}` : ''}`;
    const badKey =
      (info.reason !== undefined && /API_KEY/.test(info.reason)) || /API key not valid/i.test(said);
    if (status === 401 || status === 403 || (status === 400 && badKey)) {
      return fail('auth', `Gemini rejected the API key for model ${model} (${detail})`);
    }
    if (status === 404) return fail('model_not_found', `Gemini has no model ${model} (${detail})`);
    if (status === 429)
      return fail('rate_limited', `Gemini rate-limited model ${model} (${detail})`, {
        retryAfterMs: info.retryDelayMs,
      });
    if (status === 408) return fail('timeout', `Gemini timed out on model ${model} (${detail})`);
    if (status >= 500)
      return fail('unavailable', `Gemini is unavailable for model ${model} (${detail})`);
    return fail('bad_request', `Gemini refused the request for model ${model} (${detail})`);
  }
  if (err instanceof SyntaxError)
    return fail('invalid_response', `Gemini model ${model} answered with invalid JSON`);
  // Anything else is the connection failing (refused, reset, DNS): worth another try.
  const why =
    err instanceof Error && err.cause instanceof Error
      ? err.cause.message
      : err instanceof Error
        ? 'network error'
        : String(err);
  return fail('unavailable', `Gemini could not be reached for model ${model} (${why})`);
}

/**
 * What Gemini says in `error.details`: the `ErrorInfo` reason (API_KEY_INVALID, …)
 * and the `RetryInfo` delay. The SDK does not expose response headers, so a
 * Retry-After header cannot be read; RetryInfo is where Gemini puts the wait.
 */
function errorInfo(err: GoogleGenerativeAIFetchError): {
  reason?: string;
  retryDelayMs: number | null;
} {
  let reason: string | undefined;
  let retryDelayMs: number | null = null;
  for (const d of Array.isArray(err.errorDetails) ? (err.errorDetails as unknown[]) : []) {
    if (!isObject(d)) continue;
    if (typeof d['reason'] === 'string' && reason === undefined) reason = d['reason'];
    if (typeof d['retryDelay'] === 'string') retryDelayMs = durationMs(d['retryDelay']);
  }
  return reason === undefined ? { retryDelayMs } : { reason, retryDelayMs };
}

/** A protobuf Duration in JSON ("37s", "0.250s") in ms; null when unreadable. */
function durationMs(d: string): number | null {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(d.trim());
  return m ? Math.round(Number(m[1]) * 1000) : null;
}

/** The server's own words from the SDK message, without the URL the SDK puts before them, and short. */
function serverMessage(err: GoogleGenerativeAIFetchError): string {
  const m = /\] (.*)$/s.exec(err.message);
  const text = (m?.[1] ?? '').replace(/ \[\{.*$/s, '').trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
