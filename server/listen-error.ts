import { ConfigError } from '../kernel/errors.ts';

/**
 * The one line a node prints when it cannot take its port, instead of an
 * unhandled `EADDRINUSE` stack: which port, why, and what to do. Node reports
 * `code`, Deno an error named after it (`AddrInUse`, `PermissionDenied`).
 */
export function listenError(err: unknown, host: string, port: number): Error {
  const e = err as { code?: string; name?: string; message?: string };
  const what = `${host}:${port}`;
  if (e.code === 'EADDRINUSE' || e.name === 'AddrInUse')
    return new ConfigError(
      'PORT',
      `${what} is already in use (another swe-agent node, or another program)`,
      'Stop it, or set PORT to a free port.',
    );
  if (e.code === 'EACCES' || e.name === 'PermissionDenied')
    return new ConfigError(
      'PORT',
      `${what} may not be bound by this user (ports below 1024 need privileges)`,
      'Set PORT to 1024 or above.',
    );
  if (e.code === 'EADDRNOTAVAIL' || e.name === 'AddrNotAvailable')
    return new ConfigError(
      'HOST',
      `${host} is not an address of this machine`,
      'Set HOST to one of its addresses, 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).',
    );
  return err instanceof Error ? err : new Error(String(err));
}
