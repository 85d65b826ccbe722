import { createActor, type Actor, type AnyStateMachine, type InspectionEvent } from 'xstate';
import type { Commits, InboxReads, Ownership, RunningLimit, WorkRecords } from './store/port.ts';

/** The store as a host uses it: its fenced writes, its inbox, its work's records, its count. */
export type HostStore = Commits &
  InboxReads &
  WorkRecords &
  Pick<RunningLimit, 'setRunning'> &
  Pick<Ownership, 'release'>;
import {
  compareEventIds,
  type Commit,
  type CommitResult,
  type Lease,
  type SessionRecord,
  type TimerSpec,
  type WakeHint,
} from './store/records.ts';
import { ENDED_STATUSES, PASSIVE_STATUSES, type SessionStatus } from '../actors/status.ts';
import type { InboxEvent } from '../actors/events.ts';
import { deriveStatus, derivePhase } from '../actors/index.ts';
import { toMachineEvent } from '../actors/inbox-events.ts';
import { historyPayload } from '../actors/payload.ts';
import { SNAPSHOT_VERSION, readStoredSnapshot } from '../actors/snapshot.ts';
import type { Logger } from '../kernel/logger.ts';
import type { SessionStoreView } from '../actors/work-contract.ts';
import type { CounterChild } from '../kernel/metrics.ts';
import type { ServiceMetrics } from '../kernel/service-metrics.ts';

/** What a host measures: commits, fenced writes, event latency. */
export type HostMetrics = Pick<
  ServiceMetrics,
  'fencedWrites' | 'inboxLag' | 'eventCommitLatency' | 'commits' | 'commitDuration'
>;

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
}

/** Longest a cleanup may hold the lease before the session is released anyway. */
const CLEANUP_TIMEOUT_MS = 60_000;

