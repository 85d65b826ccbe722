import { describe, expect, it } from 'vitest';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../kernel/logger.ts';
import { startService } from '../../server/service.ts';
import { scriptedWork } from '../support/fake-work.ts';
import { startApp } from '../support/service/app.ts';

describe('authentication in the app', () => {
  it('without a token: the local admin on a loopback-only server, 401 otherwise', async () => {
    const local = await startApp({ localAdmin: true });
    expect((await local.admin('GET', '/agent/me')).body).toMatchObject({
      id: 'admin',
      auth: 'local',
    });
    const open = await startApp({ localAdmin: false });
    const r = await open.admin('GET', '/agent/sessions');
    expect(r.status).toBe(401);
    expect(r.body.error).toMatchObject({ code: 'unauthorized' });
    expect(r.headers.get('www-authenticate')).toContain('Bearer');
    // Health, readiness and the API description stay open for load balancers and clients.
    expect((await open.admin('GET', '/health')).status).toBe(200);
    expect((await open.admin('GET', '/ready')).status).toBe(200);
  });

  it('a forwarded request is never the local admin', async () => {
    const h = await startApp({ localAdmin: true });
    expect(
      (await h.admin('GET', '/agent/me', undefined, { 'x-forwarded-for': '203.0.113.9' })).status,
    ).toBe(401);
    expect(
      (await h.admin('GET', '/agent/me', undefined, { forwarded: 'for=203.0.113.9' })).status,
    ).toBe(401);
  });

  it('a bad or unknown token is a 401 even on loopback', async () => {
    const h = await startApp({ localAdmin: true });
    for (const header of ['Basic YWxhZGRpbjpvcGVu', 'Bearer', 'Bearer a b', 'token swa_x']) {
      const r = await h.request(undefined, 'GET', '/agent/me', undefined, {
        authorization: header,
      });
      expect(r.status, header).toBe(401);
    }
    expect((await h.as('swa_not-a-real-token-at-all')('GET', '/agent/me')).status).toBe(401);
  });

  it('rate limits each user with 429 and Retry-After; the local admin is not limited', async () => {
    const h = await startApp({ rateLimitPerMinute: 60 });
    const ada = await h.user('ada');
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await ada.call('GET', '/agent/me')).status);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses).toContain(429);
    const limited = await ada.call('GET', '/agent/me');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another user has its own bucket; the operator on loopback has none.
    const bob = await h.user('bob');
    expect((await bob.call('GET', '/agent/me')).status).toBe(200);
    for (let i = 0; i < 30; i++) expect((await h.admin('GET', '/agent/me')).status).toBe(200);
  });
});

/** A whole service on a real port, as `npm start` or the Docker image runs it. */
async function served(env: Record<string, string>) {
  const lines: string[] = [];
  const announced: string[] = [];
  const config = loadConfig({ DATA_DIR: ':memory:', ...env, PORT: '0' });
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const service = await startService(config, scriptedWork(), {
    logger,
    announce: (l) => announced.push(l),
  });
  const server = serve({ fetch: service.app.fetch, port: 0, hostname: config.host });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const call = async (path: string, token?: string, init: RequestInit = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      ...init,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };
  return {
    lines,
    announced,
    call,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await service.stop();
    },
  };
}

describe('authentication over real HTTP', () => {
  it("HOST=127.0.0.1 (npm start): the guide's curl commands work without a token", async () => {
    const s = await served({ HOST: '127.0.0.1' });
    try {
      expect(s.announced).toEqual([]);
      const created = await s.call('/agent/sessions', undefined, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ goal: 'g', repo_url: 'https://github.com/o/r.git' }),
      });
      expect(created.status).toBe(201);
      expect((await s.call(`/agent/sessions/${created.body.session_id}`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('HOST=0.0.0.0 without ADMIN_TOKEN: 401 without a token; a token generated once, printed once, stored hashed, and it works', async () => {
    const s = await served({ HOST: '0.0.0.0' });
    try {
      expect((await s.call('/agent/sessions')).status).toBe(401);
      expect((await s.call('/health')).status).toBe(200);
      expect(s.announced).toHaveLength(1);
      const token = /(swa_[\w-]+)/.exec(s.announced[0]!)![1]!;
      const me = await s.call('/agent/me', token);
      expect(me.body).toMatchObject({ id: 'admin', role: 'admin', auth: 'token' });
      for (const l of s.lines) expect(l).not.toContain(token);
      expect(me.text).not.toContain(token);
    } finally {
      await s.stop();
    }
  });

  it("HOST=0.0.0.0 with ADMIN_TOKEN: that token is the admin's, nothing is generated", async () => {
    const ADMIN = 'admin-token-0123456789abcdef';
    const s = await served({ HOST: '0.0.0.0', ADMIN_TOKEN: ADMIN });
    try {
      expect(s.announced).toEqual([]);
      expect((await s.call('/agent/me', ADMIN)).body).toMatchObject({ id: 'admin', auth: 'token' });
      expect((await s.call('/agent/me', 'admin-token-wrong-0123456789')).status).toBe(401);
      expect((await s.call('/agent/nodes', ADMIN)).status).toBe(200);
      for (const l of s.lines) expect(l).not.toContain(ADMIN);
    } finally {
      await s.stop();
    }
  });
});
