import { type Actor, type AnyStateMachine, createActor, type InspectionEvent } from 'xstate';
import type { InboxEvent } from '../actors/events.ts';
import { toMachineEvent } from '../actors/inbox-events.ts';
import { readStoredSnapshot, SNAPSHOT_VERSION } from '../actors/snapshot.ts';
import {
  derivePhase,
  describeSnapshot,
  ENDED_STATUSES,
  PASSIVE_STATUSES,
  type SessionStatus,
} from '../actors/status.ts';
import type { SessionStoreView } from '../actors/work-contract.ts';
import { type Backoff, Hurry, retry } from '../kernel/backoff.ts';
import { type Clock, systemClock, waitAtMost } from '../kernel/clock.ts';
import type { Logger } from '../kernel/logger.ts';
import { Waiters } from '../kernel/waiters.ts';
import { CommitMeter, type HostMetrics } from './commit-meter.ts';
import { fencedStoreView } from './fenced-store-view.ts';
import { InboxPump } from './inbox-pump.ts';
import { RunningCount } from './running-count.ts';
import type { Commits, InboxReads, Ownership, RunningLimit, WorkRecords } from './store/port.ts';
import {
  type Commit,
  type CommitResult,
  compareEventIds,
  type Lease,
  type SessionRecord,
  type TimerSpec,
  type WakeHint,
} from './store/records.ts';
import { TransitionLog } from './transition-log.ts';
import { WorkLog } from './work-log.ts';

/** The store as a host uses it: its fenced writes, its inbox, its work's records, its count. */
export type HostStore = Commits &
  InboxReads &
  WorkRecords &
  Pick<RunningLimit, 'setRunning'> &
  Pick<Ownership, 'release'>;

/** Why a host stopped; `passivated` and `shutdown` leave a committed state behind. */
export type StopReason = 'passivated' | 'shutdown' | 'fenced' | 'lease-lost' | 'failed';

export interface HostContext {
  store: HostStore;
  nodeId: string;
  machine: AnyStateMachine;
  logger: Logger;
  /** Called once when the host has stopped, whatever the reason. */
  onStopped(host: SessionHost, reason: StopReason): void;
  /**
   * Cleanup when the session's work has ended (its sandbox, say): run after
   * the commit that ended it and before the lease is given up, so no other
   * node can start the session again while it runs.
   */
  onEnded?(host: SessionHost): Promise<void>;
  metrics?: HostMetrics;
  /** Time for measurements, retry waits and the cleanup's time limit; the system clock by default. */
  clock?: Clock;
}

/** Longest a cleanup may hold the lease before the session is released anyway. */
const CLEANUP_TIMEOUT_MS = 60_000;

/**
 * Store writes retried through an outage: 100 ms doubling to 1 s, so a store
 * that fails fast is not asked hundreds of times a second by a node's
 * sessions, and its return is seen within a second.
 */
const STORE_BACKOFF: Backoff = { initialMs: 100, maxMs: 1000 };

/**
 * Hosts one session's XState actor on the node that holds its lease.
 *
 * The host is the only writer of the session while its epoch is current.
 * Every change of the actor is committed by a fenced store write; inbox
 * events are applied in order and the id of the last one is committed with
 * the snapshot that includes it, so after a takeover nothing is applied twice.
 * Invoked work waits (`committed()`) until the transition that started it is
 * durable: effects run only after the commit that decided them.
 */
export class SessionHost {
  readonly id: string;
  readonly lease: Lease;
  #ctx: HostContext;
  #actor!: Actor<AnyStateMachine>;
  /** Last inbox event handed to the actor (committed or not). */
  #appliedEventId: string;
  #seq = 0;
  #committedSeq = 0;
  #logs: string[] = [];
  #transitions = new TransitionLog();
  #timers: TimerSpec[] = [];
  /** Work waiting for the commit of the change that started it. */
  #committing = new Waiters();
  #commitLoop: Promise<void> | null = null;
  /**
   * `suspended`: the lease was not confirmed in time (the store is out of
   * reach, or this process was frozen). The actor stays in memory with
   * whatever it has not committed; work waits at its next step (`ready()`),
   * no event is taken, and the next renewal decides: confirmed (no one
   * claimed meanwhile) resumes it where it was, refused stops it.
   */
  #status: 'running' | 'suspended' | 'draining' | 'stopped' = 'running';
  /** Work waiting at `ready()` while suspended. */
  #paused = new Waiters();
  /** Wakes the store writes waiting out a retry delay: the store answered again. */
  #hurry = new Hurry();
  /** Aborted when the host stops: retried writes give up. */
  #stopping = new AbortController();
  #lastConfirmed: number;
  #committedStatus: SessionStatus;
  /** The ended state of the last commit has had its cleanup. */
  #cleaned = false;
  #clock: Clock;
  #running: RunningCount;
  #workLog: WorkLog;
  /** Present when the node measures. */
  #meter: CommitMeter | undefined;
  #inbox: InboxPump;

