import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { nodeBodyReader } from '../api/body-node.ts';
import { loadConfig, type Config } from './config.ts';
import { readEnv } from './env.ts';
import { startService, type Service, type WorkSource } from './service.ts';
import { startupFailure } from './startup-error.ts';
import { listenError } from './listen-error.ts';
import { startingResponse } from './starting.ts';

/**
 * Runs one node under Node.js: validates the configuration, starts the
 * service, serves HTTP, and stops gracefully on SIGTERM/SIGINT.
 */
export async function serveOnNode(
  work: WorkSource,
  describeWork: string,
  opts: { requireProfile?: boolean } = {},
): Promise<void> {
  let config: Config;
  let service: Service | undefined;
  let server: Server | undefined;
  try {
    config = loadConfig(readEnv());
    // The port first: a node that cannot take it says so in one line before
    // it claims a session or opens its store (answering 503 until it is up).
    const bound = serve({
      fetch: (request, env) => (service ? service.app.fetch(request, env) : startingResponse()),
      port: config.port,
      hostname: config.host,
    }) as Server;
    server = bound;
    await new Promise<void>((resolve, reject) => {
      bound.once('listening', resolve);
      bound.once('error', (err) => reject(listenError(err, config.host, config.port)));
    });
    service = await startService(config, work, { readBody: nodeBodyReader, ...opts });
  } catch (err) {
    server?.close();
    const { line, code } = startupFailure(err);
    console.error(line);
    process.exit(code);
  }
  const address = server.address();
  service.logger.info('listening', {
    url: `http://${config.host}:${typeof address === 'object' && address ? address.port : config.port}`,
    work: describeWork,
  });
  const running = service;
  const http = server;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.logger.info('stopping', { signal, sessions: running.node.activeSessions });
    http.close();
    await running.stop();
    running.logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
