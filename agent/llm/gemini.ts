/**
 * The Gemini adapter: maps the LLM port onto Google's `generateContent`,
 * through `@google/genai` (the successor of the deprecated
 * `@google/generative-ai`).
 *
 * This is the ONLY file that imports `@google/genai`, and it loads it on the
 * first call, not at start: the SDK (with google-auth-library, ws and
 * protobufjs) takes about 0.1 s to load, which a node that never talks to
 * Gemini should not pay.
 *
 * What the wire needs, and why it is done here:
 * - Assistant turns that came from Gemini are sent back as the exact parts
 *   Gemini returned (`providerParts`): newer models attach `thoughtSignature`
 *   to parts and reject a multi-turn tool conversation that drops it.
 * - Gemini has no tool-call ids; a function response is matched by function
 *   name (and order), so the tool message's `name` is what goes on the wire.
 * - Function parameters are an OpenAPI subset of JSON Schema; keywords outside
 *   it make the whole request fail with 400, so they are stripped.
 * - The SDK's own retries (off unless asked for) stay off, and so does its
 *   automatic continuation (a second request on finish reason CONTINUATION):
 *   `withRetries` does the retries, one abortable request per attempt.
 * - Every client option is passed explicitly: left unset, the SDK reads
 *   GOOGLE_GENAI_USE_VERTEXAI (and would switch to Vertex AI with Google
 *   Cloud credentials), GOOGLE_GEMINI_BASE_URL, GOOGLE_GENAI_API_VERSION and
 *   GOOGLE_API_KEY / GEMINI_API_KEY from the environment, and would talk to
 *   somewhere the profile never named.
 */
import type { ApiError, GenerateContentParameters, GoogleGenAI } from '@google/genai';
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
import { isInternalHost } from '../../kernel/hosts.ts';
import { cutSecret } from '../../kernel/redact.ts';

