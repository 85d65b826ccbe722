/**
 * A Redis connection that cannot be made says why, against the real thing:
 * nothing on the port, a name that does not resolve, a wrong password, a
 * Redis that wants one, TLS against a plain server, and a port where
 * something other than Redis answers. Never with the password in it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../../kernel/errors.ts';
import { RedisStore } from '../../../runtime/store/redis/redis-store.ts';
import { loadConfig } from '../../../server/config.ts';
import { freePort } from '../../support/net.ts';
import { type RedisChild, spawnRedis } from '../../support/redis-server.ts';
import { redisUrl } from '../../support/stores.ts';
import { waitFor } from '../../support/wait.ts';

async function failure(url: string, connectTimeoutMs = 10_000): Promise<string> {
  try {
    const store = await RedisStore.create({ url, prefix: 'connect-test', connectTimeoutMs });
    await store.close();
  } catch (err) {
    expect(isAppError(err) && err.code).toBe('store_unavailable');
    return (err as Error).message;
  }
  throw new Error(`connecting to ${url} succeeded`);
}

describe('connecting to Redis fails with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swe-redis-auth-'));
  let guarded: RedisChild | undefined;
  let guardedPort = 0;
  let http: Server | undefined;
  let httpPort = 0;

  beforeAll(async () => {
    guardedPort = await freePort();
    guarded = spawnRedis('redis-server', {
      port: guardedPort,
      dir,
      args: ['--requirepass', 'the-right-password', '--save', '', '--appendonly', 'no'],
      onOutput: () => undefined,
    });
    await waitFor(
      'the password-protected Redis',
      async () => {
        const c = new Redis(`redis://:the-right-password@127.0.0.1:${guardedPort}`, {
          lazyConnect: true,
          retryStrategy: () => null,
        });
        c.on('error', () => undefined);
        try {
          await c.connect();
          return (await c.ping()) === 'PONG' || undefined;
        } catch {
          return undefined;
        } finally {
          c.disconnect();
        }
      },
      30_000,
      100,
    );
    httpPort = await freePort();
    http = createServer((_req, res) => res.end('not redis'));
    await new Promise<void>((r) => http!.listen(httpPort, '127.0.0.1', r));
  });

  afterAll(async () => {
    await guarded?.stop(2000);
    http?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refused: nothing listens on the port', async () => {
    const port = await freePort();
    expect(await failure(`redis://127.0.0.1:${port}`)).toBe(
      `connecting to Redis at redis://127.0.0.1:${port} failed: connection refused: nothing listens on 127.0.0.1:${port} (is Redis running, and on that port?)`,
    );
  });

  it('DNS: the host name does not resolve', async () => {
    expect(await failure('redis://no-such-host.invalid:6379')).toMatch(
      /failed: the host name no-such-host\.invalid does not resolve \(DNS(, temporarily)?\): check the host in REDIS_URL$/,
    );
  });

  it('REDIS_PASSWORD beside a REDIS_URL without one reaches the password-protected Redis', async () => {
    const config = loadConfig({
      REDIS_URL: `redis://127.0.0.1:${guardedPort}`,
      REDIS_PASSWORD: 'the-right-password',
      SECRET_KEY: 'k'.repeat(16),
    });
    const store = await RedisStore.create({ url: config.redisUrl!, prefix: 'connect-test' });
    try {
      expect(await store.now()).toBeGreaterThan(0);
      expect(await store.listSessions({ limit: 1 })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('auth: a wrong password, a missing one; the password never shown', async () => {
    const wrong = await failure(`redis://:not-the-password@127.0.0.1:${guardedPort}`);
    expect(wrong).toMatch(
      /failed: authentication failed: the user or password in REDIS_URL is wrong/,
    );
    expect(wrong).not.toContain('not-the-password');
    const url = new URL(redisUrl());
    const unknownUser = await failure(`redis://nobody-here:secret-pw@${url.host}`);
    expect(unknownUser).toMatch(/authentication failed/);
    expect(unknownUser).not.toContain('secret-pw');
    expect(await failure(`redis://127.0.0.1:${guardedPort}`)).toMatch(
      /failed: Redis requires a password and REDIS_URL has none/,
    );
  });

  it('TLS: rediss:// against a Redis without TLS', async () => {
    const url = new URL(redisUrl());
    expect(await failure(`rediss://${url.host}`, 1500)).toMatch(
      /failed: (no TLS handshake with .* within 1\.5 s: if that Redis has no TLS, use redis:\/\/|TLS failed: )/,
    );
  });

  it('not Redis: another program answers on the port', async () => {
    expect(await failure(`redis://127.0.0.1:${httpPort}`, 3000)).toMatch(
      new RegExp(
        `failed: 127\\.0\\.0\\.1:${httpPort} does not answer as Redis \\(Unknown RESP type`,
      ),
    );
  });
});

describe('rediss://: a node on a Redis with TLS, a password and a private CA', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swe-redis-tls-'));
  let tlsRedis: RedisChild | undefined;
  let tlsPort = 0;
  const PASSWORD = 'tls-redis-password-0123456789';
  const MAIN = fileURLToPath(new URL('../../../server/main.ts', import.meta.url));

  beforeAll(async () => {
    // A CA of the test's own and a server certificate for localhost and 127.0.0.1 (openssl, as an operator would).
    const sh = (cmd: string) => execFileSync('/bin/sh', ['-c', cmd], { cwd: dir, stdio: 'pipe' });
    sh(
      'openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=swe-test-ca',
    );
    sh('openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost');
    sh("printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext");
    sh(
      'openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext',
    );
    tlsPort = await freePort();
    tlsRedis = spawnRedis('redis-server', {
      port: 0,
      dir,
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        join(dir, 'srv.crt'),
        '--tls-key-file',
        join(dir, 'srv.key'),
        '--tls-ca-cert-file',
        join(dir, 'ca.crt'),
        '--tls-auth-clients',
        'no',
        '--requirepass',
        PASSWORD,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      onOutput: () => undefined,
    });
  });

  afterAll(async () => {
    await tlsRedis?.stop(2000);
    rmSync(dir, { recursive: true, force: true });
  });

  /** `node server/main.ts` against the TLS Redis; what it printed and whether /ready answered 200. */
  async function startNode(extra: Record<string, string>) {
    const port = await freePort();
    // cwd: the test's directory, so no .env of the checkout is read.
    const child = spawn(process.execPath, [MAIN], {
      cwd: dir,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: dir,
        HOST: '127.0.0.1',
        PORT: String(port),
        REDIS_URL: `rediss://localhost:${tlsPort}`,
        REDIS_PASSWORD: PASSWORD,
        REDIS_PREFIX: `tls${Date.now().toString(36)}`,
        SECRET_KEY: 's'.repeat(32),
        WORKSPACE_DIR: join(dir, 'ws'),
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let said = '';
    child.stdout.on('data', (c: Buffer) => (said += c.toString()));
    child.stderr.on('data', (c: Buffer) => (said += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const ready = await Promise.race([
        waitFor(
          'the node to answer /ready',
          async () => (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200 || undefined,
          30_000,
          100,
        ).then(() => 'ready' as const),
        exited.then((code) => `exited ${code}` as const),
      ]);
      return { ready, said };
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }

  it('connects with the CA given through NODE_EXTRA_CA_CERTS, and the password beside the URL', async () => {
    const { ready, said } = await startNode({ NODE_EXTRA_CA_CERTS: join(dir, 'ca.crt') });
    expect(ready, said).toBe('ready');
    expect(said).not.toContain(PASSWORD);
  });

  it('refuses a server certificate it cannot verify, saying TLS failed, without the password', async () => {
    const { ready, said } = await startNode({});
    expect(ready).toMatch(/^exited [1-9]/);
    expect(said).toMatch(
      /connecting to Redis at rediss:\/\/\*\*\*@localhost:\d+ failed: TLS failed: self-signed certificate .*NODE_EXTRA_CA_CERTS/,
    );
    expect(said).not.toContain(PASSWORD);
  });
});
