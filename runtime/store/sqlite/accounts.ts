/**
 * Users and API tokens of the SQLite adapter, with the semantics of the
 * other adapters: a token is found by its SHA-256 through `token_hashes`,
 * whose entry names the token stored last with that hash.
 */
import type { StoredToken, StoredUser } from '../records.ts';
import { type SqliteContext, str } from './db.ts';

const parse = <T>(r: Record<string, unknown>): T => JSON.parse(str(r['body'])) as T;

export function putUser(ctx: SqliteContext, user: StoredUser): void {
  ctx.db.run(
    'INSERT OR REPLACE INTO users (id, created_at, body) VALUES (?, ?, ?)',
    user.id,
    user.createdAt,
    JSON.stringify(user),
  );
}

export function getUser(ctx: SqliteContext, id: string): StoredUser | null {
  const r = ctx.db.get('SELECT body FROM users WHERE id = ?', id);
  return r ? parse<StoredUser>(r) : null;
}

export function listUsers(ctx: SqliteContext): StoredUser[] {
  return ctx.db.all('SELECT body FROM users ORDER BY created_at, id').map((r) => parse(r));
}

export function deleteUser(ctx: SqliteContext, id: string): boolean {
  for (const r of ctx.db.all('SELECT body FROM tokens WHERE user_id = ?', id)) {
    drop(ctx, parse<StoredToken>(r));
  }
  return ctx.db.run('DELETE FROM users WHERE id = ?', id) > 0;
}

export function putToken(
  ctx: SqliteContext,
  token: StoredToken,
  onlyIfUserHasNone: boolean,
): boolean {
  if (onlyIfUserHasNone && ctx.db.get('SELECT 1 FROM tokens WHERE user_id = ?', token.userId))
    return false;
  const old = ctx.db.get('SELECT body FROM tokens WHERE id = ?', token.id);
  if (old) drop(ctx, parse<StoredToken>(old));
  ctx.db.run(
    'INSERT INTO tokens (id, user_id, created_at, body) VALUES (?, ?, ?, ?)',
    token.id,
    token.userId,
    token.createdAt,
    JSON.stringify(token),
  );
  ctx.db.run(
    'INSERT OR REPLACE INTO token_hashes (hash, token_id) VALUES (?, ?)',
    token.hash,
    token.id,
  );
  return true;
}

export function tokenByHash(ctx: SqliteContext, hash: string): StoredToken | null {
  const r = ctx.db.get(
    'SELECT t.body FROM token_hashes h JOIN tokens t ON t.id = h.token_id WHERE h.hash = ?',
    hash,
  );
  return r ? parse<StoredToken>(r) : null;
}

export function listTokens(ctx: SqliteContext, userId: string): StoredToken[] {
  return ctx.db
    .all('SELECT body FROM tokens WHERE user_id = ? ORDER BY created_at, id', userId)
    .map((r) => parse(r));
}

export function deleteToken(ctx: SqliteContext, userId: string, tokenId: string): boolean {
  const r = ctx.db.get('SELECT body FROM tokens WHERE id = ? AND user_id = ?', tokenId, userId);
  if (!r) return false;
  drop(ctx, parse<StoredToken>(r));
  return true;
}

/** Drops a token and its hash entry, unless that hash now names another token. */
function drop(ctx: SqliteContext, t: StoredToken): void {
  ctx.db.run('DELETE FROM tokens WHERE id = ?', t.id);
  ctx.db.run('DELETE FROM token_hashes WHERE hash = ? AND token_id = ?', t.hash, t.id);
}
