import type { StoredToken, StoredUser } from '../records.ts';

const copy = <T>(v: T): T => structuredClone(v);

/** Oldest first; ids break ties so the order is stable. */
const byCreation =
  <T extends { id: string }>(created: (v: T) => number) =>
  (a: T, b: T) =>
    created(a) - created(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Users and API tokens of the in-process store, with the semantics of the
 * Redis adapter's scripts (`redis/accounts.ts`): one process, so every
 * method is atomic by itself.
 */
export class MemoryAccounts {
  #users = new Map<string, StoredUser>();
  #tokens = new Map<string, StoredToken>();
  /** SHA-256 → token id. */
  #byHash = new Map<string, string>();

  putUser(user: StoredUser): void {
    this.#users.set(user.id, copy(user));
  }

  getUser(id: string): StoredUser | null {
    const u = this.#users.get(id);
    return u ? copy(u) : null;
  }

  listUsers(): StoredUser[] {
    return [...this.#users.values()].map(copy).sort(byCreation((u) => u.createdAt));
  }

  deleteUser(id: string): boolean {
    for (const t of [...this.#tokens.values()]) if (t.userId === id) this.#drop(t);
    return this.#users.delete(id);
  }

  putToken(token: StoredToken, onlyIfUserHasNone: boolean): boolean {
    if (onlyIfUserHasNone && [...this.#tokens.values()].some((t) => t.userId === token.userId))
      return false;
    const old = this.#tokens.get(token.id);
    if (old) this.#drop(old);
    this.#tokens.set(token.id, copy(token));
    this.#byHash.set(token.hash, token.id);
    return true;
  }

  tokenByHash(hash: string): StoredToken | null {
    const id = this.#byHash.get(hash);
    const t = id === undefined ? undefined : this.#tokens.get(id);
    return t ? copy(t) : null;
  }

  listTokens(userId: string): StoredToken[] {
    return [...this.#tokens.values()]
      .filter((t) => t.userId === userId)
      .map(copy)
      .sort(byCreation((t) => t.createdAt));
  }

  deleteToken(userId: string, tokenId: string): boolean {
    const t = this.#tokens.get(tokenId);
    if (!t || t.userId !== userId) return false;
    this.#drop(t);
    return true;
  }

  /** Drops a token and its hash entry, unless that hash now names another token. */
  #drop(t: StoredToken): void {
    this.#tokens.delete(t.id);
    if (this.#byHash.get(t.hash) === t.id) this.#byHash.delete(t.hash);
  }
}
