/**
 * Why a Redis connection could not be made, in words an operator can act on.
 * ioredis rejects `connect()` with a bare "Connection is closed."; the cause
 * is the first `error` the client emitted, which this turns into the reason
 * and the fix: refused, DNS, auth, TLS, a timeout, or not Redis at all.
 */
export function describeConnectFailure(cause: unknown, url: URL, timeoutMs: number): string {
  const e = (cause ?? {}) as { code?: string; message?: string };
  const msg = e.message ?? String(cause);
  const where = `${url.hostname}:${url.port || '6379'}`;
  const tls = url.protocol === 'rediss:';
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED')
    return `connection refused: nothing listens on ${where} (is Redis running, and on that port?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME')
    return `the host name ${url.hostname} does not resolve (DNS${code === 'EAI_AGAIN' ? ', temporarily' : ''}): check the host in REDIS_URL`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return `${where} cannot be reached from this machine (no route): check the host in REDIS_URL and the network`;
  if (/^(WRONGPASS|ERR invalid password|ERR AUTH)/.test(msg))
    return 'authentication failed: the user or password in REDIS_URL is wrong (redis://user:password@host:port)';
  if (/^NOAUTH/.test(msg))
    return 'Redis requires a password and REDIS_URL has none: put it in the URL (redis://:password@host:port, or redis://user:password@host:port)';
  if (/^NOPERM/.test(msg))
    return `the Redis user lacks a permission the store needs (${firstLine(msg)}): allow it +@all on the prefix's keys`;
  if (
    /SSL|TLS|certificate|CERT_|self[- ]signed|wrong version number/i.test(msg) ||
    /^(ERR_SSL|ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code)
  )
    return tls
      ? `TLS failed: ${firstLine(msg)} (a server without TLS needs redis://; a private CA needs NODE_EXTRA_CA_CERTS)`
      : `TLS error on a plain connection: ${firstLine(msg)}`;
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(msg))
    return tls
      ? `no TLS handshake with ${where} within ${timeoutMs / 1000} s: if that Redis has no TLS, use redis:// instead of rediss://; otherwise check the host, port and firewall`
      : `no answer from ${where} within ${timeoutMs / 1000} s: check the host, port and firewall`;
  if (/Unknown RESP type|Protocol error/i.test(msg))
    return tls
      ? `${where} does not answer as Redis over TLS (${firstLine(msg)})`
      : `${where} does not answer as Redis (${firstLine(msg)}): is another program on that port, or does that Redis need TLS (rediss://)?`;
  if (code === 'ECONNRESET' || /Connection is closed|socket hang up/i.test(msg))
    return tls
      ? `${where} closed the connection during the TLS handshake: is TLS enabled on that port?`
      : `${where} closed the connection at once: does that Redis need TLS (rediss://), or does it refuse this client (maxclients, protected mode)?`;
  return firstLine(msg);
}

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 200);
