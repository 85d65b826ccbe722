/**
 * What a browser may not do to a node: reach it under a name it does not
 * answer to, or send it requests from another site.
 *
 * - **Host allow-list.** A page can rebind its own name to 127.0.0.1 (DNS
 *   rebinding) and then talk to a loopback node as if it were that page's
 *   origin. The node answers only to the names it is known by: localhost,
 *   127.0.0.1 and [::1], plus ALLOWED_HOSTS. Anything else is a 400 naming
 *   `Host` and the variable to set. `/health` and `/ready` are exempt: they
 *   hold nothing, and probes often call by address.
 * - **Cross-site requests.** A page may send "simple" requests (a form POST,
 *   an image GET) without a CORS preflight. A request a browser marks as from
 *   elsewhere (`Sec-Fetch-Site` other than `same-origin` or `none`, or an
 *   `Origin` other than the node's own) is refused when it would change
 *   something, and on every `/agent` (and `/metrics`) read made without a
 *   token (those act as the local admin). curl sends neither header, so the guide's commands run
 *   as printed; the web UI is same-origin.
 */
import type { MiddlewareHandler } from 'hono';
import { badRequest, forbidden } from '../kernel/errors.ts';
import type { AppEnv } from './principal.ts';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const EXEMPT = new Set(['/health', '/ready']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface EdgeOptions {
  /** ALLOWED_HOSTS: more names (host, no port) the node answers to; `*` answers to any. */
  allowedHosts?: readonly string[];
}

/** The name of a Host header, lowercased, without its port ("[::1]" keeps its brackets). */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export function browserGuard(opts: EdgeOptions = {}): MiddlewareHandler<AppEnv> {
  const extra = (opts.allowedHosts ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean);
  const anyHost = extra.includes('*');
  const allowed = new Set([...LOOPBACK_NAMES, ...extra]);
  return async (c, next) => {
    const path = c.req.path;
    if (EXEMPT.has(path)) return next();
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!anyHost && !allowed.has(hostName(host))) {
      throw badRequest(
        `this node does not answer to the host name ${JSON.stringify(hostName(host))}: add it to ALLOWED_HOSTS (a comma-separated list) if it is one of this node's names`,
        'Host',
      );
    }
    const changes = !SAFE_METHODS.has(c.req.method);
    const asLocalAdmin =
      (path.startsWith('/agent') || path === '/metrics') &&
      c.req.header('authorization') === undefined;
    if (changes || asLocalAdmin) {
      const site = c.req.header('sec-fetch-site');
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        throw forbidden(
          `refused: a ${site} request from a web page (Sec-Fetch-Site: ${site}); this node takes requests from its own pages and from clients that are not browsers`,
          'Sec-Fetch-Site',
        );
      }
      const origin = c.req.header('origin');
      if (origin !== undefined && !sameOrigin(origin, host)) {
        throw forbidden(
          `refused: a request from the web page at ${JSON.stringify(origin)}, which is not this node (${host})`,
          'Origin',
        );
      }
    }
    return next();
  };
}

/** Whether `origin` (scheme://host[:port]) names the host the request was sent to. */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const o = new URL(origin);
    return (o.protocol === 'http:' || o.protocol === 'https:') && o.host === host.toLowerCase();
  } catch {
    // "null" (a sandboxed frame, a file:// page) and anything unparseable.
    return false;
  }
}
