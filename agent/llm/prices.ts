/**
 * Built-in prices per million tokens (USD), for the cost shown on a session.
 * Only models whose list price we know; a profile's `prices` overrides this,
 * and an unknown model has no cost (null), never a guessed one.
 */
import type { Prices, ProviderProfile, Usage } from './port.ts';

const TABLE: Record<string, Prices> = {
  'gpt-4o': { inputPerMTok: 2.5, outputPerMTok: 10 },
  'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
  'gemini-1.5-pro': { inputPerMTok: 1.25, outputPerMTok: 5 },
  'gemini-1.5-flash': { inputPerMTok: 0.075, outputPerMTok: 0.3 },
  'gemini-2.0-flash': { inputPerMTok: 0.1, outputPerMTok: 0.4 },
};

/** Prices for a profile: its own, else the table's for its model (Ollama runs locally: free), else null. */
export function pricesFor(
  profile: Pick<ProviderProfile, 'provider' | 'model' | 'prices'>,
): Prices | null {
  if (profile.prices) return profile.prices;
  if (profile.provider === 'ollama') return { inputPerMTok: 0, outputPerMTok: 0 };
  return TABLE[profile.model] ?? null;
}

/** Cost of one call in USD, or null when the price is unknown. */
export function costOf(usage: Usage, prices: Prices | null): number | null {
  if (!prices) return null;
  return (
    (usage.inputTokens * prices.inputPerMTok + usage.outputTokens * prices.outputPerMTok) /
    1_000_000
  );
}
