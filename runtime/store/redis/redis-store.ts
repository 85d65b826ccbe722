/**
 * The Redis adapter of the store port.
 *
 * Every per-session state change is one Lua script on the session's own hash
 * slot (`keys.ts`), fenced by the lease epoch where the port says so. Global
 * indexes (ready queue, lease deadlines, due timers, listings) live in one
 * other slot and are updated by the adapter after the session script; each
 * of them is a hint that repairs itself, the session keys are the truth.
 *
 * This class is the surface: the connection and its lifecycle, and each
 * method handing its call to the file of its role (`sessions.ts`, `inbox.ts`,
 * `leases.ts`, `commits.ts`, `timers.ts`, `work-records.ts`, `nodes.ts`,
 * `accounts.ts`, `admission.ts`, `counts.ts`, `removal.ts`, `ended.ts`) with
 * the context they share.
 */
import { Redis } from 'ioredis';
import type { InboxEvent, InboxEventType } from '../../../actors/events.ts';
import type { SessionStatus } from '../../../actors/status.ts';
import type { AgentUsage } from '../../../actors/work-contract.ts';
import { AppError } from '../../../kernel/errors.ts';
import { redactUrl } from '../../../kernel/redact.ts';
import type { Store } from '../port.ts';
import type {
  AdmitResult,
  AppendOptions,
  AppendResult,
  ClaimResult,
  Commit,
  CommitResult,
  HistoryEntry,
  Lease,
  ListQuery,
  NewSession,
  NodeInfo,
  RemovalResult,
  RenewResult,
  RequestKey,
  RequestKeyState,
  SessionRecord,
  SessionSummary,
  StoredProfile,
  StoredToken,
  StoredUser,
  StoreStats,
  TimerSpec,
  WakeHandler,
} from '../records.ts';
import * as accounts from './accounts.ts';
import * as admission from './admission.ts';
import { decodeWake } from './codec.ts';
import * as commits from './commits.ts';
import { type RedisContext, refused } from './context.ts';
import * as counts from './counts.ts';
import { listEnded } from './ended.ts';
import * as inbox from './inbox.ts';
import { channels, globalKeys } from './keys.ts';
import * as ownership from './leases.ts';
import { listSessions } from './listing.ts';
import * as nodes from './nodes.ts';
import { removeSession } from './removal.ts';
import { timeMs } from './pipeline.ts';
import { describeConnectFailure } from './connect-error.ts';
import { defineScripts } from './scripts/index.ts';
import * as sessions from './sessions.ts';
import { Subscriber } from './subscriber.ts';
import { fireDueTimers } from './timers.ts';
import * as work from './work-records.ts';
import { type Backoff, backoffDelay } from '../../../kernel/backoff.ts';

