/**
 * An app served the way `server/serve-node.ts` serves it (@hono/node-server
 * on a loopback port; build the app with `readBody: nodeBodyReader`), and two
 * clients for it: node:http for requests a client library would send, and a
 * raw socket for framings none would (a Content-Length that lies, a body cut
 * short, a malformed chunk). The server keeps track of the requests in the
 * app, so a test can wait until it is done with one that nobody waits for.
 */
import { request, type Agent } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { serve, type Http2Bindings, type HttpBindings } from '@hono/node-server';
import { waitFor } from './wait.ts';

/** One HTTP response as the client saw it. */
export interface Reply {
  status: number;
  /** Content-Type, '' when there is none. */
  type: string;
  text: string;
}

export interface NodeServer {
  port: number;
  /** Requests the app has begun to handle. */
  readonly started: number;
  /**
   * Waits until the app has finished every request it began since `since`
   * (a value of `started`), for at most `timeoutMs`; returns how many it
   * still has.
   */
  settle(since: number, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

type Fetch = (req: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

export async function serveApp(app: { fetch: Fetch }): Promise<NodeServer> {
  const running: boolean[] = [];
  const fetch = async (req: Request, env: HttpBindings | Http2Bindings) => {
    const n = running.push(true) - 1;
    try {
      return await app.fetch(req, env);
    } finally {
      running[n] = false;
    }
  };
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) =>
    server.listening ? resolve() : server.once('listening', () => resolve()),
  );
  const left = (since: number) => running.slice(since).filter(Boolean).length;
  return {
    port: (server.address() as AddressInfo).port,
    get started() {
      return running.length;
    },
    async settle(since, timeoutMs) {
      await waitFor('the app to finish its requests', () => left(since) === 0, timeoutMs, 2).catch(
        () => undefined,
      );
      return left(since);
    },
    async close() {
      // Kept-alive connections would hold close() until they time out.
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HttpRequest {
  method: string;
  /** Path and query as they go on the request line. */
  path: string;
  headers?: Record<string, string>;
  /** Sent whole, with a Content-Length (the one in `headers`, if any, however wrong). */
  body?: string | Uint8Array;
  /** Sent in these chunks with Transfer-Encoding: chunked instead. */
  chunks?: Uint8Array[];
  /** Default: a connection of its own, closed after the answer. */
  agent?: Agent;
}

/** One request through node:http. An event stream is hung up on at its first byte, as a client that only looks would. */
export function httpRequest(port: number, r: HttpRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: r.method,
        path: r.path,
        headers: r.headers ?? {},
        agent: r.agent ?? false,
      },
      (res) => {
        const type = res.headers['content-type'] ?? '';
        if (type.startsWith('text/event-stream')) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, type, text: '' });
          return;
        }
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type, text: Buffer.concat(parts).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () =>
      req.destroy(new Error(`${r.method} ${r.path}: no answer within 10 s`)),
    );
    req.on('error', reject);
    for (const c of r.chunks ?? []) req.write(c);
    req.end(r.body);
  });
}

/** What the client does once it has written its bytes. */
export type Then = 'wait' | 'half-close' | 'hang up';

/**
 * Writes `bytes` to a new connection as they are, then waits for the server
 * to close it (`wait`; send `Connection: close`), half-closes first
 * (`half-close`), or hangs up as soon as the app has the request (`hang up`:
 * no answer is read). Returns every response the server wrote.
 */
export function rawExchange(server: NodeServer, bytes: Uint8Array, then: Then): Promise<Reply[]> {
  const before = server.started;
  return new Promise((resolve, reject) => {
    const sock = connect(server.port, '127.0.0.1');
    const parts: Buffer[] = [];
    const timer = setTimeout(
      () => sock.destroy(new Error('the server kept the connection open for 10 s')),
      10_000,
    );
    sock.on('data', (c: Buffer) => parts.push(c));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // A reset once the server has answered and closed is an ending like any other.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponses(Buffer.concat(parts)));
      } catch (err) {
        reject(err);
      }
    });
    sock.write(bytes);
    if (then === 'half-close') sock.end();
    if (then === 'hang up')
      void waitFor('the app to take the request', () => server.started > before, 5_000, 1).then(
        () => sock.destroy(),
        (err: unknown) => sock.destroy(err as Error),
      );
  });
}

/** The HTTP/1.1 responses in `buf`, one after another; a body without a length runs to the end. */
export function parseResponses(buf: Buffer): Reply[] {
  const out: Reply[] = [];
  let at = 0;
  while (at < buf.length) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0)
      throw new Error(
        `an incomplete response head: ${JSON.stringify(buf.subarray(at, at + 200).toString('latin1'))}`,
      );
    const [statusLine = '', ...lines] = buf.subarray(at, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
    if (!status) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
    const headers = new Map(
      lines.map((l) => [
        l.slice(0, l.indexOf(':')).trim().toLowerCase(),
        l.slice(l.indexOf(':') + 1).trim(),
      ]),
    );
    let body: Buffer;
    at = end + 4;
    if (headers.has('content-length')) {
      body = buf.subarray(at, at + Number(headers.get('content-length')));
      at += body.length;
    } else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      const chunks: Buffer[] = [];
      for (;;) {
        const eol = buf.indexOf('\r\n', at);
        const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
        if (eol < 0 || Number.isNaN(size)) throw new Error('a malformed chunked response');
        at = eol + 2 + size + 2;
        if (size === 0) break;
        chunks.push(buf.subarray(eol + 2, eol + 2 + size));
      }
      body = Buffer.concat(chunks);
    } else {
      body = buf.subarray(at);
      at = buf.length;
    }
    out.push({
      status: Number(status),
      type: headers.get('content-type') ?? '',
      text: body.toString(),
    });
  }
  return out;
}
