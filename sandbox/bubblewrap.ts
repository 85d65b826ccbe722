/**
 * The local sandbox's mount view (bubblewrap, Debian's `bubblewrap`): each
 * command sees a root of its own with the system read-only, its workspace
 * and its own HOME and /tmp read-write, and nothing else. Not the service's
 * directory or its `.env`, not the data directory, not another session's
 * workspace, not the home of the user running the service. New user, PID,
 * IPC, UTS and cgroup namespaces (so no other process of the machine is
 * visible or reachable), all capabilities dropped, a new session (no
 * terminal to push input into), and the network of the chosen mode: `none`
 * and `internet` a network namespace of its own (for `internet`,
 * slirp4netns gives it a route out, see slirp.ts), `host` the machine's.
 *
 * The view is built from paths that exist on this machine, looked at once
 * per process: `/bin` as a symlink to `usr/bin` stays a symlink.
 */
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { NetworkMode } from './isolation-types.ts';

/** What the system is made of: read-only in every view, when present. */
export const SYSTEM_PATHS = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/opt',
  '/nix',
] as const;

/** Files under /etc that are nobody's business even when the service runs as root. */
const MASKED = ['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-'] as const;

export interface MountView {
  /** The repository: read-write, at the same path as outside. */
  workspace: string;
  /** The command's HOME, read-write. */
  home: string;
  /** What the command sees as /tmp (and /var/tmp), read-write: a directory of the session's, on disk. */
  tmp: string;
  /** More read-only paths (SANDBOX_READ_PATHS: toolchains outside the system's directories). */
  readPaths: readonly string[];
  /** Paths that must stay invisible even inside what is read-only (the data directory, the service's own): an empty tmpfs over each. */
  hidden: readonly string[];
  /** A file bound over /etc/resolv.conf (the network's own DNS for `internet`). */
  resolvConf?: string;
}

type Entry = { path: string; link?: string };
let systemEntries: Entry[] | undefined;

function system(): Entry[] {
  if (systemEntries !== undefined) return systemEntries;
  const found: Entry[] = [];
  for (const path of SYSTEM_PATHS) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) found.push({ path, link: readlinkSync(path) });
      else if (st.isDirectory()) found.push({ path });
    } catch {
      // not on this machine
    }
  }
  systemEntries = found;
  return found;
}

const under = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/**
 * The bubblewrap arguments that run a program in `view` with `network`
 * (`--` last: the program's argv follows). `fds` asks bubblewrap to report
 * the sandbox's pid on one descriptor and to wait for a byte on another
 * before it runs the program (the network is set up in between).
 */
export function bubblewrapArgs(
  view: MountView,
  network: NetworkMode,
  cwd: string,
  fds?: { info: number; block: number },
): string[] {
  const args = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(network === 'host' ? [] : ['--unshare-net']),
    '--hostname',
    'sandbox',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
  ];
  const readOnly: string[] = [];
  for (const e of system()) {
    if (e.link !== undefined) args.push('--symlink', e.link, e.path);
    else {
      args.push('--ro-bind', e.path, e.path);
      readOnly.push(e.path);
    }
  }
  for (const p of view.readPaths) {
    args.push('--ro-bind-try', p, p);
    readOnly.push(p);
  }
  for (const m of MASKED) if (exists(m)) args.push('--ro-bind', '/dev/null', m);
  if (view.resolvConf !== undefined) {
    const target = resolvTarget();
    if (target !== undefined) args.push('--ro-bind', view.resolvConf, target);
  }
  // What is hidden only matters where something read-only would show it: an empty
  // directory over a directory, /dev/null (unreadable on the view's nodev mounts) over a file.
  for (const h of view.hidden) {
    if (!readOnly.some((r) => under(h, r))) continue;
    if (isDirectory(h)) args.push('--tmpfs', h);
    else if (exists(h)) args.push('--ro-bind', '/dev/null', h);
  }
  args.push(
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--bind',
    view.tmp,
    '/tmp',
    '--symlink',
    '../tmp',
    '/var/tmp',
    '--bind',
    view.home,
    view.home,
    '--bind',
    view.workspace,
    view.workspace,
    '--chdir',
    cwd,
  );
  if (fds !== undefined) args.push('--info-fd', String(fds.info), '--block-fd', String(fds.block));
  args.push('--');
  return args;
}

/**
 * Where /etc/resolv.conf really is: often a symlink into /run, which the view
 * does not hold; bubblewrap makes the directories of a bind's target, so the
 * symlink in the read-only /etc then leads to the bound file.
 */
function resolvTarget(): string | undefined {
  let path = '/etc/resolv.conf';
  for (let i = 0; i < 8; i++) {
    try {
      const st = lstatSync(path);
      if (!st.isSymbolicLink()) return path;
      const link = readlinkSync(path);
      path = isAbsolute(link) ? link : resolve(dirname(path), link);
    } catch {
      return path;
    }
  }
  return undefined;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
