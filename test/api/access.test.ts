import { describe, expect, it } from 'vitest';
import { startApp } from '../support/service/app.ts';

const SESSION = { goal: 'fix the bug', repo_url: 'https://github.com/o/r.git', mode: 'review' };
const KEY = 'sk-ada-secret-key-0123456789';

describe('cross-user access', () => {
  it("a user's sessions are invisible to other users (404 on every route) and visible to admins", async () => {
    const h = await startApp({ userMaxRunning: 4 });
    const ada = await h.user('ada', { max_running_sessions: 2 });
    const bob = await h.user('bob');
    const created = await ada.call('POST', '/agent/sessions', SESSION);
    expect(created.status).toBe(201);
    const id = created.body.session_id as string;
    const bobs = await bob.call('POST', '/agent/sessions', SESSION);

    // The creator and its limit travel with the session.
    const record = await h.store.getSession(id);
    expect(record).toMatchObject({ userId: ada.id, maxRunning: 2 });
    expect((await h.store.getSession(bobs.body.session_id))?.maxRunning).toBe(4);
    expect((await ada.call('GET', `/agent/sessions/${id}`)).body.user_id).toBe(ada.id);

    for (const [method, path, body] of [
      ['GET', `/agent/sessions/${id}`],
      ['GET', `/agent/sessions/${id}/history`],
      ['GET', `/agent/sessions/${id}/chart`],
      ['GET', `/agent/sessions/${id}/events`],
      ['POST', `/agent/sessions/${id}/approve`, {}],
      ['POST', `/agent/sessions/${id}/input`, { message: 'hi' }],
      ['POST', `/agent/sessions/${id}/cancel`, {}],
    ] as [string, string, unknown?][]) {
      const r = await bob.call(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.error.message).toBe(`session ${id} not found`);
    }
    // Nothing bob sent reached the session.
    expect(await h.store.readEvents(id, '0-0', 10)).toEqual([]);

    expect((await ada.call('GET', '/agent/sessions')).body.sessions.map((s: any) => s.id)).toEqual([
      id,
    ]);
    expect((await bob.call('GET', '/agent/sessions')).body.sessions.map((s: any) => s.id)).toEqual([
      bobs.body.session_id,
    ]);
    expect((await h.admin('GET', '/agent/sessions')).body.sessions).toHaveLength(2);
    expect(
      (await h.admin('GET', `/agent/sessions?user_id=${bob.id}`)).body.sessions.map(
        (s: any) => s.id,
      ),
    ).toEqual([bobs.body.session_id]);
    expect((await ada.call('GET', `/agent/sessions?user_id=${bob.id}`)).body.error).toMatchObject({
      code: 'forbidden',
      field: 'user_id',
    });
    expect((await ada.call('GET', `/agent/sessions?user_id=${ada.id}`)).body.sessions).toHaveLength(
      1,
    );
    expect((await h.admin('GET', `/agent/sessions/${id}`)).status).toBe(200);
    expect(
      (await ada.call('POST', `/agent/sessions/${id}/input`, { message: 'more' })).status,
    ).toBe(202);
    expect((await h.admin('POST', `/agent/sessions/${id}/cancel`, {})).status).toBe(202);
  });

  it('profiles: own, assigned and the global default are usable; others are 404; shared ones are read-only', async () => {
    const h = await startApp();
    const ada = await h.user('ada');
    const bob = await h.user('bob');
    const mine = await ada.call('POST', '/agent/ai-profiles', {
      name: 'ada',
      provider: 'openai',
      model: 'gpt-4o-mini',
      api_key: KEY,
    });
    expect(mine.status).toBe(201);
    expect(mine.body.owner_id).toBe(ada.id);
    const pid = mine.body.id as string;

    for (const [method, path, body] of [
      ['GET', `/agent/ai-profiles/${pid}`],
      ['PATCH', `/agent/ai-profiles/${pid}`, { model: 'x' }],
      ['DELETE', `/agent/ai-profiles/${pid}`],
      ['POST', `/agent/ai-profiles/${pid}/test`],
    ] as [string, string, unknown?][]) {
      expect((await bob.call(method, path, body)).status, `${method} ${path}`).toBe(404);
    }
    expect((await bob.call('GET', '/agent/ai-profiles')).body.profiles).toEqual([]);
    const refused = await bob.call('POST', '/agent/sessions', { ...SESSION, ai_profile_id: pid });
    expect(refused.status).toBe(400);
    expect(refused.body.error.field).toBe('ai_profile_id');
    expect(
      (await bob.call('POST', '/agent/sessions', { ...SESSION, planner_profile_id: pid })).body
        .error.field,
    ).toBe('planner_profile_id');

    // Users cannot make global defaults or share.
    expect(
      (await ada.call('PATCH', `/agent/ai-profiles/${pid}`, { is_default: true })).body.error,
    ).toMatchObject({ code: 'forbidden', field: 'is_default' });
    expect(
      (await ada.call('PATCH', `/agent/ai-profiles/${pid}`, { user_ids: [bob.id] })).body.error,
    ).toMatchObject({ code: 'forbidden', field: 'user_ids' });

    // An admin assigns it to bob: bob sees and uses it, but cannot change it.
    expect(
      (await h.admin('PATCH', `/agent/ai-profiles/${pid}`, { user_ids: ['nobody'] })).body.error
        .field,
    ).toBe('user_ids');
    const assigned = await h.admin('PATCH', `/agent/ai-profiles/${pid}`, { user_ids: [bob.id] });
    expect(assigned.body.user_ids).toEqual([bob.id]);
    expect((await bob.call('GET', `/agent/ai-profiles/${pid}`)).body.api_key_hint).toBe('…6789');
    expect((await bob.call('PATCH', `/agent/ai-profiles/${pid}`, { model: 'x' })).status).toBe(403);
    expect((await bob.call('DELETE', `/agent/ai-profiles/${pid}`)).status).toBe(403);
    const used = await bob.call('POST', '/agent/sessions', {
      ...SESSION,
      ai_profile_id: pid,
      reviewer_profile_id: pid,
    });
    expect(used.status).toBe(201);
    expect(await h.store.getSession(used.body.session_id)).toMatchObject({
      profileId: pid,
      roleProfiles: { reviewer: pid },
    });

    // The global default is everyone's to read and use.
    const global = await h.admin('POST', '/agent/ai-profiles', {
      name: 'house',
      provider: 'ollama',
      model: 'llama3.1',
      is_default: true,
    });
    expect(global.body.owner_id).toBe('admin');
    expect(
      (await ada.call('GET', '/agent/ai-profiles')).body.profiles.map((p: any) => p.name).sort(),
    ).toEqual(['ada', 'house']);
    expect(
      (await ada.call('PATCH', `/agent/ai-profiles/${global.body.id}`, { model: 'x' })).status,
    ).toBe(403);
    // Admins reach everything.
    expect((await h.admin('GET', '/agent/ai-profiles')).body.profiles).toHaveLength(2);
    expect((await ada.call('DELETE', `/agent/ai-profiles/${pid}`)).status).toBe(204);

    for (const b of h.bodies) expect(b).not.toContain(KEY);
    for (const l of h.lines) expect(l).not.toContain(KEY);
  });

  it('with a profile required: the user default counts, and the 400 says how to get one', async () => {
    const h = await startApp({ requireProfile: true });
    const ada = await h.user('ada');
    const none = await ada.call('POST', '/agent/sessions', SESSION);
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({ field: 'ai_profile_id' });
    expect(none.body.error.message).toContain('POST /agent/ai-profiles');
    const p = await ada.call('POST', '/agent/ai-profiles', {
      name: 'mine',
      provider: 'ollama',
      model: 'llama3.1',
    });
    expect((await ada.call('PATCH', '/agent/me', { default_profile_id: p.body.id })).status).toBe(
      200,
    );
    expect((await ada.call('POST', '/agent/sessions', SESSION)).status).toBe(201);
  });

  it('GET /agent/nodes is for admins, with the sessions each node hosts', async () => {
    const h = await startApp();
    const ada = await h.user('ada');
    await h.store.heartbeat(
      {
        id: 'n1',
        address: '127.0.0.1:1',
        started_at: 1,
        version: 'v',
        active_sessions: 1,
        sessions: ['s1'],
        heartbeat_at: 0,
      },
      3000,
    );
    expect((await ada.call('GET', '/agent/nodes')).status).toBe(403);
    const nodes = await h.admin('GET', '/agent/nodes');
    expect(nodes.body.nodes).toEqual([
      expect.objectContaining({ id: 'n1', sessions: ['s1'], active_sessions: 1 }),
    ]);
    expect(nodes.body.nodes[0].heartbeat_age_ms).toBeGreaterThanOrEqual(0);
  });
});
