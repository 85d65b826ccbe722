/**
 * The top rung of the test ladder: real node processes on 127.0.0.1 sharing
 * one Redis prefix, to SIGKILL, SIGSTOP and SIGTERM. A node runs the scripted
 * work (`scripted-node.ts`) or the real entry point with the LLM agent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../net.ts';
import { waitFor } from '../wait.ts';

const ENTRY = fileURLToPath(new URL('./scripted-node.ts', import.meta.url));
const AGENT_ENTRY = fileURLToPath(new URL('../../../server/main.ts', import.meta.url));

/** SECRET_KEY of the node processes tests start (to seal profiles they read). */
export const TEST_SECRET_KEY = 'test-cluster-secret-key-0123456789';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface NodeProcessOptions {
  /** The shared store; with `dataDir` instead, the node's own embedded SQLite store. */
  redisUrl?: string;
  prefix?: string;
  /** DATA_DIR of an embedded node (no Redis). */
  dataDir?: string;
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
export class NodeProcess {
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

  static async start(opts: NodeProcessOptions): Promise<NodeProcess> {
    if (!opts.redisUrl === !opts.dataDir) throw new Error('a node needs redisUrl or dataDir');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), opts.entry === 'agent' ? AGENT_ENTRY : ENTRY],
      {
        cwd: ROOT,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/tmp',
          PORT: String(port),
          HOST: '127.0.0.1',
          ...(opts.redisUrl
            ? { REDIS_URL: opts.redisUrl, REDIS_PREFIX: opts.prefix ?? 'swe' }
            : {}),
          ...(opts.dataDir ? { DATA_DIR: opts.dataDir } : {}),
          // Every node of a test cluster shares one key, as a deployment must.
          SECRET_KEY: TEST_SECRET_KEY,
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
    const proc = new NodeProcess(opts.nodeId, port, child);
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

/** Several node processes sharing one Redis prefix, plus helpers the multi-node tests share. */
export class Cluster {
  readonly nodes: NodeProcess[] = [];
  readonly redisUrl: string;
  readonly prefix: string;
  #opts: Omit<NodeProcessOptions, 'redisUrl' | 'prefix' | 'nodeId'>;
  #next = 0;

  constructor(
    redisUrl: string,
    prefix: string,
    opts: Omit<NodeProcessOptions, 'redisUrl' | 'prefix' | 'nodeId'>,
  ) {
    this.redisUrl = redisUrl;
    this.prefix = prefix;
    this.#opts = opts;
  }

  async add(count = 1, overrides: Partial<NodeProcessOptions> = {}): Promise<NodeProcess[]> {
    const started = await Promise.all(
      Array.from({ length: count }, () =>
        NodeProcess.start({
          ...this.#opts,
          ...overrides,
          redisUrl: this.redisUrl,
          prefix: this.prefix,
          nodeId: `n${++this.#next}`,
        }),
      ),
    );
    this.nodes.push(...started);
    return started;
  }

  /** Nodes that are running and not paused. */
  alive(): NodeProcess[] {
    return this.nodes.filter((n) => n.alive && !n.paused);
  }

  byId(id: string | undefined): NodeProcess | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /**
   * Sends a request to a live node, retrying on another node (with the same
   * Idempotency-Key, so a retried POST is applied once) if the connection fails.
   */
  async request(
    method: string,
    path: string,
    body?: unknown,
    key?: string,
    avoid?: NodeProcess,
  ): Promise<{ status: number; body: any }> {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      const candidates = this.alive().filter((n) => n !== avoid);
      const node =
        candidates[(attempt + Math.floor(Math.random() * candidates.length)) % candidates.length];
      if (!node) throw new Error('no live node');
      try {
        return await node.request(method, path, body, key ? { 'idempotency-key': key } : {});
      } catch (err) {
        lastErr = err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`request ${method} ${path} failed on every node: ${String(lastErr)}`);
  }

  async session(id: string): Promise<any> {
    const res = await this.request('GET', `/agent/sessions/${id}`);
    if (res.status !== 200)
      throw new Error(`GET session ${id} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async create(
    goal: string,
    mode: 'auto' | 'review' = 'auto',
    repo = 'https://example.com/org/repo.git',
  ): Promise<string> {
    const res = await this.request('POST', '/agent/sessions', { goal, repo_url: repo, mode });
    if (res.status !== 201) throw new Error(`create → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.session_id as string;
  }

  async waitStatus(ids: string[], statuses: string[], timeoutMs = 60_000): Promise<any[]> {
    return waitFor(
      `${ids.length} sessions to reach ${statuses.join('/')}`,
      async () => {
        const all = await Promise.all(ids.map((id) => this.session(id)));
        return all.every((s) => statuses.includes(s.status)) ? all : undefined;
      },
      timeoutMs,
      100,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }
}
