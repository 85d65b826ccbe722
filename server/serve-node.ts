import { serve } from '@hono/node-server';
import { nodeBodyReader } from '../api/body-node.ts';
import { loadConfig, type Config } from './config.ts';
import { readEnv } from './env.ts';
import { startService, type Service, type WorkSource } from './service.ts';
import { startupFailure } from './startup-error.ts';

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
  let service: Service;
  try {
    config = loadConfig(readEnv());
    service = await startService(config, work, { readBody: nodeBodyReader, ...opts });
  } catch (err) {
    const { line, code } = startupFailure(err);
    console.error(line);
    process.exit(code);
  }
  const server = serve(
    { fetch: service.app.fetch, port: config.port, hostname: config.host },
    (info) => {
      service.logger.info('listening', {
        url: `http://${config.host}:${info.port}`,
        work: describeWork,
      });
    },
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info('stopping', { signal, sessions: service.node.activeSessions });
    server.close();
    await service.stop();
    service.logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
