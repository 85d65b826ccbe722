/**
 * The store's pub/sub connection, opened on first use. Channels are
 * subscribed while at least one handler listens. Messages are hints only:
 * a lost one is made up for by lease renewal (`pending`) and the claim loop.
 */
import { Redis } from 'ioredis';

type Handler = (message: string) => void;

export class Subscriber {
  #url: string;
  #conn: Promise<Redis> | null = null;
  #handlers = new Map<string, Set<Handler>>();

  constructor(url: string) {
    this.#url = url;
  }

  /** Listens on `channel`; resolves once subscribed, to a function that stops listening. */
  async listen(channel: string, handler: Handler): Promise<() => Promise<void>> {
    const conn = await this.#connection();
    let set = this.#handlers.get(channel);
    const first = !set;
    if (!set) {
      set = new Set();
      this.#handlers.set(channel, set);
    }
    set.add(handler);
    if (first) await conn.subscribe(channel);
    const handlers = set;
    return async () => {
      handlers.delete(handler);
      if (handlers.size > 0 || this.#handlers.get(channel) !== handlers) return;
      this.#handlers.delete(channel);
      if (conn.status === 'ready') await conn.unsubscribe(channel);
    };
  }

  async close(): Promise<void> {
    const pending = this.#conn;
    this.#conn = null;
    this.#handlers.clear();
    if (!pending) return;
    const conn = await pending.catch(() => null);
    if (conn && conn.status !== 'end') await conn.quit().catch(() => conn.disconnect());
  }

  #connection(): Promise<Redis> {
    if (this.#conn) return this.#conn;
    const pending = (async () => {
      const conn = new Redis(this.#url, { lazyConnect: true });
      conn.on('message', (channel: string, message: string) => this.#dispatch(channel, message));
      // Errors surface through the pending commands; an unhandled 'error' event would crash the process.
      conn.on('error', () => undefined);
      try {
        await conn.connect();
      } catch (err) {
        conn.disconnect();
        throw err;
      }
      return conn;
    })();
    // A first connect that failed is tried again by the next listener, not kept as a failure for good.
    pending.catch(() => {
      if (this.#conn === pending) this.#conn = null;
    });
    this.#conn = pending;
    return pending;
  }

  #dispatch(channel: string, message: string): void {
    for (const h of this.#handlers.get(channel) ?? []) {
      try {
        h(message);
      } catch {
        // A failing handler must not starve the others; hints may be dropped.
      }
    }
  }
}
