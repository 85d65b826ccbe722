import { loadConfig, type Config } from './config.ts';
import { readEnv } from './env.ts';
import { startService, type Service, type WorkSource } from './service.ts';
import { startupFailure } from './startup-error.ts';
import { listenError } from './listen-error.ts';
import { startingResponse } from './starting.ts';

/**
 * The few parts of the `Deno` namespace this entry uses. Declared here so the
 * file type-checks under `tsc` (Node types) as well as under `deno check`.
 */
interface DenoRuntime {
  serve(
    options: {
      port: number;
      hostname: string;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (
      request: Request,
      info?: { remoteAddr?: { hostname?: string } },
    ) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code: number): never;
}

function denoRuntime(): DenoRuntime {
  const deno = (globalThis as { Deno?: DenoRuntime }).Deno;
  if (!deno) throw new Error('serveOnDeno: not running on Deno (use server/main.ts on Node)');
  return deno;
}

/**
 * Runs one node under Deno: validates the configuration, starts the service,
 * serves HTTP with `Deno.serve`, and stops gracefully on SIGTERM/SIGINT. The
 * same app as on Node; bodies are read through the web-standard reader.
 */
export async function serveOnDeno(
  work: WorkSource,
  describeWork: string,
  opts: { requireProfile?: boolean } = {},
): Promise<void> {
  const deno: DenoRuntime = denoRuntime();
  let config: Config;
  let service: Service | undefined;
  let server: { shutdown(): Promise<void> } | undefined;
  let port = 0;
  try {
    config = loadConfig(readEnv());
    const { host } = config;
    // The port first, as on Node: a node that cannot take it says so in one
    // line before it opens its store; 503 until the service is up. Of Deno's
    // connection info only the client's address reaches the app, as its
    // `env` (`client-address.ts`), for the limits per address.
    try {
      server = deno.serve(
        { port: config.port, hostname: host, onListen: (addr) => (port = addr.port) },
        (request, info) =>
          service
            ? service.app.fetch(request, { remoteAddr: { hostname: info?.remoteAddr?.hostname } })
            : startingResponse(),
      );
    } catch (err) {
      throw listenError(err, host, config.port);
    }
    service = await startService(config, work, opts);
  } catch (err) {
    void server?.shutdown();
    const { line, code } = startupFailure(err);
    console.error(line);
    deno.exit(code);
  }
  service.logger.info('listening', {
    url: `http://${config.host}:${port || config.port}`,
    work: describeWork,
    runtime: 'deno',
  });
  const running = service;
  const http = server;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.logger.info('stopping', { signal, sessions: running.node.activeSessions });
    // Not awaited: open event streams would hold the shutdown; the node hands its sessions back first.
    void http.shutdown();
    await running.stop();
    running.logger.info('stopped');
    deno.exit(0);
  };
  deno.addSignalListener('SIGTERM', () => void stop('SIGTERM'));
  deno.addSignalListener('SIGINT', () => void stop('SIGINT'));
}
