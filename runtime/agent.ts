/**
 * Wires the agent for a node: the sandbox provider the configuration names,
 * the model adapter each profile's provider needs, the budget defaults.
 */
import { agentWork, type AgentDeps } from '../actors/agent/work.ts';
import { createGeminiChatModel } from '../actors/llm/gemini.ts';
import { createOpenAIChatModel } from '../actors/llm/openai.ts';
import type { ChatModel } from '../actors/llm/port.ts';
import type { RetryPolicy } from '../actors/llm/retry.ts';
import type { RoleName } from '../actors/agent/tools.ts';
import { AppError, isAppError } from './errors.ts';
import { createDaytonaSandboxProvider } from '../sandbox/daytona.ts';
import { createLocalSandboxProvider } from '../sandbox/local.ts';
import type { SandboxProvider } from '../sandbox/port.ts';
import type { AgentConfig } from './config.ts';
import type { Profiles } from './profiles.ts';
import type { Store, StoredProfile } from './store/port.ts';
import type { WorkImplementations } from './work.ts';

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
  });
}

export function chatModelFor(
  profile: StoredProfile,
  opts: { timeoutMs?: number; retry?: RetryPolicy } = {},
): ChatModel {
  return profile.provider === 'gemini'
    ? createGeminiChatModel(profile, opts)
    : createOpenAIChatModel(profile, opts);
}

export type ProfileCheck =
  | { ok: true; model: string; latency_ms: number }
  | { ok: false; error: { code: string; message: string } };

/**
 * A tiny real call with a profile (one attempt, 20 s): does the key work, does
 * the model exist. The error is the provider's, as our adapters word it: no key.
 */
export async function checkProfile(profile: StoredProfile): Promise<ProfileCheck> {
  const t0 = performance.now();
  try {
    const model = chatModelFor(profile, {
      timeoutMs: 20_000,
      retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const res = await model.chat({
      messages: [{ role: 'user', content: 'Reply with the word ok.' }],
      tools: [],
    });
    return { ok: true, model: res.model, latency_ms: Math.round(performance.now() - t0) };
  } catch (err) {
    if (isAppError(err)) return { ok: false, error: { code: err.code, message: err.message } };
    return {
      ok: false,
      error: { code: 'llm_unavailable', message: 'the provider could not be reached' },
    };
  }
}

/**
 * The profile a call of `role` in a session uses: the role's own profile, else
 * the session's, else its user's default, else the global default. A profile
 * the session names (for the role or for itself) that no longer exists fails
 * the step: the user chose it, so no other model stands in silently. A user
 * default that is gone falls through to the global default. Null: no profile.
 */
export async function profileFor(
  store: Store,
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
  store: Store,
  over: Partial<AgentDeps> = {},
): AgentDeps {
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
  store: Store,
): WorkImplementations {
  return agentWork(agentDeps(config, profiles, store));
}
