import { describe, expect, it } from 'vitest';
import { createApp } from '../../../api/app.ts';
import { MachineChart } from '../../../api/schemas/index.ts';
import { startApp } from '../../support/service/app.ts';

describe('GET /agent/chart', () => {
  it('serves the machine and its layout, the same machine a session chart shows', async () => {
    const h = await startApp();
    const r = await h.admin('GET', '/agent/chart');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(MachineChart.safeParse(r.body).success).toBe(true);
    const { machine, layout } = r.body;
    expect(machine.id).toBe('session');
    expect(layout.nodes.map((n: any) => n.id)).toContain('session.awaitingApproval');
    expect(layout.edges.some((e: any) => e.kind === 'eventless')).toBe(true);

    const created = await h.admin('POST', '/agent/sessions', {
      goal: 'fix it',
      repo_url: 'https://github.com/o/r.git',
    });
    const session = await h.admin('GET', `/agent/sessions/${created.body.session_id}/chart`);
    expect(session.body.machine).toEqual(machine);
  });

  it('has a strong ETag: If-None-Match gets a 304 without a body', async () => {
    const h = await startApp();
    const first = await h.admin('GET', '/agent/chart');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"chart-[0-9a-f]+"$/);
    expect(first.headers.get('cache-control')).toContain('no-cache');

    for (const inm of [etag!, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await h.admin('GET', '/agent/chart', undefined, { 'if-none-match': inm });
      expect(again.status, inm).toBe(304);
      expect(again.body, inm).toBeNull();
      expect(again.headers.get('etag')).toBe(etag);
    }
    const changed = await h.admin('GET', '/agent/chart', undefined, {
      'if-none-match': '"chart-0"',
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual(first.body);
    // Another app in the same process: the same layout, the same ETag.
    expect((await (await startApp()).admin('GET', '/agent/chart')).headers.get('etag')).toBe(etag);
  });

  it('needs a token when the server is not loopback-only', async () => {
    const h = await startApp();
    const ada = await h.user('ada');
    const strict = createApp({ store: h.store, logger: h.logger, localAdmin: false });
    const anonymous = await strict.request('/agent/chart');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('etag')).toBeNull();
    const withToken = await strict.request('/agent/chart', {
      headers: { authorization: `Bearer ${ada.token}` },
    });
    expect(withToken.status).toBe(200);
    expect((await withToken.json()).machine.id).toBe('session');
  });
});
