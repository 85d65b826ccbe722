import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../api/app.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { sealedProfiles } from '../../../runtime/profiles.ts';
import { createSecretBox, isSealed } from '../../../kernel/secret-box.ts';
import { MemoryStore } from '../../../runtime/store/memory/memory-store.ts';

const KEY = 'sk-live-abcdefgh1234';
let store: MemoryStore;
let lines: string[];
let bodies: string[];
let call: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

beforeEach(async () => {
  store = new MemoryStore();
  lines = [];
  bodies = [];
  const app = createApp({
    store,
    logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    profiles: sealedProfiles(store, await createSecretBox('profiles-test-secret-key')),
  });
  call = async (method, path, body) => {
    const res = await app.request(path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    bodies.push(text);
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
});

describe('AI profiles', () => {
  it('creates, lists, reads, updates and deletes; the key is sealed at rest and shown only as a hint', async () => {
    const created = await call('POST', '/agent/ai-profiles', {
      name: 'OpenAI',
      provider: 'openai',
      model: 'gpt-4o-mini',
      api_key: KEY,
      is_default: true,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'OpenAI',
      provider: 'openai',
      model: 'gpt-4o-mini',
      is_default: true,
      api_key_hint: '…1234',
      base_url: null,
    });
    const id = created.body.id as string;
    const raw = await store.getProfile(id);
    expect(isSealed(raw!.apiKey!)).toBe(true);

    const ollama = await call('POST', '/agent/ai-profiles', {
      name: 'Local',
      provider: 'ollama',
      model: 'llama3.1',
      prices: { input_per_mtok: 0, output_per_mtok: 0 },
    });
    expect(ollama.body).toMatchObject({
      api_key_hint: null,
      prices: { input_per_mtok: 0, output_per_mtok: 0 },
    });
    expect((await call('GET', '/agent/ai-profiles')).body.profiles.map((p: any) => p.name)).toEqual(
      ['Local', 'OpenAI'],
    );
    expect((await call('GET', `/agent/ai-profiles/${id}`)).body.api_key_hint).toBe('…1234');

    const moved = await call('PATCH', `/agent/ai-profiles/${ollama.body.id}`, {
      is_default: true,
      model: 'qwen2.5-coder',
    });
    expect(moved.body).toMatchObject({ is_default: true, model: 'qwen2.5-coder' });
    expect((await call('GET', `/agent/ai-profiles/${id}`)).body.is_default).toBe(false);
    expect((await store.defaultProfile())?.id).toBe(ollama.body.id);

    expect((await call('DELETE', `/agent/ai-profiles/${id}`)).status).toBe(204);
    expect((await call('GET', `/agent/ai-profiles/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/agent/ai-profiles/${id}`)).status).toBe(404);

    for (const b of bodies) expect(b).not.toContain(KEY);
    for (const l of lines) expect(l).not.toContain(KEY);
  });

  it.each([
    ['no provider', { name: 'n', model: 'm', api_key: KEY }, 'provider'],
    ['unknown provider', { name: 'n', provider: 'claude', model: 'm' }, 'provider'],
    ['no model', { name: 'n', provider: 'openai', api_key: KEY }, 'model'],
    ['openai without a key', { name: 'n', provider: 'openai', model: 'm' }, 'api_key'],
    [
      'azure without a deployment',
      {
        name: 'n',
        provider: 'azure',
        model: 'm',
        api_key: KEY,
        base_url: 'https://x.openai.azure.com',
        api_version: '2024-10-21',
      },
      'deployment',
    ],
    [
      'azure without an endpoint',
      { name: 'n', provider: 'azure', model: 'm', api_key: KEY, deployment: 'd', api_version: 'v' },
      'base_url',
    ],
    [
      'compatible without a base URL',
      { name: 'n', provider: 'openai-compatible', model: 'm' },
      'base_url',
    ],
    [
      'a base URL that is not http(s)',
      { name: 'n', provider: 'ollama', model: 'm', base_url: 'ftp://x' },
      'base_url',
    ],
    [
      'a negative price',
      {
        name: 'n',
        provider: 'ollama',
        model: 'm',
        prices: { input_per_mtok: -1, output_per_mtok: 0 },
      },
      'prices.input_per_mtok',
    ],
    [
      'an unknown field',
      { name: 'n', provider: 'ollama', model: 'm', temperature: 2 },
      'temperature',
    ],
    [
      'is_default not a boolean',
      { name: 'n', provider: 'ollama', model: 'm', is_default: 'yes' },
      'is_default',
    ],
  ])('%s → 400 naming the field', async (_what, body, field) => {
    const r = await call('POST', '/agent/ai-profiles', body);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'bad_request', field });
    expect(JSON.stringify(r.body)).not.toContain(KEY);
  });

  it('a PATCH is checked as a whole: removing a key the provider needs is refused', async () => {
    const { body } = await call('POST', '/agent/ai-profiles', {
      name: 'n',
      provider: 'openai',
      model: 'm',
      api_key: KEY,
    });
    const r = await call('PATCH', `/agent/ai-profiles/${body.id}`, { api_key: null });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe('api_key');
    expect((await call('PATCH', '/agent/ai-profiles/nope', { model: 'x' })).status).toBe(404);
  });
});

