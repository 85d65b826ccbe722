/**
 * The third rung of the test ladder: the whole wiring (`startService`, from a
 * configuration, as `npm start` builds it) served over HTTP by
 * @hono/node-server on a loopback port, in this process. The server listens
 * first, so the node announces its real address.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { nodeBodyReader } from '../../../api/body-node.ts';
import type { Logger } from '../../../kernel/logger.ts';
import type { Config } from '../../../server/config.ts';
import { type Service, startService, type WorkSource } from '../../../server/service.ts';

export interface Served {
  /** `http://127.0.0.1:{port}`, no trailing slash. */
  url: string;
  service: Service;
  /** Closes the HTTP server (open event streams included), then stops the service. */
  close(): Promise<void>;
}

export async function serveService(
  config: Config,
  work: WorkSource,
  opts: { logger?: Logger; requireProfile?: boolean } = {},
): Promise<Served> {
  let service: Service | undefined;
  const http = serve({
    // The Node request goes along as the app's env, as in serve-node.ts: the client's address comes from it.
    fetch: (req, env) =>
      service ? service.app.fetch(req, env) : new Response('starting', { status: 503 }),
    port: 0,
    hostname: '127.0.0.1',
  }) as Server;
  await new Promise<void>((resolve) =>
    http.listening ? resolve() : http.once('listening', () => resolve()),
  );
  const { port } = http.address() as AddressInfo;
  const started = await startService(config, work, {
    address: `127.0.0.1:${port}`,
    readBody: nodeBodyReader,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.requireProfile !== undefined ? { requireProfile: opts.requireProfile } : {}),
  });
  service = started;
  return {
    url: `http://127.0.0.1:${port}`,
    service: started,
    async close() {
      // Open event streams would hold close() forever.
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await started.stop();
    },
  };
}
