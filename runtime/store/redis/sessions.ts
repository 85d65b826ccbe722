/**
 * Sessions on Redis: the create script and the index entries that follow it,
 * request keys (reserved in `{g}`, recorded with the write in the session's
 * `idem` hash), and reading records, logs and history. Listings walk the
 * indexes in `listing.ts`.
 */
import { idempotencyKeyReused } from '../../../kernel/errors.ts';
import {
  requestKeyOf,
  type HistoryEntry,
  type NewSession,
  type RequestKey,
  type RequestKeyState,
  type SessionRecord,
} from '../records.ts';
import {
  decodeHistory,
  decodeKeyRecord,
  decodeRecord,
  decodeReservation,
  encodeReservation,
  newRecordFields,
  pairsToObject,
} from './codec.ts';
import type { RedisContext } from './context.ts';
import { requestKeyField, sessionKeys } from './keys.ts';
import { exec, timeMs } from './pipeline.ts';
import { finishRemoval } from './removal.ts';
import { runScript } from './scripts/index.ts';

export async function createSession(
  ctx: RedisContext,
  init: NewSession,
  idempotencyKey?: string | RequestKey,
  finishedRemoval = false,
): Promise<{ record: SessionRecord; created: boolean }> {
  const rk = idempotencyKey === undefined ? undefined : requestKeyOf(idempotencyKey);
  // The first request's id wins: a retry whose first attempt never got to the create creates under that id.
  const id = rk ? (await reserve(ctx, rk, init.id)).sessionId : init.id;
  const k = sessionKeys(ctx.prefix, id);
  const reply = (await runScript(
    ctx.redis,
    'swCreateSession',
    [k.record, k.idem, k.removal],
    [
      rk ? requestKeyField(rk.userId, rk.key) : '',
      rk?.fingerprint ?? '',
      rk?.ttlMs ?? 0,
      ...newRecordFields({ ...init, id }),
    ],
  )) as ['reused'] | ['removed'] | [number, number, string[]];
  if (reply[0] === 'reused') throw idempotencyKeyReused();
  if (reply[0] === 'removed') {
    // The key's session is being removed (a node died between the halves):
    // finish it, which frees the key, and create as if it had never been used.
    if (finishedRemoval) throw new Error(`session ${id}: its removal did not finish`);
    await finishRemoval(ctx, id);
    return createSession(ctx, init, idempotencyKey, true);
  }
  const [created, now, flat] = reply as [number, number, string[]];
  const record = decodeRecord(pairsToObject(flat), now)!;
  await index(ctx, record, now);
  return { record, created: created === 1 };
}

/** A new session's index entries. NX everywhere: a retry re-adds what a crash after the script may have lost, and moves nothing. */
async function index(ctx: RedisContext, record: SessionRecord, now: number): Promise<void> {
  const { id } = record;
  const p = ctx.redis
    .pipeline()
    .zadd(ctx.g.created, 'NX', record.created_at, id)
    .zadd(ctx.g.status(record.status), 'NX', record.created_at, id);
  if (record.userId) p.zadd(ctx.g.userCreated(record.userId), 'NX', record.created_at, id);
  if (record.status === 'QUEUED' && record.epoch === 0)
    p.zadd(ctx.g.ready, 'NX', now, id).publish(ctx.ch.ready, id);
  await exec(p);
}

export async function findRequestKey(ctx: RedisContext, rk: RequestKey): Promise<RequestKeyState> {
  const reservation = await ctx.redis.get(ctx.g.requestKey(rk.userId, rk.key));
  if (reservation === null) return { kind: 'unused' };
  const { fingerprint, sessionId } = decodeReservation(reservation);
  if (fingerprint !== rk.fingerprint) return { kind: 'reused' };
  const k = sessionKeys(ctx.prefix, sessionId);
  const [time, value, hash] = await exec(
    ctx.redis.pipeline().time().hget(k.idem, requestKeyField(rk.userId, rk.key)).hgetall(k.record),
  );
  const now = timeMs(time);
  const seen = decodeKeyRecord(value as string | null);
  // Reserved, but its write never happened: the retry does it, under the reserved id.
  if (!seen || seen.until <= now) return { kind: 'unused' };
  if (seen.fingerprint !== rk.fingerprint) return { kind: 'reused' };
  if (seen.answer) return { kind: 'used', sessionId, eventId: seen.answer };
  // A create: as a retried create would, re-add the indexes a reply lost after its script may have left out.
  const record = decodeRecord(hash as Record<string, string>, now);
  if (record) await index(ctx, record, now);
  return { kind: 'used', sessionId };
}

/**
 * Reserves a request key for this request and session, or finds the
 * reservation of the first request with the same fingerprint (its session
 * id wins). It lives in `{g}`, so it cannot be written with the session's
 * keys: whether the write happened is recorded with the write itself.
 */
export async function reserve(
  ctx: RedisContext,
  rk: RequestKey,
  sessionId: string,
): Promise<{ sessionId: string; fresh: boolean }> {
  const first = (await runScript(
    ctx.redis,
    'swReserveKey',
    [ctx.g.requestKey(rk.userId, rk.key)],
    [encodeReservation(rk.fingerprint, sessionId), rk.ttlMs],
  )) as string | null;
  if (first === null) return { sessionId, fresh: true };
  const r = decodeReservation(first);
  if (r.fingerprint !== rk.fingerprint) throw idempotencyKeyReused();
  return { sessionId: r.sessionId, fresh: false };
}

export async function getSession(ctx: RedisContext, id: string): Promise<SessionRecord | null> {
  const [time, hash] = await exec(
    ctx.redis.pipeline().time().hgetall(sessionKeys(ctx.prefix, id).record),
  );
  return decodeRecord(hash as Record<string, string>, timeMs(time));
}

export async function getLogs(
  ctx: RedisContext,
  id: string,
  from = 0,
  count?: number,
): Promise<string[]> {
  if (count !== undefined && count <= 0) return [];
  return ctx.redis.lrange(
    sessionKeys(ctx.prefix, id).log,
    from,
    count === undefined ? -1 : from + count - 1,
  );
}

export async function getHistory(
  ctx: RedisContext,
  id: string,
  from?: number,
): Promise<HistoryEntry[]> {
  // The list is capped (HISTORY_CAP), so reading it whole to filter is cheap.
  const all = decodeHistory(await ctx.redis.lrange(sessionKeys(ctx.prefix, id).history, 0, -1));
  return from === undefined ? all : all.filter((e) => e.n >= from);
}