  private constructor(ctx: HostContext, record: SessionRecord, lease: Lease, confirmedAt: number) {
    this.id = record.id;
    this.lease = lease;
    this.#ctx = ctx;
    this.#clock = ctx.clock ?? systemClock;
    this.#appliedEventId = record.last_event_id;
    this.#lastConfirmed = confirmedAt;
    this.#committedStatus = record.status;
    this.#running = new RunningCount({
      store: ctx.store,
      sessionId: record.id,
      userId: record.userId,
      logger: ctx.logger,
      clock: this.#clock,
    });
    this.#workLog = new WorkLog({
      sessionId: record.id,
      logger: ctx.logger,
      write: (lines) => ctx.store.appendLogs(this.id, this.lease, lines),
      handOver: (lines) => this.#logs.push(...lines),
      fenced: () => this.#fenced(),
      stopped: () => this.#stopped(),
    });
    this.#meter = ctx.metrics ? new CommitMeter(ctx.metrics, this.#clock) : undefined;
    this.#inbox = new InboxPump({
      sessionId: record.id,
      logger: ctx.logger,
      read: (after, count) => ctx.store.readEvents(this.id, after, count),
      lastApplied: () => this.#appliedEventId,
      apply: (ev) => this.#apply(ev),
      running: () => this.#status === 'running',
    });
  }

  /**
   * Restores (or creates) the actor from a freshly claimed record and starts
   * applying its inbox. Inbox events the caller already read (after the
   * record's last applied one, in order) are applied before the first commit.
   */
  static start(
    ctx: HostContext,
    record: SessionRecord,
    lease: Lease,
    confirmedAt: number,
    events: InboxEvent[] = [],
  ): SessionHost {
    const host = new SessionHost(ctx, record, lease, confirmedAt);
    host.#boot(record, events);
    return host;
  }

  get running(): boolean {
    return this.#status === 'running';
  }

  get suspended(): boolean {
    return this.#status === 'suspended';
  }

  /** Still the lease holder as far as this node knows: running or suspended. */
  get holding(): boolean {
    return this.#status === 'running' || this.#status === 'suspended';
  }

  /**
   * The lease was not confirmed in time. Nothing is dropped: work pauses at
   * its next step, events wait in the inbox, commits keep being retried
   * (fenced by epoch, so one that lands after another node claimed is refused
   * and stops this host).
   */
  suspend(): void {
    if (this.#status !== 'running') return;
    this.#status = 'suspended';
  }

  /** A renewal confirmed the lease again (sent at `at`): carry on where the actor was. */
  resume(at: number): void {
    if (this.#status !== 'suspended') return;
    this.#status = 'running';
    this.#lastConfirmed = at;
    this.#paused.release();
    // Writes backing off through the outage go now, not at the end of their delay.
    this.#hurry.now();
    // Events that arrived meanwhile had their wake-ups ignored.
    this.wake();
    // One more commit: a release or an ended session's cleanup, skipped while suspended, happens now.
    this.#markDirty();
  }

  /**
   * Resolves when the host may act on the session (at once unless
   * suspended); rejects once it has stopped. Work calls it before each model
   * call and each command, so a paused session does nothing that another
   * node may be doing too.
   */
  ready(): Promise<void> {
    if (this.#status === 'stopped')
      return Promise.reject(new Error(`session ${this.id} is no longer hosted here`));
    if (this.#status !== 'suspended') return Promise.resolve();
    return this.#paused.wait();
  }

  /** Local time (the clock's `now()`) at which the store last confirmed our lease. */
  get lastConfirmed(): number {
    return this.#lastConfirmed;
  }

  confirmLease(at: number): void {
    this.#lastConfirmed = at;
  }

  #boot(record: SessionRecord, events: InboxEvent[]): void {
    const inspect = (ev: InspectionEvent) => this.#onInspect(ev);
    const stored = readStoredSnapshot(record.snapshot);
    this.#actor = stored
      ? createActor(this.#ctx.machine, { snapshot: stored as never, inspect })
      : createActor(this.#ctx.machine, {
          input: {
            sessionId: record.id,
            goal: record.goal,
            repoUrl: record.repo_url,
            mode: record.mode,
            ...(record.budget ? { budget: record.budget } : {}),
          },
          inspect,
        });
    this.#actor.on('log', (e: { line: string }) => this.#logs.push(e.line));
    this.#actor.on('timer', (e: { timer: TimerSpec }) => this.#timers.push(e.timer));
    this.#transitions.start(stored ? derivePhase(this.#actor.getSnapshot()) : 'queued');
    this.#actor.start();
    // Timers armed before a restore are re-armed: scheduling is idempotent by key.
    const armed = (this.#actor.getSnapshot().context as { timers?: TimerSpec[] } | undefined)
      ?.timers;
    if (stored && armed) this.#timers.push(...armed);
    for (const ev of events) {
      if (compareEventIds(ev.id, this.#appliedEventId) <= 0) continue;
      this.#apply(ev);
    }
    // Always commit once after a claim: the status moves from QUEUED (or the
    // previous owner's view) to what this actor says, under our epoch.
    this.#markDirty();
    this.wake();
  }

  #onInspect(ev: InspectionEvent): void {
    if (this.#transitions.observe(ev)) this.#markDirty();
  }

  #markDirty(): void {
    this.#seq++;
    if (this.#status === 'stopped') return;
    this.#commitLoop ??= this.#runCommits()
      .catch((err: unknown) => {
        // A bug, not an outage (those are retried): drop the actor, another claim restores it.
        this.#ctx.logger.error('commit loop failed', { session: this.id, err: String(err) });
        this.stop('failed');
      })
      .finally(() => {
        this.#commitLoop = null;
      });
  }

  /** Resolves once every change seen so far is committed; rejects if the host stops first. */
  async committed(): Promise<void> {
    // Yield once: the transition that started the caller notifies its
    // observers right after starting children, so its seq is counted by then.
    await Promise.resolve();
    if (this.#status === 'stopped') throw new Error(`session ${this.id} is no longer hosted here`);
    const seq = this.#seq;
    if (this.#committedSeq >= seq) return;
    return this.#committing.wait(seq);
  }

  /**
   * A new inbox event may exist: read and apply everything after the last
   * applied one (see `InboxPump`).
   */
  wake(hint?: WakeHint): void {
    this.#inbox.wake(hint);
  }

  /** Hands an inbox event to the actor; measured from its append when metrics are on. */
  #apply(ev: InboxEvent): void {
    this.#appliedEventId = ev.id;
    this.#meter?.applied(ev.at);
    // An ended actor (cancelled) takes no events, and its snapshot does not
    // change: still commit the id (a retry timer that fires after a cancel),
    // or the event stays unapplied, the store refuses the release, and the
    // lease is held for ever.
    if (this.#actor.getSnapshot().status !== 'active') {
      this.#markDirty();
      return;
    }
    this.#actor.send(toMachineEvent(ev));
  }

  async #runCommits(): Promise<void> {
    // Start after the current turn: changes made in the same synchronous run
    // (a claim's first snapshot, a batch of inbox events) share one write.
    await Promise.resolve();
    while (this.#committedSeq < this.#seq && this.#status !== 'stopped') {
      const seq = this.#seq;
      const shown = describeSnapshot(this.#actor.getSnapshot());
      const { status } = shown;
      const commit: Commit = {
        snapshot: { v: SNAPSHOT_VERSION, state: this.#actor.getPersistedSnapshot() },
        ...shown,
        lastEventId: this.#appliedEventId,
        history: this.#transitions.take(),
        logs: this.#logs.splice(0),
        // An ended session keeps its lease until its cleanup has run (see onEnded).
        release:
          PASSIVE_STATUSES.includes(status) &&
          this.#status === 'running' &&
          (!ENDED_STATUSES.includes(status) || this.#cleaned || !this.#ctx.onEnded),
        seq,
      };
      if (!ENDED_STATUSES.includes(status)) this.#cleaned = false;
      const timers = this.#timers.splice(0);
      // The events this snapshot includes: those handed to the actor before it was taken.
      const begun = this.#meter?.start();
      const res = await this.#retrying(
        'commit',
        () => this.#ctx.store.commit(this.id, this.lease, commit),
        () => this.#meter?.failed(),
      );
      if (!res) return;
      if (begun) this.#meter?.answered(res.kind, begun);
      if (res.kind !== 'ok') {
        if (res.kind === 'fenced') return this.#fenced();
        this.stop('failed');
        return;
      }
      this.#committedSeq = seq;
      this.#running.committed(this.#committedStatus, commit.status);
      this.#committedStatus = commit.status;
      this.#committing.release(this.#committedSeq);
      // Scheduling is idempotent by key: retried like the commit, or the
      // session would wait for a timer that never fires. A host stopped
      // meanwhile leaves them to the next owner, which re-arms them on restore.
      for (const timer of timers) {
        if (this.#stopped()) return;
        const r = await this.#retrying('scheduling a timer', () =>
          this.#ctx.store.scheduleTimer(this.id, this.lease, timer),
        );
        if (!r) return;
        if (r.kind !== 'ok') return this.#fenced();
      }
      if (
        ENDED_STATUSES.includes(commit.status) &&
        !this.#cleaned &&
        this.#ctx.onEnded &&
        this.#status === 'running'
      ) {
        this.#cleaned = true;
        await this.#cleanup(this.#ctx.onEnded);
        this.#markDirty(); // commit again, now releasing
        continue;
      }
      if (commit.release) {
        if (res.released) return this.stop('passivated');
        // Events arrived after our last read: apply them before passivating.
        this.wake();
      }
    }
  }

  /**
   * Runs an idempotent store write until it answers, while the store cannot
   * be reached. A commit is retried as the very same commit (it may have been
   * written and only the reply lost: the store acknowledges a repeated seq
   * without writing twice). The lease watchdog stops this host if the outage
   * outlasts the lease; then this gives up with null.
   */
  async #retrying(
    what: string,
    write: () => Promise<CommitResult>,
    failed?: () => void,
  ): Promise<CommitResult | null> {
    try {
      return await retry(write, {
        backoff: STORE_BACKOFF,
        signal: this.#stopping.signal,
        hurry: this.#hurry,
        clock: this.#clock,
        onRetry: (err, _delay, attempt) => {
          failed?.();
          // The first failure, then one line every 10 attempts (about 10 s): an outage is not a flood.
          if (attempt % 10 === 1) {
            this.#ctx.logger.warn(`${what} failed, retrying`, {
              session: this.id,
              attempt,
              err: String(err),
            });
          }
        },
      });
    } catch (err) {
      if (this.#stopping.signal.aborted) return null;
      throw err;
    }
  }

  async #cleanup(onEnded: (host: SessionHost) => Promise<void>): Promise<void> {
    try {
      await waitAtMost(onEnded(this), CLEANUP_TIMEOUT_MS, this.#clock);
    } catch (err) {
      this.#ctx.logger.warn('cleanup after the session ended failed', {
        session: this.id,
        err: String(err),
      });
    }
  }

  /** A method, not a field read: the status changes across awaits, which TypeScript's narrowing does not see. */
  #stopped(): boolean {
    return this.#status === 'stopped';
  }

  /** A write of ours was refused for a stale epoch: another node owns the session now. */
  #fenced(): void {
    this.#meter?.fenced();
    this.stop('fenced');
  }

  /** Appends a progress line of running work (see `WorkLog`); never rejects. */
  workLog(line: string): Promise<void> {
    return this.#workLog.append(line);
  }

  /** The store as this host's work sees it: reads of the session, writes fenced by this host's lease. */
  storeView(): SessionStoreView {
    return fencedStoreView({
      store: this.#ctx.store,
      sessionId: this.id,
      lease: this.lease,
      retrying: (what, write) => this.#retrying(what, write),
      fenced: () => this.#fenced(),
    });
  }

  /**
   * Graceful handoff: stop taking events, commit what the actor has, stop it
   * and give the lease back with the session on the ready queue.
   */
  async drain(): Promise<void> {
    // A suspended host cannot commit now: drop it and let its lease expire.
    if (this.#status === 'suspended') return this.stop('shutdown');
    if (this.#status !== 'running') return;
    this.#status = 'draining';
    while (this.#commitLoop) await this.#commitLoop;
    if (this.#committedSeq < this.#seq) return; // fenced or failed meanwhile
    this.stop('shutdown');
    // A passive session needs no new owner until an event arrives.
    const requeue = !PASSIVE_STATUSES.includes(this.#committedStatus);
    await this.#ctx.store.release(this.id, this.lease, requeue).catch((err: unknown) => {
      this.#ctx.logger.warn('release failed; the lease will expire instead', {
        session: this.id,
        err: String(err),
      });
    });
  }

  /** Drops the actor at once. No further writes happen from this host. */
  stop(reason: StopReason): void {
    if (this.#status === 'stopped') return;
    this.#status = 'stopped';
    const err = new Error(`session ${this.id} stopped: ${reason}`);
    this.#committing.rejectAll(err);
    this.#paused.rejectAll(err);
    this.#stopping.abort(err);
    this.#actor.stop();
    this.#ctx.onStopped(this, reason);
  }
}
