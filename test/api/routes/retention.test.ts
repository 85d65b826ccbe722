import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import type { SessionStatus } from '../../../actors/status.ts';
import { DAY_MS } from '../../../runtime/retention.ts';
import { MemoryStore } from '../../../runtime/store/memory/memory-store.ts';
import { startApp } from '../../support/service/app.ts';
import { startInProcess } from '../../support/service/in-process.ts';
import { scriptedWork } from '../../support/fake-work.ts';
import { waitFor } from '../../support/wait.ts';

const REPO = 'https://github.com/example/my-repo.git';

/** An app over an embedded store on a clock of its own; sessions made straight in the store. */
async function world(opts: { retentionDays?: number } = {}) {
  let t = 1_700_000_000_000;
  const store = new MemoryStore({ clock: () => t });
  const h = await startApp({ store, ...opts });
  /** A session of `userId` brought to `status` by a commit (released unless it still runs). */
  const session = async (userId: string, status: SessionStatus = 'COMPLETED') => {
    const { record } = await store.createSession({
      id: ulid(),
      goal: 'g',
      repo_url: REPO,
      mode: 'auto',
      userId,
    });
    if (status === 'QUEUED') return record.id;
    await store.takeReady(1000, 1000);
    const c = await store.claim(record.id, 'n1', 1000);
    if (c.kind !== 'claimed') throw new Error(c.kind);
    await store.commit(record.id, c.lease, {
      seq: 1,
      snapshot: { v: 1, state: { value: 'x' } },
      status,
      phase: 'x',
      reason: null,
      goal: 'g',
      result: null,
      lastEventId: '0-0',
      history: [{ event: 'go', from: 'queued', to: 'x' }],
      logs: ['a line'],
      release: status !== 'RUNNING',
    });
    return record.id;
  };
  return {
    ...h,
    session,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('DELETE /agent/sessions/{id}', () => {
  it('the owner removes its ended session: 204, then 404 everywhere', async () => {
    const w = await world();
    const ada = await w.user('ada');
    const id = await w.session(ada.id, 'FAILED');
    const kept = await w.session(ada.id, 'COMPLETED');
    const del = await ada.call('DELETE', `/agent/sessions/${id}`);
    expect(del.status).toBe(204);
    expect(del.body).toBeNull();
    for (const path of [`/agent/sessions/${id}`, `/agent/sessions/${id}/history`])
      expect((await ada.call('GET', path)).status).toBe(404);
    expect((await ada.call('DELETE', `/agent/sessions/${id}`)).status).toBe(404);
    expect((await ada.call('GET', '/agent/sessions')).body.sessions.map((s: any) => s.id)).toEqual([
      kept,
    ]);
    // Counted once, as removed by a request (the 404 after it is not).
    expect((await w.admin('GET', '/metrics')).body).toMatch(
      /^swe_sessions_removed_total\{by="request"\} 1$/m,
    );
  });

  it("another user's session is a 404 and stays; an admin may remove anyone's", async () => {
    const w = await world();
    const ada = await w.user('ada');
    const bob = await w.user('bob');
    const id = await w.session(ada.id);
    const r = await bob.call('DELETE', `/agent/sessions/${id}`);
    expect(r.status).toBe(404);
    expect(r.body.error.message).toBe(`session ${id} not found`);
    expect(await w.store.getSession(id)).not.toBeNull();
    expect((await w.admin('DELETE', `/agent/sessions/${id}`)).status).toBe(204);
    expect(await w.store.getSession(id)).toBeNull();
    expect((await w.admin('DELETE', `/agent/sessions/${ulid()}`)).status).toBe(404);
  });

  it('a session that may still run is a 409 naming its status, and stays', async () => {
    const w = await world();
    const ada = await w.user('ada');
    for (const status of ['QUEUED', 'RUNNING', 'WAITING_FOR_USER'] as const) {
      const id = await w.session(ada.id, status);
      const r = await ada.call('DELETE', `/agent/sessions/${id}`);
      expect(r.status, status).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'conflict', status });
      expect(r.body.error.message).toContain(`POST /agent/sessions/${id}/cancel`);
      expect(await w.store.getSession(id)).not.toBeNull();
    }
    // Ended, but an input will start it again.
    const revived = await w.session(ada.id, 'COMPLETED');
    await ada.call('POST', `/agent/sessions/${revived}/input`, { message: 'more' });
    const r = await ada.call('DELETE', `/agent/sessions/${revived}`);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'conflict', status: 'COMPLETED' });
    expect(r.body.error.message).toContain('still has work to do');
  });

  it('on a running node: 409 while it runs, 204 once cancelled and ended', async () => {
    const svc = await startInProcess({ work: scriptedWork({ delayMs: 5_000 }) });
    try {
      const { body } = await svc.call('POST', '/agent/sessions', { goal: 'slow', repo_url: REPO });
      const id = body.session_id as string;
      const detail = (want: (s: any) => boolean) =>
        waitFor(`session ${id}`, async () => {
          const s = (await svc.call('GET', `/agent/sessions/${id}`)).body;
          return want(s) ? s : undefined;
        });
      await detail((s) => s.status === 'RUNNING');
      expect((await svc.call('DELETE', `/agent/sessions/${id}`)).body.error.status).toBe('RUNNING');
      expect((await svc.call('POST', `/agent/sessions/${id}/cancel`)).status).toBe(202);
      // Ended and given back by its node.
      await detail((s) => s.status === 'CANCELLED' && s.owner === null);
      expect((await svc.call('DELETE', `/agent/sessions/${id}`)).status).toBe(204);
      expect((await svc.call('GET', `/agent/sessions/${id}`)).status).toBe(404);
    } finally {
      await svc.stop();
    }
  });
});

describe('GET /agent/retention', () => {
  it('shows admins the ended sessions past the retention, oldest first; 403 for others', async () => {
    const w = await world({ retentionDays: 7 });
    const ada = await w.user('ada');
    const first = await w.session(ada.id, 'COMPLETED');
    w.advance(1000);
    const second = await w.session(ada.id, 'CANCELLED');
    await w.session(ada.id, 'RUNNING');
    w.advance(7 * DAY_MS - 500);
    // Ended, but within the retention.
    await w.session(ada.id, 'FAILED');
    w.advance(1000);
    const r = await w.admin('GET', '/agent/retention');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ retention_days: 7, more: false });
    expect(r.body.sessions.map((s: any) => s.id)).toEqual([first, second]);
    expect(r.body.sessions[0]).toMatchObject({ status: 'COMPLETED', user_id: ada.id });
    const now = 1_700_000_000_000 + 7 * DAY_MS + 1500;
    expect(r.body.cutoff).toBe(new Date(now - 7 * DAY_MS).toISOString());
    const one = await w.admin('GET', '/agent/retention?limit=1');
    expect(one.body.sessions.map((s: any) => s.id)).toEqual([first]);
    expect(one.body.more).toBe(true);
    expect((await w.admin('GET', '/agent/retention?limit=0')).body.error).toMatchObject({
      code: 'bad_request',
      field: 'limit',
    });
    const denied = await ada.call('GET', '/agent/retention');
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('forbidden');
  });

  it('with sessions kept for ever: no cutoff and nothing to remove', async () => {
    const w = await world({ retentionDays: 0 });
    await w.session('someone', 'COMPLETED');
    w.advance(1000 * DAY_MS);
    expect((await w.admin('GET', '/agent/retention')).body).toEqual({
      retention_days: 0,
      cutoff: null,
      sessions: [],
      more: false,
    });
  });
});
