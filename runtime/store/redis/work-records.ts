/**
 * Agent bookkeeping on Redis: AI profiles in `{g}:profiles` (one script
 * keeps a single default), and what a session's work keeps outside the
 * snapshot (usage, transcripts, artifacts), each write one fenced script
 * (`fencedWrite` in `commits.ts`; transcripts their own, which also records
 * the role). Arguments are checked and encoded by
 * `bookkeeping.ts`, as in the in-process store.
 */
import type { AgentUsage } from '../../../actors/work-contract.ts';
import {
  checkArtifacts,
  checkRole,
  encodeMessage,
  encodeProfile,
  usageIncrement,
} from '../bookkeeping.ts';
import { TRANSCRIPT_CAP, type CommitResult, type Lease, type StoredProfile } from '../records.ts';
import { fencedWrite } from './commits.ts';
import { type RedisContext, refused } from './context.ts';
import { sessionKeys } from './keys.ts';
import { runScript, type Reply } from './scripts/index.ts';

// Profiles ---------------------------------------------------------------

export async function putProfile(ctx: RedisContext, profile: StoredProfile): Promise<void> {
  await runScript(
    ctx.redis,
    'swPutProfile',
    [ctx.g.profiles],
    [profile.id, encodeProfile(profile), profile.isDefault ? '1' : '0'],
  );
}

export async function getProfile(ctx: RedisContext, id: string): Promise<StoredProfile | null> {
  const json = await ctx.redis.hget(ctx.g.profiles, id);
  return json === null ? null : (JSON.parse(json) as StoredProfile);
}

export async function defaultProfile(ctx: RedisContext): Promise<StoredProfile | null> {
  const all = await ctx.redis.hvals(ctx.g.profiles);
  for (const json of all) {
    const p = JSON.parse(json) as StoredProfile;
    if (p.isDefault === true) return p;
  }
  return null;
}

export async function listProfiles(ctx: RedisContext): Promise<StoredProfile[]> {
  const all = (await ctx.redis.hvals(ctx.g.profiles)).map(
    (json) => JSON.parse(json) as StoredProfile,
  );
  return all.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export async function deleteProfile(ctx: RedisContext, id: string): Promise<boolean> {
  return (await ctx.redis.hdel(ctx.g.profiles, id)) === 1;
}

// Usage, transcripts, artifacts ----------------------------------------

export function addUsage(
  ctx: RedisContext,
  id: string,
  lease: Lease,
  delta: AgentUsage,
): Promise<CommitResult> {
  const d = usageIncrement(delta);
  const args: (string | number)[] = [
    'calls',
    d.calls,
    'input_tokens',
    d.inputTokens,
    'output_tokens',
    d.outputTokens,
  ];
  args.push(...(d.cost === null ? ['cost_unknown', 1] : ['cost_micros', d.cost]));
  return fencedWrite(ctx, id, lease, sessionKeys(ctx.prefix, id).usage, 'hincrby', args);
}

export async function getUsage(ctx: RedisContext, id: string): Promise<AgentUsage> {
  const h = await ctx.redis.hgetall(sessionKeys(ctx.prefix, id).usage);
  const n = (f: string) => Number(h[f] ?? 0);
  return {
    calls: n('calls'),
    inputTokens: n('input_tokens'),
    outputTokens: n('output_tokens'),
    costMicros: n('cost_unknown') > 0 ? null : n('cost_micros'),
  };
}

export async function appendTranscript(
  ctx: RedisContext,
  id: string,
  lease: Lease,
  role: string,
  messages: unknown[],
): Promise<CommitResult> {
  checkRole(role);
  const k = sessionKeys(ctx.prefix, id);
  const reply = (await runScript(
    ctx.redis,
    'swAppendTranscript',
    [k.record, k.transcript(role), k.transcriptRoles],
    [lease.nodeId, lease.epoch, role, TRANSCRIPT_CAP, ...messages.map(encodeMessage)],
  )) as Reply[];
  return reply[0] === 'ok' ? { kind: 'ok', released: false } : refused(ctx, reply);
}

export async function getTranscript(
  ctx: RedisContext,
  id: string,
  role: string,
): Promise<unknown[]> {
  checkRole(role);
  return (await ctx.redis.lrange(sessionKeys(ctx.prefix, id).transcript(role), 0, -1)).map(
    (m) => JSON.parse(m) as unknown,
  );
}

export function putArtifacts(
  ctx: RedisContext,
  id: string,
  lease: Lease,
  values: Record<string, string>,
): Promise<CommitResult> {
  const entries = checkArtifacts(values);
  return fencedWrite(ctx, id, lease, sessionKeys(ctx.prefix, id).artifacts, 'hset', entries.flat());
}

export async function getArtifacts(ctx: RedisContext, id: string): Promise<Record<string, string>> {
  return { ...(await ctx.redis.hgetall(sessionKeys(ctx.prefix, id).artifacts)) };
}
