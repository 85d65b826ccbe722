/**
 * Agent bookkeeping in the in-process store: AI profiles, and what a
 * session's work keeps outside the snapshot (usage, transcripts, artifacts;
 * those writes fenced by the epoch). Arguments are checked and encoded by
 * `bookkeeping.ts`, as in the Redis adapter.
 */
import type { AgentUsage } from '../../../actors/work-contract.ts';
import { checkArtifacts, checkRole, encodeMessage, usageIncrement } from '../bookkeeping.ts';
import { TRANSCRIPT_CAP, type CommitResult, type Lease, type StoredProfile } from '../records.ts';
import { copy, fence, type MemoryState } from './state.ts';

// Profiles ---------------------------------------------------------------

export async function putProfile(st: MemoryState, profile: StoredProfile): Promise<void> {
  const p = copy(profile);
  p.isDefault = p.isDefault === true;
  if (p.isDefault)
    for (const other of st.profiles.values()) if (other.id !== p.id) other.isDefault = false;
  st.profiles.set(p.id, p);
}

export async function getProfile(st: MemoryState, id: string): Promise<StoredProfile | null> {
  const p = st.profiles.get(id);
  return p ? copy(p) : null;
}

export async function defaultProfile(st: MemoryState): Promise<StoredProfile | null> {
  for (const p of st.profiles.values()) if (p.isDefault) return copy(p);
  return null;
}

export async function listProfiles(st: MemoryState): Promise<StoredProfile[]> {
  return [...st.profiles.values()]
    .map(copy)
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export async function deleteProfile(st: MemoryState, id: string): Promise<boolean> {
  return st.profiles.delete(id);
}

// Usage, transcripts, artifacts ----------------------------------------

export async function addUsage(
  st: MemoryState,
  id: string,
  lease: Lease,
  delta: AgentUsage,
): Promise<CommitResult> {
  const d = usageIncrement(delta);
  const s = st.sessions.get(id);
  const refused = fence(st, s, lease);
  if (refused || !s) return refused ?? { kind: 'not_found' };
  s.usage.calls += d.calls;
  s.usage.inputTokens += d.inputTokens;
  s.usage.outputTokens += d.outputTokens;
  if (d.cost === null) s.usage.costUnknown = true;
  else s.usage.costMicros += d.cost;
  return { kind: 'ok', released: false };
}

export async function getUsage(st: MemoryState, id: string): Promise<AgentUsage> {
  const u = st.sessions.get(id)?.usage;
  if (!u) return { calls: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 };
  return {
    calls: u.calls,
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    costMicros: u.costUnknown ? null : u.costMicros,
  };
}

export async function appendTranscript(
  st: MemoryState,
  id: string,
  lease: Lease,
  role: string,
  messages: unknown[],
): Promise<CommitResult> {
  checkRole(role);
  const encoded = messages.map(encodeMessage);
  const s = st.sessions.get(id);
  const refused = fence(st, s, lease);
  if (refused || !s) return refused ?? { kind: 'not_found' };
  const list = s.transcripts.get(role) ?? [];
  list.push(...encoded.slice(-TRANSCRIPT_CAP));
  if (list.length > TRANSCRIPT_CAP) list.splice(0, list.length - TRANSCRIPT_CAP);
  s.transcripts.set(role, list);
  return { kind: 'ok', released: false };
}

export async function getTranscript(st: MemoryState, id: string, role: string): Promise<unknown[]> {
  checkRole(role);
  return (st.sessions.get(id)?.transcripts.get(role) ?? []).map((m) => JSON.parse(m) as unknown);
}

export async function putArtifacts(
  st: MemoryState,
  id: string,
  lease: Lease,
  values: Record<string, string>,
): Promise<CommitResult> {
  const entries = checkArtifacts(values);
  const s = st.sessions.get(id);
  const refused = fence(st, s, lease);
  if (refused || !s) return refused ?? { kind: 'not_found' };
  for (const [k, v] of entries) s.artifacts.set(k, v);
  return { kind: 'ok', released: false };
}

export async function getArtifacts(st: MemoryState, id: string): Promise<Record<string, string>> {
  return Object.fromEntries(st.sessions.get(id)?.artifacts ?? []);
}
