/**
 * The client's address as each server adapter hands it to the app's `env`:
 * @hono/node-server passes the Node request (`incoming`, its socket), the
 * Deno entry passes the connection's `remoteAddr`. Undefined when the app is
 * called in-process (`app.request()`), where no address exists.
 */
import type { Context } from 'hono';

interface AdapterEnv {
  incoming?: { socket?: { remoteAddress?: string } };
  remoteAddr?: { hostname?: string };
}

/**
 * The address limits are counted by. Behind a reverse proxy on this machine
 * or a private network (the compose file's nginx) every request comes from
 * the proxy: there the last `X-Forwarded-For` hop, the one the proxy added,
 * names the client, so one client's failed tokens do not lock out everyone
 * behind the same proxy. From a public address the header is the client's
 * own word and is ignored: it could pick a new value for every guess.
 */
export function clientAddress(c: Context): string | undefined {
  const env = c.env as AdapterEnv | undefined;
  const peer = env?.incoming?.socket?.remoteAddress ?? env?.remoteAddr?.hostname;
  if (peer === undefined || !isLocalOrPrivate(peer)) return peer;
  const hops = (c.req.header('x-forwarded-for') ?? '').split(',');
  const last = hops[hops.length - 1]?.trim();
  return last ? `${peer} for ${last}` : peer;
}

/** Loopback, RFC 1918, and IPv6 unique-local addresses (IPv4-mapped too): where a proxy of this deployment sits. */
export function isLocalOrPrivate(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  if (a === '::1' || /^127\./.test(a) || /^10\./.test(a) || /^192\.168\./.test(a)) return true;
  if (/^172\.(1[6-9]|2\d|3[01])\./.test(a)) return true;
  return /^f[cd][0-9a-f]{2}:/.test(a);
}