export interface GeminiOptions {
  /** Per attempt, when the request names none. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  onRetry?: (err: LlmError, delayMs: number, attempt: number) => void;
}

const DEFAULT_TIMEOUT_MS = 120_000;
export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com';
/** The REST version the adapter speaks (the SDK's own default is v1). */
const API_VERSION = 'v1beta';

type Json = Record<string, unknown>;
type Fail = (
  kind: LlmErrorKind,
  message: string,
  extra?: { retryAfterMs?: number | null; retryable?: boolean },
) => LlmError;
type Sdk = typeof import('@google/genai');

let sdkLoaded: Promise<Sdk> | undefined;
/** `@google/genai`, imported once, on the first call that needs it. */
function loadSdk(): Promise<Sdk> {
  sdkLoaded ??= import('@google/genai').catch((err: unknown) => {
    sdkLoaded = undefined;
    throw err;
  });
  return sdkLoaded;
}

export function createGeminiChatModel(
  profile: ProviderProfile,
  opts: GeminiOptions = {},
): ChatModel {
  const model = profile.model;
  // The SDK sends the key in the `x-goog-api-key` header, never in the URL,
  // and its error messages are the server's JSON body (no URL); `cutSecret`
  // is the guard for whatever text a server sends back.
  const key = profile.apiKey ?? '';
  const baseUrl = (profile.baseUrl ?? GEMINI_BASE_URL).replace(/\/+$/, '');
  const { origin, internal } = (() => {
    try {
      const u = new URL(baseUrl);
      return { origin: u.origin, internal: isInternalHost(u.hostname) };
    } catch {
      return { origin: 'the configured base URL', internal: false };
    }
  })();
  const fail: Fail = (kind, message, extra = {}) =>
    new LlmError(kind, 'gemini', cutSecret(message, key, 4), extra);

  // Built on the first call (the SDK loads then), and only with a key: without
  // one the SDK would fall back to the environment's key or Google Cloud credentials.
  let client: Promise<{ ai: GoogleGenAI; sdk: Sdk }> | undefined;
  const connect = () => {
    client ??= loadSdk().then(
      (sdk) => ({
        sdk,
        ai: new sdk.GoogleGenAI({
          vertexai: false,
          apiKey: key,
          apiVersion: API_VERSION,
          httpOptions: { baseUrl },
        }),
      }),
      (err: unknown) => {
        client = undefined;
        throw fail(
          'unavailable',
          `the Gemini SDK (@google/genai) could not be loaded: ${err instanceof Error ? err.message : String(err)}`,
          { retryable: false },
        );
      },
    );
    return client;
  };

  async function attempt(req: ChatRequest): Promise<ChatResponse> {
    // A signal aborted already: nothing is sent, and the caller is not charged for an answer it gave up on.
    req.signal?.throwIfAborted();
    const { ai, sdk } = await connect();
    req.signal?.throwIfAborted();
    const timeoutMs = req.timeoutMs ?? opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    // One signal per attempt, not the caller's long-lived one: the SDK hangs
    // a listener on it for the attempt.
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let response: unknown;
    try {
      // The request is built afresh for each attempt: the SDK rewrites the
      // function declarations' schemas in place.
      response = await ai.models.generateContent(toParams(model, req, signal));
    } catch (err) {
      // The caller's abort wins: it is not a provider failure and must not be retried.
      if (req.signal?.aborted) throw req.signal.reason;
      const mapped = timeout.aborted
        ? fail('timeout', `Gemini model ${model} did not answer within ${timeoutMs} ms`)
        : fromSdkError(err, sdk.ApiError, model, fail);
      // A base URL on loopback or a private network (kernel/hosts.ts): whatever answered there
      // that is not a Google-style error body reads the same, so ports cannot be mapped with it.
      // Google's own error bodies carry a canonical status (NOT_FOUND); the SDK wraps any other
      // body in the same shape with the HTTP status text ("Not Found").
      const googleSaid =
        err instanceof sdk.ApiError &&
        typeof err.status === 'number' &&
        /^[A-Z_]+$/.test(String(errorBody(err)['status'] ?? ''));
      // (A request the SDK refused to build never left this process: its words stand.)
      const sent =
        timeout.aborted ||
        err instanceof TypeError ||
        err instanceof SyntaxError ||
        err instanceof sdk.ApiError;
      if (internal && sent && !googleSaid)
        throw new LlmError(
          mapped.kind,
          'gemini',
          `gemini: no model server answered at ${origin} as one should (on loopback and private addresses every failure reads the same, so that it does not tell which ports are open)`,
          { retryable: mapped.retryable, retryAfterMs: mapped.retryAfterMs },
        );
      throw mapped;
    }
    return fromResponse(response, model, fail);
  }

  return {
    provider: 'gemini',
    model,
    async chat(req: ChatRequest): Promise<ChatResponse> {
      if (!profile.apiKey) throw fail('auth', `No API key is configured for Gemini model ${model}`);
      return withRetries(() => attempt(req), {
        ...(opts.retry ? { policy: opts.retry } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
      });
    },
  };
}

// ---------------------------------------------------------------- request

/**
 * The SDK's `generateContent` parameters for a conversation: what goes on the
 * wire is `contents`, and `systemInstruction` and `tools` beside them (the
 * SDK moves them out of `config`).
 */
function toParams(model: string, req: ChatRequest, signal: AbortSignal): GenerateContentParameters {
  const { contents, systemInstruction, tools } = toRequestBody(req.messages, req.tools);
  const config: Json = { abortSignal: signal, automaticContinuation: false };
  if (systemInstruction) config['systemInstruction'] = systemInstruction;
  if (tools) config['tools'] = tools;
  // Plain JSON: the SDK's types are narrower than the wire (`providerParts`
  // are whatever Gemini sent); the SDK copies the fields it knows.
  return { model, contents, config } as unknown as GenerateContentParameters;
}

/** The request body's parts for a conversation. */
function toRequestBody(
  messages: ChatMessage[],
  tools: ToolSpec[],
): { contents: Json[]; systemInstruction?: Json; tools?: Json[] } {
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
        // The REST API takes function responses in a 'user' turn (not the
        // old 'function' role). Responses to one turn's parallel calls go in
        // one content, as Gemini pairs them with that turn's function calls.
        const part = { functionResponse: { name: m.name, response: toolResponse(m.content) } };
        const last = contents[contents.length - 1];
        if (last && last.role === 'user' && last.parts.every(isFunctionResponse))
          last.parts.push(part);
        else contents.push({ role: 'user', parts: [part] });
        break;
      }
    }
  }
  return {
    contents,
    ...(system.length > 0 ? { systemInstruction: { role: 'system', parts: system } } : {}),
    ...(tools.length > 0 ? { tools: [{ functionDeclarations: tools.map(toDeclaration) }] } : {}),
  };
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
 * `anyOf`, a `type` list with "null" becomes `nullable`, and a type is named
 * as Gemini's `Type` enum names it (`OBJECT`, `STRING`, …). Gemini takes a
 * `type` or an `anyOf`, not both (the SDK throws on both): the `type` is kept.
 */
