/**
 * Session inboxes on Redis: the append script (which also records the
 * request key and wakes a valid owner), the ready-queue entry for a session
 * without one, and reading the stream.
 */
import type { InboxEvent, InboxEventType } from '../../../actors/events.ts';
import type { SessionStatus } from '../../../actors/status.ts';
import { idempotencyKeyReused } from '../../../kernel/errors.ts';
import { requestKeyOf, type AppendOptions, type AppendResult } from '../records.ts';
import { decodeEvent } from './codec.ts';
import type { RedisContext } from './context.ts';
import { requestKeyField, sessionKeys } from './keys.ts';
import { exec } from './pipeline.ts';
import { runScript } from './scripts/index.ts';
import { reserve } from './sessions.ts';

/** Store time at which a stream entry was added: the ms part of its id. */
const idTime = (eventId: string) => Number(eventId.split('-')[0]);

export async function appendEvent(
  ctx: RedisContext,
  id: string,
  event: { type: InboxEventType; payload: Record<string, unknown> },
  options: AppendOptions = {},
): Promise<AppendResult> {
  const k = sessionKeys(ctx.prefix, id);
  const allowed = options.allowedStatuses ? `,${options.allowedStatuses.join(',')},` : '*';
  const rk =
    options.idempotencyKey === undefined ? undefined : requestKeyOf(options.idempotencyKey);
  const reserved = rk ? await reserve(ctx, rk, id) : undefined;
  let reply: string[];
  try {
    reply = (await runScript(
      ctx.redis,
      'swAppendEvent',
      [k.record, k.inbox, k.idem],
      [
        event.type,
        JSON.stringify(event.payload ?? {}),
        rk ? requestKeyField(rk.userId, rk.key) : '',
        allowed,
        rk?.ttlMs ?? 0,
        ctx.ch.wake(''),
        id,
        rk?.fingerprint ?? '',
      ],
    )) as string[];
  } catch (err) {
    // No answer: the append may still run when Redis answers again (a
    // late command), and then nothing would wake a session without an
    // owner. Queue it behind the append, on the same connection, without
    // waiting: a claim that finds nothing to do is harmless.
    ctx.redis
      .pipeline()
      .zadd(ctx.g.ready, 'NX', 0, id)
      .publish(ctx.ch.ready, id)
      .exec()
      .catch(() => undefined);
    throw err;
  }
  if (reply[0] === 'reused') throw idempotencyKeyReused();
  if (reply[0] === 'not_found' || reply[0] === 'conflict') {
    // Nothing was written: the key is free again, for another request too.
    if (rk && reserved?.fresh)
      await ctx.redis.del(ctx.g.requestKey(rk.userId, rk.key)).catch(() => undefined);
    return reply[0] === 'not_found'
      ? { kind: 'not_found' }
      : { kind: 'conflict', status: reply[1] as SessionStatus };
  }
  const eventId = reply[1]!;
  // The script woke a valid owner. Without one, the session goes on the
  // ready queue; also for duplicates: the first attempt may have died before.
  if (reply[2] === '') await enqueue(ctx, id, eventId);
  return { kind: 'appended', eventId, duplicate: reply[0] === 'duplicate' };
}

/** Queues a session with no valid owner for any node. */
async function enqueue(ctx: RedisContext, id: string, eventId: string): Promise<void> {
  await exec(
    ctx.redis.pipeline().zadd(ctx.g.ready, 'NX', idTime(eventId), id).publish(ctx.ch.ready, id),
  );
}

export async function readEvents(
  ctx: RedisContext,
  id: string,
  afterId: string,
  count: number,
): Promise<InboxEvent[]> {
  if (count <= 0) return [];
  const entries = await ctx.redis.xrange(
    sessionKeys(ctx.prefix, id).inbox,
    `(${afterId}`,
    '+',
    'COUNT',
    count,
  );
  return entries.map(decodeEvent);
}
