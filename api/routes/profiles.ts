/**
 * AI profiles (the guide's "Settings > AI Profiles"): which provider and model
 * sessions use, with the API key sealed at rest and shown only as a hint.
 *
 * Who reaches what: a profile belongs to the user who created it. A user sees
 * and uses its own, those an admin assigned to it (`user_ids`), and the global
 * default; it changes only its own. Admins reach all, and alone set the global
 * default and assignments. A profile a user cannot see is a 404.
 */
import { Hono, type Context } from 'hono';
import { ulid } from 'ulid';
import type { Profiles } from '../../runtime/profiles.ts';
import { badRequest, forbidden, notFound } from '../../kernel/errors.ts';
import { forbiddenHost } from '../../kernel/hosts.ts';
import type { UserRecords } from '../../runtime/store/port.ts';
import type { StoredProfile } from '../../runtime/store/records.ts';
import { canUseProfile, isAdmin, owns, type AppEnv, type Principal } from '../principal.ts';
import { readJsonObject, type BodyReader } from '../body.ts';
import { ProfileCreate, ProfilePatch, parse } from '../schemas/index.ts';
import type { z } from 'zod';

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
    prices: p.prices
      ? { input_per_mtok: p.prices.inputPerMTok, output_per_mtok: p.prices.outputPerMTok }
      : null,
    api_key_hint: keyHint(p.apiKey),
    owner_id: p.ownerId ?? null,
    user_ids: p.userIds ?? [],
  };
}

/** Checks a whole profile as each provider needs it; names the missing field. */
function checkProvider(p: StoredProfile): void {
  const need = (field: string, value: unknown, why: string) => {
    if (value === undefined || value === '')
      throw badRequest(`${field} is required for provider ${p.provider}: ${why}`, field);
  };
  if (p.provider === 'openai' || p.provider === 'gemini')
    need('api_key', p.apiKey, 'the provider rejects calls without one');
  if (p.provider === 'azure') {
    need('base_url', p.baseUrl, 'the Azure endpoint, e.g. https://NAME.openai.azure.com');
    need('deployment', p.deployment, 'the deployment name in Azure');
    need('api_version', p.apiVersion, 'e.g. 2024-10-21');
    need('api_key', p.apiKey, 'the Azure key');
  }
  if (p.provider === 'openai-compatible')
    need('base_url', p.baseUrl, "the server's base URL, e.g. http://host:8080/v1");
  if (p.baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(p.baseUrl))
    throw badRequest('base_url must be an http(s) URL', 'base_url');
  if (p.baseUrl !== undefined) {
    let host = '';
    try {
      host = new URL(p.baseUrl).hostname;
    } catch {
      throw badRequest('base_url must be an http(s) URL', 'base_url');
    }
    const why = forbiddenHost(host);
    // Loopback stays allowed (a local model server); metadata and link-local never.
    if (why)
      throw badRequest(`base_url names a host the node does not call: ${host} ${why}`, 'base_url');
  }
}

type ProfileFields = z.infer<typeof ProfilePatch>;

/** Applies a parsed body to a profile (every field for POST, the given ones for PATCH; null clears). */
function apply(base: StoredProfile, body: ProfileFields): StoredProfile {
  const next: StoredProfile = { ...base };
  if (body.name !== undefined) next.name = body.name;
  if (body.provider !== undefined) next.provider = body.provider;
  if (body.model !== undefined) next.model = body.model;
  const set = <K extends 'apiKey' | 'baseUrl' | 'apiVersion' | 'deployment'>(
    key: K,
    v: string | null | undefined,
  ) => {
    if (v === null) delete next[key];
    else if (v !== undefined) next[key] = v;
  };
  set('apiKey', body.api_key);
  set('baseUrl', body.base_url);
  set('apiVersion', body.api_version);
  set('deployment', body.deployment);
  if (body.is_default !== undefined) next.isDefault = body.is_default;
  if (body.prices === null) delete next.prices;
  else if (body.prices !== undefined)
    next.prices = {
      inputPerMTok: body.prices.input_per_mtok,
      outputPerMTok: body.prices.output_per_mtok,
    };
  // Assigning users is for admins: the route checks the caller before applying.
  if (body.user_ids !== undefined) next.userIds = [...new Set(body.user_ids)];
  // Cross-field rules need the merged profile (a PATCH may change the provider alone).
  checkProvider(next);
  return next;
}

/**
 * A stored key goes only where it was sent for: a PATCH that points the
 * profile elsewhere (another `base_url` or provider) must bring the key again
 * (or clear it), or whoever may edit the profile could repoint it at their
 * own server and receive the key with the next call.
 */
