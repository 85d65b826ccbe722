/**
 * Starts a program the way the local sandbox confines it: under bubblewrap's
 * mount view (bubblewrap.ts), in namespaces (isolation.ts), or as it is, with
 * the resource limits (limits.ts) innermost, and for the `internet` network
 * with slirp4netns attached before the program runs (slirp.ts). The child is
 * the leader of a new process group: killing the group kills the wrapper,
 * and the kernel takes the namespace's processes with it.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Writable } from 'node:stream';
import { bubblewrapArgs, type MountView } from './bubblewrap.ts';
import type { Isolation, NetworkMode } from './isolation-types.ts';
import { namespaceWrapper } from './namespaces.ts';
import { limitArgv, type CommandLimits } from './limits.ts';
import { attachNetwork, type AttachedNetwork } from './slirp.ts';

export interface Confinement {
  isolation: Isolation;
  network: NetworkMode;
  /** bubblewrap: what the program sees (required with it). */
  view?: MountView;
  /** namespaces: paths under an empty tmpfs. */
  hidden?: readonly string[];
  limits?: CommandLimits;
}

export interface ConfinedChild {
  child: ChildProcess;
  /** Resolves when the program runs inside its network; rejects (the child killed) when the network could not be set up. */
  started: Promise<void>;
  /** Frees what the confinement holds beside the child (slirp4netns); call when the child is gone. */
  release(): void;
}

/** The argv for `program` under `c`, without the network step. */
export function confinedArgv(
  program: readonly string[],
  c: Confinement,
  cwd: string,
  fds?: { info: number; block: number },
): { file: string; args: string[] } {
  const inner = [...limitArgv(c.limits), ...program];
  if (c.isolation === 'bubblewrap') {
    if (c.view === undefined) throw new Error('bubblewrap needs a mount view');
    return { file: 'bwrap', args: [...bubblewrapArgs(c.view, c.network, cwd, fds), ...inner] };
  }
  if (c.isolation === 'namespaces') {
    const [file = 'unshare', ...rest] = namespaceWrapper(
      c.network === 'none' ? 'none' : 'host',
      c.hidden ?? [],
    );
    return { file, args: [...rest, ...inner] };
  }
  const [file = '', ...args] = inner;
  return { file, args };
}

export function spawnConfined(
  program: readonly string[],
  c: Confinement,
  opts: { cwd: string; env: Record<string, string>; stdin: 'ignore' | 'pipe' },
): ConfinedChild {
  const slirp = c.isolation === 'bubblewrap' && c.network === 'internet';
  const { file, args } = confinedArgv(
    program,
    c,
    opts.cwd,
    slirp ? { info: 3, block: 4 } : undefined,
  );
  const stdio: StdioOptions = slirp
    ? [opts.stdin, 'pipe', 'pipe', 'pipe', 'pipe']
    : [opts.stdin, 'pipe', 'pipe'];
  const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio });
  // The extra descriptors are socket pairs: when the sandbox ends before reading what was
  // written to it (the byte on the block descriptor), ours gets ECONNRESET, which would
  // otherwise be an unhandled 'error' and take the node down.
  for (const s of child.stdio.slice(3)) s?.on('error', () => undefined);
  if (!slirp) return { child, started: Promise.resolve(), release: () => undefined };
  let network: AttachedNetwork | undefined;
  let released = false;
  const started = new Promise<void>((resolve, reject) => {
    let info = '';
    const infoStream = child.stdio[3];
    const block = child.stdio[4] as Writable | null;
    const onInfo = (chunk: Buffer) => {
      info += chunk.toString('utf8');
      let pid: unknown;
      try {
        pid = (JSON.parse(info) as Record<string, unknown>)['child-pid'];
      } catch {
        return; // not all of it yet
      }
      infoStream?.off('data', onInfo);
      if (typeof pid !== 'number') return reject(new Error('bubblewrap did not report its pid'));
      attachNetwork(pid).then(
        (n) => {
          if (released) return n.close();
          network = n;
          block?.end('1');
          resolve();
        },
        (err: Error) => {
          killGroup(child.pid);
          reject(err);
        },
      );
    };
    infoStream?.on('data', onInfo);
    child.once('exit', () => reject(new Error('the sandbox ended before its network was up')));
  });
  // The caller sees the failure through `started`; an unobserved rejection must not crash the node.
  started.catch(() => undefined);
  return {
    child,
    started,
    release: () => {
      released = true;
      network?.close();
    },
  };
}

export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}
