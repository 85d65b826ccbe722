/**
 * The store's client fails fast while Redis cannot be reached: it queues no
 * command while disconnected, so every API request gets its 503
 * `store_unavailable` in milliseconds (not after the command timeout), and a
 * write in flight when the connection drops is never sent again after the
 * reconnect: the 503 it caused stays true, no session appears later. A frozen
 * Redis (SIGSTOP: connections stay open, nothing answers) still costs the
 * command timeout. The pub/sub connection subscribes again when Redis is back.
 *
 * Each test owns a redis-server (`RedisServer`); the suite's shared one is untouched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createApp } from '../../api/app.ts';
import { createLogger } from '../../kernel/logger.ts';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { RedisServer } from '../support/redis-server.ts';
import { sleep, waitFor } from '../support/wait.ts';

const PREFIX = 'ff';
const REPO = 'https://example.com/org/repo.git';
/** A 503 "at once": generous for a busy 2-core machine; measured answers take a few ms. */
const FAST_MS = 1000;

let redis: RedisServer | undefined;
let store: RedisStore | undefined;
afterEach(async () => {
  await store?.close();
  await redis?.close();
  store = undefined;
  redis = undefined;
});

async function service(commandTimeoutMs?: number) {
  redis = await RedisServer.start({ persistence: 'always' });
  store = await RedisStore.create({
    url: redis.url,
    prefix: PREFIX,
    ...(commandTimeoutMs ? { commandTimeoutMs } : {}),
  });
  const app = createApp({
    store,
    logger: createLogger({ level: 'error', write: () => undefined }),
  });
  const call = async (method: string, path: string, body?: unknown, key?: string) => {
    const headers: Record<string, string> =
      body === undefined ? {} : { 'content-type': 'application/json' };
    if (key) headers['idempotency-key'] = key;
    const t0 = performance.now();
    const res = await app.request(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: res.status,
      body: (await res.json()) as any,
      ms: Math.round(performance.now() - t0),
    };
  };
  return { call };
}

/** Messages in a session's inbox, read directly. */
async function inbox(url: string, id: string): Promise<string[]> {
  const raw = new Redis(url);
  try {
    const entries = await raw.xrange(`${PREFIX}:{${id}}:in`, '-', '+');
    return entries.map(([, fields]) =>
      String(JSON.parse(fields[fields.indexOf('payload') + 1]!).message),
    );
  } finally {
    raw.disconnect();
  }
}

/** Session records in the Redis of this test, read directly (a record without its indexes counts too). */
async function records(url: string): Promise<string[]> {
  const raw = new Redis(url);
  try {
    return (await raw.keys(`${PREFIX}:{*}:s`)).sort();
  } finally {
    raw.disconnect();
  }
}

function expectStoreUnavailable(res: { status: number; body: any }, what: string) {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(503);
  expect(res.body.error).toMatchObject({
    code: 'store_unavailable',
    message: 'the session store is unavailable; retry shortly',
  });
  expect(res.body.error.correlation_id).toBeTruthy();
}