function keyFollowsItsEndpoint(current: StoredProfile, body: ProfileFields): void {
  if (current.apiKey === undefined || body.api_key !== undefined) return;
  const moved: string[] = [];
  if (body.base_url !== undefined && (body.base_url ?? undefined) !== current.baseUrl)
    moved.push('base_url');
  if (body.provider !== undefined && body.provider !== current.provider) moved.push('provider');
  if (moved.length > 0) {
    throw badRequest(
      `changing ${moved.join(' and ')} would send the stored key somewhere new: send api_key again in the same request (or null to clear it)`,
      'api_key',
    );
  }
}

export interface ProfileRouteDeps {
  profiles: Profiles;
  /** Users named in `user_ids` must exist. */
  /** Users, to check the ones a profile is assigned to. */
  store: Pick<UserRecords, 'getUser'>;
  read?: BodyReader;
  /** The tiny real call of `POST /{id}/test`. */
  check?: (p: StoredProfile) => Promise<unknown>;
}

/** Admin-only fields, refused (403, naming the field) when a user sends them. */
async function checkPrivileged(
  b: ProfileFields,
  p: Principal,
  store: Pick<UserRecords, 'getUser'>,
): Promise<void> {
  if (!isAdmin(p)) {
    if (b.is_default !== undefined)
      throw forbidden(
        'only admins set the global default profile; set your own with PATCH /agent/me {"default_profile_id": …}',
        'is_default',
      );
    if (b.user_ids !== undefined)
      throw forbidden('only admins assign profiles to users', 'user_ids');
    return;
  }
  for (const [i, id] of (b.user_ids ?? []).entries()) {
    if (!(await store.getUser(id)))
      throw badRequest(`user_ids[${i}]: user ${id} does not exist`, 'user_ids');
  }
}

export function profileRoutes(deps: ProfileRouteDeps): Hono<AppEnv> {
  const { profiles, store, read, check } = deps;
  const app = new Hono<AppEnv>();
  const body = (c: Parameters<typeof readJsonObject>[0]) => readJsonObject(c, read ? { read } : {});
  /** The profile if the caller may see it, else 404 (the same answer as for an unknown id). */
  const visible = async (c: Context<AppEnv>): Promise<StoredProfile> => {
    const id = c.req.param('id') ?? '';
    const profile = await profiles.get(id);
    if (!profile || !canUseProfile(c.get('principal'), profile)) throw notFound('AI profile', id);
    return profile;
  };
  /** Seen, and also the caller's to change. */
  const mine = async (c: Context<AppEnv>): Promise<StoredProfile> => {
    const profile = await visible(c);
    if (!owns(c.get('principal'), profile.ownerId))
      throw forbidden(
        `AI profile ${profile.id} is shared with you, not yours: only its owner or an admin changes it`,
      );
    return profile;
  };

  app.post('/', async (c) => {
    const principal = c.get('principal');
    const b = parse(ProfileCreate, await body(c));
    await checkPrivileged(b, principal, store);
    const p = apply(
      {
        id: ulid(),
        name: b.name,
        provider: b.provider,
        model: b.model,
        isDefault: false,
        ownerId: principal.userId,
      },
      b,
    );
    await profiles.put(p);
    c.header('Location', `/agent/ai-profiles/${p.id}`);
    return c.json(profileView(p), 201);
  });

  app.get('/', async (c) => {
    const principal = c.get('principal');
    return c.json({
      profiles: (await profiles.list()).filter((p) => canUseProfile(principal, p)).map(profileView),
    });
  });

  app.get('/:id', async (c) => c.json(profileView(await visible(c))));

  app.patch('/:id', async (c) => {
    const current = await mine(c);
    const b = parse(ProfilePatch, await body(c));
    await checkPrivileged(b, c.get('principal'), store);
    keyFollowsItsEndpoint(current, b);
    const p = apply(current, b);
    await profiles.put(p);
    return c.json(profileView(p));
  });

  // A tiny real call: ok, or the provider's error (worded by our adapters, without the key).
  app.post('/:id/test', async (c) => {
    const p = await visible(c);
    if (!check) throw badRequest('this node cannot test profiles', 'id');
    return c.json(await check(p));
  });

  app.delete('/:id', async (c) => {
    const p = await mine(c);
    if (!(await profiles.delete(p.id))) throw notFound('AI profile', p.id);
    return c.body(null, 204);
  });

  return app;
}
