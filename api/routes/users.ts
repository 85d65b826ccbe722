/**
 * Users and their API tokens. Admins manage everyone; a user reads itself,
 * sets its default profile and manages its own tokens. Another user's id is a
 * 404, as if it did not exist.
 */
import { Hono, type Context } from 'hono';
import { ulid } from 'ulid';
import { badRequest, conflict, forbidden, notFound } from '../../kernel/errors.ts';
import type { Profiles } from '../../runtime/profiles.ts';
import type { StoreClock, TokenRecords, UserRecords } from '../../runtime/store/port.ts';
import type { StoredToken, StoredUser } from '../../runtime/store/records.ts';
import { hashToken, newToken, tokenPrefix } from '../tokens.ts';
import { readJsonObject, type BodyReader } from '../body.ts';
import {
  ADMIN_USER_ID,
  canUseProfile,
  isAdmin,
  owns,
  type AppEnv,
  type Principal,
} from '../principal.ts';
import { MePatch, TokenCreate, UserCreate, UserPatch, parse } from '../schemas/index.ts';

export interface UserRoutesDeps {
  store: UserRecords & TokenRecords & StoreClock;
  profiles?: Profiles;
  read?: BodyReader;
  /** USER_MAX_RUNNING_SESSIONS: shown as the effective limit of users without their own. */
  defaultMaxRunning: number;
}

export function userView(u: StoredUser, defaultMaxRunning: number) {
  return {
    id: u.id,
    name: u.name,
    role: u.role,
    default_profile_id: u.defaultProfileId ?? null,
    max_running_sessions: u.maxRunning ?? null,
    effective_max_running_sessions: u.maxRunning ?? defaultMaxRunning,
    created_at: new Date(u.createdAt).toISOString(),
  };
}

export function tokenView(t: StoredToken) {
  return {
    id: t.id,
    user_id: t.userId,
    name: t.name,
    prefix: t.prefix,
    created_at: new Date(t.createdAt).toISOString(),
  };
}

