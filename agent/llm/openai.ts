/**
 * The chat port over the `openai` SDK, for OpenAI, Azure OpenAI, Ollama and
 * any OpenAI-compatible server. The SDK's own retries are off: retries go
 * through `withRetries`, so the policy and Retry-After handling are ours and
 * the same for every provider. Every failure leaves here as an `LlmError`
 * (or, when the caller aborted, as the caller's abort reason), and no message
 * ever holds the API key.
 */
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AzureOpenAI,
} from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import {
  LlmError,
  type AssistantMessage,
  type ChatMessage,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ProviderKind,
  type ProviderProfile,
  type ToolCall,
  type ToolSpec,
} from './port.ts';
import { retryAfterMs, withRetries, type RetryPolicy } from './retry.ts';
import { isInternalHost } from '../../kernel/hosts.ts';
import { cutSecret } from '../../kernel/redact.ts';

export type OpenAIProviderKind = Exclude<ProviderKind, 'gemini'>;

export interface OpenAIChatModelOptions {
  /** Per attempt, when the request names none. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  onRetry?: (err: LlmError, delayMs: number, attempt: number) => void;
}

export const DEFAULT_TIMEOUT_MS = 120_000;
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const OLLAMA_BASE_URL = 'http://127.0.0.1:11434/v1';
/** Ollama ignores the key, but the SDK refuses to start without one. */
const OLLAMA_PLACEHOLDER_KEY = 'ollama';

export function createOpenAIChatModel(
  profile: ProviderProfile,
  opts: OpenAIChatModelOptions = {},
): ChatModel {
  const provider = profile.provider;
  if (provider === 'gemini')
    throw new LlmError(
      'bad_request',
      provider,
      'gemini: not an OpenAI-style provider; use the Gemini adapter',
    );
  const defaultTimeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = makeClient(provider, profile, defaultTimeoutMs);
  const ctx: ErrorContext = {
    provider,
    model: profile.model,
    deployment: profile.deployment,
    apiKey: profile.apiKey,
    origin: originOf(client.baseURL),
    internal: isInternalOrigin(client.baseURL),
  };

  return {
    provider,
    model: profile.model,
    async chat(req: ChatRequest): Promise<ChatResponse> {
      const body = toRequestBody(profile.model, req);
      const timeoutMs = Math.max(1, Math.round(req.timeoutMs ?? defaultTimeoutMs));
      return withRetries(
        async () => {
          const timeout = AbortSignal.timeout(timeoutMs);
          const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
          let completion: ChatCompletion;
          try {
            // `timeout` too, so the SDK's own clock never cuts an attempt shorter than ours.
            completion = await client.chat.completions.create(body, { signal, timeout: timeoutMs });
          } catch (err) {
            // The caller gave up: not a provider failure, and never retried.
            if (req.signal?.aborted) throw req.signal.reason;
            throw toLlmError(err, ctx, timeout.aborted, timeoutMs);
          }
          try {
            return toResponse(completion, ctx);
          } catch (err) {
            // A 200 that is not a completion at all: on an internal address, the same words as any other failure.
            // (A completion with a bad tool call in it is a model server's answer: its words stand.)
            const completionShaped =
              isObject(completion) && Array.isArray((completion as { choices?: unknown }).choices);
            throw ctx.internal &&
              err instanceof LlmError &&
              err.kind === 'invalid_response' &&
              !completionShaped
              ? internalFailure(ctx, err)
              : err;
          }
        },
        { policy: opts.retry, signal: req.signal, onRetry: opts.onRetry },
      );
    },
  };
}

function makeClient(
  provider: OpenAIProviderKind,
  profile: ProviderProfile,
  timeout: number,
): OpenAI {
  // Every option is passed explicitly: left undefined, the SDK would read
  // OPENAI_API_KEY / OPENAI_BASE_URL / AZURE_OPENAI_* from the environment
  // and quietly talk to somewhere the profile never named.
  const common = { maxRetries: 0, timeout };
  if (provider === 'azure') {
    if (!profile.baseUrl)
      throw new LlmError('bad_request', provider, 'azure: the endpoint (baseUrl) is required');
    if (!profile.apiVersion)
      throw new LlmError('bad_request', provider, 'azure: apiVersion is required');
    if (!profile.apiKey) throw new LlmError('auth', provider, 'azure: no API key is configured');
    return new AzureOpenAI({
      ...common,
      endpoint: profile.baseUrl,
      apiKey: profile.apiKey,
      apiVersion: profile.apiVersion,
      // Without one the SDK puts the model name in the path, which is what Azure expects then.
      deployment: profile.deployment ?? profile.model,
    });
  }
  if (provider === 'ollama') {
    return new OpenAI({
      ...common,
      apiKey: profile.apiKey || OLLAMA_PLACEHOLDER_KEY,
      baseURL: profile.baseUrl ?? OLLAMA_BASE_URL,
    });
  }
  if (provider === 'openai-compatible') {
    if (!profile.baseUrl)
      throw new LlmError('bad_request', provider, 'openai-compatible: baseUrl is required');
    // Local servers (vLLM, llama.cpp, LM Studio) often need no key.
    return new OpenAI({ ...common, apiKey: profile.apiKey || 'none', baseURL: profile.baseUrl });
  }
  if (!profile.apiKey) throw new LlmError('auth', provider, 'openai: no API key is configured');
  return new OpenAI({
    ...common,
    apiKey: profile.apiKey,
    baseURL: profile.baseUrl ?? OPENAI_BASE_URL,
  });
}

function toRequestBody(model: string, req: ChatRequest): ChatCompletionCreateParamsNonStreaming {
  const body: ChatCompletionCreateParamsNonStreaming = {
    model,
    messages: req.messages.map(toMessageParam),
  };
  // OpenAI rejects `tool_choice` without tools, and an empty `tools` array.
  if (req.tools.length > 0) {
    body.tools = req.tools.map(toToolParam);
    body.tool_choice = 'auto';
  }
  return body;
}

function toMessageParam(m: ChatMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: m.content };
    case 'user':
      return { role: 'user', content: m.content };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant': {
      const calls = m.toolCalls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: m.content ?? '' };
      return {
        role: 'assistant',
        content: m.content,
        tool_calls: calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        })),
      };
    }
  }
}

