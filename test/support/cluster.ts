import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

const ENTRY = fileURLToPath(new URL('./scripted-node.ts', import.meta.url));
const AGENT_ENTRY = fileURLToPath(new URL('../../server/main.ts', import.meta.url));

/** SECRET_KEY of the node processes tests start (to seal profiles they read). */
export const TEST_SECRET_KEY = 'test-cluster-secret-key-0123456789';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface NodeProcOptions {
  redisUrl: string;
  prefix: string;
  nodeId: string;
  leaseTtlMs?: number;
  delayMs?: number;
  concurrency?: number;
  env?: Record<string, string>;
  /** Extra node flags (e.g. `--cpu-prof` when profiling a benchmark). */
  nodeArgs?: string[];
  /** `agent`: the real entry point (`server/main.ts`, the LLM agent) instead of the scripted one. */
  entry?: 'scripted' | 'agent';
}

/** One real node process (scripted agent) on a loopback port. */
export class NodeProc {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  readonly output: string[] = [];
  #child: ChildProcess;
  #exited: Promise<number | null>;

  private constructor(id: string, port: number, child: ChildProcess) {
    this.id = id;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line) this.output.push(line);
      if (this.output.length > 2000) this.output.splice(0, this.output.length - 2000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(opts: NodeProcOptions): Promise<NodeProc> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.entry === 'agent' ? AGENT_ENTRY : ENTRY],
      {
        cwd: ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/tmp',
          PORT: String(port),
          HOST: '127.0.0.1',
          REDIS_URL: opts.redisUrl,
          // Every node of a test cluster shares one key, as a deployment must.
          SECRET_KEY: TEST_SECRET_KEY,
          REDIS_PREFIX: opts.prefix,
          NODE_ID: opts.nodeId,
          LEASE_TTL_MS: String(opts.leaseTtlMs ?? 1000),
          NODE_CONCURRENCY: String(opts.concurrency ?? 500),
          SCRIPTED_DELAY_MS: String(opts.delayMs ?? 0),
          LOG_LEVEL: 'info',
          // A developer's own .env in the repository must not reach test nodes.
          ENV_FILE: '/dev/null',
          ...opts.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const proc = new NodeProc(opts.nodeId, port, child);
    // Fail at once, with its output, if the process dies instead of answering.
    const died = proc.#exited.then(() => {
      throw new Error(
        `node ${opts.nodeId} exited before answering /health:\n${proc.output.slice(-20).join('\n')}`,
      );
    });
    const healthy = waitFor(
      `node ${opts.nodeId} to answer /health`,
      async () => {
        const res = await fetch(`${proc.url}/health`).catch(() => null);
        return res?.ok === true;
      },
      30_000,
      100,
    );
    await Promise.race([healthy, died]);
    died.catch(() => undefined);
    return proc;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** True between SIGSTOP and SIGCONT: requests to it would hang. */
  paused = false;

  signal(sig: NodeJS.Signals): void {
    if (sig === 'SIGSTOP') this.paused = true;
    if (sig === 'SIGCONT') this.paused = false;
    this.#child.kill(sig);
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** SIGTERM, and waits for the graceful exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (!this.alive) return;
    this.#child.kill('SIGCONT');
    this.#child.kill('SIGKILL');
    await this.#exited;
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(this.url + path, {
      method,
      signal: AbortSignal.timeout(10_000),
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
}
