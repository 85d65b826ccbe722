/**
 * What a retention sweep removes next on Redis: ended sessions last updated
 * before a cutoff, oldest update first. The status indexes are scored by
 * creation time, not by update; but a session is updated no earlier than it
 * was created, so a walk of each ended status in creation order can stop
 * once it holds `limit` candidates and reaches entries created after the
 * latest of them. Index entries whose record is gone are unfinished
 * removals: they are finished here.
 */
import { ENDED_STATUSES } from '../../../actors/status.ts';
import type { SessionSummary } from '../records.ts';
import { decodeRecord, SUMMARY_FIELDS } from './codec.ts';
import type { RedisContext } from './context.ts';
import { sessionKeys } from './keys.ts';
import { exec, timeMs } from './pipeline.ts';
import { finishRemoval } from './removal.ts';

/** Index entries read per round trip. */
const BATCH = 200;

const isEnded = (s: string) => (ENDED_STATUSES as readonly string[]).includes(s);

interface Candidate {
  id: string;
  updatedAt: number;
}

/** Oldest update first, ids breaking ties. */
const byUpdate = (a: Candidate, b: Candidate) =>
  a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export async function listEnded(
  ctx: RedisContext,
  before: number,
  limit: number,
): Promise<SessionSummary[]> {
  if (limit <= 0) return [];
  let best: Candidate[] = [];
  const orphans = new Set<string>();
  for (const status of ENDED_STATUSES) best = await walk(ctx, status, before, limit, best, orphans);
  for (const id of orphans) await finishRemoval(ctx, id);
  return summaries(ctx, best, before);
}

/** Walks one ended status's index in creation order, keeping the `limit` best candidates. */
async function walk(
  ctx: RedisContext,
  status: (typeof ENDED_STATUSES)[number],
  before: number,
  limit: number,
  best: Candidate[],
  orphans: Set<string>,
): Promise<Candidate[]> {
  const index = ctx.g.status(status);
  for (let offset = 0; ; offset += BATCH) {
    // Created before the cutoff: updated before it can only be among these.
    const flat = await ctx.redis.zrangebyscore(
      index,
      '-inf',
      `(${before}`,
      'WITHSCORES',
      'LIMIT',
      offset,
      BATCH,
    );
    if (flat.length === 0) return best;
    const ids = flat.filter((_, i) => i % 2 === 0);
    const p = ctx.redis.pipeline();
    for (const id of ids) p.hmget(sessionKeys(ctx.prefix, id).record, 'status', 'updated_at');
    const rows = (await exec(p)) as [string | null, string | null][];
    const seen = new Set(best.map((c) => c.id));
    ids.forEach((id, i) => {
      const [s, updated] = rows[i]!;
      if (s === null) orphans.add(id);
      // A stale entry under another ended status names the same session: once is enough.
      else if (isEnded(s) && Number(updated) < before && !seen.has(id))
        best.push({ id, updatedAt: Number(updated) });
    });
    best = best.sort(byUpdate).slice(0, limit);
    if (ids.length < BATCH) return best;
    // Every entry further on was created, so updated, after the last one read.
    const lastCreated = Number(flat[flat.length - 1]);
    if (best.length === limit && lastCreated > best[best.length - 1]!.updatedAt) return best;
  }
}

/** The candidates' summaries, checked again: one may have changed or gone since the walk read it. */
async function summaries(
  ctx: RedisContext,
  best: Candidate[],
  before: number,
): Promise<SessionSummary[]> {
  if (best.length === 0) return [];
  const p = ctx.redis.pipeline().time();
  for (const c of best) p.hmget(sessionKeys(ctx.prefix, c.id).record, ...SUMMARY_FIELDS);
  const [time, ...rows] = await exec(p);
  const now = timeMs(time);
  const out: SessionSummary[] = [];
  for (const row of rows as (string | null)[][]) {
    const hash: Record<string, string> = {};
    SUMMARY_FIELDS.forEach((f, i) => {
      if (row[i] !== null && row[i] !== undefined) hash[f] = row[i];
    });
    const rec = decodeRecord(hash, now);
    if (!rec || !isEnded(rec.status) || rec.updated_at >= before) continue;
    const { snapshot: _snapshot, ...summary } = rec;
    out.push(summary);
  }
  return out.sort((a, b) =>
    byUpdate({ id: a.id, updatedAt: a.updated_at }, { id: b.id, updatedAt: b.updated_at }),
  );
}