function toToolParam(t: ToolSpec): ChatCompletionTool {
  return {
    type: 'function',
    function: { name: t.name, description: t.description, parameters: t.parameters },
  };
}

interface ErrorContext {
  provider: OpenAIProviderKind;
  model: string;
  deployment: string | undefined;
  apiKey: string | undefined;
  /** Scheme, host and port of the base URL: enough to tell which server failed, without any path or query secrets. */
  origin: string;
  /** The base URL is on loopback or a private network (kernel/hosts.ts): failures there read alike. */
  internal: boolean;
}

function toResponse(completion: ChatCompletion, ctx: ErrorContext): ChatResponse {
  // The SDK hands back whatever parsed (text, when the server did not say JSON), so nothing below is taken on trust.
  const raw: unknown = completion;
  const choice =
    isObject(raw) && Array.isArray(raw.choices) ? (raw.choices[0] as unknown) : undefined;
  if (!isObject(choice) || !isObject(choice.message)) {
    throw new LlmError(
      'invalid_response',
      ctx.provider,
      `${ctx.provider}: ${ctx.model} answered without a choice`,
    );
  }
  const msg = choice.message;
  if (typeof msg.refusal === 'string' && msg.refusal !== '') {
    throw new LlmError(
      'refused',
      ctx.provider,
      `${ctx.provider}: ${ctx.model} refused: ${cutSecret(msg.refusal, ctx.apiKey)}`,
    );
  }
  if (msg.content !== undefined && msg.content !== null && typeof msg.content !== 'string') {
    throw new LlmError(
      'invalid_response',
      ctx.provider,
      `${ctx.provider}: ${ctx.model} sent message content that is not text`,
    );
  }
  const toolCalls = toToolCalls(msg.tool_calls, ctx);
  const message: AssistantMessage = { role: 'assistant', content: msg.content ?? null };
  if (toolCalls.length > 0) message.toolCalls = toolCalls;
  return {
    message,
    usage: toUsage(completion.usage),
    model:
      typeof completion.model === 'string' && completion.model !== ''
        ? completion.model
        : ctx.model,
    finishReason: toFinishReason(choice.finish_reason, toolCalls.length > 0),
  };
}

