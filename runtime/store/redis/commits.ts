/**
 * What the owner of a session writes under its lease, on Redis: the commit
 * script and the status index update after it, fenced log appends, timers
 * armed (and indexed in `due`), and the one fenced write the bookkeeping
 * methods share (`work-records.ts`).
 */
import type { SessionStatus } from '../../../actors/status.ts';
import {
  HISTORY_CAP,
  type Commit,
  type CommitResult,
  type Lease,
  type TimerSpec,
} from '../records.ts';
import { commitFields } from './codec.ts';
import { isPassive, type RedisContext, refused } from './context.ts';
import { dueMember, sessionKeys } from './keys.ts';
import { exec } from './pipeline.ts';
import { runScript, type Reply } from './scripts/index.ts';

/**
 * `unindexed`: sessions whose status index write failed after their commit
 * (the store's own set): the next commit writes it again.
 */
export async function commit(
  ctx: RedisContext,
  unindexed: Set<string>,
  id: string,
  lease: Lease,
  c: Commit,
): Promise<CommitResult> {
  const k = sessionKeys(ctx.prefix, id);
  const fields = commitFields(c);
  const args: (string | number)[] = [
    lease.nodeId,
    lease.epoch,
    c.release ? '1' : '0',
    HISTORY_CAP,
    c.seq,
    fields.length / 2,
    ...fields,
  ];
  args.push(c.history.length);
  for (const h of c.history)
    args.push(h.event, h.from, h.to, h.payload ? JSON.stringify(h.payload) : '');
  args.push(...c.logs);
  const reply = (await runScript(
    ctx.redis,
    'swCommit',
    [k.record, k.inbox, k.log, k.history],
    args,
  )) as Reply[];
  if (reply[0] !== 'ok') return refused(ctx, reply);
  const [, released, oldStatus, newStatus, createdAt] = reply as [
    string,
    number,
    string,
    string,
    string,
  ];
  // Most commits keep the status (a transition inside RUNNING): no index
  // write then. Should we die between the script and this pipeline, the
  // session's lease entry is still there, and the claim that follows
  // (`claimed` or `idle`) adds the status entry back. A repeat ('' old
  // status) or an earlier failed index write: write the entry again.
  const repair = oldStatus === '' || unindexed.delete(id);
  const changed = oldStatus !== newStatus;
  // A session released while still active keeps its deadline entry, so some node picks it up.
  const unlease = released === 1 && isPassive(newStatus);
  if (changed || unlease || repair) {
    const p = ctx.redis.pipeline();
    if (changed && oldStatus !== '') p.zrem(ctx.g.status(oldStatus as SessionStatus), id);
    if (changed || repair) p.zadd(ctx.g.status(newStatus as SessionStatus), Number(createdAt), id);
    if (unlease) p.zrem(ctx.g.leases, id);
    // The commit is written: an index failure must not make the host retry it.
    await exec(p).catch(() => unindexed.add(id));
  }
  return { kind: 'ok', released: released === 1 };
}

export async function appendLogs(
  ctx: RedisContext,
  id: string,
  lease: Lease,
  lines: string[],
): Promise<CommitResult> {
  const k = sessionKeys(ctx.prefix, id);
  const reply = (await runScript(
    ctx.redis,
    'swAppendLogs',
    [k.record, k.log],
    [lease.nodeId, lease.epoch, ...lines],
  )) as Reply[];
  return reply[0] === 'ok' ? { kind: 'ok', released: false } : refused(ctx, reply);
}

export async function scheduleTimer(
  ctx: RedisContext,
  id: string,
  lease: Lease,
  timer: TimerSpec,
): Promise<CommitResult> {
  const k = sessionKeys(ctx.prefix, id);
  const payload = JSON.stringify({ ...timer.payload, key: timer.key });
  const reply = (await runScript(
    ctx.redis,
    'swScheduleTimer',
    [k.record, k.timers],
    [lease.nodeId, lease.epoch, timer.key, payload, timer.delayMs],
  )) as Reply[];
  if (reply[0] !== 'ok') return refused(ctx, reply);
  const [, created, state, due] = reply as [string, number, string, number];
  if (state === 'armed') {
    const member = dueMember(id, timer.key);
    // NX for an existing timer: do not undo a delivery reservation.
    if (created === 1) await ctx.redis.zadd(ctx.g.due, due, member);
    else await ctx.redis.zadd(ctx.g.due, 'NX', due, member);
  }
  return { kind: 'ok', released: false };
}

/** One fenced write (`scripts/fenced-write-2.ts`). */
export async function fencedWrite(
  ctx: RedisContext,
  id: string,
  lease: Lease,
  key: string,
  op: string,
  args: (string | number)[],
): Promise<CommitResult> {
  const reply = (await runScript(
    ctx.redis,
    'swFencedWrite',
    [sessionKeys(ctx.prefix, id).record, key],
    [lease.nodeId, lease.epoch, op, ...args],
  )) as Reply[];
  return reply[0] === 'ok' ? { kind: 'ok', released: false } : refused(ctx, reply);
}
