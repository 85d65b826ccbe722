import { createSessionMachine } from '../actors/index.ts';
import type {
  LeaseRenewals,
  NodeRegistry,
  Ownership,
  TimerDelivery,
  WakeUps,
} from './store/port.ts';
import type { InboxEvent } from '../actors/events.ts';
import { type AdmissionStore, admitOrPark, isLimited } from './admission.ts';
import { type HostStore, SessionHost, type StopReason } from './session-host.ts';
import { LeaseRenewer } from './lease-renewer.ts';
import { hostedWork } from './hosted-work.ts';
import type { WorkImplementations } from '../actors/work-contract.ts';
import type { Logger } from '../kernel/logger.ts';
import type { ServiceMetrics } from '../kernel/service-metrics.ts';
import { type Clock, systemClock, type TimerId } from '../kernel/clock.ts';

/** The store as a node uses it: claims, renewals, timers, wake-ups, heartbeats, and what its hosts and admission need. */
export type NodeStore = Ownership &
  LeaseRenewals &
  TimerDelivery &
  WakeUps &
  NodeRegistry &
  HostStore &
  AdmissionStore;

export type NodeState = 'RUNNING' | 'DRAINING' | 'STOPPED';

export interface NodeOptions {
  store: NodeStore;
  nodeId: string;
  work: WorkImplementations;
  logger: Logger;
  /** Maximum active (leased) sessions on this node. */
  concurrency: number;
  leaseTtlMs: number;
  /** How often to look for ready sessions and expired leases when no hint came. */
  claimIntervalMs?: number;
  address?: string;
  version?: string;
  /** Published with every heartbeat: the settings that change what a session does (see `NodeInfo.settings`). */
  settings?: Record<string, string>;
  /**
   * A session waiting for admission under its user's running limit is tried
   * again when one of the user's sessions stops running, or after this long
   * at the latest (a safety net for a count lost in a crash). Default 10 s.
   */
  parkedRecheckMs?: number;
  /** Where the node, its hosts and its work count what they do; nothing is measured without it. */
  metrics?: ServiceMetrics;
  /** The node's time: claims, timers, heartbeats, renewals and its hosts'. The system clock by default. */
  clock?: Clock;
}

/** Counters a node keeps about itself (exposed on the cluster view). */
export interface NodeCounters {
  claims: number;
  fenced: number;
  leaseLost: number;
  passivated: number;
  handedOff: number;
}

/**
 * One runtime node: claims sessions from the ready queue up to its
 * concurrency, hosts their actors, renews their leases, fires durable timers,
 * heartbeats for the cluster view and, on shutdown, hands every session back
 * so another node continues at once.
 */
export class RuntimeNode {
  readonly id: string;
  readonly startedAt: number;
  readonly counters: NodeCounters = {
    claims: 0,
    fenced: 0,
    leaseLost: 0,
    passivated: 0,
    handedOff: 0,
  };
  #opts: NodeOptions;
  #hosts = new Map<string, SessionHost>();
  #claiming = 0;
  #state: NodeState = 'RUNNING';
  #renewer: LeaseRenewer;
  #clock: Clock;
  #timers: TimerId[] = [];
  #claimLoop: Promise<void> | null = null;
  #claimAgain = false;
  #unsubscribe: (() => Promise<void>)[] = [];
  #uncollect: (() => void) | undefined;
  #machine;
  /** When a store call of this node last failed (the clock's `now()`). */
  #storeErrorAt = Number.NEGATIVE_INFINITY;

