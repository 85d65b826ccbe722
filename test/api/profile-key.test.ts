/**
 * A stored provider key goes only where it was sent for: a PATCH that points
 * a profile at another `base_url` or provider must bring the key again, so
 * whoever may edit a profile cannot repoint it at their own server and
 * receive the real key with the next call.
 */
import { describe, expect, it } from 'vitest';
import { startApp } from '../support/service/app.ts';

const KEY = 'sk-the-real-key-0123456789';

describe('a profile key and its endpoint', () => {
  it('moving base_url or provider without api_key is a 400 naming api_key, and the profile stays', async () => {
    const h = await startApp();
    const made = await h.admin('POST', '/agent/ai-profiles', {
      name: 'main',
      provider: 'openai-compatible',
      model: 'm',
      base_url: 'https://llm.example.com/v1',
      api_key: KEY,
    });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    for (const patch of [
      { base_url: 'https://attacker.example/v1' },
      { base_url: null },
      { provider: 'openai' },
    ]) {
      const r = await h.admin('PATCH', `/agent/ai-profiles/${id}`, patch);
      expect(r.status, JSON.stringify(patch)).toBe(400);
      expect(r.body.error).toMatchObject({ field: 'api_key' });
      expect(r.body.error.message).toMatch(/send api_key again/);
    }
    const kept = await h.profiles.get(id);
    expect(kept).toMatchObject({ baseUrl: 'https://llm.example.com/v1', apiKey: KEY });

    // The same base_url, or other fields: no key needed.
    expect(
      (
        await h.admin('PATCH', `/agent/ai-profiles/${id}`, {
          base_url: 'https://llm.example.com/v1',
          name: 'renamed',
        })
      ).status,
    ).toBe(200);
    // With the key (a new one, or null to clear it), the move is fine.
    const moved = await h.admin('PATCH', `/agent/ai-profiles/${id}`, {
      base_url: 'https://other.example.com/v1',
      api_key: 'sk-another-key-0123456789',
    });
    expect(moved.status).toBe(200);
    expect(await h.profiles.get(id)).toMatchObject({
      baseUrl: 'https://other.example.com/v1',
      apiKey: 'sk-another-key-0123456789',
    });
  });

  it('a profile without a key moves freely', async () => {
    const h = await startApp();
    const made = await h.admin('POST', '/agent/ai-profiles', {
      name: 'local',
      provider: 'ollama',
      model: 'llama3.1',
    });
    expect(made.status).toBe(201);
    const r = await h.admin('PATCH', `/agent/ai-profiles/${made.body.id}`, {
      base_url: 'http://127.0.0.1:11434',
    });
    expect(r.status).toBe(200);
  });

  it('a base_url on a link-local or metadata host is a 400 naming base_url; loopback is fine', async () => {
    const h = await startApp();
    for (const base_url of [
      'http://169.254.169.254/v1',
      'http://metadata.google.internal/v1',
      'http://[fe80::1]:8080/v1',
    ]) {
      const r = await h.admin('POST', '/agent/ai-profiles', {
        name: 'x',
        provider: 'openai-compatible',
        model: 'm',
        base_url,
      });
      expect(r.status, base_url).toBe(400);
      expect(r.body.error).toMatchObject({ field: 'base_url' });
      expect(r.body.error.message).toMatch(/does not call/);
    }
    const local = await h.admin('POST', '/agent/ai-profiles', {
      name: 'ollama',
      provider: 'ollama',
      model: 'llama3.1',
      base_url: 'http://127.0.0.1:11434',
    });
    expect(local.status).toBe(201);
    const moved = await h.admin('PATCH', `/agent/ai-profiles/${local.body.id}`, {
      base_url: 'http://169.254.169.254/',
    });
    expect(moved.status).toBe(400);
  });
});
