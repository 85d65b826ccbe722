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

export function clientAddress(c: Context): string | undefined {
  const env = c.env as AdapterEnv | undefined;
  return env?.incoming?.socket?.remoteAddress ?? env?.remoteAddr?.hostname;
}
