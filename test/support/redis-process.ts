/**
 * A redis-server process that a test owns: its own free port and directory,
 * append-only persistence, and a restart on the same port and directory (the
 * AOF brings the data back). For chaos and outage tests, which must not stop
 * the Redis the rest of the suite shares.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './cluster.ts';

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
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();

  private constructor(port: number, dir: string, fsync: Fsync, binary: string) {
    this.port = port;
    this.dir = dir;
    this.fsync = fsync;
    this.#binary = binary;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(opts: RedisProcessOptions = {}): Promise<RedisProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'swe-chaos-redis-'));
    const proc = new RedisProcess(await freePort(), dir, opts.fsync ?? 'always', opts.binary ?? 'redis-server');
    try {
      await proc.resume();
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return proc;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts the server (again) on the same port and directory, and waits until it answers PING. */
  async resume(): Promise<void> {
    if (this.running) return;
    const child = spawn(this.#binary, [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', this.fsync, '--save', '',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c: Buffer) => {
      this.output.push(c.toString());
      if (this.output.length > 500) this.output.splice(0, this.output.length - 500);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', (err) => this.output.push(`spawn ${this.#binary}: ${String(err)}`));
    this.#child = child;
    // A port taken by someone else meanwhile, or a bad binary: fail with what Redis said.
    const deadline = Date.now() + 15_000;
    while (!(await ping(this.port))) {
      if (!this.running || Date.now() > deadline) {
        throw new Error(`redis-server on port ${this.port} did not answer PING:\n${this.output.slice(-10).join('')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (Redis writes its AOF and exits), waiting for the exit. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.#child!.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Sends a signal to the server process (SIGSTOP/SIGCONT: it stops answering without closing connections). */
  signal(sig: NodeJS.Signals): void {
    this.#child?.kill(sig);
  }

  /** Stops the server for good and removes its directory. */
  async close(): Promise<void> {
    if (this.running) this.#child!.kill('SIGCONT');
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Raw RESP PING: true once the server answers (and has loaded its data). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (c: Buffer) => {
      reply += c.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
