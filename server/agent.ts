/**
 * Wires the agent for a node: the sandbox provider the configuration names,
 * which profile a role's calls use, the budget defaults.
 */
import { agentWork, type AgentDeps } from '../agent/agent-work.ts';
import { chatModelFor } from '../agent/llm/chat-model.ts';
import type { RoleName } from '../agent/tools.ts';
import { AppError } from '../kernel/errors.ts';
import { createDaytonaSandboxProvider } from '../sandbox/daytona.ts';
import { createLocalSandboxProvider } from '../sandbox/local.ts';
import type { SandboxProvider } from '../sandbox/port.ts';
import type { AgentConfig } from './config.ts';
import type { Profiles } from '../runtime/profiles.ts';
import type { SessionReads, UserRecords } from '../runtime/store/port.ts';

/** What choosing a profile reads: the session's choices and its user's default. */
type ChoiceStore = Pick<SessionReads, 'getSession'> & Pick<UserRecords, 'getUser'>;
import type { StoredProfile } from '../runtime/store/records.ts';
import type { WorkImplementations } from '../actors/work-contract.ts';

export function sandboxProvider(config: AgentConfig): SandboxProvider {
  if (config.sandboxType === 'daytona' && config.daytona) {
    return createDaytonaSandboxProvider({
      apiKey: config.daytona.apiKey,
      serverUrl: config.daytona.serverUrl,
      ...(config.daytona.image ? { image: config.daytona.image } : {}),
      allowLocalRepos: config.allowLocalRepos,
    });
  }
  return createLocalSandboxProvider({
    root: config.workspaceDir,
    allowLocalRepos: config.allowLocalRepos,
    cloneTimeoutMs: config.cloneTimeoutMs,
    cloneMaxBytes: config.cloneMaxBytes,
    workspaceMaxBytes: config.sandboxMaxBytes,
    isolation: config.sandboxIsolation,
    network: config.sandboxNetwork,
    hiddenPaths: config.hiddenPaths,
    readPaths: config.sandboxReadPaths,
    limits: config.sandboxLimits,
  });
}

/**
 * The profile a call of `role` in a session uses: the role's own profile, else
 * the session's, else its user's default, else the global default. A profile
 * the session names (for the role or for itself) that no longer exists fails
 * the step: the user chose it, so no other model stands in silently. A user
 * default that is gone falls through to the global default. Null: no profile.
 */
export async function profileFor(
  store: ChoiceStore,
  profiles: Pick<Profiles, 'get' | 'defaultProfile'>,
  sessionId: string,
  role: RoleName,
): Promise<StoredProfile | null> {
  const session = await store.getSession(sessionId);
  const roleId = session?.roleProfiles?.[role];
  const namedId = roleId ?? session?.profileId;
  if (namedId) {
    const named = await profiles.get(namedId);
    if (named) return named;
    const chosen = roleId
      ? `chosen for the ${role}`
      : `chosen for the session (the ${role} uses it)`;
    throw new AppError('not_found', 404, `AI profile ${namedId}, ${chosen}, no longer exists`);
  }
  const userDefault = session?.userId
    ? (await store.getUser(session.userId))?.defaultProfileId
    : undefined;
  return (userDefault ? await profiles.get(userDefault) : null) ?? profiles.defaultProfile();
}

export function agentDeps(
  config: AgentConfig,
  profiles: Profiles,
  store: ChoiceStore,
  over: Partial<AgentDeps<StoredProfile>> = {},
): AgentDeps<StoredProfile> {
  return {
    sandboxes: over.sandboxes ?? sandboxProvider(config),
    // Read at every step: edits to profiles, and a user's default, apply to running sessions.
    profile: (sessionId, role) => profileFor(store, profiles, sessionId, role),
    makeModel: chatModelFor,
    budget: { maxCalls: config.maxCalls, maxTokens: config.maxTokens },
    roleLimits: { maxDiffBytes: config.diffMaxBytes },
    ...over,
  };
}

/** The agent as a node's work. */
export function agentWorkFor(
  config: AgentConfig,
  profiles: Profiles,
  store: ChoiceStore,
  secrets: readonly string[] = [],
): WorkImplementations {
  return agentWork(agentDeps(config, profiles, store, { secrets }));
}