  protected constructor(opts: NodeOptions) {
    this.#opts = opts;
    this.id = opts.nodeId;
    this.#clock = opts.clock ?? systemClock;
    this.startedAt = this.#clock.wallNow();
    this.#machine = createSessionMachine(
      hostedWork(opts.work, (id) => this.#hosts.get(id), opts.metrics),
    );
    this.#renewer = new LeaseRenewer({
      store: opts.store,
      nodeId: opts.nodeId,
      ttlMs: opts.leaseTtlMs,
      logger: opts.logger,
      hosts: () => this.#hosts.values(),
      onStoreError: () => this.#noteStoreError(),
      clock: this.#clock,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
    const m = opts.metrics;
    // Read when scraped: nothing to keep in step on every claim and stop.
    this.#uncollect = m?.registry.onCollect(() => {
      m.activeSessions.set(this.#hosts.size);
      m.concurrency.set(opts.concurrency);
    });
  }

  static async start(opts: NodeOptions): Promise<RuntimeNode> {
    const node = new RuntimeNode(opts);
    await node.#begin();
    return node;
  }

  get state(): NodeState {
    return this.#state;
  }

  get activeSessions(): number {
    return this.#hosts.size;
  }

  /** Hosted sessions paused until their lease is confirmed again (counted in `activeSessions` too). */
  get suspendedSessions(): number {
    let n = 0;
    for (const h of this.#hosts.values()) if (h.suspended) n++;
    return n;
  }

  /** Ids of the sessions this node hosts now. */
  sessionIds(): string[] {
    return [...this.#hosts.keys()];
  }

  async #begin(): Promise<void> {
    const { store } = this.#opts;
    this.#unsubscribe.push(
      await store.onWake(this.id, (sessionId, hint) => this.#hosts.get(sessionId)?.wake(hint)),
    );
    this.#unsubscribe.push(await store.onReady(() => this.claimNow()));
    this.#renewer.start();
    const every = (ms: number, fn: () => void) =>
      this.#timers.push(this.#clock.setInterval(fn, ms));
    every(this.#opts.claimIntervalMs ?? 100, () => this.claimNow());
    every(250, () => void this.#fireTimers());
    every(1000, () => void this.#heartbeat());
    await this.#heartbeat();
    this.claimNow();
  }

  /** Looks for claimable sessions now (coalesced with a claim already running). */
  claimNow(): void {
    if (this.#state !== 'RUNNING') return;
    if (this.#claimLoop) {
      this.#claimAgain = true;
      return;
    }
    this.#claimLoop = this.#claimRounds().finally(() => {
      this.#claimLoop = null;
    });
  }

  #noteStoreError(): void {
    this.#storeErrorAt = this.#clock.now();
  }

  /**
   * After an outage every lease has run out in the store, and every node
   * comes back at once. A node that claimed at once would often take a
   * session whose owner still holds it suspended in memory, and throw that
   * owner's uncommitted work away. So claims wait one TTL after the last
   * failed store call of this node: long enough for every node to reconnect
   * (the store's client tries every few hundred ms) and for the owners'
   * renewals (every few hundred ms while suspended) to land first. A node
   * that died during the outage is taken over a TTL later than it would be.
   */
  #claimsHeldBack(): boolean {
    return this.#clock.now() - this.#storeErrorAt < this.#opts.leaseTtlMs;
  }

  async #claimRounds(): Promise<void> {
    do {
      this.#claimAgain = false;
      const capacity = this.#opts.concurrency - this.#hosts.size - this.#claiming;
      if (capacity <= 0 || this.#state !== 'RUNNING' || this.#claimsHeldBack()) return;
      let ids: string[];
      try {
        ids = await this.#opts.store.takeReady(capacity, this.#opts.leaseTtlMs);
      } catch (err) {
        this.#noteStoreError();
        this.#opts.logger.warn('taking ready sessions failed', { err: String(err) });
        return;
      }
      await Promise.all(ids.map((id) => this.#claimOne(id)));
      if (ids.length === capacity) this.#claimAgain = true;
    } while (this.#claimAgain && this.#state === 'RUNNING');
  }

  async #claimOne(id: string): Promise<void> {
    const { store, logger } = this.#opts;
    // Held here, suspended perhaps: a claim would raise the epoch and fence our own actor.
    if (this.#hosts.has(id)) return;
    this.#claiming++;
    try {
      const sentAt = this.#clock.now();
      const res = await store.claim(id, this.id, this.#opts.leaseTtlMs);
      if (res.kind === 'idle' || res.kind === 'not_found') return void (await store.forget(id));
      if (res.kind !== 'claimed') return;
      if (this.#state !== 'RUNNING' || this.#hosts.has(id)) {
        await store.release(id, res.lease, true);
        return;
      }
      let events: InboxEvent[] = [];
      if (isLimited(res.record)) {
        const admission = await admitOrPark(
          store,
          res.record,
          res.lease,
          this.#opts.parkedRecheckMs ?? 10_000,
        );
        if (!admission.host)
          return void logger.debug('waiting for admission', {
            session: id,
            reason: admission.reason ?? '',
          });
        events = admission.events;
        if (this.#state !== 'RUNNING') return void (await store.release(id, res.lease, true));
      }
      this.counters.claims++;
      this.#opts.metrics?.claims.inc();
      logger.debug('claimed', { session: id, epoch: res.lease.epoch });
      try {
        const host = SessionHost.start(
          {
            store,
            nodeId: this.id,
            machine: this.#machine,
            logger,
            clock: this.#clock,
            onStopped: (h, r) => this.#onStopped(h, r),
            ...(this.#opts.metrics ? { metrics: this.#opts.metrics } : {}),
            ...(this.#opts.work.ended
              ? { onEnded: (h: SessionHost) => this.#opts.work.ended!(h.id, h.storeView()) }
              : {}),
          },
          res.record,
          res.lease,
          sentAt,
          events,
        );
        if (host.running) this.#hosts.set(id, host);
      } catch (err) {
        logger.error('session could not be started', { session: id, err: String(err) });
        await store.release(id, res.lease, false);
      }
    } catch (err) {
      this.#noteStoreError();
      logger.warn('claim failed', { session: id, err: String(err) });
    } finally {
      this.#claiming--;
    }
  }

  #onStopped(host: SessionHost, reason: StopReason): void {
    if (this.#hosts.get(host.id) === host) this.#hosts.delete(host.id);
    if (reason === 'fenced') this.counters.fenced++;
    else if (reason === 'lease-lost') this.counters.leaseLost++;
    else if (reason === 'passivated') this.counters.passivated++;
    else if (reason === 'shutdown') this.counters.handedOff++;
    if (reason !== 'passivated' && reason !== 'shutdown') {
      this.#opts.logger.warn('session actor dropped', {
        session: host.id,
        reason,
        epoch: host.lease.epoch,
      });
    }
    // Capacity freed: there may be work waiting.
    this.claimNow();
  }

  async #fireTimers(): Promise<void> {
    if (this.#state !== 'RUNNING') return;
    try {
      await this.#opts.store.fireDueTimers(100);
    } catch (err) {
      this.#noteStoreError();
      this.#opts.logger.warn('firing timers failed', { err: String(err) });
    }
  }

  async #heartbeat(): Promise<void> {
    try {
      await this.#opts.store.heartbeat(
        {
          id: this.id,
          address: this.#opts.address ?? '',
          started_at: this.startedAt,
          version: this.#opts.version ?? '0.0.0',
          active_sessions: this.#hosts.size,
          sessions: this.sessionIds(),
          heartbeat_at: this.#clock.wallNow(),
          ...(this.#opts.settings ? { settings: this.#opts.settings } : {}),
        },
        1000,
      );
    } catch (err) {
      this.#noteStoreError();
      this.#opts.logger.warn('heartbeat failed', { err: String(err) });
    }
  }

  /**
   * Graceful shutdown: stop claiming, bring every actor to a committed state,
   * give its lease back and put it on the ready queue.
   */
  async shutdown(): Promise<void> {
    if (this.#state !== 'RUNNING') return;
    this.#state = 'DRAINING';
    for (const t of this.#timers) this.#clock.clearInterval(t);
    while (this.#claimLoop) await this.#claimLoop;
    await Promise.all([...this.#hosts.values()].map((h) => h.drain()));
    this.#renewer.stop();
    for (const u of this.#unsubscribe) await u().catch(() => undefined);
    this.#uncollect?.();
    this.#state = 'STOPPED';
  }
}
