/**
 * What a session host measures of its commits: the result of each, how long
 * it took, and for every inbox event the time from its append (store time)
 * to the commit that includes its effect (this node's clock).
 */
import type { Clock } from '../kernel/clock.ts';
import type { ServiceMetrics } from '../kernel/service-metrics.ts';
import type { CommitResult } from './store/records.ts';

export type HostMetrics = Pick<
  ServiceMetrics,
  'fencedWrites' | 'inboxLag' | 'eventCommitLatency' | 'commits' | 'commitDuration'
>;

export class CommitMeter {
  #m: HostMetrics;
  #clock: Clock;
  /** Append times (store ms) of events handed to the actor and not yet committed. */
  #eventTimes: number[] = [];

  constructor(metrics: HostMetrics, clock: Clock) {
    this.#m = metrics;
    this.#clock = clock;
  }

  /** An inbox event appended at `at` (store ms) was handed to the actor. */
  applied(at: number): void {
    this.#m.inboxLag.observe(Math.max(0, this.#clock.wallNow() - at) / 1000);
    this.#eventTimes.push(at);
  }

  /** Starts timing a commit: the events it includes are those applied so far. */
  start(): { started: number; events: number } {
    return { started: this.#clock.now(), events: this.#eventTimes.length };
  }

  /** A commit failed and will be tried again. */
  failed(): void {
    this.#m.commits.error.inc();
  }

  /** The store answered the commit begun at `start()`. */
  answered(kind: CommitResult['kind'], begun: { started: number; events: number }): void {
    this.#m.commits[kind].inc();
    if (kind !== 'ok') return;
    const now = this.#clock.wallNow();
    this.#m.commitDuration.observe((this.#clock.now() - begun.started) / 1000);
    for (let i = 0; i < begun.events; i++) {
      this.#m.eventCommitLatency.observe(Math.max(0, now - this.#eventTimes[i]!) / 1000);
    }
    // In place: no new array per commit.
    this.#eventTimes.copyWithin(0, begun.events);
    this.#eventTimes.length -= begun.events;
  }

  fenced(): void {
    this.#m.fencedWrites.inc();
  }
}
