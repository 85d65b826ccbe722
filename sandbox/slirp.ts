/**
 * The `internet` network of the local sandbox: slirp4netns (Debian's
 * `slirp4netns`, what rootless Podman uses) gives a command's network
 * namespace a tap device with a user-mode TCP/IP stack behind it. Its
 * connections leave from this process's side as ordinary sockets, so
 * package registries and git hosts are reachable, and with
 * `--disable-host-loopback` nothing on this machine's loopback is: not the
 * API, not Redis, not a model server bound to 127.0.0.1. The command cannot
 * change that: slirp4netns runs outside its namespaces, as the service's user.
 *
 * Inside, the command has 10.0.2.100/24, the gateway 10.0.2.2 (which would be
 * the host's loopback, and is refused) and DNS at 10.0.2.3.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** The resolver the namespace uses: slirp4netns's built-in DNS forwarder. */
export const SLIRP_RESOLV_CONF = 'nameserver 10.0.2.3\noptions edns0\n';

/** How long slirp4netns may take to set the network up before the command fails. */
export const SLIRP_READY_TIMEOUT_MS = 10_000;

export interface AttachedNetwork {
  /** Stops slirp4netns (the namespace's connections end with it). */
  close(): void;
}

/**
 * Attaches slirp4netns to the network namespace of process `pid` (a
 * bubblewrap sandbox's, joined through its user namespace), and resolves once
 * the interface is up and routed. Rejects with what went wrong, the process
 * stopped, when it cannot.
 */
export function attachNetwork(pid: number): Promise<AttachedNetwork> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(
        'slirp4netns',
        [
          '--configure',
          '--mtu=65520',
          '--disable-host-loopback',
          '--ready-fd=3',
          '--exit-fd=4',
          `--userns-path=/proc/${pid}/ns/user`,
          '--netns-type=path',
          `/proc/${pid}/ns/net`,
          'tap0',
        ],
        // fd 4 stays open as long as this process holds it: slirp4netns exits when it closes (the service died).
        { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
      );
    } catch (err) {
      return reject(new Error(`cannot run slirp4netns: ${(err as Error).message}`));
    }
    // Socket pairs all: a reset when slirp4netns dies must not become an unhandled 'error'.
    for (const s of child.stdio) s?.on('error', () => undefined);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(-2048);
    });
    let done = false;
    const close = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child.stdio[4]?.destroy();
    };
    const fail = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      const said = stderr
        .split('\n')
        .filter((l) => l.trim() !== '' && !/tapfd=/.test(l))
        .pop();
      reject(new Error(`slirp4netns ${why}${said ? `: ${said.trim()}` : ''}`));
    };
    const timer = setTimeout(
      () => fail(`did not set the network up within ${SLIRP_READY_TIMEOUT_MS} ms`),
      SLIRP_READY_TIMEOUT_MS,
    );
    child.on('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ENOENT' ? 'is not installed' : `failed: ${err.message}`),
    );
    child.on('exit', (code, signal) =>
      fail(`exited (${code === null ? `signal ${signal}` : `exit ${code}`})`),
    );
    child.stdio[3]?.once('data', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ close });
    });
  });
}
