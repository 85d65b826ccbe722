/**
 * API tokens: 256 random bits, shown once, stored as their SHA-256. A fast
 * hash is right here (unlike for passwords): the token has full entropy, so
 * nothing can be guessed from its hash, and every request checks one.
 */
import { sha256Hex } from '../kernel/hash.ts';

const PREFIX = 'swa_';

/** A new token, e.g. `swa_3q2…` (47 characters). */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return PREFIX + btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** SHA-256 of the token, lowercase hex: what the store keeps and looks up. */
export async function hashToken(token: string): Promise<string> {
  return sha256Hex(token);
}

/** The first characters, enough to tell tokens apart in a list, far too few to use. */
export function tokenPrefix(token: string): string {
  return token.slice(0, PREFIX.length + 4);
}