/** Reconnects: 50 ms doubling to 300 ms, so a Redis that comes back is seen within 300 ms. */
const RECONNECT_BACKOFF: Backoff = { initialMs: 50, maxMs: 300 };
/** How long the first connection may take before the node gives up starting (ioredis's default). */
const CONNECT_TIMEOUT_MS = 10_000;

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
  /** How long the first connection may take before `create` gives up (default 10 s). */
  connectTimeoutMs?: number;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  #ctx: RedisContext;
  #admission: admission.AdmissionContext;
  #sub: Subscriber;
  /** Sessions whose status index write failed after their commit: the next commit writes it again. */
  #unindexed = new Set<string>();

  private constructor(redis: Redis, url: string, prefix: string) {
    const ctx: RedisContext = { redis, prefix, g: globalKeys(prefix), ch: channels(prefix) };
    this.#ctx = ctx;
    this.#admission = { ...ctx, refused: (reply) => refused(ctx, reply) };
    this.#sub = new Subscriber(url);
  }

  /** Connects, registers the scripts, and fails fast (`store_unavailable`) when Redis does not answer. */
  static async create(opts: RedisStoreOptions): Promise<RedisStore> {
    const redis = new Redis(opts.url, {
      lazyConnect: true,
      connectTimeout: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
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
      retryStrategy: (attempt) => Math.round(backoffDelay(RECONNECT_BACKOFF, attempt)),
    });
    // Reported through the failing commands instead; the first one while
    // connecting is the reason the connection failed.
    let firstError: unknown;
    redis.on('error', (err: unknown) => {
      firstError ??= err;
    });
    defineScripts(redis);
    try {
      await redis.connect();
    } catch (closed) {
      redis.disconnect();
      const cause = firstError ?? closed;
      throw new AppError(
        'store_unavailable',
        503,
        `connecting to Redis at ${redactUrl(opts.url)} failed: ${describeConnectFailure(cause, new URL(opts.url), opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS)}`,
        { cause },
      );
    }
    firstError = undefined;
    return new RedisStore(redis, opts.url, opts.prefix ?? 'swe');
  }

  async now(): Promise<number> {
    return timeMs(await this.#ctx.redis.time());
  }

  // Sessions (`sessions.ts`, `listing.ts`) -------------------------------

  createSession(
    init: NewSession,
    idempotencyKey?: string | RequestKey,
  ): Promise<{ record: SessionRecord; created: boolean }> {
    return sessions.createSession(this.#ctx, init, idempotencyKey);
  }

  findRequestKey(rk: RequestKey): Promise<RequestKeyState> {
    return sessions.findRequestKey(this.#ctx, rk);
  }

  getSession(id: string): Promise<SessionRecord | null> {
    return sessions.getSession(this.#ctx, id);
  }

  listSessions(query: ListQuery): Promise<SessionSummary[]> {
    const { redis, prefix, g } = this.#ctx;
    return listSessions(redis, prefix, g, query);
  }

  getLogs(id: string, from?: number, count?: number): Promise<string[]> {
    return sessions.getLogs(this.#ctx, id, from, count);
  }

  getHistory(id: string, from?: number): Promise<HistoryEntry[]> {
    return sessions.getHistory(this.#ctx, id, from);
  }

  // Inbox (`inbox.ts`) ---------------------------------------------------

  appendEvent(
    id: string,
    event: { type: InboxEventType; payload: Record<string, unknown> },
    options?: AppendOptions,
  ): Promise<AppendResult> {
    return inbox.appendEvent(this.#ctx, id, event, options);
  }

  readEvents(id: string, afterId: string, count: number): Promise<InboxEvent[]> {
    return inbox.readEvents(this.#ctx, id, afterId, count);
  }

  // Ownership (`leases.ts`) ----------------------------------------------

  takeReady(max: number, ttlMs: number): Promise<string[]> {
    return ownership.takeReady(this.#ctx, max, ttlMs);
  }

  claim(id: string, nodeId: string, ttlMs: number): Promise<ClaimResult> {
    return ownership.claim(this.#ctx, id, nodeId, ttlMs);
  }

  forget(id: string): Promise<void> {
    return ownership.forget(this.#ctx, id);
  }

  renew(
    nodeId: string,
    leases: { id: string; epoch: number }[],
    ttlMs: number,
  ): Promise<RenewResult[]> {
    return ownership.renew(this.#ctx, nodeId, leases, ttlMs);
  }

  release(id: string, lease: Lease, requeue: boolean): Promise<CommitResult> {
    return ownership.release(this.#ctx, id, lease, requeue);
  }

  // Commits (`commits.ts`) and durable timers (`timers.ts`) -----------------

  commit(id: string, lease: Lease, c: Commit): Promise<CommitResult> {
    return commits.commit(this.#ctx, this.#unindexed, id, lease, c);
  }

  appendLogs(id: string, lease: Lease, lines: string[]): Promise<CommitResult> {
    return commits.appendLogs(this.#ctx, id, lease, lines);
  }

  scheduleTimer(id: string, lease: Lease, timer: TimerSpec): Promise<CommitResult> {
    return commits.scheduleTimer(this.#ctx, id, lease, timer);
  }

  fireDueTimers(max: number): Promise<number> {
    return fireDueTimers(this.#ctx, max);
  }

  // Wake-ups (`subscriber.ts`) -------------------------------------------

  onWake(nodeId: string, handler: WakeHandler): Promise<() => Promise<void>> {
    return this.#sub.listen(this.#ctx.ch.wake(nodeId), (message) => {
      const { sessionId, hint } = decodeWake(message);
      handler(sessionId, hint);
    });
  }

  onReady(handler: () => void): Promise<() => Promise<void>> {
    return this.#sub.listen(this.#ctx.ch.ready, () => handler());
  }

  // Agent bookkeeping (`work-records.ts`) ----------------------------------

  putProfile(profile: StoredProfile): Promise<void> {
    return work.putProfile(this.#ctx, profile);
  }

  getProfile(id: string): Promise<StoredProfile | null> {
    return work.getProfile(this.#ctx, id);
  }

  defaultProfile(): Promise<StoredProfile | null> {
    return work.defaultProfile(this.#ctx);
  }

  listProfiles(): Promise<StoredProfile[]> {
    return work.listProfiles(this.#ctx);
  }

  deleteProfile(id: string): Promise<boolean> {
    return work.deleteProfile(this.#ctx, id);
  }

  addUsage(id: string, lease: Lease, delta: AgentUsage): Promise<CommitResult> {
    return work.addUsage(this.#ctx, id, lease, delta);
  }

  getUsage(id: string): Promise<AgentUsage> {
    return work.getUsage(this.#ctx, id);
  }

  appendTranscript(
    id: string,
    lease: Lease,
    role: string,
    messages: unknown[],
  ): Promise<CommitResult> {
    return work.appendTranscript(this.#ctx, id, lease, role, messages);
  }

  getTranscript(id: string, role: string): Promise<unknown[]> {
    return work.getTranscript(this.#ctx, id, role);
  }

  putArtifacts(id: string, lease: Lease, values: Record<string, string>): Promise<CommitResult> {
    return work.putArtifacts(this.#ctx, id, lease, values);
  }

  getArtifacts(id: string): Promise<Record<string, string>> {
    return work.getArtifacts(this.#ctx, id);
  }

  // Nodes (`nodes.ts`) ---------------------------------------------------

  heartbeat(node: NodeInfo, ttlMs: number): Promise<void> {
    return nodes.heartbeat(this.#ctx, node, ttlMs);
  }

  listNodes(): Promise<NodeInfo[]> {
    return nodes.listNodes(this.#ctx);
  }

  // Users and API tokens (`accounts.ts`) --------------------------------

  putUser(user: StoredUser): Promise<void> {
    return accounts.putUser(this.#ctx.redis, this.#ctx.g, user);
  }

  getUser(id: string): Promise<StoredUser | null> {
    return accounts.getUser(this.#ctx.redis, this.#ctx.g, id);
  }

  listUsers(): Promise<StoredUser[]> {
    return accounts.listUsers(this.#ctx.redis, this.#ctx.g);
  }

  deleteUser(id: string): Promise<boolean> {
    return accounts.deleteUser(this.#ctx.redis, this.#ctx.g, id);
  }

  putToken(token: StoredToken, opts: { onlyIfUserHasNone?: boolean } = {}): Promise<boolean> {
    return accounts.putToken(this.#ctx.redis, this.#ctx.g, token, opts.onlyIfUserHasNone === true);
  }

  tokenByHash(hash: string): Promise<StoredToken | null> {
    return accounts.tokenByHash(this.#ctx.redis, this.#ctx.g, hash);
  }

  listTokens(userId: string): Promise<StoredToken[]> {
    return accounts.listTokens(this.#ctx.redis, this.#ctx.g, userId);
  }

  deleteToken(userId: string, tokenId: string): Promise<boolean> {
    return accounts.deleteToken(this.#ctx.redis, this.#ctx.g, userId, tokenId);
  }

  // Per-user running limit (`admission.ts`) -------------------------------

  admit(id: string, userId: string, limit: number): Promise<AdmitResult> {
    return admission.admit(this.#admission, id, userId, limit);
  }

  setRunning(id: string, userId: string, running: boolean): Promise<void> {
    return admission.setRunning(this.#admission, id, userId, running);
  }

  park(id: string, lease: Lease, reason: string, recheckMs: number): Promise<CommitResult> {
    return admission.park(this.#admission, id, lease, reason, recheckMs);
  }

  // Counts (`counts.ts`) -------------------------------------------------

  stats(): Promise<StoreStats> {
    return counts.stats(this.#ctx);
  }

  countByStatus(): Promise<Record<SessionStatus, number>> {
    return counts.countByStatus(this.#ctx);
  }

  // Removal (`removal.ts`, `ended.ts`) -----------------------------------

  listEnded(before: number, limit: number): Promise<SessionSummary[]> {
    return listEnded(this.#ctx, before, limit);
  }

  removeSession(id: string): Promise<RemovalResult> {
    return removeSession(this.#ctx, id);
  }

  async close(): Promise<void> {
    await this.#sub.close();
    const { redis } = this.#ctx;
    if (redis.status !== 'end') await redis.quit().catch(() => redis.disconnect());
  }
}
