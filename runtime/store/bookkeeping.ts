/**
 * Argument checks and encodings shared by the adapters for the agent
 * bookkeeping methods of the port (profiles, usage, transcripts, artifacts),
 * so the two cannot disagree about what they accept.
 */
import type { StoredProfile } from './records.ts';
import type { AgentUsage } from '../../actors/work-contract.ts';

/** Transcript roles become part of a key: a short lowercase name. */
const ROLE = /^[a-z][a-z0-9_-]{0,31}$/;

export function checkRole(role: string): void {
  if (!ROLE.test(role)) throw new Error(`invalid transcript role ${JSON.stringify(role)}`);
}

/** Integers to add; `cost` null when the delta's cost is unknown. */
export interface UsageIncrement {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cost: number | null;
}

function int(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`usage ${name} must be a finite number, got ${String(v)}`);
  return Math.round(v);
}

/** Checks a usage delta and rounds it to integers (costs to whole micro-USD). */
export function usageIncrement(delta: AgentUsage): UsageIncrement {
  return {
    calls: int('calls', delta.calls),
    inputTokens: int('inputTokens', delta.inputTokens),
    outputTokens: int('outputTokens', delta.outputTokens),
    cost: delta.costMicros === null ? null : int('costMicros', delta.costMicros),
  };
}

/** A transcript message as stored (JSON text); `undefined` is stored as null. */
export function encodeMessage(message: unknown): string {
  return JSON.stringify(message) ?? 'null';
}

/**
 * A profile as stored: JSON with `isDefault` as the first member, so the
 * Redis script can clear the flag with an exact prefix replacement.
 */
export function encodeProfile(profile: StoredProfile): string {
  const { isDefault, ...rest } = profile;
  return JSON.stringify({ isDefault: isDefault === true, ...rest });
}

export function checkArtifacts(values: Record<string, string>): [string, string][] {
  const entries = Object.entries(values);
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new Error(`artifact ${JSON.stringify(k)} must be a string`);
  }
  return entries;
}
