/**
 * The first rung of the test ladder: the HTTP app alone, over a store (the
 * embedded one unless given), called through `app.request()` without a
 * socket. The built-in admin is bootstrapped and AI profiles are sealed
 * (unless told otherwise); every log line and response body is kept, so
 * tests can scan both for secrets. `as(token)` calls with a bearer token; no
 * token is the local admin when `localAdmin` (the default) holds.
 */
import { type ApiStore, type AppDeps, createApp } from '../../../api/app.ts';
import { createLogger, type Logger } from '../../../kernel/logger.ts';
import { createSecretBox } from '../../../kernel/secret-box.ts';
import { sealedProfiles } from '../../../runtime/profiles.ts';
import { MemoryStore } from '../../../runtime/store/memory/memory-store.ts';
import type { Store } from '../../../runtime/store/port.ts';
import { bootstrapAdmin } from '../../../server/bootstrap.ts';

export interface Reply {
  status: number;
  /** The JSON answer, its text when it is not JSON, null when empty. */
  body: any;
  headers: Headers;
}

export interface AppOptions extends Partial<Omit<AppDeps, 'store' | 'logger'>> {
  store?: Store;
  /** Where the log lines go (a new array unless given). */
  lines?: string[];
  /** Create the built-in admin first, as every node does at start. Default true. */
  bootstrap?: boolean;
  /** Serve the AI-profile routes, keys sealed. Default true. */
  sealProfiles?: boolean;
}

export async function startApp(opts: AppOptions = {}) {
  const { store: given, lines: givenLines, bootstrap = true, sealProfiles = true, ...over } = opts;
  const store: Store & ApiStore = given ?? new MemoryStore();
  const lines = givenLines ?? [];
  const bodies: string[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  if (bootstrap) await bootstrapAdmin(store, { adminToken: undefined, needsToken: false, logger });
  const profiles = sealedProfiles(store, await createSecretBox('test-app-secret-key'));
  const app = createApp({ store, logger, ...(sealProfiles ? { profiles } : {}), ...over });
  const request = async (
    token: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const h: Record<string, string> = {};
    if (token !== undefined) h['authorization'] = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await app.request(path, {
      method,
      headers: { ...h, ...headers },
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
  return { store, app, lines, bodies, profiles, logger, request, as, admin, call: admin, user };
}

export type AppHarness = Awaited<ReturnType<typeof startApp>>;
