import { NodeProcess, type NodeProcessOptions } from '../support/service/processes.ts';
import type { NodeDirectory } from './http.ts';

type SlotOptions = Omit<NodeProcessOptions, 'redisUrl' | 'prefix' | 'nodeId'>;

/** One node identity (`NODE_ID`), run by one process at a time; a restart keeps the id, as a redeployed node does. */
export interface Slot {
  id: string;
  proc: NodeProcess | null;
  /** Processes of this slot that have exited (their output is kept for the report). */
  retired: NodeProcess[];
}

/**
 * The soak's node processes: a fixed set of identities whose processes are
 * killed, paused, stopped and started again. Clients reach the ones that are
 * running and not paused.
 */
export class NodeSlots implements NodeDirectory {
  readonly slots: Slot[];
  #redisUrl: string;
  #prefix: string;
  #opts: SlotOptions;

  constructor(redisUrl: string, prefix: string, count: number, opts: SlotOptions) {
    this.#redisUrl = redisUrl;
    this.#prefix = prefix;
    this.#opts = opts;
    this.slots = Array.from({ length: count }, (_, i) => ({
      id: `n${i + 1}`,
      proc: null,
      retired: [],
    }));
  }

  async startAll(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.start(s)));
  }

  /** Starts the slot's process (after the previous one has exited). */
  async start(slot: Slot): Promise<void> {
    if (slot.proc?.alive) return;
    if (slot.proc) slot.retired.push(slot.proc);
    slot.proc = null;
    slot.proc = await NodeProcess.start({
      ...this.#opts,
      redisUrl: this.#redisUrl,
      prefix: this.#prefix,
      nodeId: slot.id,
    });
  }

  /**
   * What a load balancer without health checks sends to: every slot's
   * current process, dead (refused until restarted) or paused (hangs until
   * SIGCONT) included, so clients meet failures as they happen.
   */
  targets(): { id: string; url: string }[] {
    return this.slots.flatMap((s) => (s.proc ? [{ id: s.id, url: s.proc.url }] : []));
  }

  liveSlots(): Slot[] {
    return this.slots.filter((s) => s.proc?.alive && !s.proc.paused);
  }

  /** Every slot running and answering again (after the disruptions). */
  async heal(): Promise<void> {
    for (const s of this.slots) {
      if (s.proc?.alive && s.proc.paused) s.proc.signal('SIGCONT');
      if (!s.proc?.alive) await this.start(s);
    }
  }

  /** Output of every process, oldest process first, for a failure report. */
  output(): string[] {
    return this.slots.flatMap((s) =>
      [...s.retired, ...(s.proc ? [s.proc] : [])].flatMap((p, i) => [
        `===== ${s.id} process ${i + 1} (pid ${p.pid})`,
        ...p.output,
      ]),
    );
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.proc?.kill()));
  }
}
