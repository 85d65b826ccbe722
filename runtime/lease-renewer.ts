import type { LeaseRenewals } from './store/port.ts';
import type { RenewResult } from './store/records.ts';
import { type Clock, systemClock, type TimerId, waitAtMost } from '../kernel/clock.ts';
import type { Lease } from './store/records.ts';
import type { Logger } from '../kernel/logger.ts';
import type { ServiceMetrics } from '../kernel/service-metrics.ts';

/** What the renewer needs of a hosted session (a `SessionHost`). */
export interface LeasedHost {
  readonly id: string;
  readonly lease: Lease;
  /** Running or suspended: the lease is still ours as far as this node knows. */
  readonly holding: boolean;
  readonly running: boolean;
  readonly suspended: boolean;
  /** When (the clock's `now()`) a renewal last confirmed the lease. */
  readonly lastConfirmed: number;
  confirmLease(at: number): void;
  suspend(): void;
  resume(at: number): void;
  stop(reason: 'lease-lost'): void;
  wake(): void;
}

export interface RenewerContext {
  store: LeaseRenewals;
  nodeId: string;
  ttlMs: number;
  logger: Logger;
  hosts(): Iterable<LeasedHost>;
  onRenewed?(count: number): void;
  /** A renewal failed (the store is out of reach): the node holds back its claims. */
  onStoreError?(): void;
  metrics?: Pick<ServiceMetrics, 'renewals' | 'leaseLosses' | 'suspensions'>;
  /** The system clock by default; tests move a simulated one. */
  clock?: Clock;
}

/**
 * Renews every lease of a node with one store call per interval (one timer
 * for all leases, like BullMQ's lock manager). A lease the store no longer
 * confirms stops its actor at once. A watchdog on its own timer suspends each
 * actor whose lease was last confirmed too long ago, a safety margin before
 * its TTL runs out, whether renewals fail or simply never answer: a node cut
 * off from Redis never starts anything on a session another node may own.
 *
 * Suspended actors stay in memory and are renewed on the watchdog's faster
 * beat. The store extends an expired lease that no one claimed (a claim
 * raises the epoch), so when Redis comes back the first renewal resumes them
 * where they were, uncommitted work and all; if another node claimed
 * meanwhile, it answers no and they stop. Claims hold back for a moment after
 * an outage (see `RuntimeNode`) so the owners' renewals come first.
 */
export class LeaseRenewer {
  #ctx: RenewerContext;
  #clock: Clock;
  #timers: TimerId[] = [];
  #busy = false;
  /** Failed renewals not yet reported in the log, and when the last report was. */
  #unreported = 0;
  #reportedAt = Number.NEGATIVE_INFINITY;

  constructor(ctx: RenewerContext) {
    this.#ctx = ctx;
    this.#clock = ctx.clock ?? systemClock;
  }

  /** How long before the TTL runs out an unconfirmed actor is stopped. */
  get marginMs(): number {
    return Math.min(500, this.#ctx.ttlMs / 5);
  }

  start(): void {
    if (this.#timers.length > 0) return;
    this.#timers.push(this.#clock.setInterval(() => void this.tick(), this.#intervalMs));
    this.#timers.push(
      this.#clock.setInterval(
        () => this.#suspendExpiring(this.#clock.now()),
        Math.max(10, Math.floor(this.marginMs / 2)),
      ),
    );
  }

  stop(): void {
    for (const t of this.#timers.splice(0)) this.#clock.clearInterval(t);
  }

  get #intervalMs(): number {
    return Math.max(50, Math.floor(this.#ctx.ttlMs / 3));
  }

  async tick(): Promise<void> {
    if (this.#busy) return;
    const hosts = [...this.#ctx.hosts()].filter((h) => h.holding);
    if (hosts.length === 0) return;
    this.#busy = true;
    const sentAt = this.#clock.now();
    const call = this.#ctx.store
      .renew(
        this.#ctx.nodeId,
        hosts.map((h) => ({ id: h.id, epoch: h.lease.epoch })),
        this.#ctx.ttlMs,
      )
      .then(
        (results) => {
          this.#ctx.metrics?.renewals.ok.inc();
          this.#apply(hosts, results, sentAt);
        },
        // The watchdog stops what cannot wait for the next attempt.
        (err: unknown) => {
          this.#ctx.metrics?.renewals.failed.inc();
          this.#ctx.onStoreError?.();
          // Suspended actors are renewed every few hundred ms: one line per 5 s is enough.
          this.#unreported++;
          if (this.#clock.now() - this.#reportedAt >= 5000) {
            this.#ctx.logger.warn('lease renewal failed', {
              err: String(err),
              sessions: hosts.length,
              failures: this.#unreported,
            });
            this.#unreported = 0;
            this.#reportedAt = this.#clock.now();
          }
        },
      );
    // A call that does not answer must not hold back the next attempt. Its
    // answer, should it come, is still true as of `sentAt` and is applied then.
    try {
      await waitAtMost(call, Math.floor(this.#intervalMs * 0.8), this.#clock);
    } finally {
      this.#busy = false;
    }
  }

  #apply(hosts: LeasedHost[], results: RenewResult[], sentAt: number): void {
    const byId = new Map(hosts.map((h) => [h.id, h]));
    for (const r of results) {
      const host = byId.get(r.id);
      if (!host?.holding) continue;
      if (!r.ok) {
        this.#ctx.metrics?.leaseLosses.lost.inc();
        this.#ctx.logger.warn('lease lost', { session: r.id, epoch: host.lease.epoch });
        host.stop('lease-lost');
        continue;
      }
      if (host.suspended) {
        this.#ctx.logger.info('lease confirmed again; resuming the actor', {
          session: host.id,
          epoch: host.lease.epoch,
        });
        host.resume(sentAt);
        continue;
      }
      if (sentAt > host.lastConfirmed) host.confirmLease(sentAt);
      if (r.pending) host.wake();
    }
    this.#ctx.onRenewed?.(results.length);
  }

  /** Suspends actors whose last confirmed lease is about to run out; renews suspended ones sooner. */
  #suspendExpiring(now: number): void {
    const limit = this.#ctx.ttlMs - this.marginMs;
    let suspended = false;
    for (const host of this.#ctx.hosts()) {
      if (host.running && now - host.lastConfirmed > limit) {
        this.#ctx.metrics?.suspensions.inc();
        this.#ctx.logger.warn('lease not confirmed in time; pausing the actor', {
          session: host.id,
          epoch: host.lease.epoch,
          since_ms: Math.round(now - host.lastConfirmed),
        });
        host.suspend();
      }
      suspended ||= host.suspended;
    }
    // Every few hundred ms rather than every TTL/3: the first renewal after
    // the store returns should come before other nodes' claims.
    if (suspended) void this.tick();
  }
}
