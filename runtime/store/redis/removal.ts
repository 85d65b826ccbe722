/**
 * Removing a session on Redis, in two halves on two hash slots (Redis
 * Cluster runs a script on one slot only): first every key of the session's
 * `{id}` slot, unlinked in one script with the checks that allow it
 * (`remove-session-n.ts`); then its entries in the `{g}` indexes
 * (`unindex-session-n.ts`). Between the two, the session's `gone` key holds
 * what the second half needs (its user, request keys and timers) and nothing
 * else of it is left: a removal that crashed there is finished by the next
 * `removeSession`, or by `listEnded` when it meets the index entries left.
 */
import { SESSION_STATUSES, type SessionStatus } from '../../../actors/status.ts';
import type { RemovalResult } from '../records.ts';
import type { RedisContext } from './context.ts';
import { dueMember, EARLIER_TRANSCRIPT_ROLES, sessionKeys } from './keys.ts';
import { runScript, type Reply } from './scripts/index.ts';

/** A role added between reading the roles and the script (an old holder's late write): read again. */
const ATTEMPTS = 3;

export async function removeSession(ctx: RedisContext, id: string): Promise<RemovalResult> {
  const first = await removeKeys(ctx, id);
  if (first.kind === 'active') return first;
  // Also when not found: the first half may be all a crashed removal did.
  await unindex(ctx, id, first.note);
  return { kind: first.kind };
}

/** The first half: the session's own keys, or why not; with the note the second half needs. */
export async function removeKeys(
  ctx: RedisContext,
  id: string,
): Promise<
  { kind: 'active'; status: SessionStatus } | { kind: 'removed' | 'not_found'; note: string | null }
> {
  const k = sessionKeys(ctx.prefix, id);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const roles = await ctx.redis.smembers(k.transcriptRoles);
    const transcripts = [...new Set([...roles, ...EARLIER_TRANSCRIPT_ROLES])].map(k.transcript);
    const keys = [
      k.record,
      k.inbox,
      k.log,
      k.history,
      k.idem,
      k.timers,
      k.usage,
      k.artifacts,
      k.transcriptRoles,
      k.removal,
      ...transcripts,
    ];
    const reply = (await runScript(ctx.redis, 'swRemoveSession', keys, [])) as Reply[];
    if (reply[0] === 'retry') continue;
    if (reply[0] === 'active') return { kind: 'active', status: reply[1] as SessionStatus };
    return {
      kind: reply[0] === 'removed' ? 'removed' : 'not_found',
      note: (reply[1] as string) || null,
    };
  }
  throw new Error(`removing session ${id}: its transcripts kept changing (${ATTEMPTS} attempts)`);
}

/** The second half for a session whose record is gone: with its `gone` note when there is one. */
export async function finishRemoval(ctx: RedisContext, id: string): Promise<void> {
  await unindex(ctx, id, await ctx.redis.get(sessionKeys(ctx.prefix, id).removal));
}

interface Gone {
  user: string;
  fields: string[];
  timers: string[];
}

/** The `gone` note; without one, only the entries the id alone names can be found. */
function parseGone(json: string | null): Gone {
  const v = (json ? JSON.parse(json) : {}) as Partial<Record<keyof Gone, unknown>>;
  // Lua's cjson writes an empty list as {}.
  const list = (x: unknown) => (Array.isArray(x) ? x.map(String) : []);
  return {
    user: typeof v.user === 'string' ? v.user : '',
    fields: list(v.fields),
    timers: list(v.timers),
  };
}

async function unindex(ctx: RedisContext, id: string, note: string | null): Promise<void> {
  const { g } = ctx;
  const gone = parseGone(note);
  const zsets = [g.created, ...SESSION_STATUSES.map((s) => g.status(s)), g.ready, g.leases];
  const sets: string[] = [];
  if (gone.user) {
    zsets.push(g.userCreated(gone.user), g.parked(gone.user));
    sets.push(g.running(gone.user));
  }
  await runScript(
    ctx.redis,
    'swUnindexSession',
    [g.due, ...zsets, ...sets, ...gone.fields.map((f) => g.requestKeyOfField(f))],
    [id, zsets.length, sets.length, ...gone.timers.map((t) => dueMember(id, t))],
  );
  // Last: until here a retry needs it.
  if (note !== null) await ctx.redis.unlink(sessionKeys(ctx.prefix, id).removal);
}