export function userRoutes(deps: UserRoutesDeps): Hono<AppEnv> {
  const { store } = deps;
  const app = new Hono<AppEnv>();
  const body = (c: Context, optional = false) =>
    readJsonObject(c, { optional, ...(deps.read ? { read: deps.read } : {}) });
  const view = (u: StoredUser) => userView(u, deps.defaultMaxRunning);

  const requireAdmin = (p: Principal) => {
    if (!isAdmin(p)) throw forbidden('only admins manage users');
  };
  /** The user at `:id` if the caller may see it (admins: anyone; users: themselves), else 404. */
  const visibleUser = async (c: Context<AppEnv>): Promise<StoredUser> => {
    const id = c.req.param('id') ?? '';
    const user = owns(c.get('principal'), id) ? await store.getUser(id) : null;
    if (!user) throw notFound('user', id);
    return user;
  };
  /** A default profile must be one the user can use. */
  const checkDefaultProfile = async (user: StoredUser, id: string) => {
    const profile = deps.profiles ? await deps.profiles.get(id) : null;
    if (!profile || !canUseProfile({ userId: user.id, role: user.role, via: 'token' }, profile)) {
      throw badRequest(
        `default_profile_id ${id} is not an AI profile this user can use (GET /agent/ai-profiles lists them)`,
        'default_profile_id',
      );
    }
  };

  app.post('/', async (c) => {
    requireAdmin(c.get('principal'));
    const b = parse(UserCreate, await body(c));
    const user: StoredUser = {
      id: ulid(),
      name: b.name,
      role: b.role,
      createdAt: await store.now(),
    };
    if (b.max_running_sessions !== undefined) user.maxRunning = b.max_running_sessions;
    if (b.default_profile_id !== undefined) {
      await checkDefaultProfile(user, b.default_profile_id);
      user.defaultProfileId = b.default_profile_id;
    }
    await store.putUser(user);
    c.header('Location', `/agent/users/${user.id}`);
    return c.json(view(user), 201);
  });

  app.get('/', async (c) => {
    requireAdmin(c.get('principal'));
    return c.json({ users: (await store.listUsers()).map(view) });
  });

  app.get('/:id', async (c) => c.json(view(await visibleUser(c))));

  app.patch('/:id', async (c) => {
    const p = c.get('principal');
    const user = await visibleUser(c);
    const b = parse(UserPatch, await body(c));
    if (!isAdmin(p)) {
      if (b.role !== undefined) throw forbidden('only admins change roles', 'role');
      if (b.max_running_sessions !== undefined)
        throw forbidden('only admins change limits', 'max_running_sessions');
    }
    const next: StoredUser = { ...user };
    if (b.name !== undefined) next.name = b.name;
    if (b.role !== undefined && b.role !== user.role) {
      if (user.id === ADMIN_USER_ID) throw conflict('the built-in admin stays an admin');
      next.role = b.role;
    }
    if (b.max_running_sessions === null) delete next.maxRunning;
    else if (b.max_running_sessions !== undefined) next.maxRunning = b.max_running_sessions;
    if (b.default_profile_id === null) delete next.defaultProfileId;
    else if (b.default_profile_id !== undefined) {
      await checkDefaultProfile(next, b.default_profile_id);
      next.defaultProfileId = b.default_profile_id;
    }
    await store.putUser(next);
    return c.json(view(next));
  });

  app.delete('/:id', async (c) => {
    requireAdmin(c.get('principal'));
    const id = c.req.param('id');
    if (id === ADMIN_USER_ID)
      throw conflict('the built-in admin cannot be deleted (revoke its tokens instead)');
    if (!(await store.deleteUser(id))) throw notFound('user', id);
    return c.body(null, 204);
  });

  // Tokens: the value is in the creation answer only; the store keeps its hash.
  app.post('/:id/tokens', async (c) => {
    const user = await visibleUser(c);
    const b = parse(TokenCreate, await body(c, true));
    const token = newToken();
    const stored: StoredToken = {
      id: ulid(),
      userId: user.id,
      name: b.name ?? 'token',
      hash: await hashToken(token),
      prefix: tokenPrefix(token),
      createdAt: await store.now(),
    };
    await store.putToken(stored);
    c.header('Location', `/agent/users/${user.id}/tokens/${stored.id}`);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...tokenView(stored), token }, 201);
  });

  app.get('/:id/tokens', async (c) => {
    const user = await visibleUser(c);
    return c.json({ tokens: (await store.listTokens(user.id)).map(tokenView) });
  });

  app.delete('/:id/tokens/:token_id', async (c) => {
    const user = await visibleUser(c);
    const tokenId = c.req.param('token_id');
    if (!(await store.deleteToken(user.id, tokenId))) throw notFound('token', tokenId);
    return c.body(null, 204);
  });

  return app;
}

/** `GET/PATCH /agent/me`: the caller, and how it authenticated. */
export function meRoutes(deps: UserRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const me = async (p: Principal) => {
    const user = await deps.store.getUser(p.userId);
    if (!user) throw notFound('user', p.userId);
    return user;
  };
  const answer = (user: StoredUser, p: Principal) => ({
    ...userView(user, deps.defaultMaxRunning),
    auth: p.via,
    token_id: p.tokenId ?? null,
  });

  app.get('/', async (c) => {
    const p = c.get('principal');
    return c.json(answer(await me(p), p));
  });

  app.patch('/', async (c) => {
    const p = c.get('principal');
    const user = await me(p);
    const b = parse(MePatch, await readJsonObject(c, deps.read ? { read: deps.read } : {}));
    const next: StoredUser = { ...user };
    if (b.default_profile_id === null) delete next.defaultProfileId;
    else if (b.default_profile_id !== undefined) {
      const profile = deps.profiles ? await deps.profiles.get(b.default_profile_id) : null;
      if (!profile || !canUseProfile(p, profile)) {
        throw badRequest(
          `default_profile_id ${b.default_profile_id} is not an AI profile you can use (GET /agent/ai-profiles lists them)`,
          'default_profile_id',
        );
      }
      next.defaultProfileId = b.default_profile_id;
    }
    await deps.store.putUser(next);
    return c.json(answer(next, p));
  });
  return app;
}
