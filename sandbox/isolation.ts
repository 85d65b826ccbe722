/**
 * Which isolation the local sandbox's commands get (SANDBOX_ISOLATION,
 * SANDBOX_NETWORK): the best this machine runs under `auto`, the one named
 * otherwise or a ConfigError, and the start-up line that says which and why.
 * The mechanisms: bubblewrap.ts (a mount view of its own), namespaces.ts
 * (util-linux namespaces), slirp.ts (the internet network).
 */
import { ConfigError } from '../kernel/errors.ts';
import { bubblewrapSupport } from './bubblewrap-probe.ts';
import type {
  Isolation,
  IsolationChoice,
  IsolationMode,
  IsolationProbe,
  NetworkMode,
  NetworkSetting,
} from './isolation-types.ts';
import { namespaceSupport } from './namespaces.ts';

export * from './isolation-types.ts';
export * from './namespaces.ts';

const NO_NETWORK_FIX =
  "Allow unprivileged user and network namespaces (sysctl user.max_user_namespaces > 0, and kernel.unprivileged_userns_clone=1 where it exists; in Docker, the seccomp profile in deploy/ and apparmor=unconfined), or set SANDBOX_NETWORK=host and accept that commands reach the network, the service's own port included.";

const BUBBLEWRAP_FIX =
  'Install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0; in Docker, the seccomp profile in deploy/ and apparmor=unconfined)';

/** The probes `chooseIsolation` runs; tests stand in their own. */
export interface IsolationProbes {
  /** util-linux namespaces with the wrapper for `network` (default: `namespaceSupport`). */
  namespaces?: (network: 'host' | 'none') => Promise<IsolationProbe>;
  /** bubblewrap's view with `network` (default: `bubblewrapSupport`). */
  bubblewrap?: (network: NetworkMode) => Promise<IsolationProbe>;
}

/**
 * What commands run in under `mode` and `network`. A mode or network that
 * is required (not `auto`) and that this machine cannot give is a
 * ConfigError naming the variable and the fix; so is a network the chosen
 * isolation cannot give (`none` without namespaces, `internet` without
 * bubblewrap). `auto` takes the best that works, and says why not better.
 */
export async function chooseIsolation(
  mode: IsolationMode,
  network: NetworkSetting = 'auto',
  probes: IsolationProbes = {},
  hidden: readonly string[] = [],
): Promise<IsolationChoice> {
  const probeNs = probes.namespaces ?? ((n) => namespaceSupport(n, hidden));
  const probeBw = probes.bubblewrap ?? bubblewrapSupport;
  const choice = (isolation: Isolation, net: NetworkMode, reason: string): IsolationChoice => ({
    mode,
    isolation,
    network: net,
    networkSetting: network,
    reason,
  });
  if (mode === 'none') {
    if (network === 'none' || network === 'internet') {
      throw new ConfigError(
        'SANDBOX_NETWORK',
        `is ${network}, which needs ${network === 'none' ? 'namespaces' : 'bubblewrap'} (each command gets a network namespace of its own), but SANDBOX_ISOLATION=none turns them off`,
        'Set SANDBOX_ISOLATION=auto (on a machine that allows unprivileged user namespaces), or SANDBOX_NETWORK=host.',
      );
    }
    return choice('none', 'host', 'SANDBOX_ISOLATION=none');
  }
  let notBubblewrap = '';
  if (mode === 'auto' || mode === 'bubblewrap') {
    const wanted: NetworkMode = network === 'auto' ? 'internet' : network;
    const found = await probeBw(wanted);
    if (found.available) return choice('bubblewrap', wanted, '');
    if (network === 'auto') {
      // The view may work where slirp4netns does not: then the machine's network, said why.
      const plain = await probeBw('host');
      if (plain.available)
        return choice('bubblewrap', 'host', `the internet network is unavailable: ${found.reason}`);
    }
    if (network === 'internet') {
      throw new ConfigError(
        'SANDBOX_NETWORK',
        `is internet, but commands cannot get a network namespace routed out through slirp4netns here (${found.reason})`,
        `${BUBBLEWRAP_FIX}, install slirp4netns (apt-get install slirp4netns), or set SANDBOX_NETWORK=host or none.`,
      );
    }
    if (mode === 'bubblewrap') {
      throw new ConfigError(
        'SANDBOX_ISOLATION',
        `is bubblewrap, but commands cannot run in its mount view here (${found.reason})`,
        `${BUBBLEWRAP_FIX}, or set SANDBOX_ISOLATION=auto, namespaces or none and accept less.`,
      );
    }
    notBubblewrap = `bubblewrap is unavailable: ${found.reason}`;
  }
  const nsNetwork = network === 'none' ? 'none' : 'host';
  const found = await probeNs(nsNetwork);
  if (found.available) return choice('namespaces', nsNetwork, notBubblewrap);
  if (network === 'none') {
    throw new ConfigError(
      'SANDBOX_NETWORK',
      `is none, but commands cannot run in their own user, PID, mount and network namespaces here (${found.reason})`,
      NO_NETWORK_FIX,
    );
  }
  if (mode === 'namespaces') {
    throw new ConfigError(
      'SANDBOX_ISOLATION',
      `is namespaces, but commands cannot run in user namespaces here (${found.reason})`,
      "Allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0, and kernel.unprivileged_userns_clone=1 where it exists; in Docker, the seccomp profile in deploy/), or set SANDBOX_ISOLATION=auto or none and accept that commands can read the service's processes.",
    );
  }
  return choice('none', 'host', [notBubblewrap, found.reason].filter(Boolean).join('; '));
}

const NETWORK_WORDS: Record<NetworkMode, string> = {
  internet:
    "internet: commands reach the internet through slirp4netns, not this machine's loopback (the API, Redis, local model servers)",
  none: "none: commands reach no network, not even this machine's loopback",
  host: "host: commands reach what this machine reaches, the service's own port and a Redis on loopback included",
};

/** The start-up log line for a choice, and whether it is a warning. */
export function describeIsolation(choice: IsolationChoice): { warn: boolean; message: string } {
  const why = choice.reason ? ` (${choice.reason})` : '';
  const network = `network: ${NETWORK_WORDS[choice.network]} (SANDBOX_NETWORK=${choice.networkSetting})`;
  const head = `local sandbox isolation: ${choice.isolation} (SANDBOX_ISOLATION=${choice.mode})`;
  if (choice.isolation === 'bubblewrap') {
    return {
      warn: choice.network === 'host',
      message: `${head}: each command sees the system read-only, its own workspace, HOME and /tmp, and nothing else (no other session, not the service's files or data directory, not its processes); ${network}${why}`,
    };
  }
  if (choice.isolation === 'namespaces') {
    return {
      warn: true,
      message: `${head}${why}: commands run in their own user, PID and mount namespaces and cannot see the service's processes or its data directory, but they read and write what the service's user can (other sessions' workspaces, the service's files); ${network}. Install bubblewrap for a mount view of their own`,
    };
  }
  const risk =
    "commands run as the service's user and can read the service's processes, including the secrets in /proc/<pid>/environ, its files and its data directory (DATA_DIR: the embedded store and its kept SECRET_KEY)";
  if (choice.mode === 'none')
    return {
      warn: true,
      message: `${head}: ${risk}; ${network}`,
    };
  return {
    warn: true,
    message: `${head}, and neither bubblewrap nor user namespaces work here${why}: ${risk}. ${BUBBLEWRAP_FIX}, set SANDBOX_ISOLATION=none to accept this, or use SANDBOX_TYPE=daytona; ${network}`,
  };
}
