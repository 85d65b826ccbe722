/**
 * Who is calling. An `Authorization: Bearer <token>` header is checked
 * against the stored token hashes on every request. Without one, a request
 * acts as the built-in admin only when the server listens on loopback alone
 * (the default for `npm start`, so the guide's curl commands work as printed)
 * and the request was not forwarded by a proxy; anything else is a 401.
 */
import type { MiddlewareHandler } from 'hono';
import { unauthorized } from '../kernel/errors.ts';
import type { TokenRecords, UserRecords } from '../runtime/store/port.ts';
import type { FailedAuthLimiter } from './auth-limit.ts';
import { hashToken } from './tokens.ts';
import { ADMIN_USER_ID, type AppEnv, type Principal } from './principal.ts';

/** One lookup per request: the token by its hash, then its user. */
export type AuthStore = Pick<TokenRecords, 'tokenByHash'> & Pick<UserRecords, 'getUser'>;

export interface AuthOptions {
  store: AuthStore;
  /** The server listens on loopback only: unauthenticated local requests act as the admin. */
  localAdmin: boolean;
  /** Failed token attempts per client address (`auth-limit.ts`); none when absent. */
  limiter?: FailedAuthLimiter;
}

const LOCAL_ADMIN: Principal = { userId: ADMIN_USER_ID, role: 'admin', via: 'local' };

/** Whether a HOST value binds loopback only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function authenticate(opts: AuthOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined) {
      // A reverse proxy on the same host would make every caller look local: forwarded requests must bring a token.
      const forwarded =
        c.req.header('x-forwarded-for') !== undefined || c.req.header('forwarded') !== undefined;
      if (!opts.localAdmin || forwarded) {
        c.header('WWW-Authenticate', 'Bearer realm="swe-agent"');
        throw unauthorized(
          opts.localAdmin
            ? 'authentication required: forwarded requests need Authorization: Bearer <token>'
            : 'authentication required: send Authorization: Bearer <token> (this server listens beyond loopback)',
        );
      }
      c.set('principal', LOCAL_ADMIN);
      return next();
    }
    opts.limiter?.check(c);
    const m = /^Bearer[ ]+([\x21-\x7e]{1,512})$/i.exec(header);
    if (!m) {
      opts.limiter?.failed(c);
      c.header('WWW-Authenticate', 'Bearer realm="swe-agent", error="invalid_request"');
      throw unauthorized('Authorization must be "Bearer <token>"');
    }
    const token = await opts.store.tokenByHash(await hashToken(m[1]!));
    const user = token ? await opts.store.getUser(token.userId) : null;
    if (!token || !user) {
      opts.limiter?.failed(c);
      c.header('WWW-Authenticate', 'Bearer realm="swe-agent", error="invalid_token"');
      throw unauthorized('invalid or revoked token');
    }
    c.set('principal', { userId: user.id, role: user.role, via: 'token', tokenId: token.id });
    return next();
  };
}
