import { describe, expect, it } from 'vitest';
import { agentDeps } from '../../runtime/agent.ts';
import { loadConfig } from '../../runtime/config.ts';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { createSecretBox } from '../../runtime/secrets.ts';
import { MemoryStore } from '../../runtime/store/memory.ts';

describe("the agent's profile for a session", () => {
  it('is the one named at creation, else the default (keys opened for the call)', async () => {
    const store = new MemoryStore();
    const profiles = sealedProfiles(store, await createSecretBox('agent-deps-test-secret'));
    await profiles.put({ id: 'd', name: 'default', isDefault: true, provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-default-key-0001' });
    await profiles.put({ id: 'n', name: 'named', isDefault: false, provider: 'gemini', model: 'gemini-2.0-flash', apiKey: 'AIza-named-key-0002' });
    const deps = agentDeps(loadConfig({}).agent, profiles, store);
    const a = (await store.createSession({ id: 'A', goal: 'g', repo_url: 'https://example.com/r.git', mode: 'auto', profileId: 'n' })).record;
    const b = (await store.createSession({ id: 'B', goal: 'g', repo_url: 'https://example.com/r.git', mode: 'auto' })).record;
    expect(await deps.profile(a.id)).toMatchObject({ id: 'n', apiKey: 'AIza-named-key-0002' });
    expect(await deps.profile(b.id)).toMatchObject({ id: 'd', apiKey: 'sk-default-key-0001' });
    await profiles.delete('n');
    expect((await deps.profile(a.id))?.id).toBe('d'); // a deleted profile falls back to the default
  });
});
