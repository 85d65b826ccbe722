/**
 * A web page cannot drive a node (api/edge.ts): a host name rebound to
 * 127.0.0.1 gets a 400 before any route runs, and requests a browser marks as
 * from another site (Sec-Fetch-Site, Origin) are refused where they would act
 * as the local admin or change something. curl, which sends neither header,
 * and the node's own pages keep working.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostName } from '../../api/edge.ts';
import { loadConfig } from '../../server/config.ts';
import { scriptedWork } from '../support/fake-work.ts';
import { startApp } from '../support/service/app.ts';
import { type Served, serveService } from '../support/service/served.ts';

const NEW = { goal: 'g', repo_url: 'https://example.com/o/r.git', mode: 'auto' };

describe('the Host allow-list', () => {
  it('refuses a rebound name with a 400 naming Host and ALLOWED_HOSTS, before any route; health stays open', async () => {
    const h = await startApp();
    const res = await h.app.request('http://rebind.attacker.test:8000/agent/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(NEW),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { field: string; message: string } };
    expect(body.error.field).toBe('Host');
    expect(body.error.message).toMatch(/"rebind\.attacker\.test".*ALLOWED_HOSTS/);
    expect(await h.store.listSessions({ limit: 10 })).toEqual([]);
    for (const path of ['/agent/me', '/', '/openapi.json', '/metrics'])
      expect((await h.app.request(`http://rebind.attacker.test${path}`)).status, path).toBe(400);
    expect((await h.app.request('http://rebind.attacker.test/health')).status).toBe(200);
    for (const host of ['localhost:8000', '127.0.0.1:8000', '[::1]:8000', 'LOCALHOST'])
      expect((await h.app.request(`http://${host}/agent/me`)).status, host).toBe(200);
  });

  it('answers to ALLOWED_HOSTS, to HOST when it is one address, and to any name with *', async () => {
    const named = await startApp({ allowedHosts: ['swe.example.com'] });
    expect((await named.app.request('http://swe.example.com/agent/me')).status).toBe(200);
    expect((await named.app.request('http://other.example.com/agent/me')).status).toBe(400);
    const any = await startApp({ allowedHosts: ['*'] });
    expect((await any.app.request('http://other.example.com/agent/me')).status).toBe(200);
    expect(loadConfig({ HOST: '10.0.0.5' }).allowedHosts).toEqual(['10.0.0.5']);
    expect(
      loadConfig({ HOST: '0.0.0.0', ALLOWED_HOSTS: 'A.example, [fd00::5]' }).allowedHosts,
    ).toEqual(['a.example', '[fd00::5]']);
    expect(loadConfig({ HOST: 'fd00::5' }).allowedHosts).toEqual(['[fd00::5]']);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'http://x.example:80' })).toThrow(
      /^ALLOWED_HOSTS: "http:\/\/x\.example:80" is not a host name/,
    );
    expect(hostName('[::1]:8000')).toBe('[::1]');
    expect(hostName('Example.COM:80')).toBe('example.com');
  });
});

describe('cross-site requests', () => {
  const post = (h: Awaited<ReturnType<typeof startApp>>, headers: Record<string, string>) =>
    h.request(undefined, 'POST', '/agent/sessions', NEW, headers);

  it('a page on another site cannot create, approve, cancel or mint tokens as the local admin', async () => {
    const h = await startApp();
    const attempts: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://attacker.test' },
      { origin: 'null' },
      { origin: 'http://localhost:3000' },
    ];
    for (const headers of attempts) {
      const r = await post(h, headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.body.error.field).toBe(headers['origin'] ? 'Origin' : 'Sec-Fetch-Site');
    }
    const admin = await h.admin('GET', '/agent/me');
    const tokens = await h.request(
      undefined,
      'POST',
      `/agent/users/${admin.body.id}/tokens`,
      { name: 'stolen' },
      { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
    );
    expect(tokens.status).toBe(403);
    expect(await h.store.listSessions({ limit: 10 })).toEqual([]);
    expect(await h.store.listTokens(admin.body.id)).toHaveLength(0);
  });

  it('a page on another site cannot read as the local admin either; with a token it reads', async () => {
    const h = await startApp();
    const ada = await h.user('ada');
    expect(
      (
        await h.request(undefined, 'GET', '/agent/me', undefined, {
          'sec-fetch-site': 'cross-site',
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await h.request(undefined, 'GET', '/agent/sessions', undefined, {
          origin: 'https://attacker.test',
        })
      ).status,
    ).toBe(403);
    expect(
      (await ada.call('GET', '/agent/me', undefined, { 'sec-fetch-site': 'cross-site' })).status,
    ).toBe(200);
    // The UI's own page and files are not data.
    expect(
      (await h.request(undefined, 'GET', '/', undefined, { 'sec-fetch-site': 'cross-site' }))
        .status,
    ).toBe(200);
  });

  it("curl (no browser headers) and the node's own pages (same origin) keep working", async () => {
    const h = await startApp();
    expect((await post(h, {})).status).toBe(201);
    expect(
      (await post(h, { 'sec-fetch-site': 'same-origin', origin: 'http://localhost' })).status,
    ).toBe(201);
    // A bookmark or the address bar: the user's own navigation.
    expect(
      (await h.request(undefined, 'GET', '/agent/me', undefined, { 'sec-fetch-site': 'none' }))
        .status,
    ).toBe(200);
  });
});

describe('over real HTTP', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serveService(loadConfig({ PORT: '0', DATA_DIR: ':memory:' }), scriptedWork());
  });
  afterAll(async () => served?.close());

  /** A raw request with the Host header a rebinding page's browser would send. */
  const raw = (
    host: string,
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const u = new URL(served.url);
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          method,
          path,
          headers: { host, ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += String(d)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('a DNS-rebinding page gets nothing from the loopback node, and cannot create a session; curl can', async () => {
    const port = new URL(served.url).port;
    const rebound = await raw(
      `rebind.attacker.test:${port}`,
      'POST',
      '/agent/sessions',
      JSON.stringify(NEW),
      {
        origin: `http://rebind.attacker.test:${port}`,
      },
    );
    expect(rebound.status).toBe(400);
    expect(rebound.text).toContain('ALLOWED_HOSTS');
    expect((await raw(`rebind.attacker.test:${port}`, 'GET', '/agent/ai-profiles')).status).toBe(
      400,
    );
    const curl = await raw(`127.0.0.1:${port}`, 'POST', '/agent/sessions', JSON.stringify(NEW));
    expect(curl.status).toBe(201);
  });
});
