/**
 * Who a request acts as. Set by the auth middleware (`api/auth.ts`) on every
 * route except `/health`, `/ready`, `/openapi.json` and `/docs`; routes read
 * it with `c.get('principal')`.
 */
import type { UserRole } from '../runtime/store/records.ts';

export interface Principal {
  userId: string;
  role: UserRole;
  /** `token`: an API token; `local`: an unauthenticated request on a loopback-only server. */
  via: 'token' | 'local';
  tokenId?: string;
}

/** Hono env of the app: the principal is a typed context variable. */
export type AppEnv = { Variables: { principal: Principal } };

/** The built-in administrator: local requests act as it, ADMIN_TOKEN and the generated first token are its. */
export const ADMIN_USER_ID = 'admin';

export const isAdmin = (p: Principal): boolean => p.role === 'admin';

/** Admins reach everything; a user only what it owns. Records from before users existed belong to admins. */
export function owns(p: Principal, ownerId: string | undefined): boolean {
  return p.role === 'admin' || (ownerId !== undefined && ownerId === p.userId);
}

/** Profiles a principal sees and may run sessions with: its own, those assigned to it, and the global default. */
export function canUseProfile(
  p: Principal,
  profile: { ownerId?: string; userIds?: string[]; isDefault: boolean },
): boolean {
  return (
    owns(p, profile.ownerId) || profile.isDefault || (profile.userIds ?? []).includes(p.userId)
  );
}
