/**
 * Process isolation for the local sandbox's commands: each runs inside new
 * Linux user, PID and mount namespaces with a fresh /proc (util-linux
 * `unshare`). Inside, the command's shell is pid 1 and `ps`/`/proc` show only
 * its own processes: the service's process, and with it the secrets in its
 * start-up environment (`/proc/<pid>/environ`), its memory and its command
 * line, cannot be reached. With SANDBOX_NETWORK=none it also gets its own
 * network namespace, which holds only a loopback interface, and that one is
 * down: the command reaches no network, not even this machine's loopback
 * (where the service listens). Files and the uid stay shared, and the network
 * too unless it is none; see sandbox/README.md for what this does and does
 * not isolate.
 *
 * When pid 1 exits or is killed, the kernel kills every other process in the
 * namespace, `setsid` ones included: a command's background processes die
 * with it, and a timeout only has to kill `unshare` and pid 1.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { PROBE_TIMEOUT_MS, type IsolationProbe } from './isolation-types.ts';

/**
 * The argv prefix that puts a program in the namespaces. The outer `unshare`
 * makes the user, PID and mount namespaces, forks (the child is pid 1) and
 * mounts a fresh /proc; `--kill-child` takes pid 1 down with it when it is
 * killed, even if pid 1 left our process group (`exec setsid …`).
 * `--map-current-user` (util-linux ≥ 2.38) keeps the uid and gid, so tools
 * do not believe they are root (on older util-linux the probe fails and
 * `auto` falls back to none).
 *
 * The inner `unshare` adds a second user and mount namespace. It locks the
 * mounts it inherits: a process with capabilities in the first user namespace
 * (the command itself, when the service runs as root) could otherwise unmount
 * the fresh /proc and find the machine's /proc underneath it. In the second
 * namespace that unmount fails, and mounting another proc needs capabilities
 * over the first one, which the command does not have.
 */
export const NAMESPACE_WRAPPER: readonly string[] = [
  'unshare',
  '--user',
  '--map-current-user',
  '--pid',
  '--fork',
  '--kill-child',
  '--mount-proc',
  '--',
  'unshare',
  '--user',
  '--map-current-user',
  '--mount',
  '--',
];

/**
 * The wrapper for a network mode: with `none` the outer `unshare` also makes
 * a network namespace (`--net`), so everything inside has only a loopback
 * interface, down, and no route anywhere. It belongs to the first user
 * namespace: the command, without capabilities there, cannot bring it up.
 *
 * With `hidden` paths (the service's own data: the embedded store's
 * directory), the first namespace maps the service's user to root instead,
 * so its shell may mount: an empty tmpfs goes over each path that exists.
 * Then the inner `unshare` maps the service's uid and gid back
 * (`--map-user`, `--map-group`), so the command runs as before, and the
 * mounts it inherits are locked: it cannot unmount them to look beneath.
 */
export function namespaceWrapper(
  network: 'host' | 'none',
  hidden: readonly string[] = [],
  /** Who runs it (default: this process): the ids the command gets back inside. */
  ids: { uid: number; gid: number } = {
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
  },
): readonly string[] {
  const base =
    network === 'host'
      ? NAMESPACE_WRAPPER
      : [
          ...NAMESPACE_WRAPPER.slice(0, NAMESPACE_WRAPPER.indexOf('--user') + 1),
          '--net',
          ...NAMESPACE_WRAPPER.slice(NAMESPACE_WRAPPER.indexOf('--user') + 1),
        ];
  if (hidden.length === 0) return base;
  const outerEnd = base.indexOf('--') + 1;
  const outer = base
    .slice(0, outerEnd)
    .map((a) => (a === '--map-current-user' ? '--map-root-user' : a));
  return [
    ...outer,
    '/bin/sh',
    '-c',
    HIDE_SCRIPT,
    'swe-hide',
    String(hidden.length),
    ...hidden,
    'unshare',
    '--user',
    `--map-user=${ids.uid}`,
    `--map-group=${ids.gid}`,
    '--mount',
    '--',
  ];
}

/** Mounts an empty tmpfs over each of the first $1 paths that is a directory, /dev/null over each that is a file, then runs the rest. */
const HIDE_SCRIPT =
  'n=$1; shift; while [ "$n" -gt 0 ]; do if [ -d "$1" ]; then mount -t tmpfs -o size=4k,mode=0755 swe-hidden "$1" || exit 126; elif [ -e "$1" ]; then mount --bind /dev/null "$1" || exit 126; fi; shift; n=$((n-1)); done; exec "$@"';

