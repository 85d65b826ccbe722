/**
 * Request bodies over real HTTP through @hono/node-server with the Node body
 * reader (`api/body-node.ts`), which the node entry point uses instead of the
 * web-standard one the app.request() tests exercise. Lying Content-Lengths,
 * bodies cut short and bad chunks on every route are in the fuzz
 * (test/security/fuzz.test.ts, over Node HTTP); the faults it found are
 * pinned at the end.
 */
import { Agent, request } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { nodeBodyReader } from '../../api/body-node.ts';
import { MAX_BODY_BYTES } from '../../api/body.ts';
import { createLogger } from '../../kernel/logger.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import { rawExchange, serveApp } from '../support/node-http.ts';

let server: ServerType;
let port: number;
const store = new MemoryStore();

beforeAll(async () => {
  const app = createApp({
    store,
    logger: createLogger({ level: 'error', write: () => undefined }),
    readBody: nodeBodyReader,
  });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => void server.close());

/** One request on its own connection; `chunks` are sent chunked (no Content-Length) when given. */
function send(
  path: string,
  opts: { body?: string; chunks?: string[]; type?: string; agent?: Agent } = {},
): Promise<{ status: number; body: any; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': opts.type ?? 'application/json' };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', headers, agent: opts.agent ?? false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(parts).toString() || 'null'),
            socket: res.socket,
          }),
        );
      },
    );
    req.on('error', reject);
    if (opts.chunks) for (const c of opts.chunks) req.write(c);
    req.end(opts.body);
  });
}

describe('request bodies through the Node reader', () => {
  it('reads a JSON body, sent whole or in chunks', async () => {
    const whole = await send('/agent/sessions', {
      body: JSON.stringify({ goal: 'g', repo_url: 'https://example.com/r.git' }),
    });
    expect(whole.status).toBe(201);
    const parts = JSON.stringify({ goal: 'ünïcode goal', repo_url: 'https://example.com/r.git' });
    const chunked = await send('/agent/sessions', {
      chunks: [parts.slice(0, 7), parts.slice(7, 9), parts.slice(9)],
    });
    expect(chunked.status).toBe(201);
    expect((await store.getSession(chunked.body.session_id))?.goal).toBe('ünïcode goal');
  });

  it('answers 413 for a chunked body over the limit, 400 naming the body for bad JSON, 415 for another type', async () => {
    const big = 'x'.repeat(16 * 1024);
    const over = await send('/agent/sessions', {
      chunks: Array.from({ length: MAX_BODY_BYTES / big.length + 2 }, () => big),
    });
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('payload_too_large');
    // The same kept-alive connection still serves the next request.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await send('/agent/sessions', {
      chunks: Array.from({ length: 128 }, () => big),
      agent,
    }); // 2 MiB
    const next = await send('/agent/sessions', {
      body: JSON.stringify({ goal: 'g', repo_url: 'https://example.com/r.git' }),
      agent,
    });
    expect([first.status, next.status]).toEqual([413, 201]);
    expect(first.socket).toBe(next.socket);
    agent.destroy();
    const bad = await send('/agent/sessions', { body: '{"goal": ' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('body');
    const text = await send('/agent/sessions', { body: 'goal=g', type: 'text/plain' });
    expect(text.status).toBe(415);
  });

  it('takes an empty body where the guide sends none (approve)', async () => {
    const { record } = await store.createSession({
      id: '01JZZZZZZZZZZZZZZZZZZZZZZZ',
      goal: 'g',
      repo_url: 'https://example.com/r.git',
      mode: 'review',
    });
    const res = await send(`/agent/sessions/${record.id}/approve`, { body: '' });
    expect(res.status).toBe(409); // QUEUED, not WAITING_FOR_USER: the body was fine, the state was not
    expect(res.body.error.code).toBe('conflict');
  });
});

/** A POST whose Content-Length promises more than the bytes that follow. */
function cutShort(): Buffer {
  const body = JSON.stringify({ goal: 'g', repo_url: 'https://example.com/r.git' });
  return Buffer.from(
    `POST /agent/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
  );
}

// Faults of api/body-node.ts the fuzz over HTTP found (fixed): a hang-up is a 400 nobody reads, never a logged 500 or a pending request.
describe('a client that hangs up mid-body', () => {
  // Node's own "aborted" error once reached the error responder: logged with its stack, answered 500 (to no one).
  it('is not logged as an internal error', async () => {
    const lines: string[] = [];
    const app = createApp({
      store: new MemoryStore(),
      logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
      readBody: nodeBodyReader,
    });
    const http = await serveApp(app);
    try {
      await rawExchange(http, cutShort(), 'hang up');
      await http.settle(0, 5_000);
      expect(lines.filter((l) => JSON.parse(l).level === 'error')).toEqual([]);
    } finally {
      await http.close();
    }
  });

  // A request destroyed before the reader starts never emits 'data', 'end' or 'error' again: a reader waiting for them
  // left the handler pending for good. Production reaches the reader after the token lookup, a Redis round trip; here
  // the app is let in once the server has seen the connection close.
  it('leaves no request pending when it hung up before the body was read', async () => {
    const app = createApp({
      store: new MemoryStore(),
      logger: createLogger({ level: 'error', write: () => undefined }),
      readBody: nodeBodyReader,
    });
    const http = await serveApp({
      async fetch(req, env) {
        const socket = env.incoming.socket;
        if (!socket.destroyed) await new Promise((r) => socket.once('close', r));
        return app.fetch(req, env);
      },
    });
    try {
      await rawExchange(http, cutShort(), 'hang up');
      expect(await http.settle(0, 2_000), 'requests still in the app').toBe(0);
    } finally {
      await http.close();
    }
  });
});