function toToolCalls(raw: unknown, ctx: ErrorContext): ToolCall[] {
  if (raw === undefined || raw === null) return [];
  const bad = (why: string) =>
    new LlmError(
      'invalid_response',
      ctx.provider,
      `${ctx.provider}: ${ctx.model} sent a malformed tool call (${why})`,
    );
  if (!Array.isArray(raw)) throw bad('tool_calls is not a list');
  return raw.map((c: unknown): ToolCall => {
    if (!isObject(c) || !isObject(c.function)) throw bad('not a function call');
    const { name, arguments: args } = c.function;
    if (typeof c.id !== 'string' || c.id === '') throw bad('no id');
    if (typeof name !== 'string' || name === '') throw bad('no function name');
    // Arguments stay verbatim, even invalid JSON: the tool layer reports that back to the model.
    return { id: c.id, name, arguments: typeof args === 'string' ? args : '' };
  });
}

function toUsage(u: ChatCompletion['usage']): ChatResponse['usage'] {
  const inputTokens = num(u?.prompt_tokens);
  const outputTokens = num(u?.completion_tokens);
  return {
    inputTokens,
    outputTokens,
    totalTokens: u?.total_tokens !== undefined ? num(u.total_tokens) : inputTokens + outputTokens,
  };
}

function toFinishReason(reason: unknown, hasToolCalls: boolean): ChatResponse['finishReason'] {
  // Some compatible servers (older Ollama among them) say 'stop' while
  // calling tools; what the turn holds is what the caller acts on.
  if (hasToolCalls && (reason === 'stop' || reason === null || reason === undefined))
    return 'tool_calls';
  switch (reason) {
    case 'stop':
    case 'length':
    case 'tool_calls':
      return reason;
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'refusal';
    default:
      return 'other';
  }
}

/**
 * Maps anything the SDK threw to an `LlmError`. For a model server on this
 * machine or a private network, whatever else answered there (or nothing)
 * keeps its kind (and so its retries) but reads the same, so the error
 * cannot be used to map which ports are open.
 */
function toLlmError(
  err: unknown,
  ctx: ErrorContext,
  timedOut: boolean,
  timeoutMs: number,
): LlmError {
  const mapped = describe(err, ctx, timedOut, timeoutMs);
  return ctx.internal && !speaksOpenAI(err) && mapped !== err
    ? internalFailure(ctx, mapped)
    : mapped;
}

