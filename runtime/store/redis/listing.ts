/**
 * The index walk of `listSessions`: newest first, with every index entry
 * re-checked against the record it points to, so stale entries (a crash
 * between a script and its index update) are skipped, never shown.
 */
import type { Redis } from 'ioredis';
import type { ListQuery, SessionSummary } from '../records.ts';
import { decodeRecord } from './codec.ts';
import { type GlobalKeys, sessionKeys } from './keys.ts';
import { exec, timeMs } from './pipeline.ts';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Milliseconds encoded in a ULID, or null when `id` is not one. */
export function ulidTime(id: string): number | null {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(id)) return null;
  let t = 0;
  for (const ch of id.slice(0, 10).toUpperCase()) t = t * 32 + CROCKFORD.indexOf(ch);
  return t;
}

export async function listSessions(
  redis: Redis,
  prefix: string,
  g: GlobalKeys,
  query: ListQuery,
): Promise<SessionSummary[]> {
  if (query.limit <= 0) return [];
  // Scores are creation times; ids sharing one are ordered by id, as ULIDs sort.
  let max = '+inf';
  let tie: { score: number; id: string } | null = null;
  if (query.before !== undefined) {
    const score = await redis.zscore(g.created, query.before);
    if (score !== null) {
      max = score;
      tie = { score: Number(score), id: query.before };
    } else {
      const t = ulidTime(query.before);
      if (t === null) return [];
      max = `(${t}`;
    }
  }
  // A creation-time window narrows the score range; the cursor's bound stays when it is tighter.
  if (query.createdBefore !== undefined) {
    const m = /^\(?(.+)$/.exec(max)![1]!;
    const current = m === '+inf' ? Infinity : Number(m);
    if (query.createdBefore <= current) {
      max = `(${query.createdBefore}`;
      tie = null;
    }
  }
  const min = query.createdAfter === undefined ? '-inf' : `(${query.createdAfter}`;
  const index = await pickIndex(redis, g, query, min, max);
  const out: SessionSummary[] = [];
  const seen = new Set<string>();
  const batch = Math.min(Math.max(query.limit * 2, 20), 500);
  for (let offset = 0; out.length < query.limit; offset += batch) {
    const flat = await redis.zrevrangebyscore(
      index,
      max,
      min,
      'WITHSCORES',
      'LIMIT',
      offset,
      batch,
    );
    const ids: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const id = flat[i]!;
      if (tie && Number(flat[i + 1]) === tie.score && id >= tie.id) continue;
      if (!seen.has(id)) ids.push(id);
      seen.add(id);
    }
    if (ids.length > 0) {
      const p = redis.pipeline().time();
      for (const id of ids) p.hgetall(sessionKeys(prefix, id).record);
      const [time, ...hashes] = await exec(p);
      const now = timeMs(time);
      for (const h of hashes) {
        const rec = decodeRecord(h as Record<string, string>, now);
        if (
          !rec ||
          (query.status && rec.status !== query.status) ||
          (query.userId !== undefined && rec.userId !== query.userId)
        )
          continue;
        const { snapshot: _snapshot, ...summary } = rec;
        out.push(summary);
        if (out.length === query.limit) break;
      }
    }
    if (flat.length < batch * 2) break;
  }
  return out;
}

/**
 * The index to walk: every index is scored by creation time, and the records
 * are checked anyway, so any index holding all matches will do. With both a
 * user and a status, the one with fewer entries in the score window is walked
 * (a user with many sessions asking for a rare status, or the reverse).
 */
async function pickIndex(
  redis: Redis,
  g: GlobalKeys,
  query: ListQuery,
  min: string,
  max: string,
): Promise<string> {
  if (query.userId === undefined) return query.status ? g.status(query.status) : g.created;
  const user = g.userCreated(query.userId);
  if (!query.status) return user;
  const [inUser, inStatus] = (await exec(
    redis.pipeline().zcount(user, min, max).zcount(g.status(query.status), min, max),
  )) as number[];
  return inUser! <= inStatus! ? user : g.status(query.status);
}
