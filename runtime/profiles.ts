/**
 * Profiles with their API keys sealed at rest: the store only ever sees a
 * sealed key; callers put and get plaintext. Where the key is needed (a
 * provider call) it is opened in memory, never logged, never in a snapshot.
 */
import type { SecretBox } from '../kernel/secret-box.ts';
import type { ProfileRecords } from './store/port.ts';
import type { StoredProfile } from './store/records.ts';

export interface Profiles {
  put(profile: StoredProfile): Promise<void>;
  get(id: string): Promise<StoredProfile | null>;
  defaultProfile(): Promise<StoredProfile | null>;
  /** All profiles with their keys opened (for views that mask them). */
  list(): Promise<StoredProfile[]>;
  delete(id: string): Promise<boolean>;
}

export function sealedProfiles(store: ProfileRecords, box: SecretBox): Profiles {
  const open = async (p: StoredProfile | null) =>
    p?.apiKey ? { ...p, apiKey: await box.open(p.apiKey) } : p;
  return {
    async put(profile) {
      await store.putProfile(
        profile.apiKey ? { ...profile, apiKey: await box.seal(profile.apiKey) } : profile,
      );
    },
    get: async (id) => open(await store.getProfile(id)),
    defaultProfile: async () => open(await store.defaultProfile()),
    list: async () => Promise.all((await store.listProfiles()).map(async (p) => (await open(p))!)),
    delete: (id) => store.deleteProfile(id),
  };
}