describe("choosing a session's profile", () => {
  it('needs a profile when the node runs the agent: the named one, else the default, else 400 saying how', async () => {
    const s2 = new MemoryStore();
    const profiles = sealedProfiles(s2, await createSecretBox('profiles-test-secret-key'));
    const app = createApp({
      store: s2,
      logger: createLogger({ level: 'error', write: () => undefined }),
      profiles,
      requireProfile: true,
    });
    const post = async (path: string, body: unknown) => {
      const res = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const session = { goal: 'g', repo_url: 'https://example.com/o/r.git' };
    const none = await post('/agent/sessions', session);
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({
      field: 'ai_profile_id',
      message: expect.stringMatching(/POST \/agent\/ai-profiles/),
    });
    const named = (
      await post('/agent/ai-profiles', { name: 'local', provider: 'ollama', model: 'llama3.1' })
    ).body;
    expect(
      (await post('/agent/sessions', { ...session, ai_profile_id: 'nope' })).body.error.field,
    ).toBe('ai_profile_id');
    const withNamed = await post('/agent/sessions', { ...session, ai_profile_id: named.id });
    expect(withNamed.status).toBe(201);
    expect((await s2.getSession(withNamed.body.session_id))?.profileId).toBe(named.id);
    expect((await post('/agent/sessions', session)).status).toBe(400); // a profile exists, but none is the default
    await post('/agent/ai-profiles', {
      name: 'default',
      provider: 'ollama',
      model: 'qwen',
      is_default: true,
    });
    expect((await post('/agent/sessions', session)).status).toBe(201);
  });
});

describe('testing a profile', () => {
  it('makes a tiny real call: ok with the model, or the provider error without the key', async () => {
    const { startOpenAIServer } = await import('../../agent/llm/openai-server.ts');
    const { checkProfile } = await import('../../../agent/llm/chat-model.ts');
    const server = await startOpenAIServer({ apiKey: KEY });
    try {
      const s2 = new MemoryStore();
      const profiles = sealedProfiles(s2, await createSecretBox('profiles-test-secret-key'));
      const app = createApp({
        store: s2,
        logger: createLogger({ level: 'error', write: () => undefined }),
        profiles,
        checkProfile,
      });
      const post = async (path: string, body?: unknown) => {
        const res = await app.request(path, {
          method: 'POST',
          ...(body === undefined
            ? {}
            : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        });
        return { status: res.status, text: await res.text() };
      };
      const good = JSON.parse(
        (
          await post('/agent/ai-profiles', {
            name: 'ok',
            provider: 'openai-compatible',
            model: 'scripted',
            api_key: KEY,
            base_url: `${server.url}/v1`,
          })
        ).text,
      );
      const wrongKey = 'sk-wrong-key-99999999';
      const bad = JSON.parse(
        (
          await post('/agent/ai-profiles', {
            name: 'bad',
            provider: 'openai-compatible',
            model: 'scripted',
            api_key: wrongKey,
            base_url: `${server.url}/v1`,
          })
        ).text,
      );
      server.script({
        kind: 'completion',
        content: 'ok',
        usage: { prompt_tokens: 5, completion_tokens: 1 },
      });
      const ok = await post(`/agent/ai-profiles/${good.id}/test`);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.text)).toMatchObject({ ok: true, model: 'scripted' });
      const no = await post(`/agent/ai-profiles/${bad.id}/test`);
      expect(JSON.parse(no.text)).toEqual({
        ok: false,
        error: { code: 'llm_auth', message: 'openai-compatible: the API key was rejected (401)' },
      });
      expect(no.text).not.toContain(wrongKey);
      expect((await post('/agent/ai-profiles/nope/test')).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