function toGeminiSchema(schema: unknown): Json {
  if (!isObject(schema)) return {};
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'oneOf' && !('anyOf' in schema)) {
      if (Array.isArray(v)) alternatives(v, out);
      continue;
    }
    if (!SCHEMA_KEYS.has(k)) continue;
    if (k === 'properties' && isObject(v)) {
      // The keys here are parameter names, not keywords: keep them all.
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, toGeminiSchema(s)]));
    } else if (k === 'items') {
      out[k] = toGeminiSchema(v);
    } else if (k === 'anyOf' && Array.isArray(v)) {
      alternatives(v, out);
    } else if (k === 'type') {
      const list: unknown[] = Array.isArray(v) ? v : [v];
      const types = list.filter((t): t is string => typeof t === 'string' && t !== 'null');
      if (types.length < list.length) out['nullable'] = true;
      // Gemini's `type` is one type; a union of several has no exact mapping, so it is left open.
      if (types.length === 1) out['type'] = types[0]!.toUpperCase();
    } else {
      out[k] = v;
    }
  }
  if ('type' in out) delete out['anyOf'];
  return out;
}

/** `anyOf` (or `oneOf`) into `out`: a "null" alternative is `nullable`, the others are converted. */
function alternatives(list: unknown[], out: Json): void {
  const isNull = (s: unknown) =>
    isObject(s) &&
    (s['type'] === 'null' || (Array.isArray(s['type']) && s['type'].every((t) => t === 'null')));
  if (list.some(isNull)) out['nullable'] = true;
  out['anyOf'] = list.filter((s) => !isNull(s)).map(toGeminiSchema);
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

function fromResponse(response: unknown, model: string, fail: Fail): ChatResponse {
  const raw: Json = isObject(response) ? response : {};
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
    // As Gemini sent them, so `thoughtSignature` goes back unchanged (the SDK
    // sends back the Part fields it knows, thoughtSignature among them).
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

/**
 * The SDK's failure → a typed LlmError. An HTTP error is an `ApiError` whose
 * message is the server's JSON error body (`{error:{code,message,status,details}}`);
 * only the parts of it that say what went wrong are reused, cut short.
 */
function fromSdkError(
  err: unknown,
  apiError: Sdk['ApiError'],
  model: string,
  fail: Fail,
): LlmError {
  if (err instanceof LlmError) return err;
  if (err instanceof apiError && typeof err.status === 'number') {
    const status = err.status;
    const body = errorBody(err);
    const info = errorInfo(body);
    const said = serverMessage(body);
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
  // fetch fails with a TypeError when the connection does (refused, reset,
  // DNS, a body cut off): worth another try.
  if (err instanceof TypeError || !(err instanceof Error)) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
    const code = isObject(cause) && typeof cause['code'] === 'string' ? cause['code'] : '';
    const why = cause?.message || code || (err instanceof Error ? 'network error' : String(err));
    return fail('unavailable', `Gemini could not be reached for model ${model} (${why})`);
  }
  // A plain Error is the SDK refusing to build the request (a model name it
  // will not put in a URL, a schema it cannot convert): nothing was sent, and
  // another attempt would fail the same way.
  return fail(
    'bad_request',
    `the Gemini SDK refused the request for model ${model} (${short(err.message)})`,
  );
}

/** The `error` object of the JSON body the SDK put in an `ApiError`'s message; {} when it is not one. */
function errorBody(err: ApiError): Json {
  const parsed = parseJson(err.message);
  return isObject(parsed) && isObject(parsed['error']) ? parsed['error'] : {};
}

/**
 * What Gemini says in `error.details`: the `ErrorInfo` reason (API_KEY_INVALID, …)
 * and the `RetryInfo` delay. The SDK does not expose an error's response
 * headers, so a Retry-After header cannot be read; RetryInfo is where Gemini
 * puts the wait.
 */
function errorInfo(body: Json): {
  reason?: string;
  retryDelayMs: number | null;
} {
  let reason: string | undefined;
  let retryDelayMs: number | null = null;
  for (const d of Array.isArray(body['details']) ? (body['details'] as unknown[]) : []) {
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

/** The server's own words (`error.message`), short. */
function serverMessage(body: Json): string {
  return typeof body['message'] === 'string' ? short(body['message']) : '';
}

function short(text: string): string {
  const t = text.trim();
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
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
