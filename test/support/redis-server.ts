/**
 * The one way tests start Redis. `findRedis` finds the suite's (and the
 * benchmarks'): `REDIS_URL` if set; else a `redis-server` on PATH, started on
 * a free port in a throwaway directory; else a `redis:7` container when a
 * Docker engine answers; else an error that says how to get one. Never a
 * silent skip. `RedisServer` is a redis-server process a test owns (chaos and
 * outage tests, which must not stop the shared one): the same process, with
 * append-only persistence and a restart on the same port and directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './net.ts';

export const NO_REDIS =
  'No Redis found for the tests. Install one (`apt-get install redis-server`, which puts redis-server on PATH), ' +
  'start a Docker engine (a redis:7 container is then started), or set REDIS_URL=redis://host:port.';

export type Teardown = () => Promise<void>;

export async function findRedis(): Promise<{ url: string; teardown: Teardown }> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv) {
    const { hostname, port } = new URL(fromEnv);
    if (!(await pingUntil(hostname || '127.0.0.1', Number(port || 6379), 3000))) {
      throw new Error(
        `REDIS_URL=${fromEnv} does not answer PING. Start that Redis, or unset REDIS_URL to let the tests start one.`,
      );
    }
    return { url: fromEnv, teardown: async () => {} };
  }
  const binary = await onPath('redis-server');
  if (binary) return startLocal(binary);
  const container = await startContainer();
  if (container) return container;
  throw new Error(NO_REDIS);
}

/** A redis-server on a free port with its own directory and no persistence: the suite's own. */
async function startLocal(binary: string): Promise<{ url: string; teardown: Teardown }> {
  const server = await RedisServer.start({ persistence: 'none', binary });
  return { url: server.url, teardown: () => server.close() };
}

/** A redis-server process on 127.0.0.1, as `spawnRedis` started it. */
export interface RedisChild {
  /** Not exited (nor failed to start). */
  readonly running: boolean;
  /** Sends a signal (SIGSTOP/SIGCONT: it stops answering without closing connections). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM (Redis saves what it persists and exits), SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Spawns `binary` on 127.0.0.1:`port` with `dir` as its directory and `args`
 * after those, and hands `onOutput` what it prints. It answers once
 * `pingUntil` says so.
 */
export function spawnRedis(
  binary: string,
  opts: { port: number; dir: string; args: string[]; onOutput(text: string): void },
): RedisChild {
  const child: ChildProcess = spawn(
    binary,
    ['--port', String(opts.port), '--bind', '127.0.0.1', '--dir', opts.dir, ...opts.args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (c: Buffer) => opts.onOutput(c.toString()));
  child.stderr?.on('data', (c: Buffer) => opts.onOutput(c.toString()));
  child.once('error', (err) => opts.onOutput(`spawn ${binary}: ${String(err)}`));
  // 'close' rather than 'exit': a binary that fails to start never emits 'exit'.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    get running() {
      return running();
    },
    signal: (sig) => void child.kill(sig),
    async stop(graceMs) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** Starts redis:7 with testcontainers when a container engine answers; null otherwise. */
async function startContainer(): Promise<{ url: string; teardown: Teardown } | null> {
  const tc = await import('testcontainers');
  try {
    await tc.getContainerRuntimeClient();
  } catch {
    return null;
  }
  const started = await new tc.GenericContainer('redis:7').withExposedPorts(6379).start();
  const url = `redis://${started.getHost()}:${started.getMappedPort(6379)}`;
  return { url, teardown: async () => void (await started.stop()) };
}

async function onPath(name: string): Promise<string | null> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Raw RESP PING, so the check does not depend on a client's retry policy. */
function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
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

/** True once `host:port` answers PING (and has loaded its data); false after `timeoutMs`, or as soon as `alive` says the server is gone. */
export async function pingUntil(
  host: string,
  port: number,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  do {
    if (await ping(host, port)) return true;
    if (!alive()) return false;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  return false;
}

/** `always`: every write is on disk before Redis answers; `everysec`: at most a second is lost on a crash. */
export type Fsync = 'always' | 'everysec';

export interface RedisServerOptions {
  /** The append-only file's fsync, or `none`: no persistence at all. Default `always`. */
  persistence?: Fsync | 'none';
  /** Default `redis-server` (from PATH). */
  binary?: string;
}

/** A redis-server process on 127.0.0.1 that a test owns: its own free port and directory. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly persistence: Fsync | 'none';
  readonly url: string;
  /** Output of every run, newest last (capped). */
  readonly output: string[] = [];
  #binary: string;
  #child: RedisChild | null = null;

  private constructor(port: number, dir: string, persistence: Fsync | 'none', binary: string) {
    this.port = port;
    this.dir = dir;
    this.persistence = persistence;
    this.#binary = binary;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start(opts: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'swe-redis-'));
    const proc = new RedisServer(
      await freePort(),
      dir,
      opts.persistence ?? 'always',
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
      args:
        this.persistence === 'none'
          ? ['--save', '', '--appendonly', 'no']
          : ['--appendonly', 'yes', '--appendfsync', this.persistence, '--save', ''],
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
