/**
 * An app over the embedded store, with the built-in admin bootstrapped, a log
 * captured line by line and every response body kept, so tests can scan both
 * for secrets. `as(token)` calls with a bearer token; no token is the local
 * admin when `localAdmin` (the default) holds.
 */
import { createApp, type AppDeps } from '../../api/app.ts';
import { bootstrapAdmin } from '../../server/bootstrap.ts';
import { createLogger } from '../../kernel/logger.ts';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { createSecretBox } from '../../kernel/secret-box.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

export async function apiHarness(over: Partial<AppDeps> = {}) {
  const store = new MemoryStore();
  const lines: string[] = [];
  const bodies: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  await bootstrapAdmin(store, { adminToken: undefined, needsToken: false, logger });
  const profiles = sealedProfiles(store, await createSecretBox('api-harness-secret-key'));
  const app = createApp({ store, logger, profiles, ...over });
  const request = async (
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const h: Record<string, string> = { ...headers };
    if (token !== undefined) h['authorization'] = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await app.request(path, {
      method,
      headers: h,
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    bodies.push(text);
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const as =
    (token: string | undefined) =>
    (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      request(token, method, path, body, headers);
  const admin = as(undefined);
  /** Creates a user (as the local admin) and a token for it. */
  const user = async (name: string, extra: Record<string, unknown> = {}) => {
    const u = await admin('POST', '/agent/users', { name, ...extra });
    if (u.status !== 201) throw new Error(`create user → ${u.status} ${JSON.stringify(u.body)}`);
    const t = await admin('POST', `/agent/users/${u.body.id}/tokens`, { name: `${name}'s token` });
    if (t.status !== 201) throw new Error(`create token → ${t.status} ${JSON.stringify(t.body)}`);
    return {
      id: u.body.id as string,
      token: t.body.token as string,
      tokenId: t.body.id as string,
      call: as(t.body.token as string),
    };
  };
  return { store, app, lines, bodies, profiles, logger, request, as, admin, user };
}
