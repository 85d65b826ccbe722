/**
 * Wires the agent for a node: the sandbox provider the configuration names,
 * the model adapter each profile's provider needs, the budget defaults.
 */
import { agentWork, type AgentDeps } from '../actors/agent/work.ts';
import { createGeminiChatModel } from '../actors/llm/gemini.ts';
import { createOpenAIChatModel } from '../actors/llm/openai.ts';
import type { ChatModel } from '../actors/llm/port.ts';
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
  return createLocalSandboxProvider({ root: config.workspaceDir, allowLocalRepos: config.allowLocalRepos });
}

export function chatModelFor(profile: StoredProfile): ChatModel {
  return profile.provider === 'gemini' ? createGeminiChatModel(profile) : createOpenAIChatModel(profile);
}

export function agentDeps(config: AgentConfig, profiles: Profiles, store: Store, over: Partial<AgentDeps> = {}): AgentDeps {
  return {
    sandboxes: sandboxProvider(config),
    // The profile named at creation, else the default one (read at every step: edits apply to running sessions).
    profile: async (sessionId) => {
      const named = (await store.getSession(sessionId))?.profileId;
      return (named ? await profiles.get(named) : null) ?? profiles.defaultProfile();
    },
    makeModel: chatModelFor,
    budget: { maxCalls: config.maxCalls, maxTokens: config.maxTokens },
    ...over,
  };
}

/** The agent as a node's work. */
export function agentWorkFor(config: AgentConfig, profiles: Profiles, store: Store): WorkImplementations {
  return agentWork(agentDeps(config, profiles, store));
}
