/**
 * Finds a real Redis for tests and benchmarks: `REDIS_URL` if set; else a
 * `redis-server` on PATH, started on a free port in a throwaway directory;
 * else a `redis:7` container when a Docker engine answers; else an error that
 * says how to get one. Never a silent skip. Its way of starting and stopping
 * a redis-server (`spawnRedis`, `pingUntil`, `freePort`) is also the one of
 * the chaos tests' own Redis (`redis-process.ts`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

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

/** Spawns redis-server on a free port with its own directory and no persistence. */
async function startLocal(binary: string): Promise<{ url: string; teardown: Teardown }> {
  const dir = await mkdtemp(join(tmpdir(), 'swe-redis-'));
  const port = await freePort();
  const output: string[] = [];
  const server = spawnRedis(binary, {
    port,
    dir,
    args: ['--save', '', '--appendonly', 'no'],
    onOutput: (text) => output.push(text),
  });
  const cleanup = async () => {
    await server.stop(3000);
    await rm(dir, { recursive: true, force: true });
  };
  if (!(await pingUntil('127.0.0.1', port, 10_000, () => server.running))) {
    await cleanup();
    throw new Error(
      `redis-server (${binary}) did not answer PING on port ${port}:\n${output.join('')}`,
    );
  }
  return { url: `redis://127.0.0.1:${port}`, teardown: cleanup };
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

/** A port nothing listens on at the moment, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port')),
      );
    });
  });
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
