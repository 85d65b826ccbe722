/**
 * Redaction: what must never be shown is cut out of text before it leaves
 * the service (logs, session logs, error messages). One place for the
 * patterns, so the logger, the sandboxes and the provider adapters agree.
 */
export const REDACTED = '[redacted]';

/**
 * Values shaped like credentials: our API tokens (`swa_…`), OpenAI-style keys
 * (`sk-…`, `sk-proj-…`), Google API keys (`AIza…`) and whatever follows `Bearer`
 * (but a `<placeholder>`).
 */
const SECRET_SHAPES =
  /\bswa_[A-Za-z0-9_-]{20,}|\bsk-[A-Za-z0-9_-]{16,}|\bAIza[A-Za-z0-9_-]{30,}|\b(bearer)\s+(?!<)[^\s"',;]+/gi;
/** Configured secrets shorter than this are not searched for: they would redact ordinary words. */
const MIN_SECRET_LENGTH = 8;

/** Replaces credential-shaped values and the given secrets in a text. */
export function createRedactor(
  secrets: readonly (string | undefined)[] = [],
): (text: string) => string {
  const known = [
    ...new Set(
      secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH),
    ),
  ]
    // Longest first: a secret that contains another is replaced whole.
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of known) if (out.includes(s)) out = out.split(s).join(REDACTED);
    SECRET_SHAPES.lastIndex = 0;
    if (!SECRET_SHAPES.test(out)) return out;
    return out.replace(SECRET_SHAPES, (_m, bearer: string | undefined) =>
      bearer ? `${bearer} ${REDACTED}` : REDACTED,
    );
  };
}

/** Credential-shaped values only (no configured secrets): for text shown to users, like session logs. */
export const redactSecretShapes = createRedactor();

/** Hides the credentials of a URL (`scheme://user:password@host` → `scheme://***@host`) before it is printed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/**
 * Cuts every copy of one secret (a provider's API key) out of text that came
 * from elsewhere (an SDK's error message). Keys shorter than `minLength` are
 * left alone: they would cut ordinary words.
 */
export function cutSecret(text: string, secret: string | undefined, minLength = 1): string {
  return secret && secret.length >= minLength ? text.split(secret).join(REDACTED) : text;
}
