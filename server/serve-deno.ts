import { loadConfig, type Config } from './config.ts';
import { readEnv } from './env.ts';
import { startService, type Service, type WorkSource } from './service.ts';
import { startupFailure } from './startup-error.ts';

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
    handler: (request: Request) => Response | Promise<Response>,
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
  let service: Service;
  try {
    config = loadConfig(readEnv());
    service = await startService(config, work, opts);
  } catch (err) {
    const { line, code } = startupFailure(err);
    console.error(line);
    deno.exit(code);
  }
  // Only the request: the app reads nothing from Deno's connection info (Hono would take it as `env`).
  const server = deno.serve(
    {
      port: config.port,
      hostname: config.host,
      onListen: (addr) =>
        service.logger.info('listening', {
          url: `http://${config.host}:${addr.port}`,
          work: describeWork,
          runtime: 'deno',
        }),
    },
    (request) => service.app.fetch(request),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    service.logger.info('stopping', { signal, sessions: service.node.activeSessions });
    // Not awaited: open event streams would hold the shutdown; the node hands its sessions back first.
    void server.shutdown();
    await service.stop();
    service.logger.info('stopped');
    deno.exit(0);
  };
  deno.addSignalListener('SIGTERM', () => void stop('SIGTERM'));
  deno.addSignalListener('SIGINT', () => void stop('SIGINT'));
}