/** Tries of `setRunning` (backing off up to 5 s, about half a minute in all) before it is left to self-repair. */
const COUNT_ATTEMPTS = 10;

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
  #stateValue = '';
  #seq = 0;
  #committedSeq = 0;
  #logs: string[] = [];
  #history: Commit['history'] = [];
  #timers: TimerSpec[] = [];
  #waiters: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  #pumping = false;
  #wakeAgain = false;
  #commitLoop: Promise<void> | null = null;
  /**
   * `suspended`: the lease was not confirmed in time (the store is out of
   * reach, or this process was frozen). The actor stays in memory with
   * whatever it has not committed; work waits at its next step (`ready()`),
   * no event is taken, and the next renewal decides: confirmed (no one
   * claimed meanwhile) resumes it where it was, refused stops it.
   */
  #status: 'running' | 'suspended' | 'draining' | 'stopped' = 'running';
  #readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** Wakes the store writes waiting out a retry delay: the store answered again. */
  #retryNow = new Set<() => void>();
  #lastConfirmed: number;
  #committedStatus: SessionStatus;
  /** The ended state of the last commit has had its cleanup. */
  #cleaned = false;
  /** The user whose running limit counts this session, if any. */
  #userId: string | undefined;
  /** No commit of this host has succeeded yet. */
  #firstCommit = true;
  /** `setRunning` calls, in commit order. */
  #counting: Promise<void> = Promise.resolve();
  /** Append times (store ms) of events handed to the actor and not yet committed; kept only when measured. */
  #eventTimes: number[] = [];
  /** Work log lines waiting for the write in flight. */
  #workLines: string[] = [];
  #workLogging: Promise<void> | null = null;

  private constructor(ctx: HostContext, record: SessionRecord, lease: Lease, confirmedAt: number) {
    this.id = record.id;
    this.lease = lease;
    this.#ctx = ctx;
    this.#appliedEventId = record.last_event_id;
    this.#lastConfirmed = confirmedAt;
    this.#committedStatus = record.status;
    this.#userId = record.userId;
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
    for (const w of this.#readyWaiters.splice(0)) w.resolve();
    // Writes backing off through the outage go now, not at the end of their delay.
    for (const go of [...this.#retryNow]) go();
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
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** Local time (performance.now) at which the store last confirmed our lease. */
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
    this.#stateValue = stored ? derivePhase(this.#actor.getSnapshot()) : 'queued';
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
    if (ev.type !== '@xstate.snapshot' || ev.actorRef.sessionId !== ev.rootId) return;
    const to = derivePhase(ev.snapshot as never);
    if (to !== this.#stateValue) {
      const payload = historyPayload(ev.event as { type: string } & Record<string, unknown>);
      this.#history.push({
        event: ev.event.type,
        from: this.#stateValue,
        to,
        ...(payload ? { payload } : {}),
      });
      this.#stateValue = to;
    }
    this.#markDirty();
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
    return new Promise((resolve, reject) => this.#waiters.push({ seq, resolve, reject }));
  }

  /**
   * A new inbox event may exist: read and apply everything after the last
   * applied one. A hint whose event directly follows the last applied one is
   * applied as it is, without the read (one round trip less per event).
   */
  wake(hint?: WakeHint): void {
    if (this.#status !== 'running') return;
    if (hint && !this.#pumping && hint.prevId === this.#appliedEventId) {
      this.#apply(hint.event);
      return;
    }
    if (this.#pumping) {
      this.#wakeAgain = true;
      return;
    }
    this.#pumping = true;
    void this.#pump().finally(() => {
      this.#pumping = false;
    });
  }

  async #pump(): Promise<void> {
    do {
      this.#wakeAgain = false;
      let events: InboxEvent[];
      try {
        events = await this.#ctx.store.readEvents(this.id, this.#appliedEventId, 100);
      } catch (err) {
        this.#ctx.logger.warn('inbox read failed', { session: this.id, err: String(err) });
        return;
      }
      for (const ev of events) {
        if (this.#status !== 'running') return;
        this.#apply(ev);
      }
      if (events.length === 100) this.#wakeAgain = true;
    } while (this.#wakeAgain && this.#status === 'running');
  }

  /** Hands an inbox event to the actor; measured from its append when metrics are on. */
  #apply(ev: InboxEvent): void {
    this.#appliedEventId = ev.id;
    const m = this.#ctx.metrics;
    if (m) {
      m.inboxLag.observe(Math.max(0, Date.now() - ev.at) / 1000);
      this.#eventTimes.push(ev.at);
    }
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
      const snap = this.#actor.getSnapshot();
      const status = snap.status === 'error' ? 'FAILED' : deriveStatus(snap);
      const context = snap.context as { goal: string; reason: string | null; result: unknown };
      const commit: Commit = {
        snapshot: { v: SNAPSHOT_VERSION, state: this.#actor.getPersistedSnapshot() },
        status,
        phase: derivePhase(snap),
        reason: snap.status === 'error' ? `internal error: ${String(snap.error)}` : context.reason,
        goal: context.goal,
        result: context.result ?? null,
        lastEventId: this.#appliedEventId,
        history: this.#history.splice(0),
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
      const m = this.#ctx.metrics;
      // The events this snapshot includes: those handed to the actor before it was taken.
      const events = this.#eventTimes.length;
      const started = m ? performance.now() : 0;
      const res = await this.#retrying(
        'commit',
        () => this.#ctx.store.commit(this.id, this.lease, commit),
        m?.commits.error,
      );
      if (!res) return;
      if (m) this.#measureCommit(m, res.kind, started, events);
      if (res.kind !== 'ok') {
        if (res.kind === 'fenced') return this.#fenced();
        this.stop('failed');
        return;
      }
      this.#committedSeq = seq;
      this.#countRunning(this.#committedStatus, commit.status);
      this.#committedStatus = commit.status;
      this.#releaseWaiters();
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
   * Keeps the user's count of running sessions in step with the committed
   * status: counted on entering RUNNING (and on a host's first RUNNING commit,
   * which repairs a count lost with a crashed node), uncounted on leaving it,
   * which lets the user's waiting sessions try again. Only on changes: most
   * commits stay RUNNING and cost nothing here. Never blocks the commits.
   */
  #countRunning(from: SessionStatus, to: SessionStatus): void {
    const first = this.#firstCommit;
    this.#firstCommit = false;
    const userId = this.#userId;
    if (userId === undefined) return;
    const starts = to === 'RUNNING' && (from !== 'RUNNING' || first);
    // A claimed QUEUED session that ends at once (cancelled while it waited, failed on start) may be counted or parked.
    const ends =
      to !== 'RUNNING' && (from === 'RUNNING' || (first && from === 'QUEUED' && to !== 'QUEUED'));
    if (!starts && !ends) return;
    this.#counting = this.#counting.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#ctx.store.setRunning(this.id, userId, starts);
        } catch (err) {
          // A lost uncount is repaired at the user's next admission (stale check); a lost count at the next claim.
          const what = `counting the session as ${starts ? '' : 'no longer '}running`;
          if (attempt >= COUNT_ATTEMPTS)
            return this.#ctx.logger.error(`${what} failed`, { session: this.id, err: String(err) });
          this.#ctx.logger.warn(`${what} failed, retrying`, { session: this.id, err: String(err) });
          await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** (attempt - 1))));
        }
      }
    });
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
    failures?: CounterChild,
  ): Promise<CommitResult | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        failures?.inc();
        // The first failure, then one line every 10 attempts (about 10 s): an outage is not a flood.
        if (attempt % 10 === 1)
          this.#ctx.logger.warn(`${what} failed, retrying`, {
            session: this.id,
            attempt,
            err: String(err),
          });
        // 100 ms, doubling to 1 s, with jitter: a store that fails fast is not asked
        // hundreds of times a second by a node's sessions, and its return is seen within a second.
        await new Promise<void>((resolve) => {
          const go = () => {
            clearTimeout(timer);
            this.#retryNow.delete(go);
            resolve();
          };
          const timer = setTimeout(
            go,
            Math.min(1000, 100 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2),
          );
          this.#retryNow.add(go);
        });
        if (this.#status === 'stopped') return null;
      }
    }
  }

  async #cleanup(onEnded: (host: SessionHost) => Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLEANUP_TIMEOUT_MS)));
    try {
      await Promise.race([onEnded(this), late]);
    } catch (err) {
      this.#ctx.logger.warn('cleanup after the session ended failed', {
        session: this.id,
        err: String(err),
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** A method, not a field read: the status changes across awaits, which TypeScript's narrowing does not see. */
  #stopped(): boolean {
    return this.#status === 'stopped';
  }

  #releaseWaiters(): void {
    const ready = this.#waiters.filter((w) => w.seq <= this.#committedSeq);
    this.#waiters = this.#waiters.filter((w) => w.seq > this.#committedSeq);
    for (const w of ready) w.resolve();
  }

  #measureCommit(
    m: HostMetrics,
    kind: CommitResult['kind'],
    started: number,
    events: number,
  ): void {
    m.commits[kind].inc();
    if (kind !== 'ok') return;
    const now = Date.now();
    m.commitDuration.observe((performance.now() - started) / 1000);
    for (let i = 0; i < events; i++)
      m.eventCommitLatency.observe(Math.max(0, now - this.#eventTimes[i]!) / 1000);
    // In place: no new array per commit.
    this.#eventTimes.copyWithin(0, events);
    this.#eventTimes.length -= events;
  }

  /** A write of ours was refused for a stale epoch: another node owns the session now. */
  #fenced(): void {
    this.#ctx.metrics?.fencedWrites.inc();
    this.stop('fenced');
  }

  /**
   * Appends a progress line of running work, fenced like every write. Lines
   * that come while a write is in flight go together in the next one (a
   * command's output arrives in bursts), in order. When the store cannot be
   * reached the lines go with the next commit instead (at least once: a write
   * that timed out may have landed too). Resolves once the line is written
   * or handed to the next commit; never rejects.
   */
  workLog(line: string): Promise<void> {
    if (this.#status === 'stopped') return Promise.resolve();
    this.#workLines.push(line);
    this.#workLogging ??= this.#writeWorkLines();
    return this.#workLogging;
  }

  async #writeWorkLines(): Promise<void> {
    // After the current turn: the caller has stored this promise, and the lines of this turn go together.
    await Promise.resolve();
    try {
      while (this.#workLines.length > 0 && !this.#stopped()) {
        const lines = this.#workLines.splice(0);
        try {
          const res = await this.#ctx.store.appendLogs(this.id, this.lease, lines);
          if (res.kind === 'fenced') this.#fenced();
        } catch (err) {
          this.#logs.push(...lines);
          this.#ctx.logger.warn('work log write failed; the lines go with the next commit', {
            session: this.id,
            lines: lines.length,
            err: String(err),
          });
        }
      }
    } finally {
      // In the same turn as the last check: a line pushed after it starts a new writer.
      this.#workLogging = null;
    }
  }

  /** The store as this host's work sees it: reads of the session, writes fenced by this host's lease. */
  storeView(): SessionStoreView {
    const { store } = this.#ctx;
    // Retried while the store is out of reach, like commits: a step survives
    // an outage instead of failing on its bookkeeping. At least once: a usage
    // write whose answer was lost may count twice.
    const fenced = async (write: () => Promise<CommitResult>, what: string) => {
      const res = await this.#retrying(what, write);
      if (!res) throw new Error(`${what} abandoned: session ${this.id} is no longer hosted here`);
      if (res.kind === 'ok') return;
      if (res.kind === 'fenced') this.#fenced();
      throw new Error(`${what} refused (${res.kind}): session ${this.id} is no longer hosted here`);
    };
    return {
      getUsage: () => store.getUsage(this.id),
      addUsage: (delta) =>
        fenced(() => store.addUsage(this.id, this.lease, delta), 'recording usage'),
      appendTranscript: (role, messages) =>
        fenced(
          () => store.appendTranscript(this.id, this.lease, role, messages),
          'storing the transcript',
        ),
      getArtifacts: () => store.getArtifacts(this.id),
      putArtifacts: (values) =>
        fenced(() => store.putArtifacts(this.id, this.lease, values), 'storing work state'),
    };
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
    for (const w of this.#waiters.splice(0)) w.reject(err);
    for (const w of this.#readyWaiters.splice(0)) w.reject(err);
    for (const go of [...this.#retryNow]) go();
    this.#actor.stop();
    this.#ctx.onStopped(this, reason);
  }
}