describe('the store client fails fast while Redis is unreachable', () => {
  it('stopped: every route answers 503 store_unavailable at once, and works again when Redis is back', async () => {
    const { call } = await service(); // the default command timeout (5 s)
    const first = await call('POST', '/agent/sessions', {
      goal: 'before the outage',
      repo_url: REPO,
    });
    expect(first.status).toBe(201);
    const id = first.body.session_id as string;

    await redis!.stop();
    const requests: [string, string, unknown?, string?][] = [
      ['GET', '/ready'],
      ['GET', `/agent/sessions/${id}`],
      ['GET', '/agent/sessions'],
      ['GET', `/agent/sessions/${id}/history`],
      ['POST', '/agent/sessions', { goal: 'during the outage', repo_url: REPO }],
      [
        'POST',
        '/agent/sessions',
        { goal: 'during the outage, keyed', repo_url: REPO },
        'ff-create',
      ],
      ['POST', `/agent/sessions/${id}/input`, { message: 'more' }, 'ff-input'],
      ['POST', `/agent/sessions/${id}/approve`],
      ['POST', `/agent/sessions/${id}/cancel`, { reason: 'outage' }],
    ];
    const timings: string[] = [];
    for (const [method, path, body, key] of requests) {
      const res = await call(method, path, body, key);
      expectStoreUnavailable(res, `${method} ${path}`);
      timings.push(`${method} ${path.replace(id, '{id}')}${key ? ' (keyed)' : ''}: ${res.ms} ms`);
      expect(res.ms, `${method} ${path}`).toBeLessThan(FAST_MS);
    }
    // Concurrent requests too: none waits behind another's batch.
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => call('GET', `/agent/sessions/${id}`)),
    );
    for (const res of burst) expectStoreUnavailable(res, 'burst');
    expect(Math.max(...burst.map((r) => r.ms))).toBeLessThan(FAST_MS);
    console.info(
      `503 while Redis is stopped:\n  ${timings.join('\n  ')}\n  20 concurrent GETs: max ${Math.max(...burst.map((r) => r.ms))} ms`,
    );

    await redis!.resume();
    // Requests fail until the client has reconnected: within its capped back-off (300 ms at most).
    const back = performance.now();
    await waitFor(
      'the store to answer again',
      async () => (await call('GET', '/ready')).status === 200,
      10_000,
      10,
    );
    const reconnectMs = Math.round(performance.now() - back);
    console.info(`answering again ${reconnectMs} ms after redis-server answers PING`);
    expect(reconnectMs).toBeLessThan(2000);
    expect((await call('GET', `/agent/sessions/${id}`)).body.status).toBe('QUEUED');
    // Nothing asked during the outage was stored (each answer said so), and nothing was sent late.
    await sleep(300);
    expect(await records(redis!.url)).toEqual([`${PREFIX}:{${id}}:s`]);
    const again = await call(
      'POST',
      '/agent/sessions',
      { goal: 'during the outage, keyed', repo_url: REPO },
      'ff-create',
    );
    expect(again.status).toBe(201);
    expect(again.body.session_id).not.toBe(id);
  }, 60_000);

  it('frozen: a write in flight costs the command timeout, and is not sent again after the connection drops', async () => {
    const timeoutMs = 1500;
    const { call } = await service(timeoutMs);
    const first = await call('POST', '/agent/sessions', {
      goal: 'before the freeze',
      repo_url: REPO,
    });
    expect(first.status).toBe(201);
    const id = first.body.session_id as string;

    redis!.signal('SIGSTOP');
    // The local admin skips the ownership read: the append script is the first command sent.
    const [unkeyed, keyed] = await Promise.all([
      call('POST', `/agent/sessions/${id}/input`, { message: 'in flight' }),
      call('POST', `/agent/sessions/${id}/input`, { message: 'in flight, keyed' }, 'ff-frozen'),
    ]);
    for (const res of [unkeyed, keyed]) {
      expectStoreUnavailable(res, 'POST input while frozen');
      // The connection is open: only the command timeout ends the wait.
      expect(res.ms).toBeGreaterThanOrEqual(timeoutMs - 50);
      expect(res.ms).toBeLessThan(2 * timeoutMs + 1000);
    }
    console.info(
      `503 while Redis is frozen (commandTimeoutMs ${timeoutMs}): ${unkeyed.ms} ms, ${keyed.ms} ms (keyed)`,
    );

    // The frozen server dies with the commands unread (the connection drops), and comes back from its AOF.
    redis!.signal('SIGKILL');
    await waitFor('redis-server to exit', () => !redis!.running, 5000, 20);
    await redis!.resume();
    await waitFor(
      'the store to answer again',
      async () => (await call('GET', '/ready')).status === 200,
      10_000,
      50,
    );
    await sleep(500);
    // ioredis re-sends the commands in flight at a drop (autoResendUnfulfilledCommands) unless told not to:
    // the input answered 503 would then reach the session after all.
    expect(await inbox(redis!.url, id)).toEqual([]);
    // The keyed one, retried: applied now, once.
    const retried = await call(
      'POST',
      `/agent/sessions/${id}/input`,
      { message: 'in flight, keyed' },
      'ff-frozen',
    );
    expect(retried.status).toBe(202);
    const replay = await call(
      'POST',
      `/agent/sessions/${id}/input`,
      { message: 'in flight, keyed' },
      'ff-frozen',
    );
    expect(replay.body.event_id).toBe(retried.body.event_id);
    expect(await inbox(redis!.url, id)).toEqual(['in flight, keyed']);
    expect(await records(redis!.url)).toEqual([`${PREFIX}:{${id}}:s`]);
  }, 60_000);

  it('the pub/sub connection subscribes again after Redis comes back', async () => {
    await service();
    let readies = 0;
    const off = await store!.onReady(() => readies++);
    await redis!.stop();
    await sleep(200);
    await redis!.resume();
    const publisher = new Redis(redis!.url);
    try {
      // Hints published once the subscriber is back reach the handler (its back-off is the ioredis default: up to ~5 s).
      await waitFor(
        'a ready hint after the restart',
        async () => {
          await publisher.publish(`${PREFIX}:ready`, 'x');
          return readies > 0;
        },
        15_000,
        100,
      );
    } finally {
      publisher.disconnect();
      await off();
    }
  }, 60_000);
});
