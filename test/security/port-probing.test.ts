/**
 * Server-side requests a user points at this machine or a private network
 * (a `repo_url` to clone, a profile's `base_url`) must not tell the user
 * which ports there are open. Attacked as a prober would: a closed port, a
 * port that accepts and hangs, a port that speaks another protocol (a
 * Redis-like line server), an HTTP server that is not git or not a model
 * server. Every one must read the same; a real model server's own error
 * (an OpenAI-shaped body) is still passed through, and a public host still
 * gets git's and the provider's own words.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGeminiChatModel } from '../../agent/llm/gemini.ts';
import { createOpenAIChatModel } from '../../agent/llm/openai.ts';
import { LlmError } from '../../agent/llm/port.ts';
import { isInternalHost } from '../../kernel/hosts.ts';
import { clone, INTERNAL_FAILURE } from '../../sandbox/local-clone.ts';

let base: string;
const held: Socket[] = [];
let closedPort: number;
let hang: TcpServer;
let redisLike: TcpServer;
let http: Server;
const port = (s: TcpServer | Server) => (s.address() as AddressInfo).port;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'swe-probe-'));
  hang = createTcpServer((s) => {
    s.on('error', () => undefined);
    held.push(s);
  });
  redisLike = createTcpServer((s) => {
    s.on('error', () => undefined);
    s.on('data', () => s.write('-ERR unknown command\r\n'));
    s.write('-NOAUTH Authentication required.\r\n');
  });
  http = createHttpServer((req, res) => {
    res.writeHead(req.url?.includes('json') ? 200 : 404, { 'content-type': 'text/html' });
    res.end('<html>an intranet page</html>');
  });
  // A port nothing listens on: bound, then closed.
  const probe = createTcpServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = port(probe);
  await new Promise((r) => probe.close(r));
  for (const s of [hang, redisLike, http])
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  for (const s of held) s.destroy();
  for (const s of [hang, redisLike, http]) await new Promise((r) => s.close(r));
  await rm(base, { recursive: true, force: true });
});

describe('which hosts count as internal', () => {
  it('loopback, private and carrier-grade NAT ranges, in every written form; public ones not', () => {
    for (const h of [
      'localhost',
      '127.0.0.1',
      '127.8.9.10',
      '[::1]',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '[fd12::1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:a00:1]',
    ])
      expect(isInternalHost(h), h).toBe(true);
    for (const h of [
      'github.com',
      '8.8.8.8',
      '172.32.0.1',
      '192.169.0.1',
      '100.128.0.1',
      '[2001:db8::1]',
      '192.0.2.2',
    ])
      expect(isInternalHost(h), h).toBe(false);
  });
});

describe('a clone pointed at ports of this machine', () => {
  it('reads the same for a closed port, a hung one, another protocol and a web page', async () => {
    const urls = [
      `https://127.0.0.1:${closedPort}/x.git`,
      `https://127.0.0.1:${port(hang)}/x.git`,
      `https://127.0.0.1:${port(redisLike)}/x.git`,
      `https://localhost:${port(http)}/x.git`,
    ];
    const reasons = await Promise.all(
      urls.map((url, i) =>
        clone(url, join(base, `c${i}`), base, {
          root: base,
          allowLocalRepos: false,
          cloneTimeoutMs: 3000,
        }).then(
          () => 'cloned',
          (e: Error) => e.message.replace(/127\.0\.0\.1:\d+|localhost:\d+/, 'HOST'),
        ),
      ),
    );
    expect(new Set(reasons).size, reasons.join('\n')).toBe(1);
    expect(reasons[0]).toBe(`cannot clone https://HOST/x.git: ${INTERNAL_FAILURE}`);
  });
});

describe('a model base_url pointed at ports of this machine', () => {
  const chat = async (baseUrl: string) => {
    const model = createOpenAIChatModel(
      { provider: 'openai-compatible', model: 'm', apiKey: 'k', baseUrl },
      { timeoutMs: 2000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
    );
    return model.chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }).then(
      () => 'answered',
      (e: unknown) => (e instanceof LlmError ? e.message.replace(/:\d+/, ':PORT') : String(e)),
    );
  };

  it('reads the same for a closed port, a hung one, another protocol, a 404 page and a 200 that is no completion', async () => {
    const said = await Promise.all([
      chat(`http://127.0.0.1:${closedPort}/v1`),
      chat(`http://127.0.0.1:${port(hang)}/v1`),
      chat(`http://127.0.0.1:${port(redisLike)}/v1`),
      chat(`http://127.0.0.1:${port(http)}/v1`),
      chat(`http://127.0.0.1:${port(http)}/json/v1`),
    ]);
    expect(new Set(said).size, said.join('\n')).toBe(1);
    expect(said[0]).toMatch(
      /^openai-compatible: no model server answered at http:\/\/127\.0\.0\.1:PORT as one should/,
    );
  });

  it('the same for a Gemini profile whose base_url points here', async () => {
    const gemini = async (baseUrl: string) =>
      createGeminiChatModel(
        { provider: 'gemini', model: 'gemini-2.5-flash', apiKey: 'k', baseUrl },
        { timeoutMs: 2000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
      )
        .chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] })
        .then(
          () => 'answered',
          (e: unknown) => (e instanceof LlmError ? e.message.replace(/:\d+/, ':PORT') : String(e)),
        );
    const said = await Promise.all([
      gemini(`http://127.0.0.1:${closedPort}`),
      gemini(`http://127.0.0.1:${port(hang)}`),
      gemini(`http://127.0.0.1:${port(redisLike)}`),
      gemini(`http://127.0.0.1:${port(http)}`),
    ]);
    expect(new Set(said).size, said.join('\n')).toBe(1);
    expect(said[0]).toMatch(
      /^gemini: no model server answered at http:\/\/127\.0\.0\.1:PORT as one should/,
    );
  });

  it("still passes a model server's own error through (an OpenAI-shaped body), so a local Ollama's words reach its user", async () => {
    const ollama = createHttpServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { message: 'model "m" not found, try pulling it first', type: 'api_error' },
        }),
      );
    });
    await new Promise<void>((r) => ollama.listen(0, '127.0.0.1', r));
    try {
      expect(await chat(`http://127.0.0.1:${port(ollama)}/v1`)).toMatch(
        /not found.*try pulling it first/,
      );
    } finally {
      await new Promise((r) => ollama.close(r));
    }
  });
});
