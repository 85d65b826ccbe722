/**
 * The soak's HTTP client: each request goes to a random live node; a
 * connection error, a timeout or a 5xx is retried on another random node with
 * the same Idempotency-Key, as a careful client would, until a deadline.
 */
import type { Prng } from '../support/prng.ts';

/** The nodes a client may send a request to now. */
export interface NodeDirectory {
  targets(): { id: string; url: string }[];
}

/** What the clients saw, for the summary. */
export interface HttpStats {
  requests: number;
  retried: number;
  /** 5xx answers by `status code` (e.g. `503 store_unavailable`). */
  serverErrors: Record<string, number>;
  connectionErrors: number;
  timeouts: number;
  /** First attempts the client abandoned on purpose right after sending (a reply lost in the network). */
  droppedAnswers: number;
}

export const newHttpStats = (): HttpStats => ({
  requests: 0,
  retried: 0,
  serverErrors: {},
  connectionErrors: 0,
  timeouts: 0,
  droppedAnswers: 0,
});

export type Answer =
  | { status: number; body: any; node: string; attempts: number }
  | { status: 'gave-up'; attempts: number; last: string };

export interface CallOptions {
  stats: HttpStats;
  r: Prng;
  /** Epoch ms after which the client stops retrying. */
  giveUpAt: number;
  /** Per attempt (default 6 s): a node answers a store outage with 503 after its 5 s command timeout. */
  timeoutMs?: number;
  /**
   * Chance that the first attempt of a POST with an Idempotency-Key is
   * abandoned a few ms after it is sent, as if its answer were lost: the
   * node may well store the event, and the retry must get the same id back.
   */
  dropAnswer?: number;
}

/** One logical request: retried until a non-5xx answer, or the deadline. */
export async function call(
  nodes: NodeDirectory,
  opts: CallOptions,
  method: string,
  path: string,
  body?: unknown,
  key?: string,
): Promise<Answer> {
  const { stats, r } = opts;
  let attempts = 0;
  let last = 'no live node';
  for (;;) {
    if (attempts > 0) {
      stats.retried++;
      await sleep(r.int(100, 400));
    }
    if (Date.now() > opts.giveUpAt) return { status: 'gave-up', attempts, last };
    const live = nodes.targets();
    if (live.length === 0) {
      attempts++;
      continue;
    }
    const node = r.pick(live);
    attempts++;
    stats.requests++;
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key !== undefined) headers['idempotency-key'] = key;
    const drop =
      attempts === 1 && key !== undefined && method === 'POST' && r.chance(opts.dropAnswer ?? 0);
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 6000);
    try {
      const res = await fetch(node.url + path, {
        method,
        headers,
        signal: drop ? AbortSignal.any([timeout, AbortSignal.timeout(r.int(1, 15))]) : timeout,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      const parsed = text ? (JSON.parse(text) as any) : null;
      if (res.status >= 500) {
        const label = `${res.status} ${parsed?.error?.code ?? 'unknown'}`;
        stats.serverErrors[label] = (stats.serverErrors[label] ?? 0) + 1;
        last = `${method} ${path} on ${node.id} → ${label}`;
        continue;
      }
      return { status: res.status, body: parsed, node: node.id, attempts };
    } catch (err) {
      const timedOut =
        err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      if (drop && timedOut && !timeout.aborted) stats.droppedAnswers++;
      else if (timedOut) stats.timeouts++;
      else stats.connectionErrors++;
      last = `${method} ${path} on ${node.id}: ${timedOut ? 'timed out' : String((err as Error).cause ?? err)}`;
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
