/**
 * The store's pub/sub connection against a real redis-server: a first
 * connect that fails (Redis down when the node first listens) is tried again
 * by the next listener instead of being kept as a failure for good.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Subscriber } from '../../../runtime/store/redis/subscriber.ts';
import { RedisServer } from '../../support/redis-server.ts';
import { waitFor } from '../../support/wait.ts';

let redis: RedisServer | undefined;
let sub: Subscriber | undefined;
afterEach(async () => {
  await sub?.close();
  await redis?.close();
  sub = undefined;
  redis = undefined;
});

describe('the pub/sub connection', () => {
  it('connects on a later listen when its first connect failed', async () => {
    redis = await RedisServer.start();
    await redis.stop();
    sub = new Subscriber(redis.url);
    await expect(sub.listen('ch', () => undefined)).rejects.toThrow();
    await redis.resume();
    const got: string[] = [];
    await sub.listen('ch', (m) => got.push(m));
    const pub = new Redis(redis.url);
    try {
      await waitFor(
        'the message',
        async () => {
          await pub.publish('ch', 'hello');
          return got.includes('hello') || undefined;
        },
        10_000,
        100,
      );
    } finally {
      pub.disconnect();
    }
    expect(got).toContain('hello');
  });
});
