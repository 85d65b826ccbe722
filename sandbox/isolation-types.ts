/** The words of the local sandbox's isolation: modes, networks, what a probe found, what was chosen. */

/**
 * SANDBOX_ISOLATION: `auto` uses bubblewrap's mount view where this machine
 * runs it, else namespaces where it allows them; `bubblewrap` and
 * `namespaces` require theirs; `none` runs commands as the service's user.
 */
export type IsolationMode = 'auto' | 'bubblewrap' | 'namespaces' | 'none';
/** What a command actually runs in. */
export type Isolation = 'bubblewrap' | 'namespaces' | 'none';
/**
 * The network a command reaches: `internet` (a namespace of its own routed
 * out through slirp4netns: the internet, not this machine's loopback; needs
 * bubblewrap), `host` (this machine's), `none` (nothing).
 */
export type NetworkMode = 'host' | 'none' | 'internet';
/** SANDBOX_NETWORK: a mode, or `auto`: `internet` where this machine runs it, else `host`. */
export type NetworkSetting = NetworkMode | 'auto';

/** The probe gives up (not available) after this long: it must never hold up the node's start. */
export const PROBE_TIMEOUT_MS = 5000;

export interface IsolationProbe {
  available: boolean;
  /** Why not, when not available: what failed, in words an operator can act on. */
  reason: string;
}

export interface IsolationChoice {
  mode: IsolationMode;
  isolation: Isolation;
  /** `none` only with namespaces or bubblewrap, `internet` only with bubblewrap. */
  network: NetworkMode;
  /** SANDBOX_NETWORK as configured. */
  networkSetting: NetworkSetting;
  /** Why `auto` chose less than the best isolation (bubblewrap) or network (internet); '' when it did not. */
  reason: string;
}
