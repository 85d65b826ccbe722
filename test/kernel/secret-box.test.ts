import { describe, expect, it } from 'vitest';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { createSecretBox, isSealed, randomSecretKey } from '../../kernel/secret-box.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';

describe('secrets at rest', () => {
  it('seals and opens; every sealing differs; a wrong key or a changed value fails loudly', async () => {
    const box = await createSecretBox('a-long-test-secret-key');
    const a = await box.seal('sk-live-123');
    const b = await box.seal('sk-live-123');
    expect(a).not.toBe(b); // fresh IV each time
    expect(isSealed(a)).toBe(true);
    expect(a).not.toContain('sk-live-123');
    expect(await box.open(a)).toBe('sk-live-123');
    const other = await createSecretBox('another-long-secret-key');
    await expect(other.open(a)).rejects.toThrow(/SECRET_KEY differs/);
    const [v, iv, data] = a.split(':');
    const flipped = `${v}:${iv}:${data!.slice(0, -2)}${data!.endsWith('AA') ? 'BA' : 'AA'}`;
    await expect(box.open(flipped)).rejects.toThrow(/could not be decrypted/);
    await expect(box.open('sk-plain')).rejects.toThrow(/not a sealed secret/);
    expect(randomSecretKey()).not.toBe(randomSecretKey());
  });

  it('profiles keep their key sealed in the store and open it for their caller', async () => {
    const store = new MemoryStore();
    const profiles = sealedProfiles(store, await createSecretBox('a-long-test-secret-key'));
    await profiles.put({
      id: 'p',
      name: 'n',
      isDefault: true,
      provider: 'openai',
      model: 'gpt-4o-mini',
      apiKey: 'sk-live-123',
    });
    const raw = await store.getProfile('p');
    expect(isSealed(raw!.apiKey!)).toBe(true);
    expect(JSON.stringify(raw)).not.toContain('sk-live-123');
    expect((await profiles.defaultProfile())?.apiKey).toBe('sk-live-123');
    expect((await profiles.get('p'))?.apiKey).toBe('sk-live-123');
    await profiles.put({
      id: 'o',
      name: 'ollama',
      isDefault: false,
      provider: 'ollama',
      model: 'llama3.1',
    });
    expect((await profiles.get('o'))?.apiKey).toBeUndefined();
  });
});
