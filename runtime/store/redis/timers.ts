/**
 * Delivery of due durable timers: reserve due members in the global `due`
 * index, run the per-session deliver script for each (exactly once: it marks
 * the timer fired in the same script as the XADD), then drop the index
 * entries and wake the owners or queue the sessions.
 */
import type { RedisContext } from './context.ts';
import { parseDueMember, sessionKeys } from './keys.ts';
import { exec } from './pipeline.ts';
import { queueScript, runScript, type Reply } from './scripts/index.ts';

/** A due timer taken for delivery is offered again after this, should the deliverer die. */
const TIMER_RESERVE_MS = 30_000;

/** Delivers up to `max` due timers; returns how many this call fired. */
export async function fireDueTimers(ctx: RedisContext, max: number): Promise<number> {
  const { redis, g, ch } = ctx;
  if (max <= 0) return 0;
  const members = (await runScript(
    redis,
    'swReserveDue',
    [g.due],
    [max, TIMER_RESERVE_MS],
  )) as string[];
  if (members.length === 0) return 0;
  const timers = members.map((member) => ({ member, timer: parseDueMember(member) }));
  const deliver = redis.pipeline();
  for (const { timer } of timers) {
    if (!timer) continue;
    const k = sessionKeys(ctx.prefix, timer.id);
    queueScript(deliver, 'swDeliverTimer', [k.record, k.inbox, k.timers], [timer.key]);
  }
  const replies = (await exec(deliver)) as Reply[][];
  let fired = 0;
  let r = 0;
  const after = redis.pipeline();
  for (const { member, timer } of timers) {
    const reply = timer ? replies[r++]! : ['gone'];
    if (reply[0] === 'early') {
      after.zadd(g.due, 'XX', Number(reply[1]), member);
      continue;
    }
    after.zrem(g.due, member);
    if (reply[0] !== 'fired' || !timer) continue;
    fired++;
    const [, eventId, owner] = reply as [string, string, string];
    if (owner !== '') after.publish(ch.wake(owner), timer.id);
    else
      after
        .zadd(g.ready, 'NX', Number(eventId.split('-')[0]), timer.id)
        .publish(ch.ready, timer.id);
  }
  await exec(after);
  return fired;
}
