/**
 * Whether this machine runs commands in bubblewrap's mount view, with a given
 * network: a trivial command through the same confinement commands get, in a
 * throwaway workspace, checked for what it sees. Probed once per process and
 * network; never throws, never takes longer than PROBE_TIMEOUT_MS.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnConfined, killGroup } from './confined.ts';
import { PROBE_TIMEOUT_MS, type IsolationProbe, type NetworkMode } from './isolation-types.ts';
import { SLIRP_RESOLV_CONF } from './slirp.ts';

const CANARY = 'swe-probe-canary';
// What the command sees: its pid, the processes /proc lists, whether the canary beside its workspace shows, its network interfaces.
const SCRIPT =
  `echo "uid=$(id -u)"; echo "procs=$(ls /proc | grep -c '^[0-9]')"; ` +
  `if [ -e ../${CANARY} ]; then echo canary=seen; else echo canary=hidden; fi; ` +
  `echo "net=$(sed -n 's/^ *\\([^:]*\\):.*/\\1/p' /proc/net/dev | sort | tr '\\n' ,)"; echo ok > written && echo "wrote=$(cat written)"`;

/**
 * A failed probe is tried twice more before it counts: bubblewrap can fail
 * to set up a new network namespace under load (`loopback: Failed
 * RTM_NEWADDR`), and a node must not settle on a weaker network for that.
 */
export async function probeBubblewrap(
  network: NetworkMode,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<IsolationProbe> {
  let found = await probeOnce(network, timeoutMs);
  for (let i = 0; i < 2 && !found.available && /^bwrap failed/.test(found.reason); i++)
    found = await probeOnce(network, timeoutMs);
  return found;
}

async function probeOnce(network: NetworkMode, timeoutMs: number): Promise<IsolationProbe> {
  const no = (reason: string): IsolationProbe => ({ available: false, reason });
  const base = await mkdtemp(join(tmpdir(), 'swe-bwrap-probe-'));
  try {
    const [workspace, home, tmp] = ['ws', 'home', 'tmp'].map((d) => join(base, d)) as [
      string,
      string,
      string,
    ];
    await Promise.all([mkdir(workspace), mkdir(home), mkdir(tmp)]);
    await writeFile(join(base, CANARY), '');
    const resolvConf = join(base, 'resolv.conf');
    await writeFile(resolvConf, SLIRP_RESOLV_CONF);
    let confined: ReturnType<typeof spawnConfined>;
    try {
      confined = spawnConfined(
        ['/bin/sh', '-c', SCRIPT],
        {
          isolation: 'bubblewrap',
          network,
          view: {
            workspace,
            home,
            tmp,
            readPaths: [],
            hidden: [],
            ...(network === 'internet' ? { resolvConf } : {}),
          },
        },
        {
          cwd: workspace,
          env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home },
          stdin: 'ignore',
        },
      );
    } catch (err) {
      return no(`cannot run bwrap: ${(err as Error).message}`);
    }
    const { child } = confined;
    let out = '';
    let err = '';
    child.stdout?.on('data', (c: Buffer) => {
      out = (out + c.toString('utf8')).slice(0, 4096);
    });
    child.stderr?.on('data', (c: Buffer) => {
      err = (err + c.toString('utf8')).slice(0, 4096);
    });
    const result = await new Promise<IsolationProbe>((resolve) => {
      const timer = setTimeout(() => {
        killGroup(child.pid);
        resolve(no(`bwrap did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      confined.started.catch((e: Error) => {
        clearTimeout(timer);
        resolve(no(e.message));
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(
          no(
            e.code === 'ENOENT'
              ? 'bwrap is not installed (bubblewrap)'
              : `cannot run bwrap: ${e.message}`,
          ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const said = err.trim().split('\n')[0] ?? '';
        if (code !== 0)
          return resolve(
            no(
              `bwrap failed (${code === null ? `signal ${signal}` : `exit ${code}`})${said ? `: ${said}` : ''}`,
            ),
          );
        resolve(judge(out, network));
      });
    });
    confined.release();
    return result;
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

function judge(out: string, network: NetworkMode): IsolationProbe {
  const seen = Object.fromEntries(
    out
      .split(/\s+/)
      .filter((w) => w.includes('='))
      .map((w) => w.split('=', 2) as [string, string]),
  );
  const no = (reason: string): IsolationProbe => ({ available: false, reason });
  const uid = process.getuid?.();
  if (uid !== undefined && seen['uid'] !== String(uid))
    return no(`commands would run as uid ${seen['uid'] ?? 'unknown'} instead of ${uid}`);
  if (Number(seen['procs'] ?? 'NaN') > 8)
    return no("/proc inside still shows this machine's processes");
  if (seen['canary'] !== 'hidden') return no('the command still sees files beside its workspace');
  const net = seen['net'] ?? '';
  if (network === 'none' && net !== 'lo,')
    return no(`the command still sees network interfaces other than lo (${net || 'none listed'})`);
  if (network === 'internet' && net !== 'lo,tap0,')
    return no(`the command's network is not slirp4netns's tap0 (${net || 'none listed'})`);
  if (seen['wrote'] !== 'ok') return no('the command cannot write its workspace');
  return { available: true, reason: '' };
}

const support = new Map<NetworkMode, Promise<IsolationProbe>>();

/** `probeBubblewrap`, once per process and network. */
export function bubblewrapSupport(network: NetworkMode): Promise<IsolationProbe> {
  let found = support.get(network);
  if (found === undefined) {
    found = probeBubblewrap(network);
    support.set(network, found);
  }
  return found;
}
