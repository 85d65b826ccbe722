/**
 * The model adapter a profile's provider needs: Gemini through its own
 * adapter, every other provider (OpenAI, Azure, Ollama, OpenAI-compatible)
 * through the OpenAI one. And a profile's connection check: one tiny real call.
 */
import { isAppError } from '../../kernel/errors.ts';
import { createGeminiChatModel } from './gemini.ts';
import { createOpenAIChatModel } from './openai.ts';
import type { ChatModel, ProviderProfile } from './port.ts';
import type { RetryPolicy } from './retry.ts';

export function chatModelFor(
  profile: ProviderProfile,
  opts: { timeoutMs?: number; retry?: RetryPolicy } = {},
): ChatModel {
  return profile.provider === 'gemini'
    ? createGeminiChatModel(profile, opts)
    : createOpenAIChatModel(profile, opts);
}

export type ProfileCheck =
  | { ok: true; model: string; latency_ms: number }
  | { ok: false; error: { code: string; message: string } };

/**
 * A tiny real call with a profile (one attempt, 20 s): does the key work, does
 * the model exist. The error is the provider's, as our adapters word it: no key.
 */
export async function checkProfile(profile: ProviderProfile): Promise<ProfileCheck> {
  const t0 = performance.now();
  try {
    const model = chatModelFor(profile, {
      timeoutMs: 20_000,
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const res = await model.chat({
      messages: [{ role: 'user', content: 'Reply with the word ok.' }],
      tools: [],
    });
    return { ok: true, model: res.model, latency_ms: Math.round(performance.now() - t0) };
  } catch (err) {
    if (isAppError(err)) return { ok: false, error: { code: err.code, message: err.message } };
    return {
      ok: false,
      error: { code: 'llm_unavailable', message: 'the provider could not be reached' },
    };
  }
}
