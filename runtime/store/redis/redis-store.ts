/**
 * The Redis adapter of the store port.
 *
 * Every per-session state change is one Lua script on the session's own hash
 * slot (`keys.ts`), fenced by the lease epoch where the port says so. Global
 * indexes (ready queue, lease deadlines, due timers, listings) live in one
 * other slot and are updated by the adapter after the session script; each
 * of them is a hint that repairs itself, the session keys are the truth.
 */
import { Redis } from 'ioredis';
import { AppError, idempotencyKeyReused } from '../../../kernel/errors.ts';
import {
  checkArtifacts,
  checkRole,
  encodeMessage,
  encodeProfile,
  usageIncrement,
} from '../bookkeeping.ts';
import type { Store } from '../port.ts';
import {
  type AppendOptions,
  type AppendResult,
  type ClaimResult,
  type Commit,
  type CommitResult,
  type HistoryEntry,
  type Lease,
  type ListQuery,
  type NewSession,
  type NodeInfo,
  type RenewResult,
  type SessionRecord,
  type SessionSummary,
  type StoreStats,
  type StoredProfile,
  type StoredToken,
  type StoredUser,
  type TimerSpec,
  type WakeHandler,
  type RequestKey,
  type RequestKeyState,
  HISTORY_CAP,
  TRANSCRIPT_CAP,
  requestKeyOf,
} from '../records.ts';
import type { AgentUsage } from '../../../actors/work-contract.ts';
import type { InboxEvent, InboxEventType } from '../../../actors/events.ts';
import { type SessionStatus, PASSIVE_STATUSES, SESSION_STATUSES } from '../../../actors/status.ts';
import * as accounts from './accounts.ts';
import * as admission from './admission.ts';
import type { AdmitResult } from '../records.ts';
import {
  commitFields,
  decodeEvent,
  decodeHistory,
  decodeKeyRecord,
  decodeRecord,
  decodeReservation,
  decodeWake,
  encodeReservation,
  newRecordFields,
  pairsToObject,
} from './codec.ts';
import {
  channels,
  dueMember,
  globalKeys,
  requestKeyField,
  sessionKeys,
  type GlobalKeys,
} from './keys.ts';
import { listNodes, listSessions } from './listing.ts';
import { exec, timeMs } from './pipeline.ts';
import { defineScripts, queueScript, runScript, type Reply } from './scripts/index.ts';
import { Subscriber } from './subscriber.ts';
import { fireDueTimers } from './timers.ts';
import { redactUrl } from '../../../kernel/redact.ts';

export interface RedisStoreOptions {
  url: string;
  /** Prefix of every key and channel; several deployments can share one Redis. Default `swe`. */
  prefix?: string;
  /**
   * A command with no answer after this long fails (default 5000 ms). Without
   * it, a Redis that stops answering with the connection open (paused,
   * partitioned) hangs every caller: API requests, the claim loop, commits. A
   * commit that timed out but was written is retried as the same commit and
   * acknowledged (`Commit.seq`). A closed or refused connection needs no
   * timeout: commands fail at once then.
   */
  commandTimeoutMs?: number;
}

