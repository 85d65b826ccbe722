/**
 * The settings that change what a session does, as one node runs them. A
 * session moves between nodes (claims, failover, handoff), so nodes sharing a
 * store that disagree on these make one session behave two ways: cloned into
 * a local sandbox by one node and looked for in Daytona by the next, or held
 * to another budget. Each node publishes them with its heartbeat and, at
 * start, says where it differs from the live nodes already there. A warning,
 * not a refusal: a rolling change of settings passes through such a state.
 */
import type { NodeInfo } from '../runtime/store/records.ts';
import type { Config } from './config.ts';

export function sessionSettings(config: Config): Record<string, string> {
  const a = config.agent;
  const mb = (bytes: number) => String(bytes / 1048576);
  return {
    SANDBOX_TYPE: a.sandboxType,
    ...(a.sandboxType === 'local'
      ? {
          SANDBOX_ISOLATION: a.sandboxIsolation,
          SANDBOX_NETWORK: a.sandboxNetwork,
          CLONE_MAX_MB: mb(a.cloneMaxBytes),
          SANDBOX_MAX_MB: mb(a.sandboxMaxBytes),
          SANDBOX_MEMORY_MB: mb(a.sandboxLimits.memoryBytes),
          SANDBOX_MAX_PROCESSES: String(a.sandboxLimits.processes),
          SANDBOX_CPU_SECONDS: String(a.sandboxLimits.cpuSeconds),
        }
      : {
          DAYTONA_SERVER_URL: a.daytona?.serverUrl ?? '',
          DAYTONA_TARGET_IMAGE: a.daytona?.image ?? '',
        }),
    ALLOW_LOCAL_REPOS: String(a.allowLocalRepos),
    AGENT_MAX_CALLS: String(a.maxCalls),
    AGENT_MAX_TOKENS: String(a.maxTokens),
    DIFF_MAX_MB: mb(a.diffMaxBytes),
    USER_MAX_RUNNING_SESSIONS: String(config.userMaxRunning),
    // Not a session's own setting, but every node sweeps: the shortest retention on a store wins.
    SESSION_RETENTION_DAYS: String(config.sessionRetentionDays),
  };
}

/** One line per live node that runs a setting differently: what it has and what this node has. */
export function settingsDrift(
  selfId: string,
  mine: Record<string, string>,
  nodes: NodeInfo[],
): string[] {
  const lines: string[] = [];
  for (const node of nodes) {
    if (node.id === selfId || !node.settings) continue;
    const theirs = node.settings;
    const keys = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])].sort();
    const differ = keys.filter((k) => (mine[k] ?? '(unset)') !== (theirs[k] ?? '(unset)'));
    if (differ.length === 0) continue;
    const pairs = differ
      .map((k) => `${k}=${theirs[k] ?? '(unset)'} there, ${mine[k] ?? '(unset)'} here`)
      .join('; ');
    lines.push(
      `settings differ from node ${node.id} (${node.address || 'no address'}): ${pairs}. Sessions move between nodes, so they would run both ways: give every node on this store the same settings`,
    );
  }
  return lines;
}
