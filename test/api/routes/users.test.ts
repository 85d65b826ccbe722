import { describe, expect, it } from 'vitest';
import { hashToken } from '../../../api/tokens.ts';
import { startApp } from '../../support/service/app.ts';

describe('users', () => {
  it('admin creates, lists, reads, updates and deletes users; each answer is the user view', async () => {
    const h = await startApp({ userMaxRunning: 3 });
    const created = await h.admin('POST', '/agent/users', { name: 'ada', max_running_sessions: 2 });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/agent/users/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'ada',
      role: 'user',
      max_running_sessions: 2,
      effective_max_running_sessions: 2,
      default_profile_id: null,
    });
    const bob = await h.admin('POST', '/agent/users', { name: 'bob', role: 'admin' });
    expect(bob.body).toMatchObject({
      role: 'admin',
      max_running_sessions: null,
      effective_max_running_sessions: 3,
    });

    const list = await h.admin('GET', '/agent/users');
    expect(list.body.users.map((u: any) => u.name)).toEqual(['admin', 'ada', 'bob']);
    expect((await h.admin('GET', `/agent/users/${created.body.id}`)).body.name).toBe('ada');

    const patched = await h.admin('PATCH', `/agent/users/${created.body.id}`, {
      name: 'ada l.',
      max_running_sessions: null,
      role: 'admin',
    });
    expect(patched.body).toMatchObject({
      name: 'ada l.',
      role: 'admin',
      max_running_sessions: null,
      effective_max_running_sessions: 3,
    });

    expect((await h.admin('DELETE', `/agent/users/${created.body.id}`)).status).toBe(204);
    expect((await h.admin('GET', `/agent/users/${created.body.id}`)).status).toBe(404);
    expect((await h.admin('DELETE', `/agent/users/${created.body.id}`)).status).toBe(404);
  });

  it('rejects bad bodies naming the field', async () => {
    const h = await startApp();
    const cases: [unknown, string][] = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x', role: 'root' }, 'role'],
      [{ name: 'x', max_running_sessions: -1 }, 'max_running_sessions'],
      [{ name: 'x', max_running_sessions: 1.5 }, 'max_running_sessions'],
      [{ name: 'x', password: 'p' }, 'password'],
      [{ name: 'x', default_profile_id: 'nope' }, 'default_profile_id'],
    ];
    for (const [body, field] of cases) {
      const r = await h.admin('POST', '/agent/users', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'bad_request', field });
    }
    expect((await h.admin('POST', '/agent/users', '{"name":')).status).toBe(400);
    expect((await h.admin('PATCH', '/agent/users/nobody', { name: 'x' })).status).toBe(404);
  });

  it('the built-in admin cannot be deleted or demoted', async () => {
    const h = await startApp();
    expect((await h.admin('DELETE', '/agent/users/admin')).status).toBe(409);
    expect((await h.admin('PATCH', '/agent/users/admin', { role: 'user' })).status).toBe(409);
    expect((await h.admin('GET', '/agent/me')).body).toMatchObject({
      id: 'admin',
      role: 'admin',
      auth: 'local',
    });
  });

  it('a user sees and changes only itself, and cannot raise its own role or limit', async () => {
    const h = await startApp();
    const ada = await h.user('ada');
    const bob = await h.user('bob');
    expect((await ada.call('GET', `/agent/users/${ada.id}`)).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', `/agent/users/${bob.id}`],
      ['PATCH', `/agent/users/${bob.id}`, { name: 'x' }],
      ['GET', `/agent/users/${bob.id}/tokens`],
      ['POST', `/agent/users/${bob.id}/tokens`, {}],
      ['DELETE', `/agent/users/${bob.id}/tokens/${bob.tokenId}`],
      ['GET', '/agent/users/admin'],
    ] as [string, string, unknown?][]) {
      const r = await ada.call(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    expect((await ada.call('GET', '/agent/users')).status).toBe(403);
    expect((await ada.call('POST', '/agent/users', { name: 'eve' })).status).toBe(403);
    expect((await ada.call('DELETE', `/agent/users/${ada.id}`)).status).toBe(403);
    const role = await ada.call('PATCH', `/agent/users/${ada.id}`, { role: 'admin' });
    expect(role.status).toBe(403);
    expect(role.body.error.field).toBe('role');
    expect(
      (await ada.call('PATCH', `/agent/users/${ada.id}`, { max_running_sessions: 0 })).body.error
        .field,
    ).toBe('max_running_sessions');
    expect((await ada.call('PATCH', `/agent/users/${ada.id}`, { name: 'Ada' })).body.name).toBe(
      'Ada',
    );
    // bob's token still works: nothing ada did touched it.
    expect((await bob.call('GET', '/agent/me')).body).toMatchObject({
      id: bob.id,
      role: 'user',
      auth: 'token',
      token_id: bob.tokenId,
    });
  });
});