const isPassive = (s: string) => (PASSIVE_STATUSES as readonly string[]).includes(s);
/** Store time at which a stream entry was added: the ms part of its id. */
const idTime = (eventId: string) => Number(eventId.split('-')[0]);

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  #redis: Redis;
  #prefix: string;
  #g: GlobalKeys;
  #ch: ReturnType<typeof channels>;
  #sub: Subscriber;
  /** Sessions whose status index write failed after their commit: the next commit writes it again. */
  #unindexed = new Set<string>();

  private constructor(redis: Redis, url: string, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#g = globalKeys(prefix);
    this.#ch = channels(prefix);
    this.#sub = new Subscriber(url);
  }

  /** Connects, registers the scripts, and fails fast (`store_unavailable`) when Redis does not answer. */
  static async create(opts: RedisStoreOptions): Promise<RedisStore> {
    const redis = new Redis(opts.url, {
      lazyConnect: true,
      enableAutoPipelining: true,
      commandTimeout: opts.commandTimeoutMs ?? 5000,
      // Fail fast while disconnected: a command issued without a connection
      // is rejected at once (not queued until the timeout), and the commands
      // in flight when it drops are rejected as it closes (maxRetriesPerRequest
      // 0 flushes them) and never sent again: a write answered 503 must not
      // happen later, where no one learns of it.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // Requests fail until the client is back, so it tries often: a refused connect costs nothing.
      retryStrategy: (attempt) => Math.min(25 * 2 ** attempt, 250) + Math.floor(Math.random() * 50),
    });
    redis.on('error', () => undefined); // reported through the failing commands instead
    defineScripts(redis);
    try {
      await redis.connect();
    } catch (cause) {
      redis.disconnect();
      throw new AppError(
        'store_unavailable',
        503,
        `connecting to Redis at ${redactUrl(opts.url)} failed: ${String(cause)}`,
        { cause },
      );
    }
    return new RedisStore(redis, opts.url, opts.prefix ?? 'swe');
  }

  async now(): Promise<number> {
    return timeMs(await this.#redis.time());
  }

  #keys(id: string) {
    return sessionKeys(this.#prefix, id);
  }

  // Sessions -------------------------------------------------------------

  async createSession(
    init: NewSession,
    idempotencyKey?: string | RequestKey,
  ): Promise<{ record: SessionRecord; created: boolean }> {
    const rk = idempotencyKey === undefined ? undefined : requestKeyOf(idempotencyKey);
    // The first request's id wins: a retry whose first attempt never got to the create creates under that id.
    const id = rk ? (await this.#reserve(rk, init.id)).sessionId : init.id;
    const k = this.#keys(id);
    const reply = (await runScript(
      this.#redis,
      'swCreateSession',
      [k.record, k.idem],
      [
        rk ? requestKeyField(rk.userId, rk.key) : '',
        rk?.fingerprint ?? '',
        rk?.ttlMs ?? 0,
        ...newRecordFields({ ...init, id }),
      ],
    )) as ['reused'] | [number, number, string[]];
    if (reply[0] === 'reused') throw idempotencyKeyReused();
    const [created, now, flat] = reply as [number, number, string[]];
    const record = decodeRecord(pairsToObject(flat), now)!;
    await this.#index(record, now);
    return { record, created: created === 1 };
  }

  /** A new session's index entries. NX everywhere: a retry re-adds what a crash after the script may have lost, and moves nothing. */
  async #index(record: SessionRecord, now: number): Promise<void> {
    const { id } = record;
    const p = this.#redis
      .pipeline()
      .zadd(this.#g.created, 'NX', record.created_at, id)
      .zadd(this.#g.status(record.status), 'NX', record.created_at, id);
    if (record.userId) p.zadd(this.#g.userCreated(record.userId), 'NX', record.created_at, id);
    if (record.status === 'QUEUED' && record.epoch === 0)
      p.zadd(this.#g.ready, 'NX', now, id).publish(this.#ch.ready, id);
    await exec(p);
  }

  async findRequestKey(rk: RequestKey): Promise<RequestKeyState> {
    const reservation = await this.#redis.get(this.#g.requestKey(rk.userId, rk.key));
    if (reservation === null) return { kind: 'unused' };
    const { fingerprint, sessionId } = decodeReservation(reservation);
    if (fingerprint !== rk.fingerprint) return { kind: 'reused' };
    const k = this.#keys(sessionId);
    const [time, value, hash] = await exec(
      this.#redis
        .pipeline()
        .time()
        .hget(k.idem, requestKeyField(rk.userId, rk.key))
        .hgetall(k.record),
    );
    const now = timeMs(time);
    const seen = decodeKeyRecord(value as string | null);
    // Reserved, but its write never happened: the retry does it, under the reserved id.
    if (!seen || seen.until <= now) return { kind: 'unused' };
    if (seen.fingerprint !== rk.fingerprint) return { kind: 'reused' };
    if (seen.answer) return { kind: 'used', sessionId, eventId: seen.answer };
    // A create: as a retried create would, re-add the indexes a reply lost after its script may have left out.
    const record = decodeRecord(hash as Record<string, string>, now);
    if (record) await this.#index(record, now);
    return { kind: 'used', sessionId };
  }

  /**
   * Reserves a request key for this request and session, or finds the
   * reservation of the first request with the same fingerprint (its session
   * id wins). It lives in `{g}`, so it cannot be written with the session's
   * keys: whether the write happened is recorded with the write itself.
   */
  async #reserve(
    rk: RequestKey,
    sessionId: string,
  ): Promise<{ sessionId: string; fresh: boolean }> {
    const first = (await runScript(
      this.#redis,
      'swReserveKey',
      [this.#g.requestKey(rk.userId, rk.key)],
      [encodeReservation(rk.fingerprint, sessionId), rk.ttlMs],
    )) as string | null;
    if (first === null) return { sessionId, fresh: true };
    const r = decodeReservation(first);
    if (r.fingerprint !== rk.fingerprint) throw idempotencyKeyReused();
    return { sessionId: r.sessionId, fresh: false };
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    const [time, hash] = await exec(this.#redis.pipeline().time().hgetall(this.#keys(id).record));
    return decodeRecord(hash as Record<string, string>, timeMs(time));
  }

  listSessions(query: ListQuery): Promise<SessionSummary[]> {
    return listSessions(this.#redis, this.#prefix, this.#g, query);
  }

  async getLogs(id: string, from = 0, count?: number): Promise<string[]> {
    if (count !== undefined && count <= 0) return [];
    return this.#redis.lrange(
      this.#keys(id).log,
      from,
      count === undefined ? -1 : from + count - 1,
    );
  }

  async getHistory(id: string, from?: number): Promise<HistoryEntry[]> {
    // The list is capped (HISTORY_CAP), so reading it whole to filter is cheap.
    const all = decodeHistory(await this.#redis.lrange(this.#keys(id).history, 0, -1));
    return from === undefined ? all : all.filter((e) => e.n >= from);
  }

  // Inbox ------------------------------------------------------------------

  async appendEvent(
    id: string,
    event: { type: InboxEventType; payload: Record<string, unknown> },
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const k = this.#keys(id);
    const allowed = options.allowedStatuses ? `,${options.allowedStatuses.join(',')},` : '*';
    const rk =
      options.idempotencyKey === undefined ? undefined : requestKeyOf(options.idempotencyKey);
    const reserved = rk ? await this.#reserve(rk, id) : undefined;
    let reply: string[];
    try {
      reply = (await runScript(
        this.#redis,
        'swAppendEvent',
        [k.record, k.inbox, k.idem],
        [
          event.type,
          JSON.stringify(event.payload ?? {}),
          rk ? requestKeyField(rk.userId, rk.key) : '',
          allowed,
          rk?.ttlMs ?? 0,
          this.#ch.wake(''),
          id,
          rk?.fingerprint ?? '',
        ],
      )) as string[];
    } catch (err) {
      // No answer: the append may still run when Redis answers again (a
      // late command), and then nothing would wake a session without an
      // owner. Queue it behind the append, on the same connection, without
      // waiting: a claim that finds nothing to do is harmless.
      this.#redis
        .pipeline()
        .zadd(this.#g.ready, 'NX', 0, id)
        .publish(this.#ch.ready, id)
        .exec()
        .catch(() => undefined);
      throw err;
    }
    if (reply[0] === 'reused') throw idempotencyKeyReused();
    if (reply[0] === 'not_found' || reply[0] === 'conflict') {
      // Nothing was written: the key is free again, for another request too.
      if (rk && reserved?.fresh)
        await this.#redis.del(this.#g.requestKey(rk.userId, rk.key)).catch(() => undefined);
      return reply[0] === 'not_found'
        ? { kind: 'not_found' }
        : { kind: 'conflict', status: reply[1] as SessionStatus };
    }
    const eventId = reply[1]!;
    // The script woke a valid owner. Without one, the session goes on the
    // ready queue; also for duplicates: the first attempt may have died before.
    if (reply[2] === '') await this.#enqueue(id, eventId);
    return { kind: 'appended', eventId, duplicate: reply[0] === 'duplicate' };
  }

  /** Queues a session with no valid owner for any node. */
  async #enqueue(id: string, eventId: string): Promise<void> {
    await exec(
      this.#redis
        .pipeline()
        .zadd(this.#g.ready, 'NX', idTime(eventId), id)
        .publish(this.#ch.ready, id),
    );
  }

  async readEvents(id: string, afterId: string, count: number): Promise<InboxEvent[]> {
    if (count <= 0) return [];
    const entries = await this.#redis.xrange(
      this.#keys(id).inbox,
      `(${afterId}`,
      '+',
      'COUNT',
      count,
    );
    return entries.map(decodeEvent);
  }

  // Ownership -----------------------------------------------------------

  async takeReady(max: number, ttlMs: number): Promise<string[]> {
    if (max <= 0) return [];
    return (await runScript(
      this.#redis,
      'swTakeReady',
      [this.#g.ready, this.#g.leases],
      [max, ttlMs],
    )) as string[];
  }

  async claim(id: string, nodeId: string, ttlMs: number): Promise<ClaimResult> {
    const k = this.#keys(id);
    const reply = (await runScript(
      this.#redis,
      'swClaim',
      [k.record, k.inbox],
      [nodeId, ttlMs],
    )) as Reply[];
    switch (reply[0]) {
      case 'not_found':
        return { kind: 'not_found' };
      case 'idle': {
        const [, status, createdAt] = reply as [string, SessionStatus, string];
        await this.#indexStatus(id, status, Number(createdAt));
        return { kind: 'idle' };
      }
      case 'busy': {
        const until = Number(reply[1]);
        // Put back the real deadline over the reservation takeReady made.
        await this.#redis.zadd(this.#g.leases, until, id);
        return { kind: 'busy', until };
      }
    }
    const [, epoch, until, now, flat] = reply as [string, number, number, number, string[]];
    const record = decodeRecord(pairsToObject(flat), now)!;
    // The status entry goes in with the lease deadline: this repairs a commit
    // whose index update was lost with its node (see `commit`).
    await exec(
      this.#redis
        .pipeline()
        .zadd(this.#g.leases, until, id)
        .zadd(this.#g.status(record.status), record.created_at, id),
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
  async #indexStatus(id: string, status: SessionStatus, createdAt: number): Promise<void> {
    await this.#redis.zadd(this.#g.status(status), createdAt, id);
  }

  async forget(id: string): Promise<void> {
    // Should another node own it by now, its next renew writes the entry back.
    await this.#redis.zrem(this.#g.leases, id);
  }

  async renew(
    nodeId: string,
    leases: { id: string; epoch: number }[],
    ttlMs: number,
  ): Promise<RenewResult[]> {
    if (leases.length === 0) return [];
    const p = this.#redis.pipeline();
    for (const l of leases) {
      const k = this.#keys(l.id);
      queueScript(p, 'swRenew', [k.record, k.inbox], [nodeId, l.epoch, ttlMs]);
    }
    // Same round trip: lost leases get a deadline too, which costs one idle claim at most.
    queueScript(p, 'swTouchLeases', [this.#g.leases], [ttlMs, ...leases.map((l) => l.id)]);
    const replies = (await exec(p)).slice(0, leases.length) as [number, number, number][];
    return leases.map((l, i) => {
      const [ok, until, pending] = replies[i]!;
      return { id: l.id, ok: ok === 1, until: Number(until), pending: pending === 1 };
    });
  }

  async commit(id: string, lease: Lease, c: Commit): Promise<CommitResult> {
    const k = this.#keys(id);
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
      this.#redis,
      'swCommit',
      [k.record, k.inbox, k.log, k.history],
      args,
    )) as Reply[];
    if (reply[0] !== 'ok') return this.#refused(reply);
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
    const repair = oldStatus === '' || this.#unindexed.delete(id);
    const changed = oldStatus !== newStatus;
    // A session released while still active keeps its deadline entry, so some node picks it up.
    const unlease = released === 1 && isPassive(newStatus);
    if (changed || unlease || repair) {
      const p = this.#redis.pipeline();
      if (changed && oldStatus !== '') p.zrem(this.#g.status(oldStatus as SessionStatus), id);
      if (changed || repair)
        p.zadd(this.#g.status(newStatus as SessionStatus), Number(createdAt), id);
      if (unlease) p.zrem(this.#g.leases, id);
      // The commit is written: an index failure must not make the host retry it.
      await exec(p).catch(() => this.#unindexed.add(id));
    }
    return { kind: 'ok', released: released === 1 };
  }

  async appendLogs(id: string, lease: Lease, lines: string[]): Promise<CommitResult> {
    const k = this.#keys(id);
    const reply = (await runScript(
      this.#redis,
      'swAppendLogs',
      [k.record, k.log],
      [lease.nodeId, lease.epoch, ...lines],
    )) as Reply[];
    return reply[0] === 'ok' ? { kind: 'ok', released: false } : this.#refused(reply);
  }

  async release(id: string, lease: Lease, requeue: boolean): Promise<CommitResult> {
    const reply = (await runScript(
      this.#redis,
      'swRelease',
      [this.#keys(id).record],
      [lease.nodeId, lease.epoch],
    )) as Reply[];
    if (reply[0] !== 'ok') return this.#refused(reply);
    const [, status, now] = reply as [string, string, number];
    if (requeue) {
      await exec(
        this.#redis.pipeline().zadd(this.#g.ready, 'NX', now, id).publish(this.#ch.ready, id),
      );
    } else if (isPassive(status)) {
      await this.#redis.zrem(this.#g.leases, id);
    }
    return { kind: 'ok', released: true };
  }

  /** `not_found`, or `fenced` (counted in the global stats). */
  async #refused(reply: Reply[]): Promise<CommitResult> {
    if (reply[0] === 'not_found') return { kind: 'not_found' };
    await this.#redis.incr(this.#g.fenced);
    return { kind: 'fenced' };
  }

  // Durable timers -----------------------------------------------------

  async scheduleTimer(id: string, lease: Lease, timer: TimerSpec): Promise<CommitResult> {
    const k = this.#keys(id);
    const payload = JSON.stringify({ ...timer.payload, key: timer.key });
    const reply = (await runScript(
      this.#redis,
      'swScheduleTimer',
      [k.record, k.timers],
      [lease.nodeId, lease.epoch, timer.key, payload, timer.delayMs],
    )) as Reply[];
    if (reply[0] !== 'ok') return this.#refused(reply);
    const [, created, state, due] = reply as [string, number, string, number];
    if (state === 'armed') {
      const member = dueMember(id, timer.key);
      // NX for an existing timer: do not undo a delivery reservation.
      if (created === 1) await this.#redis.zadd(this.#g.due, due, member);
      else await this.#redis.zadd(this.#g.due, 'NX', due, member);
    }
    return { kind: 'ok', released: false };
  }

  fireDueTimers(max: number): Promise<number> {
    return fireDueTimers(
      { redis: this.#redis, prefix: this.#prefix, g: this.#g, ch: this.#ch },
      max,
    );
  }

  // Wake-ups ------------------------------------------------------------

  onWake(nodeId: string, handler: WakeHandler): Promise<() => Promise<void>> {
    return this.#sub.listen(this.#ch.wake(nodeId), (message) => {
      const { sessionId, hint } = decodeWake(message);
      handler(sessionId, hint);
    });
  }

  onReady(handler: () => void): Promise<() => Promise<void>> {
    return this.#sub.listen(this.#ch.ready, () => handler());
  }

  // Agent bookkeeping ------------------------------------------------------

  async putProfile(profile: StoredProfile): Promise<void> {
    await runScript(
      this.#redis,
      'swPutProfile',
      [this.#g.profiles],
      [profile.id, encodeProfile(profile), profile.isDefault ? '1' : '0'],
    );
  }

  async getProfile(id: string): Promise<StoredProfile | null> {
    const json = await this.#redis.hget(this.#g.profiles, id);
    return json === null ? null : (JSON.parse(json) as StoredProfile);
  }

  async defaultProfile(): Promise<StoredProfile | null> {
    const all = await this.#redis.hvals(this.#g.profiles);
    for (const json of all) {
      const p = JSON.parse(json) as StoredProfile;
      if (p.isDefault === true) return p;
    }
    return null;
  }

  async listProfiles(): Promise<StoredProfile[]> {
    const all = (await this.#redis.hvals(this.#g.profiles)).map(
      (json) => JSON.parse(json) as StoredProfile,
    );
    return all.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  async deleteProfile(id: string): Promise<boolean> {
    return (await this.#redis.hdel(this.#g.profiles, id)) === 1;
  }

  /** One fenced write (`scripts/fenced-write-2.ts`). */
  async #fencedWrite(
    id: string,
    lease: Lease,
    key: string,
    op: string,
    args: (string | number)[],
  ): Promise<CommitResult> {
    const reply = (await runScript(
      this.#redis,
      'swFencedWrite',
      [this.#keys(id).record, key],
      [lease.nodeId, lease.epoch, op, ...args],
    )) as Reply[];
    return reply[0] === 'ok' ? { kind: 'ok', released: false } : this.#refused(reply);
  }

  addUsage(id: string, lease: Lease, delta: AgentUsage): Promise<CommitResult> {
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
    return this.#fencedWrite(id, lease, this.#keys(id).usage, 'hincrby', args);
  }

  async getUsage(id: string): Promise<AgentUsage> {
    const h = await this.#redis.hgetall(this.#keys(id).usage);
    const n = (f: string) => Number(h[f] ?? 0);
    return {
      calls: n('calls'),
      inputTokens: n('input_tokens'),
      outputTokens: n('output_tokens'),
      costMicros: n('cost_unknown') > 0 ? null : n('cost_micros'),
    };
  }

  async appendTranscript(
    id: string,
    lease: Lease,
    role: string,
    messages: unknown[],
  ): Promise<CommitResult> {
    checkRole(role);
    return this.#fencedWrite(id, lease, this.#keys(id).transcript(role), 'rpush_capped', [
      TRANSCRIPT_CAP,
      ...messages.map(encodeMessage),
    ]);
  }

  async getTranscript(id: string, role: string): Promise<unknown[]> {
    checkRole(role);
    return (await this.#redis.lrange(this.#keys(id).transcript(role), 0, -1)).map(
      (m) => JSON.parse(m) as unknown,
    );
  }

  putArtifacts(id: string, lease: Lease, values: Record<string, string>): Promise<CommitResult> {
    const entries = checkArtifacts(values);
    return this.#fencedWrite(id, lease, this.#keys(id).artifacts, 'hset', entries.flat());
  }

  async getArtifacts(id: string): Promise<Record<string, string>> {
    return { ...(await this.#redis.hgetall(this.#keys(id).artifacts)) };
  }

  // Nodes ---------------------------------------------------------------

  /** A node stays listed for three heartbeat TTLs after its last heartbeat. */
  async heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    await runScript(
      this.#redis,
      'swHeartbeat',
      [this.#g.nodes, this.#g.node(node.id)],
      [
        node.id,
        ttlMs * 3,
        'address',
        node.address,
        'started_at',
        node.started_at,
        'version',
        node.version,
        'active_sessions',
        node.active_sessions,
        'sessions',
        JSON.stringify(node.sessions ?? []),
      ],
    );
  }

  listNodes(): Promise<NodeInfo[]> {
    return listNodes(this.#redis, this.#g);
  }

  // Users and API tokens ------------------------------------------------

  putUser(user: StoredUser): Promise<void> {
    return accounts.putUser(this.#redis, this.#g, user);
  }

  getUser(id: string): Promise<StoredUser | null> {
    return accounts.getUser(this.#redis, this.#g, id);
  }

  listUsers(): Promise<StoredUser[]> {
    return accounts.listUsers(this.#redis, this.#g);
  }

  deleteUser(id: string): Promise<boolean> {
    return accounts.deleteUser(this.#redis, this.#g, id);
  }

  putToken(token: StoredToken, opts: { onlyIfUserHasNone?: boolean } = {}): Promise<boolean> {
    return accounts.putToken(this.#redis, this.#g, token, opts.onlyIfUserHasNone === true);
  }

  tokenByHash(hash: string): Promise<StoredToken | null> {
    return accounts.tokenByHash(this.#redis, this.#g, hash);
  }

  listTokens(userId: string): Promise<StoredToken[]> {
    return accounts.listTokens(this.#redis, this.#g, userId);
  }

  deleteToken(userId: string, tokenId: string): Promise<boolean> {
    return accounts.deleteToken(this.#redis, this.#g, userId, tokenId);
  }

  // Per-user running limit (`admission.ts`) -------------------------------

  #admission(): admission.AdmissionContext {
    return {
      redis: this.#redis,
      prefix: this.#prefix,
      g: this.#g,
      ch: this.#ch,
      refused: (reply) => this.#refused(reply),
    };
  }

  admit(id: string, userId: string, limit: number): Promise<AdmitResult> {
    return admission.admit(this.#admission(), id, userId, limit);
  }

  setRunning(id: string, userId: string, running: boolean): Promise<void> {
    return admission.setRunning(this.#admission(), id, userId, running);
  }

  park(id: string, lease: Lease, reason: string, recheckMs: number): Promise<CommitResult> {
    return admission.park(this.#admission(), id, lease, reason, recheckMs);
  }

  async stats(): Promise<StoreStats> {
    return { fenced_writes: Number((await this.#redis.get(this.#g.fenced)) ?? 0) };
  }

  async countByStatus(): Promise<Record<SessionStatus, number>> {
    const p = this.#redis.pipeline();
    for (const s of SESSION_STATUSES) p.zcard(this.#g.status(s));
    const counts = await exec(p);
    return Object.fromEntries(SESSION_STATUSES.map((s, i) => [s, Number(counts[i])])) as Record<
      SessionStatus,
      number
    >;
  }

  async close(): Promise<void> {
    await this.#sub.close();
    if (this.#redis.status !== 'end')
      await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
