import { beforeEach, describe, expect, it } from 'vitest';
import { agentDeps } from '../../server/agent.ts';
import { loadConfig } from '../../server/config.ts';
import { sealedProfiles, type Profiles } from '../../runtime/profiles.ts';
import { createSecretBox } from '../../kernel/secret-box.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { NewSession } from '../../runtime/store/records.ts';

let store: MemoryStore;
let profiles: Profiles;
let deps: ReturnType<typeof agentDeps>;
let n = 0;

/** A session with these choices; its id. */
async function session(over: Partial<NewSession> = {}): Promise<string> {
  return (
    await store.createSession({
      id: `S${++n}`,
      goal: 'g',
      repo_url: 'https://example.com/r.git',
      mode: 'auto',
      ...over,
    })
  ).record.id;
}

const idOf = async (sessionId: string, role: 'planner' | 'programmer' | 'reviewer') =>
  (await deps.profile(sessionId, role))?.id ?? null;

beforeEach(async () => {
  store = new MemoryStore();
  profiles = sealedProfiles(store, await createSecretBox('agent-deps-test-secret'));
  await profiles.put({
    id: 'global',
    name: 'global',
    isDefault: true,
    provider: 'openai',
    model: 'gpt-4o-mini',
    apiKey: 'sk-global-key-0001',
  });
  await profiles.put({
    id: 'sess',
    name: 'session',
    isDefault: false,
    provider: 'gemini',
    model: 'gemini-2.0-flash',
    apiKey: 'AIza-session-key-0002',
  });
  await profiles.put({
    id: 'plan',
    name: 'planner',
    isDefault: false,
    provider: 'openai',
    model: 'gpt-4.1',
    apiKey: 'sk-planner-key-0003',
  });
  await profiles.put({
    id: 'mine',
    name: 'user default',
    isDefault: false,
    provider: 'openai',
    model: 'gpt-4o',
    apiKey: 'sk-user-key-0004',
  });
  await store.putUser({
    id: 'u1',
    name: 'ann',
    role: 'user',
    createdAt: 1,
    defaultProfileId: 'mine',
  });
  await store.putUser({ id: 'u2', name: 'bob', role: 'user', createdAt: 2 });
  deps = agentDeps(loadConfig({}).agent, profiles, store);
});

describe('which profile a call of a session uses', () => {
  it("a role's own profile wins over the session's and the user's; the other roles use the session's", async () => {
    const id = await session({
      profileId: 'sess',
      roleProfiles: { planner: 'plan' },
      userId: 'u1',
    });
    expect(await deps.profile(id, 'planner')).toMatchObject({
      id: 'plan',
      apiKey: 'sk-planner-key-0003',
    }); // key opened for the call
    expect(await idOf(id, 'programmer')).toBe('sess');
    expect(await idOf(id, 'reviewer')).toBe('sess');
  });

  it("a role's own profile wins over the user's default when the session names none", async () => {
    const id = await session({ roleProfiles: { reviewer: 'plan' }, userId: 'u1' });
    expect(await idOf(id, 'reviewer')).toBe('plan');
    expect(await idOf(id, 'planner')).toBe('mine');
  });

  it("the session's profile wins over the user's default", async () => {
    const id = await session({ profileId: 'sess', userId: 'u1' });
    expect(await deps.profile(id, 'programmer')).toMatchObject({
      id: 'sess',
      apiKey: 'AIza-session-key-0002',
    });
  });

  it("without a named profile: the user's default, else the global default", async () => {
    expect(await idOf(await session({ userId: 'u1' }), 'planner')).toBe('mine');
    expect(await idOf(await session({ userId: 'u2' }), 'planner')).toBe('global'); // the user has no default
    expect(await idOf(await session({ userId: 'nobody' }), 'planner')).toBe('global'); // the user is gone
    expect(await idOf(await session(), 'planner')).toBe('global'); // a session from before users
  });

  it('is read at every call: a changed user default applies to a running session', async () => {
    const id = await session({ userId: 'u2' });
    expect(await idOf(id, 'planner')).toBe('global');
    await store.putUser({
      id: 'u2',
      name: 'bob',
      role: 'user',
      createdAt: 2,
      defaultProfileId: 'sess',
    });
    expect(await idOf(id, 'planner')).toBe('sess');
  });

  it('a deleted role profile fails with a reason that names it and the role, not falling back', async () => {
    const id = await session({
      profileId: 'sess',
      roleProfiles: { planner: 'plan' },
      userId: 'u1',
    });
    await profiles.delete('plan');
    await expect(deps.profile(id, 'planner')).rejects.toMatchObject({
      code: 'not_found',
      message: 'AI profile plan, chosen for the planner, no longer exists',
    });
    expect(await idOf(id, 'programmer')).toBe('sess'); // the other roles go on with the session's
  });

  it('a deleted session profile fails with a reason that names it and the role asking', async () => {
    const id = await session({ profileId: 'sess', userId: 'u1' });
    await profiles.delete('sess');
    await expect(deps.profile(id, 'reviewer')).rejects.toMatchObject({
      code: 'not_found',
      message: 'AI profile sess, chosen for the session (the reviewer uses it), no longer exists',
    });
  });

  it('a deleted user default falls through to the global default', async () => {
    const id = await session({ userId: 'u1' });
    await profiles.delete('mine');
    expect(await idOf(id, 'programmer')).toBe('global');
  });

  it('no profile anywhere: null (the step then fails with its own clear error)', async () => {
    await profiles.delete('global');
    expect(await deps.profile(await session({ userId: 'u2' }), 'planner')).toBeNull();
  });
});
