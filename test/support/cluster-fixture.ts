import { NodeProc, type NodeProcOptions } from './cluster.ts';
import { waitFor } from './wait.ts';

/** Several node processes sharing one Redis prefix, plus helpers the multi-node tests share. */
export class Cluster {
  readonly nodes: NodeProc[] = [];
  readonly redisUrl: string;
  readonly prefix: string;
  #opts: Omit<NodeProcOptions, 'redisUrl' | 'prefix' | 'nodeId'>;
  #next = 0;

  constructor(
    redisUrl: string,
    prefix: string,
    opts: Omit<NodeProcOptions, 'redisUrl' | 'prefix' | 'nodeId'>,
  ) {
    this.redisUrl = redisUrl;
    this.prefix = prefix;
    this.#opts = opts;
  }

  async add(count = 1, overrides: Partial<NodeProcOptions> = {}): Promise<NodeProc[]> {
    const started = await Promise.all(
      Array.from({ length: count }, () =>
        NodeProc.start({
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
  alive(): NodeProc[] {
    return this.nodes.filter((n) => n.alive && !n.paused);
  }

  byId(id: string | undefined): NodeProc | undefined {
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
    avoid?: NodeProc,
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