/** The program and arguments that run `command` with `/bin/sh -c`, inside the namespaces or not. */
export function shellArgv(
  command: string,
  isolation: 'namespaces' | 'none',
  wrapper: readonly string[] = NAMESPACE_WRAPPER,
): { file: string; args: string[] } {
  if (isolation === 'none') return { file: '/bin/sh', args: ['-c', command] };
  const [file = 'unshare', ...rest] = wrapper;
  return { file, args: [...rest, '/bin/sh', '-c', command] };
}

const MARKER = 'swe-isolation-probe';
// pid 1 must be this shell, and the /proc it sees must be its own: /proc/1 is the shell holding the marker.
// The network interfaces it sees (/proc/net/dev: those of its network namespace), comma-separated.
const PROBE_SCRIPT =
  `echo "pid=$$ uid=$(id -u)"; if grep -q ${MARKER} /proc/1/cmdline; then echo proc=own; else echo proc=machine; fi; ` +
  `echo "net=$(sed -n 's/^ *\\([^:]*\\):.*/\\1/p' /proc/net/dev | tr '\\n' ,)"`;

/**
 * Runs `wrapper` with a trivial command and checks what it sees: pid 1 is the
 * command's own shell, /proc shows the new namespace, the uid is unchanged,
 * and, when the wrapper makes a network namespace (`--net`), the only network
 * interface is `lo`. Never throws, never takes longer than `timeoutMs`.
 */
export function probeNamespaces(
  wrapper: readonly string[] = NAMESPACE_WRAPPER,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<IsolationProbe> {
  const { file, args } = shellArgv(PROBE_SCRIPT, 'namespaces', wrapper);
  const no = (reason: string): IsolationProbe => ({ available: false, reason });
  return new Promise((resolve) => {
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(file, args, {
        cwd: '/',
        env: { PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin' },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      return resolve(no(`cannot run ${file}: ${(err as Error).message}`));
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout = (stdout + c.toString('utf8')).slice(0, 4096);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(0, 4096);
    });
    const pid = child.pid;
    const timer = setTimeout(() => {
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      resolve(no(`${file} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(
        no(
          err.code === 'ENOENT'
            ? `${file} is not installed (util-linux)`
            : `cannot run ${file}: ${err.message}`,
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const said = stderr.trim().split('\n')[0] ?? '';
      if (code !== 0)
        return resolve(
          no(
            `${file} failed (${code === null ? `signal ${signal}` : `exit ${code}`})${said ? `: ${said}` : ''}`,
          ),
        );
      const seen = Object.fromEntries(
        stdout
          .split(/\s+/)
          .filter((w) => w.includes('='))
          .map((w) => w.split('=', 2) as [string, string]),
      );
      const uid = process.getuid?.();
      if (seen['pid'] !== '1')
        return resolve(
          no(
            `the command is not pid 1 of a new PID namespace (its pid is ${seen['pid'] ?? 'unknown'})`,
          ),
        );
      if (seen['proc'] !== 'own')
        return resolve(no("/proc inside still shows this machine's processes"));
      if (uid !== undefined && seen['uid'] !== String(uid))
        return resolve(
          no(`commands would run as uid ${seen['uid'] ?? 'unknown'} instead of ${uid}`),
        );
      if (wrapper.includes('--net') && seen['net'] !== 'lo,')
        return resolve(
          no(
            `the command still sees network interfaces other than lo (${seen['net'] || 'none listed'})`,
          ),
        );
      resolve({ available: true, reason: '' });
    });
  });
}

const support = new Map<string, Promise<IsolationProbe>>();

/** Whether this machine runs commands in namespaces, with the wrapper `network` and `hidden` make: probed once per process and wrapper. */
export function namespaceSupport(
  network: 'host' | 'none' = 'host',
  hidden: readonly string[] = [],
): Promise<IsolationProbe> {
  const key = JSON.stringify([network, hidden]);
  let found = support.get(key);
  if (found === undefined) {
    found = probeNamespaces(namespaceWrapper(network, hidden));
    support.set(key, found);
  }
  return found;
}
