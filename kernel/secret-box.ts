/**
 * Secrets at rest (provider API keys): AES-256-GCM through WebCrypto, with a
 * key derived (HKDF-SHA-256) from SECRET_KEY. Sealed values look like
 * `v1:<base64 iv>:<base64 ciphertext+tag>`; a wrong key or any change to a
 * sealed value fails to open, loudly, instead of yielding garbage.
 */

const VERSION = 'v1';
const enc = new TextEncoder();
const dec = new TextDecoder();

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export interface SecretBox {
  seal(plaintext: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

export function isSealed(value: string): boolean {
  return value.startsWith(`${VERSION}:`);
}

export async function createSecretBox(secretKey: string): Promise<SecretBox> {
  const material = await crypto.subtle.importKey('raw', enc.encode(secretKey), 'HKDF', false, [
    'deriveKey',
  ]);
  const key = await crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: enc.encode('swe-agent/secrets'),
      info: enc.encode('provider-keys v1'),
    },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
  return {
    async seal(plaintext) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const data = new Uint8Array(
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, enc.encode(plaintext)),
      );
      return `${VERSION}:${b64(iv)}:${b64(data)}`;
    },
    async open(sealed) {
      const [version, iv, data] = sealed.split(':');
      if (version !== VERSION || !iv || !data) throw new Error('not a sealed secret');
      try {
        return dec.decode(
          await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(iv) }, key, unb64(data)),
        );
      } catch {
        // No detail: it is either the wrong SECRET_KEY or a changed value.
        throw new Error(
          'a stored secret could not be decrypted: SECRET_KEY differs from the one it was stored with, or the value was changed',
        );
      }
    },
  };
}

/** A random SECRET_KEY for a process that keeps nothing beyond its own life (the embedded store). */
export function randomSecretKey(): string {
  return b64(crypto.getRandomValues(new Uint8Array(32)));
}
