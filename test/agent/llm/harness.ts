import type { ChatModel } from '../../../agent/llm/port.ts';
import type { RetryPolicy } from '../../../agent/llm/retry.ts';

/**
 * How every harness builds its models: retries fast enough for a test, a
 * ceiling on waits high enough to honour any delay the contract scripts, and a
 * per-attempt timeout generous for a local server on a busy machine (the
 * contract's hangs name their own, shorter, `timeoutMs`).
 */
export const CONTRACT_MODEL_OPTIONS: { timeoutMs: number; retry: RetryPolicy } = {
  timeoutMs: 10_000,
  retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 30_000 },
};

/** A tool call as a server sends it; `arguments` is a JSON object's text, which every provider can send. */
export interface ScriptedCall {
  name: string;
  arguments: string;
}

/** Token counts in the port's terms; each harness encodes them in its provider's fields. */
export interface ScriptedUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/**
 * What the server answers to the next request, in provider-neutral terms. Each
 * harness turns it into its provider's body and status, as that provider
 * would send it.
 */
export type ScriptedReply =
  | {
      kind: 'answer';
      text?: string;
      toolCalls?: ScriptedCall[];
      /** `null`: the answer carries no usage at all; absent: whatever the harness likes. */
      usage?: ScriptedUsage | null;
      /** The model the server says answered; absent: the server's default. */
      servedBy?: string;
      /** The answer stopped at the output token limit. */
      cutShort?: boolean;
    }
  /** The model declined to answer (a refusal, a safety stop), with a 200. */
  | { kind: 'refusal' }
  /** How the provider rejects a key, echoing the key it was sent (as some servers do). */
  | { kind: 'rejected_key' }
  /** How the provider answers for a model it does not have; the body does not name the model. */
  | { kind: 'unknown_model' }
  /** An HTTP failure with the provider's error body around `message`; `retryAfterMs` is said the provider's way. */
  | { kind: 'http_error'; status: 400 | 429 | 500 | 503; message: string; retryAfterMs?: number }
  /** A 200 whose body is not JSON (a proxy's login page, a truncated answer). */
  | { kind: 'garbage' }
  /** No answer at all: the connection stays open until the client gives up. */
  | { kind: 'hang' };

/** A message as the server received it, decoded from the provider's wire form. */
export type WireMessage =
  | { role: 'system' | 'user'; text: string }
  /** `text` is null when the turn had none; arguments are the text the model will see. */
  | { role: 'assistant'; text: string | null; toolCalls: ScriptedCall[] }
  /** `name` is the tool of the call this result answers, however the provider pairs them (id or name). */
  | { role: 'tool'; name: string | undefined; content: string };

/** One request the server received, decoded. */
export interface WireRequest {
  /** The credential the request carried (bearer token, `api-key`, `x-goog-api-key`). */
  credential: string | undefined;
  messages: WireMessage[];
  /** The names of the tools offered, in order; empty when none were. */
  tools: string[];
  /** `Date.now()` when it arrived. */
  at: number;
}

/**
 * One provider adapter under the chat model contract: a model built the way
 * the runtime builds it (through `chatModelFor`, with CONTRACT_MODEL_OPTIONS)
 * and the local server it talks to, scripted and read in neutral terms.
 */
export interface LlmHarness {
  model: ChatModel;
  /** The key `model` was built with and the server accepts. */
  apiKey: string;
  /** Queues what the server answers next, one reply per request, in order. */
  reply(...replies: ScriptedReply[]): void;
  /** Everything the server received so far, oldest first. */
  requests(): WireRequest[];
  /** Replies still queued. */
  pending(): number;
  /** A model built like `model`, aimed at a port where nothing listens. */
  unreachableModel(): Promise<ChatModel>;
  close(): Promise<void>;
}
