/**
 * Users and API tokens on Redis, all under the `{g}` tag (`keys.ts`). Every
 * write that touches a token is one script, so a token and its hash entry
 * never disagree; reads are single commands or one script call.
 */
import type { Redis } from 'ioredis';
import type { StoredToken, StoredUser } from '../records.ts';
import type { GlobalKeys } from './keys.ts';
import { runScript } from './scripts/index.ts';

/** Oldest first; ids break ties so the order is stable. */
const byCreation =
  <T extends { id: string }>(created: (v: T) => number) =>
  (a: T, b: T) =>
    created(a) - created(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export async function putUser(redis: Redis, g: GlobalKeys, user: StoredUser): Promise<void> {
  await redis.hset(g.users, user.id, JSON.stringify(user));
}

export async function getUser(redis: Redis, g: GlobalKeys, id: string): Promise<StoredUser | null> {
  const json = await redis.hget(g.users, id);
  return json === null ? null : (JSON.parse(json) as StoredUser);
}

export async function listUsers(redis: Redis, g: GlobalKeys): Promise<StoredUser[]> {
  const all = (await redis.hvals(g.users)).map((json) => JSON.parse(json) as StoredUser);
  return all.sort(byCreation((u) => u.createdAt));
}

export async function deleteUser(redis: Redis, g: GlobalKeys, id: string): Promise<boolean> {
  return (
    (await runScript(
      redis,
      'swDeleteUser',
      [g.tokens, g.tokenHashes, g.userTokens(id), g.users],
      [id],
    )) === 1
  );
}

export async function putToken(
  redis: Redis,
  g: GlobalKeys,
  token: StoredToken,
  onlyIfUserHasNone: boolean,
): Promise<boolean> {
  const keys = [g.tokens, g.tokenHashes, g.userTokens(token.userId)];
  const args = [
    token.id,
    token.userId,
    token.hash,
    JSON.stringify(token),
    onlyIfUserHasNone ? '1' : '0',
  ];
  return (await runScript(redis, 'swPutToken', keys, args)) === 1;
}

export async function tokenByHash(
  redis: Redis,
  g: GlobalKeys,
  hash: string,
): Promise<StoredToken | null> {
  const json = (await runScript(redis, 'swTokenByHash', [g.tokens, g.tokenHashes], [hash])) as
    | string
    | null;
  if (json === null) return null;
  const token = JSON.parse(json) as StoredToken;
  return token.hash === hash ? token : null;
}

export async function listTokens(
  redis: Redis,
  g: GlobalKeys,
  userId: string,
): Promise<StoredToken[]> {
  const ids = await redis.smembers(g.userTokens(userId));
  if (ids.length === 0) return [];
  const all = await redis.hmget(g.tokens, ...ids);
  // The id set may name tokens deleted or moved to another user since.
  const tokens = all
    .flatMap((json) => (json === null ? [] : [JSON.parse(json) as StoredToken]))
    .filter((t) => t.userId === userId);
  return tokens.sort(byCreation((t) => t.createdAt));
}

export async function deleteToken(
  redis: Redis,
  g: GlobalKeys,
  userId: string,
  tokenId: string,
): Promise<boolean> {
  return (
    (await runScript(
      redis,
      'swDeleteToken',
      [g.tokens, g.tokenHashes, g.userTokens(userId)],
      [userId, tokenId],
    )) === 1
  );
}
