/**
 * AI profiles (the guide's "Settings > AI Profiles"): which provider and model
 * sessions use, with the API key sealed at rest and shown only as a hint.
 */
import { Hono } from 'hono';
import { ulid } from 'ulid';
import type { Profiles } from '../../runtime/profiles.ts';
import { badRequest, notFound } from '../../runtime/errors.ts';
import type { StoredProfile } from '../../runtime/store/port.ts';
import { readJsonObject, type BodyReader } from '../body.ts';
import { oneOf, optionalString, rejectUnknown, requiredString } from '../validate.ts';

const PROVIDERS = ['openai', 'azure', 'ollama', 'openai-compatible', 'gemini'] as const;
const FIELDS = ['name', 'provider', 'model', 'api_key', 'base_url', 'api_version', 'deployment', 'is_default', 'prices'];

/** The last four characters of a key, never more, and nothing for a short one. */
export function keyHint(key: string | undefined): string | null {
  if (!key) return null;
  return key.length >= 12 ? `…${key.slice(-4)}` : '…';
}

export function profileView(p: StoredProfile) {
  return {
    id: p.id,
    name: p.name,
    provider: p.provider,
    model: p.model,
    base_url: p.baseUrl ?? null,
    api_version: p.apiVersion ?? null,
    deployment: p.deployment ?? null,
    is_default: p.isDefault,
    prices: p.prices ? { input_per_mtok: p.prices.inputPerMTok, output_per_mtok: p.prices.outputPerMTok } : null,
    api_key_hint: keyHint(p.apiKey),
  };
}

function nullableString(body: Record<string, unknown>, field: string, max: number): string | null | undefined {
  if (body[field] === null) return null;
  return optionalString(body, field, max);
}

function prices(body: Record<string, unknown>): StoredProfile['prices'] | null | undefined {
  const v = body['prices'];
  if (v === undefined || v === null) return v as null | undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('prices must be {"input_per_mtok": number, "output_per_mtok": number} (USD per million tokens)', 'prices');
  const p = v as Record<string, unknown>;
  rejectUnknown(p, ['input_per_mtok', 'output_per_mtok']);
  const num = (k: string) => {
    const x = p[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw badRequest(`prices.${k} must be a number ≥ 0`, `prices.${k}`);
    return x;
  };
  return { inputPerMTok: num('input_per_mtok'), outputPerMTok: num('output_per_mtok') };
}

/** Checks a whole profile as each provider needs it; names the missing field. */
function checkProvider(p: StoredProfile): void {
  const need = (field: string, value: unknown, why: string) => {
    if (value === undefined || value === '') throw badRequest(`${field} is required for provider ${p.provider}: ${why}`, field);
  };
  if (p.provider === 'openai' || p.provider === 'gemini') need('api_key', p.apiKey, 'the provider rejects calls without one');
  if (p.provider === 'azure') {
    need('base_url', p.baseUrl, 'the Azure endpoint, e.g. https://NAME.openai.azure.com');
    need('deployment', p.deployment, 'the deployment name in Azure');
    need('api_version', p.apiVersion, 'e.g. 2024-10-21');
    need('api_key', p.apiKey, 'the Azure key');
  }
  if (p.provider === 'openai-compatible') need('base_url', p.baseUrl, "the server's base URL, e.g. http://host:8080/v1");
  if (p.baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(p.baseUrl)) throw badRequest('base_url must be an http(s) URL', 'base_url');
}

/** Applies a body to a profile (all fields for POST, the given ones for PATCH). */
function apply(base: StoredProfile, body: Record<string, unknown>, creating: boolean): StoredProfile {
  rejectUnknown(body, FIELDS);
  const next: StoredProfile = { ...base };
  if (creating || body['name'] !== undefined) next.name = requiredString(body, 'name', 100);
  if (creating || body['provider'] !== undefined) next.provider = oneOf(body, 'provider', PROVIDERS, 'openai');
  if (creating && body['provider'] === undefined) throw badRequest(`provider is required: one of ${PROVIDERS.join(', ')}`, 'provider');
  if (creating || body['model'] !== undefined) next.model = requiredString(body, 'model', 200);
  const set = <K extends 'apiKey' | 'baseUrl' | 'apiVersion' | 'deployment'>(key: K, field: string, max: number) => {
    const v = nullableString(body, field, max);
    if (v === null) delete next[key];
    else if (v !== undefined) next[key] = v;
  };
  set('apiKey', 'api_key', 1000);
  set('baseUrl', 'base_url', 2048);
  set('apiVersion', 'api_version', 100);
  set('deployment', 'deployment', 200);
  if (body['is_default'] !== undefined) {
    if (typeof body['is_default'] !== 'boolean') throw badRequest('is_default must be true or false', 'is_default');
    next.isDefault = body['is_default'];
  }
  const pr = prices(body);
  if (pr === null) delete next.prices;
  else if (pr !== undefined) next.prices = pr;
  checkProvider(next);
  return next;
}

export function profileRoutes(profiles: Profiles, read?: BodyReader, check?: (p: StoredProfile) => Promise<unknown>): Hono {
  const app = new Hono();
  const body = (c: Parameters<typeof readJsonObject>[0]) => readJsonObject(c, read ? { read } : {});

  app.post('/', async (c) => {
    const p = apply({ id: ulid(), name: '', provider: 'openai', model: '', isDefault: false }, await body(c), true);
    await profiles.put(p);
    c.header('Location', `/agent/ai-profiles/${p.id}`);
    return c.json(profileView(p), 201);
  });

  app.get('/', async (c) => c.json({ profiles: (await profiles.list()).map(profileView) }));

  app.get('/:id', async (c) => {
    const p = await profiles.get(c.req.param('id'));
    if (!p) throw notFound('AI profile', c.req.param('id'));
    return c.json(profileView(p));
  });

  app.patch('/:id', async (c) => {
    const current = await profiles.get(c.req.param('id'));
    if (!current) throw notFound('AI profile', c.req.param('id'));
    const p = apply(current, await body(c), false);
    await profiles.put(p);
    return c.json(profileView(p));
  });

  // A tiny real call: ok, or the provider's error (worded by our adapters, without the key).
  app.post('/:id/test', async (c) => {
    const p = await profiles.get(c.req.param('id'));
    if (!p) throw notFound('AI profile', c.req.param('id'));
    if (!check) throw badRequest('this node cannot test profiles', 'id');
    return c.json(await check(p));
  });

  app.delete('/:id', async (c) => {
    if (!(await profiles.delete(c.req.param('id')))) throw notFound('AI profile', c.req.param('id'));
    return c.body(null, 204);
  });

  return app;
}
