/**
 * A Redis connection that cannot be made says why, against the real thing:
 * nothing on the port, a name that does not resolve, a wrong password, a
 * Redis that wants one, TLS against a plain server, and a port where
 * something other than Redis answers. Never with the password in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
