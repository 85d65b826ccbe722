/**
 * Guessing tokens is slow: failed token attempts are counted per client
 * address (10, refilled at 10 a minute); past them every token request from
 * that address is a 429 with Retry-After until the bucket refills, a right
 * token included, so a guess cannot be checked against the answer. Over
 * real HTTP, where the address comes from the socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'hono';
import { failedAuthLimiter, FAILED_AUTH_PER_MINUTE } from '../../api/auth-limit.ts';
import { clientAddress, isLocalOrPrivate } from '../../server/client-address.ts';
import { loadConfig } from '../../server/config.ts';
import { scriptedWork } from '../support/fake-work.ts';
import { type Served, serveService } from '../support/service/served.ts';

let served: Served;
let token = '';
beforeAll(async () => {
  served = await serveService(loadConfig({ PORT: '0', DATA_DIR: ':memory:' }), scriptedWork());
  const me = await (await fetch(`${served.url}/agent/me`)).json();
  const made = await fetch(`${served.url}/agent/users/${me.id}/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'cli' }),
  });
  token = (await made.json()).token;
});
afterAll(async () => served?.close());

const withToken = (t: string, path = '/agent/me') =>
  fetch(`${served.url}${path}`, { headers: { authorization: `Bearer ${t}` } });

describe('failed token attempts', () => {
  it('are a 429 with Retry-After from the 11th on, for every route that takes a token, a right token included', async () => {
    expect((await withToken(token)).status).toBe(200);
    for (let i = 0; i < FAILED_AUTH_PER_MINUTE; i++)
      expect((await withToken(`swa_guess${i}`)).status, `guess ${i}`).toBe(401);
    const limited = await withToken('swa_guess-more');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited.json()).error.message).toMatch(/too many failed token attempts/);
    expect((await withToken(token)).status).toBe(429);
    expect((await withToken('swa_x', '/metrics')).status).toBe(429);
    // Without a token (the local admin on loopback) nothing is counted or refused.
    expect((await fetch(`${served.url}/agent/me`)).status).toBe(200);
  });

  it('refill with time, per address', () => {
    let t = 0;
    const addr = { a: '10.0.0.1' };
    const c = { header: () => undefined } as unknown as Context;
    const limiter = failedAuthLimiter(
      () => addr.a,
      10,
      () => t,
    );
    for (let i = 0; i < 10; i++) {
      limiter.check(c);
      limiter.failed(c);
    }
    expect(() => limiter.check(c)).toThrow(/too many failed token attempts/);
    addr.a = '10.0.0.2';
    expect(() => limiter.check(c)).not.toThrow();
    addr.a = '10.0.0.1';
    t += 6_000; // one attempt back every 6 s
    expect(() => limiter.check(c)).not.toThrow();
    limiter.failed(c);
    expect(() => limiter.check(c)).toThrow();
    // Without an address (in-process calls) nothing is limited.
    const none = failedAuthLimiter(
      () => undefined,
      1,
      () => t,
    );
    for (let i = 0; i < 5; i++) none.failed(c);
    expect(() => none.check(c)).not.toThrow();
  });
});

describe('the address limits count', () => {
  const ctx = (peer: string, xff?: string) =>
    ({
      env: { incoming: { socket: { remoteAddress: peer } } },
      req: { header: (n: string) => (n === 'x-forwarded-for' ? xff : undefined) },
    }) as unknown as Context;

  it('behind a proxy on a private network is the hop the proxy added; from a public address the header is ignored', () => {
    // nginx (compose) appends the client it saw: the last hop.
    expect(clientAddress(ctx('172.18.0.5', '203.0.113.9'))).toBe('172.18.0.5 for 203.0.113.9');
    expect(clientAddress(ctx('::ffff:10.0.0.2', 'spoofed, 203.0.113.9'))).toBe(
      '::ffff:10.0.0.2 for 203.0.113.9',
    );
    expect(clientAddress(ctx('127.0.0.1'))).toBe('127.0.0.1');
    // A client on the internet cannot pick a new bucket per guess.
    expect(clientAddress(ctx('198.51.100.7', `1.2.3.${Math.random()}`))).toBe('198.51.100.7');
    expect(isLocalOrPrivate('fd00::5')).toBe(true);
    expect(isLocalOrPrivate('172.32.0.1')).toBe(false);
  });
});
