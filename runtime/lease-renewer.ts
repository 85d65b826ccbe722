import type { Store } from './store/port.ts';
import type { SessionHost } from './session-host.ts';
import type { Logger } from './logger.ts';

export interface RenewerContext {
  store: Store;
  nodeId: string;
  ttlMs: number;
  logger: Logger;
  hosts(): Iterable<SessionHost>;
  onRenewed?(count: number): void;
}

/**
 * Renews every lease of a node with one store call per interval (one timer
 * for all leases, like BullMQ's lock manager). A lease the store no longer
 * confirms stops its actor at once; when the store cannot be reached, each
 * actor is stopped before its TTL runs out, so a node cut off from Redis never
 * keeps working on a session another node may already own.
 */
export class LeaseRenewer {
  #ctx: RenewerContext;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;

  constructor(ctx: RenewerContext) {
    this.#ctx = ctx;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.tick(), Math.max(50, Math.floor(this.#ctx.ttlMs / 3)));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    const sentAt = performance.now();
    const hosts = [...this.#ctx.hosts()].filter((h) => h.running);
    try {
      if (hosts.length === 0) return;
      const results = await this.#ctx.store.renew(
        this.#ctx.nodeId,
        hosts.map((h) => ({ id: h.id, epoch: h.lease.epoch })),
        this.#ctx.ttlMs,
      );
      const byId = new Map(hosts.map((h) => [h.id, h]));
      for (const r of results) {
        const host = byId.get(r.id);
        if (!host) continue;
        if (!r.ok) {
          this.#ctx.logger.warn('lease lost', { session: r.id });
          host.stop('lease-lost');
          continue;
        }
        host.confirmLease(sentAt);
        if (r.pending) host.wake();
      }
      this.#ctx.onRenewed?.(results.length);
    } catch (err) {
      this.#ctx.logger.warn('lease renewal failed', { err: String(err) });
      this.#stopExpiring(performance.now());
    } finally {
      this.#busy = false;
    }
  }

  /** Stops actors whose last confirmed lease is about to run out. */
  #stopExpiring(now: number): void {
    const margin = Math.min(500, this.#ctx.ttlMs / 5);
    for (const host of this.#ctx.hosts()) {
      if (host.running && now - host.lastConfirmed > this.#ctx.ttlMs - margin) host.stop('lease-lost');
    }
  }
}