describe('tokens', () => {
  it('are shown once, stored as a hash, listed without the value, and stop working when revoked', async () => {
    const h = await startApp();
    const ada = await h.user('ada');
    expect(ada.token).toMatch(/^swa_[\w-]{43}$/);
    const stored = await h.store.listTokens(ada.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.hash).toBe(await hashToken(ada.token));
    expect(JSON.stringify(stored)).not.toContain(ada.token);

    const second = await ada.call('POST', `/agent/users/${ada.id}/tokens`, { name: 'ci' });
    expect(second.status).toBe(201);
    expect(second.headers.get('cache-control')).toBe('no-store');
    const list = await ada.call('GET', `/agent/users/${ada.id}/tokens`);
    expect(list.body.tokens.map((t: any) => t.name)).toEqual(["ada's token", 'ci']);
    for (const t of list.body.tokens) {
      expect(t).not.toHaveProperty('token');
      expect(t.prefix).toHaveLength(8);
    }

    expect(
      (await ada.call('DELETE', `/agent/users/${ada.id}/tokens/${second.body.id}`)).status,
    ).toBe(204);
    expect((await h.as(second.body.token)('GET', '/agent/me')).status).toBe(401);
    expect(
      (await ada.call('DELETE', `/agent/users/${ada.id}/tokens/${second.body.id}`)).status,
    ).toBe(404);
    expect((await ada.call('GET', '/agent/me')).status).toBe(200);

    // Deleting the user revokes all its tokens.
    expect((await h.admin('DELETE', `/agent/users/${ada.id}`)).status).toBe(204);
    expect((await ada.call('GET', '/agent/me')).status).toBe(401);

    // No token value ever appears again: not in later answers, not in the log.
    const later = h.bodies.filter((b) => b.includes('"token":'));
    expect(later).toHaveLength(2);
    for (const l of h.lines) {
      expect(l).not.toContain(ada.token);
      expect(l).not.toContain(second.body.token);
    }
  });

  it('PATCH /agent/me sets the default profile to one the user can use', async () => {
    const h = await startApp();
    const ada = await h.user('ada');
    const bob = await h.user('bob');
    const own = await ada.call('POST', '/agent/ai-profiles', {
      name: 'mine',
      provider: 'ollama',
      model: 'llama3.1',
    });
    expect(own.status).toBe(201);
    const bobs = await bob.call('POST', '/agent/ai-profiles', {
      name: 'bobs',
      provider: 'ollama',
      model: 'qwen',
    });
    const set = await ada.call('PATCH', '/agent/me', { default_profile_id: own.body.id });
    expect(set.status).toBe(200);
    expect(set.body.default_profile_id).toBe(own.body.id);
    const refused = await ada.call('PATCH', '/agent/me', { default_profile_id: bobs.body.id });
    expect(refused.status).toBe(400);
    expect(refused.body.error.field).toBe('default_profile_id');
    expect(
      (await ada.call('PATCH', '/agent/me', { default_profile_id: null })).body.default_profile_id,
    ).toBeNull();
  });
});
