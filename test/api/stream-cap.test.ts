/**
 * One user holds at most MAX_STREAMS_PER_USER open event streams on a node:
 * the next one is a 429 saying so, another user is not affected, and a
 * stream closed frees its place. Over real HTTP, where closing is a socket
 * going away.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_STREAMS_PER_USER } from '../../api/routes/events.ts';
import { startApp } from '../support/service/app.ts';
import { waitFor } from '../support/wait.ts';

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

describe('open event streams per user', () => {
  it(`are capped at ${MAX_STREAMS_PER_USER}: the next is a 429, other users go on, a closed one frees its place`, async () => {
    const h = await startApp();
    const ada = await h.user('ada');
    const created = await ada.call('POST', '/agent/sessions', {
      goal: 'g',
      repo_url: 'https://example.com/o/r.git',
    });
    const id = created.body.session_id as string;
    const server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent/sessions/${id}/events`;
    const open = (token: string) => {
      const abort = new AbortController();
      return fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: abort.signal,
      }).then((res) => ({ res, close: () => abort.abort() }));
    };
    const held = [];
    for (let i = 0; i < MAX_STREAMS_PER_USER; i++) {
      const s = await open(ada.token);
      expect(s.res.status, `stream ${i}`).toBe(200);
      held.push(s);
    }
    const over = await open(ada.token);
    expect(over.res.status).toBe(429);
    expect((await over.res.json()).error.message).toMatch(/too many open event streams/);
    // The admin (another user) still opens one.
    const admin = await fetch(url);
    expect(admin.status).toBe(200);
    await admin.body?.cancel();
    // One closed: its place is free again once the server sees the socket go.
    held.pop()!.close();
    const again = await waitFor(
      'a place freed',
      async () => {
        const s = await open(ada.token);
        if (s.res.status === 200) return s;
        await s.res.body?.cancel();
        return undefined;
      },
      10_000,
      50,
    );
    again.close();
    for (const s of held) s.close();
  });
});
