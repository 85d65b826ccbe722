import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import type { StoredProfile } from '../../../../runtime/store/records.ts';
import type { StoreHarness } from './harness.ts';
import { eachHarness } from './helpers.ts';

/**
 * AI profiles: stored, listed by name, deleted; one default at most.
 */
export function profilesContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { store } = eachHarness(factory);

    it('lists profiles by name and deletes them', async () => {
      const base = { isDefault: false, provider: 'openai' as const, model: 'm' };
      await store.putProfile({ ...base, id: 'z1', name: 'zeta' });
      await store.putProfile({ ...base, id: 'a1', name: 'alpha', isDefault: true });
      expect((await store.listProfiles()).map((p) => p.id)).toEqual(['a1', 'z1']);
      expect(await store.deleteProfile('a1')).toBe(true);
      expect(await store.deleteProfile('a1')).toBe(false);
      expect((await store.listProfiles()).map((p) => p.id)).toEqual(['z1']);
      expect(await store.defaultProfile()).toBeNull();
    });

    it('stores profiles; a new default clears the flag on the others', async () => {
      const base = { provider: 'openai', model: 'gpt-x' } as const;
      const a: StoredProfile = {
        ...base,
        id: `pa-${ulid()}`,
        name: 'A',
        isDefault: true,
        apiKey: 'sk-a',
        prices: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
      };
      const b: StoredProfile = {
        ...base,
        id: `pb-${ulid()}`,
        name: 'B',
        isDefault: false,
        baseUrl: 'http://llm.local/v1',
      };
      expect(await store.getProfile(a.id)).toBeNull();
      expect(await store.defaultProfile()).toBeNull();
      await store.putProfile(a);
      await store.putProfile(b);
      expect(await store.getProfile(a.id)).toEqual(a);
      expect(await store.getProfile(b.id)).toEqual(b);
      expect(await store.defaultProfile()).toEqual(a);
      await store.putProfile({ ...b, isDefault: true });
      expect(await store.defaultProfile()).toEqual({ ...b, isDefault: true });
      expect(await store.getProfile(a.id)).toEqual({ ...a, isDefault: false });
      // Overwrite keeps one entry; storing the default as non-default leaves none.
      await store.putProfile({ ...b, isDefault: false, model: 'gpt-y' });
      expect(await store.getProfile(b.id)).toMatchObject({ model: 'gpt-y', isDefault: false });
      expect(await store.defaultProfile()).toBeNull();
      // What the caller holds is a copy.
      const got = (await store.getProfile(a.id))!;
      got.name = 'changed';
      expect((await store.getProfile(a.id))!.name).toBe('A');
    });
  });
}
