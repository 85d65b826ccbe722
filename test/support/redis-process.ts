/**
 * A redis-server process that a test owns: its own free port and directory,
 * append-only persistence, and a restart on the same port and directory (the
 * AOF brings the data back). For chaos and outage tests, which must not stop
 * the Redis the rest of the suite shares. Started and stopped the way
 * `redis-server.ts` starts the suite's own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, pingUntil, spawnRedis, type RedisChild } from './redis-server.ts';

/** `always`: every write is on disk before Redis answers; `everysec`: at most a second is lost on a crash. */
export type Fsync = 'always' | 'everysec';

export interface RedisProcessOptions {
  /** Default `always`. */
  fsync?: Fsync;
  /** Default `redis-server` (from PATH). */
  binary?: string;
}

export class RedisProcess {
  readonly port: number;
  readonly dir: string;
  readonly fsync: Fsync;
  readonly url: string;
  /** Output of every run, newest last (capped). */
  readonly output: string[] = [];
  #binary: string;
  #child: RedisChild | null = null;

  private constructor(port: number, dir: string, fsync: Fsync, binary: string) {
    this.port = port;
    this.dir = dir;
    this.fsync = fsync;
    this.#binary = binary;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(opts: RedisProcessOptions = {}): Promise<RedisProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'swe-chaos-redis-'));
    const proc = new RedisProcess(
      await freePort(),
      dir,
      opts.fsync ?? 'always',
      opts.binary ?? 'redis-server',
    );
    try {
      await proc.resume();
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return proc;
  }

  get running(): boolean {
    return this.#child?.running ?? false;
  }

  /** Starts the server (again) on the same port and directory, and waits until it answers PING. */
  async resume(): Promise<void> {
    if (this.running) return;
    const child = spawnRedis(this.#binary, {
      port: this.port,
      dir: this.dir,
      args: ['--appendonly', 'yes', '--appendfsync', this.fsync, '--save', ''],
      onOutput: (text) => {
        this.output.push(text);
        if (this.output.length > 500) this.output.splice(0, this.output.length - 500);
      },
    });
    this.#child = child;
    // A port taken by someone else meanwhile, or a bad binary: fail with what Redis said.
    if (!(await pingUntil('127.0.0.1', this.port, 15_000, () => child.running))) {
      throw new Error(
        `redis-server on port ${this.port} did not answer PING:\n${this.output.slice(-10).join('')}`,
      );
    }
  }

  /** SIGTERM (Redis writes its AOF and exits), waiting for the exit. */
  async stop(): Promise<void> {
    await this.#child?.stop(10_000);
  }

  /** Sends a signal to the server process (SIGSTOP/SIGCONT: it stops answering without closing connections). */
  signal(sig: NodeJS.Signals): void {
    this.#child?.signal(sig);
  }

  /** Stops the server for good and removes its directory. */
  async close(): Promise<void> {
    if (this.running) this.#child!.signal('SIGCONT');
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
