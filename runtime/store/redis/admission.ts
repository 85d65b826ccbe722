/**
 * The per-user running limit on Redis: admission and counting are one script
 * each on the global slot (`running:<user>`, `parked:<user>` and `ready` share
 * `{g}`); parking is a fenced script on the session's slot, followed by the
 * index updates that keep the parked session off the ready queue.
 */
import type { AdmitResult, CommitResult, Lease } from '../records.ts';
import type { RedisContext } from './context.ts';
import { sessionKeys } from './keys.ts';
import { exec } from './pipeline.ts';
import { runScript, type Reply } from './scripts/index.ts';

export interface AdmissionContext extends RedisContext {
  /** Turns a `not_found`/`fenced` reply into the port's answer (and counts the fenced write). */
  refused(reply: Reply[]): Promise<CommitResult>;
}

export async function admit(
  ctx: AdmissionContext,
  id: string,
  userId: string,
  limit: number,
): Promise<AdmitResult> {
  const reply = (await runScript(
    ctx.redis,
    'swAdmit',
    [ctx.g.running(userId), ctx.g.parked(userId)],
    [id, limit],
  )) as [number, string[]?];
  if (reply[0] === 1) return { admitted: true };
  return { admitted: false, running: [...(reply[1] ?? [])].sort() };
}

export async function setRunning(
  ctx: AdmissionContext,
  id: string,
  userId: string,
  running: boolean,
): Promise<void> {
  const { g } = ctx;
  await runScript(
    ctx.redis,
    'swSetRunning',
    [g.running(userId), g.parked(userId), g.ready],
    [id, running ? '1' : '0', ctx.ch.ready],
  );
}

export async function park(
  ctx: AdmissionContext,
  id: string,
  lease: Lease,
  reason: string,
  recheckMs: number,
): Promise<CommitResult> {
  const k = sessionKeys(ctx.prefix, id);
  const reply = (await runScript(
    ctx.redis,
    'swPark',
    [k.record, k.inbox],
    [lease.nodeId, lease.epoch, JSON.stringify(reason)],
  )) as Reply[];
  if (reply[0] !== 'ok') return ctx.refused(reply);
  const [, released, now] = reply as [string, number, number];
  if (released !== 1) return { kind: 'ok', released: false };
  // Should this pipeline be lost, the old lease deadline hands the session
  // out again a little early, and a stray ready entry once: both repair themselves.
  await exec(
    ctx.redis
      .pipeline()
      .zrem(ctx.g.ready, id)
      .zadd(ctx.g.leases, Number(now) + recheckMs, id),
  );
  return { kind: 'ok', released: true };
}