/** `toLlmError` before the internal rule; `timedOut` says our own per-attempt clock ran out. */
function describe(err: unknown, ctx: ErrorContext, timedOut: boolean, timeoutMs: number): LlmError {
  const { provider, model } = ctx;
  if (err instanceof LlmError) return err;
  // Checked before the error's class: our clock aborts the request, which the SDK reports as a user abort.
  if (timedOut || err instanceof APIConnectionTimeoutError) {
    return new LlmError(
      'timeout',
      provider,
      `${provider}: ${model} did not answer within ${timeoutMs} ms`,
    );
  }
  if (err instanceof APIConnectionError) {
    return new LlmError(
      'unavailable',
      provider,
      `${provider}: could not connect to ${ctx.origin}${connectionCode(err)}`,
    );
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    const said = providerMessage(err, ctx.apiKey);
    // The SDK error is never kept as `cause`: it holds the provider's raw
    // body, and some servers echo the key they were sent in it.
    if (status === 401 || status === 403) {
      return new LlmError('auth', provider, `${provider}: the API key was rejected (${status})`);
    }
    if (status === 404) {
      const what =
        provider === 'azure' ? `deployment '${ctx.deployment ?? model}'` : `model '${model}'`;
      return new LlmError(
        'model_not_found',
        provider,
        `${provider}: ${what} was not found at ${ctx.origin} (404)${said}`,
      );
    }
    if (status === 429) {
      // Quota exhaustion is also a 429, but no wait will cure it.
      const quota = err.code === 'insufficient_quota';
      return new LlmError(
        'rate_limited',
        provider,
        `${provider}: ${quota ? 'quota exhausted' : 'rate limited'} (429)${said}`,
        {
          retryable: !quota,
          retryAfterMs: retryAfterMs(err.headers),
        },
      );
    }
    if (status === 408)
      return new LlmError(
        'timeout',
        provider,
        `${provider}: ${model} timed out on the server (408)${said}`,
      );
    // 409 is what OpenAI answers on lock contention; like 5xx, a later attempt may pass.
    if (status === 409 || status >= 500) {
      return new LlmError(
        'unavailable',
        provider,
        `${provider}: the service failed (${status})${said}`,
        {
          retryable: true,
          retryAfterMs: retryAfterMs(err.headers),
        },
      );
    }
    return new LlmError(
      'bad_request',
      provider,
      `${provider}: the request was refused as invalid (${status})${said}`,
    );
  }
  if (err instanceof SyntaxError) {
    return new LlmError(
      'invalid_response',
      provider,
      `${provider}: ${model} sent a body that is not valid JSON`,
    );
  }
  const name = err instanceof Error ? err.name : typeof err;
  return new LlmError(
    'invalid_response',
    provider,
    `${provider}: the call to ${model} failed unexpectedly (${name}: ${cutSecret(err instanceof Error ? err.message : String(err), ctx.apiKey)})`,
  );
}

/** `err`'s kind and retries, in the words every failure at an internal address gets. */
function internalFailure(ctx: ErrorContext, err: LlmError): LlmError {
  return new LlmError(
    err.kind,
    ctx.provider,
    `${ctx.provider}: no model server answered at ${ctx.origin} as one should (on loopback and private addresses every failure reads the same, so that it does not tell which ports are open)`,
    { retryable: err.retryable, retryAfterMs: err.retryAfterMs },
  );
}

function isInternalOrigin(baseURL: string): boolean {
  try {
    return isInternalHost(new URL(baseURL).hostname);
  } catch {
    return false;
  }
}

/** An HTTP error whose body is an OpenAI-style `{"error": {"message": …}}`: a model server's own answer. */
function speaksOpenAI(err: unknown): boolean {
  if (!(err instanceof APIError) || typeof err.status !== 'number') return false;
  const body = err.error;
  return isObject(body) && typeof body.message === 'string';
}

/** The provider's own error text, as `: text`; safe to show once any copy of the key is cut out. */
function providerMessage(err: APIError, apiKey: string | undefined): string {
  const body = err.error;
  const text = isObject(body) && typeof body.message === 'string' ? body.message.trim() : '';
  return text === '' ? '' : `: ${cutSecret(text, apiKey)}`;
}

/** `(ECONNREFUSED)` and the like, from the fetch error under the SDK's. */
function connectionCode(err: APIConnectionError): string {
  for (let e: unknown = err.cause, depth = 0; isObject(e) && depth < 4; e = e.cause, depth++) {
    if (typeof e.code === 'string' && /^[A-Z_]+$/.test(e.code)) return ` (${e.code})`;
  }
  return '';
}

function originOf(baseURL: string): string {
  try {
    return new URL(baseURL).origin;
  } catch {
    return 'the configured base URL';
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
