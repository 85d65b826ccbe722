/**
 * Ownership on Redis: taking ready and overdue sessions off the `{g}`
 * indexes, claims with a new epoch (and the index repairs they carry),
 * renewals in one pipeline, and giving a lease up without a commit.
 */
import type { SessionStatus } from '../../../actors/status.ts';
import type { ClaimResult, CommitResult, Lease, RenewResult } from '../records.ts';
import { decodeRecord, pairsToObject } from './codec.ts';
import { isPassive, type RedisContext, refused } from './context.ts';
import { sessionKeys } from './keys.ts';
import { exec } from './pipeline.ts';
import { queueScript, runScript, type Reply } from './scripts/index.ts';

export async function takeReady(ctx: RedisContext, max: number, ttlMs: number): Promise<string[]> {
  if (max <= 0) return [];
  return (await runScript(
    ctx.redis,
    'swTakeReady',
    [ctx.g.ready, ctx.g.leases],
    [max, ttlMs],
  )) as string[];
}

export async function claim(
  ctx: RedisContext,
  id: string,
  nodeId: string,
  ttlMs: number,
): Promise<ClaimResult> {
  const k = sessionKeys(ctx.prefix, id);
  const reply = (await runScript(
    ctx.redis,
    'swClaim',
    [k.record, k.inbox],
    [nodeId, ttlMs],
  )) as Reply[];
  switch (reply[0]) {
    case 'not_found':
      return { kind: 'not_found' };
    case 'idle': {
      const [, status, createdAt] = reply as [string, SessionStatus, string];
      await indexStatus(ctx, id, status, Number(createdAt));
      return { kind: 'idle' };
    }
    case 'busy': {
      const until = Number(reply[1]);
      // Put back the real deadline over the reservation takeReady made.
      await ctx.redis.zadd(ctx.g.leases, until, id);
      return { kind: 'busy', until };
    }
  }
  const [, epoch, until, now, flat] = reply as [string, number, number, number, string[]];
  const record = decodeRecord(pairsToObject(flat), now)!;
  // The status entry goes in with the lease deadline: this repairs a commit
  // whose index update was lost with its node (see `commit`).
  await exec(
    ctx.redis
      .pipeline()
      .zadd(ctx.g.leases, until, id)
      .zadd(ctx.g.status(record.status), record.created_at, id),
  );
  return {
    kind: 'claimed',
    lease: { nodeId, epoch: Number(epoch) },
    until: Number(until),
    record,
  };
}

/**
 * Adds the status entry a lost index update may have left out. Never removes
 * one: a stale extra entry is skipped by listings, a removed true one would hide the session.
 */
async function indexStatus(
  ctx: RedisContext,
  id: string,
  status: SessionStatus,
  createdAt: number,
): Promise<void> {
  await ctx.redis.zadd(ctx.g.status(status), createdAt, id);
}

export async function forget(ctx: RedisContext, id: string): Promise<void> {
  // Should another node own it by now, its next renew writes the entry back.
  await ctx.redis.zrem(ctx.g.leases, id);
}

export async function renew(
  ctx: RedisContext,
  nodeId: string,
  leases: { id: string; epoch: number }[],
  ttlMs: number,
): Promise<RenewResult[]> {
  if (leases.length === 0) return [];
  const p = ctx.redis.pipeline();
  for (const l of leases) {
    const k = sessionKeys(ctx.prefix, l.id);
    queueScript(p, 'swRenew', [k.record, k.inbox], [nodeId, l.epoch, ttlMs]);
  }
  // Same round trip: lost leases get a deadline too, which costs one idle claim at most.
  queueScript(p, 'swTouchLeases', [ctx.g.leases], [ttlMs, ...leases.map((l) => l.id)]);
  const replies = (await exec(p)).slice(0, leases.length) as [number, number, number][];
  return leases.map((l, i) => {
    const [ok, until, pending] = replies[i]!;
    return { id: l.id, ok: ok === 1, until: Number(until), pending: pending === 1 };
  });
}

export async function release(
  ctx: RedisContext,
  id: string,
  lease: Lease,
  requeue: boolean,
): Promise<CommitResult> {
  const reply = (await runScript(
    ctx.redis,
    'swRelease',
    [sessionKeys(ctx.prefix, id).record],
    [lease.nodeId, lease.epoch],
  )) as Reply[];
  if (reply[0] !== 'ok') return refused(ctx, reply);
  const [, status, now] = reply as [string, string, number];
  if (requeue) {
    await exec(ctx.redis.pipeline().zadd(ctx.g.ready, 'NX', now, id).publish(ctx.ch.ready, id));
  } else if (isPassive(status)) {
    await ctx.redis.zrem(ctx.g.leases, id);
  }
  return { kind: 'ok', released: true };
}
