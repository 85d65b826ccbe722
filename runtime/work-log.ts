/**
 * The progress lines of running work (a command's output, a clone's), on
 * their way to the session log. Lines that come while a write is in flight
 * go together in the next one (output arrives in bursts), in order. When the
 * store cannot be reached the lines are handed to the next commit instead:
 * at least once, since a write that timed out may have landed too.
 */
import type { Logger } from '../kernel/logger.ts';
import type { CommitResult } from './store/records.ts';

export interface WorkLogTarget {
  sessionId: string;
  logger: Logger;
  /** Appends lines under the host's lease (fenced). */
  write(lines: string[]): Promise<CommitResult>;
  /** Lines whose write failed: they go with the next commit. */
  handOver(lines: string[]): void;
  /** A write was refused for a stale epoch. */
  fenced(): void;
  /** The host has stopped: nothing is written any more. */
  stopped(): boolean;
}

export class WorkLog {
  #target: WorkLogTarget;
  #lines: string[] = [];
  #writing: Promise<void> | null = null;

  constructor(target: WorkLogTarget) {
    this.#target = target;
  }

  /** Resolves once the line is written or handed to the next commit; never rejects. */
  append(line: string): Promise<void> {
    if (this.#target.stopped()) return Promise.resolve();
    this.#lines.push(line);
    this.#writing ??= this.#write();
    return this.#writing;
  }

  async #write(): Promise<void> {
    // After the current turn: the caller has stored this promise, and the lines of this turn go together.
    await Promise.resolve();
    const t = this.#target;
    try {
      while (this.#lines.length > 0 && !t.stopped()) {
        const lines = this.#lines.splice(0);
        try {
          const res = await t.write(lines);
          if (res.kind === 'fenced') t.fenced();
        } catch (err) {
          t.handOver(lines);
          t.logger.warn('work log write failed; the lines go with the next commit', {
            session: t.sessionId,
            lines: lines.length,
            err: String(err),
          });
        }
      }
    } finally {
      // In the same turn as the last check: a line pushed after it starts a new writer.
      this.#writing = null;
    }
  }
}
