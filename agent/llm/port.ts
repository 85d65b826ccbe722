/**
 * The LLM port: one chat call with tools, whatever the provider. Adapters
 * (`openai.ts` for OpenAI, Azure OpenAI, Ollama and any OpenAI-compatible
 * base URL; `gemini.ts` for Gemini) map it to their SDK and back, and map
 * every failure to an `LlmError` whose message never holds a key.
 */
import { AppError, type ErrorCode } from '../../kernel/errors.ts';

export type ProviderKind = 'openai' | 'azure' | 'ollama' | 'openai-compatible' | 'gemini';

/** Price per million tokens, for cost; a profile may override the built-in table. */
export interface Prices {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** What an adapter needs to reach a model. `apiKey` is a secret: never logged, never persisted in a snapshot. */
export interface ProviderProfile {
  provider: ProviderKind;
  model: string;
  apiKey?: string;
  /** OpenAI-compatible and Ollama base URL (`…/v1`); Azure endpoint (`https://x.openai.azure.com`); Gemini: an override for tests. */
  baseUrl?: string;
  /** Azure only. */
  apiVersion?: string;
  /** Azure only: the deployment name (in the URL path). */
  deployment?: string;
  prices?: Prices;
}

/** An OpenAI-style function the model may call. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments (an object schema). */
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as the model sent them (JSON text, possibly invalid). */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      toolCalls?: ToolCall[];
      /**
       * The provider's own representation of this turn, kept verbatim and sent
       * back as is (Gemini's parts, `thoughtSignature` included). JSON-safe.
       */
      providerParts?: unknown[];
    }
  | { role: 'tool'; toolCallId: string; name: string; content: string };

export type AssistantMessage = Extract<ChatMessage, { role: 'assistant' }>;

export interface ChatRequest {
  messages: ChatMessage[];
  tools: ToolSpec[];
  /** Aborts the call (and its retries). */
  signal?: AbortSignal;
  /** Per attempt; the adapter's default when absent. */
  timeoutMs?: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface ChatResponse {
  message: AssistantMessage;
  usage: Usage;
  /** The model that answered, as the provider names it. */
  model: string;
  finishReason: 'stop' | 'tool_calls' | 'length' | 'refusal' | 'other';
}

export interface ChatModel {
  readonly provider: ProviderKind;
  readonly model: string;
  chat(req: ChatRequest): Promise<ChatResponse>;
}

export type LlmErrorKind =
  | 'auth'
  | 'model_not_found'
  | 'refused'
  | 'rate_limited'
  | 'timeout'
  | 'bad_request'
  | 'unavailable'
  | 'invalid_response';

const STATUS: Record<LlmErrorKind, number> = {
  auth: 502,
  model_not_found: 502,
  refused: 502,
  rate_limited: 503,
  timeout: 504,
  bad_request: 502,
  unavailable: 503,
  invalid_response: 502,
};

/**
 * A provider failure, typed. The message is safe to show on the session (it
 * names the provider and model, never the key); `retryable` says whether a
 * later attempt may succeed.
 */
export class LlmError extends AppError {
  readonly kind: LlmErrorKind;
  readonly retryable: boolean;
  readonly provider: ProviderKind;
  /** The provider's Retry-After, when it sent one. */
  readonly retryAfterMs: number | null;

  constructor(
    kind: LlmErrorKind,
    provider: ProviderKind,
    message: string,
    opts: { retryable?: boolean; retryAfterMs?: number | null; cause?: unknown } = {},
  ) {
    super(`llm_${kind}` as ErrorCode, STATUS[kind], message, { expose: true, cause: opts.cause });
    this.name = 'AppError';
    this.kind = kind;
    this.provider = provider;
    this.retryable =
      opts.retryable ?? (kind === 'rate_limited' || kind === 'unavailable' || kind === 'timeout');
    this.retryAfterMs = opts.retryAfterMs ?? null;
  }
}
