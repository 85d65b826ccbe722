import type { LeaseRenewals } from './store/port.ts';
import type { RenewResult } from './store/records.ts';
import type { SessionHost } from './session-host.ts';
import type { Logger } from '../kernel/logger.ts';
import type { ServiceMetrics } from '../kernel/service-metrics.ts';

export interface RenewerContext {
  store: LeaseRenewals;
  nodeId: string;
  ttlMs: number;
  logger: Logger;
  hosts(): Iterable<SessionHost>;
  onRenewed?(count: number): void;
  /** A renewal failed (the store is out of reach): the node holds back its claims. */
  onStoreError?(): void;
  metrics?: Pick<ServiceMetrics, 'renewals' | 'leaseLosses' | 'suspensions'>;
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
  #timers: ReturnType<typeof setInterval>[] = [];
  #busy = false;
  /** Failed renewals not yet reported in the log, and when the last report was. */
  #unreported = 0;
  #reportedAt = Number.NEGATIVE_INFINITY;

  constructor(ctx: RenewerContext) {
    this.#ctx = ctx;
  }

  /** How long before the TTL runs out an unconfirmed actor is stopped. */
  get marginMs(): number {
    return Math.min(500, this.#ctx.ttlMs / 5);
  }

  start(): void {
    if (this.#timers.length > 0) return;
    this.#timers.push(setInterval(() => void this.tick(), this.#intervalMs));
    this.#timers.push(
      setInterval(
        () => this.#suspendExpiring(performance.now()),
        Math.max(10, Math.floor(this.marginMs / 2)),
      ),
    );
  }

  stop(): void {
    for (const t of this.#timers.splice(0)) clearInterval(t);
  }

  get #intervalMs(): number {
    return Math.max(50, Math.floor(this.#ctx.ttlMs / 3));
  }

  async tick(): Promise<void> {
    if (this.#busy) return;
    const hosts = [...this.#ctx.hosts()].filter((h) => h.holding);
    if (hosts.length === 0) return;
    this.#busy = true;
    const sentAt = performance.now();
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
          if (performance.now() - this.#reportedAt >= 5000) {
            this.#ctx.logger.warn('lease renewal failed', {
              err: String(err),
              sessions: hosts.length,
              failures: this.#unreported,
            });
            this.#unreported = 0;
            this.#reportedAt = performance.now();
          }
        },
      );
    // A call that does not answer must not hold back the next attempt. Its
    // answer, should it come, is still true as of `sentAt` and is applied then.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<void>(
      (resolve) => (timer = setTimeout(resolve, Math.floor(this.#intervalMs * 0.8))),
    );
    try {
      await Promise.race([call, slow]);
    } finally {
      clearTimeout(timer);
      this.#busy = false;
    }
  }

  #apply(hosts: SessionHost[], results: RenewResult[], sentAt: number): void {
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
