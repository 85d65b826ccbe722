/**
 * The second rung of the test ladder: the app (the first rung) and a
 * `RuntimeNode` in this process, sharing one store (the embedded one unless
 * given) and one captured log. The node runs the scripted work by default,
 * any work a test gives, or the real LLM agent on local sandboxes with a
 * scripted model (`agent`).
 */
import type { WorkImplementations } from '../../../actors/work-contract.ts';
import { agentWork } from '../../../agent/agent-work.ts';
import type { ChatModel } from '../../../agent/llm/port.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { createServiceMetrics } from '../../../kernel/service-metrics.ts';
import { VERSION } from '../../../kernel/version.ts';
import { RuntimeNode } from '../../../runtime/node.ts';
import { MemoryStore } from '../../../runtime/store/memory/memory-store.ts';
import type { Store } from '../../../runtime/store/port.ts';
import { createLocalSandboxProvider, type LocalSandboxOptions } from '../../../sandbox/local.ts';
import { scriptedWork } from '../fake-work.ts';
import { startApp } from './app.ts';

/** The real agent on local sandboxes under `workspace`, its every call answered by `model`. */
export interface AgentOptions {
  model: ChatModel;
  workspace: string;
  sandbox?: Partial<LocalSandboxOptions>;
}

export interface InProcessOptions {
  store?: Store;
  /** The node's work; the scripted work unless given (or `agent`). */
  work?: WorkImplementations;
  agent?: AgentOptions;
  nodeId?: string;
  leaseTtlMs?: number;
  concurrency?: number;
  /** Where the log lines go (a new array unless given). */
  lines?: string[];
  allowLocalRepos?: boolean;
  /** Measure the node and the app into one metrics object (`GET /metrics`); on with `agent`. */
  metrics?: boolean;
}

export async function startInProcess(opts: InProcessOptions = {}) {
  const store = opts.store ?? new MemoryStore();
  const lines = opts.lines ?? [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const metrics = (opts.metrics ?? opts.agent !== undefined) ? createServiceMetrics() : undefined;
  const node = await RuntimeNode.start({
    store,
    nodeId: opts.nodeId ?? (opts.agent ? 'agent-node' : 'test-node'),
    work: opts.work ?? (opts.agent ? agentOn(opts.agent) : scriptedWork()),
    logger,
    concurrency: opts.concurrency ?? (opts.agent ? 10 : 50),
    leaseTtlMs: opts.leaseTtlMs ?? 2000,
    claimIntervalMs: 20,
    version: VERSION,
    ...(metrics ? { metrics } : {}),
  });
  // The app shares the store and the log; a node creates no admin and seals no profiles itself here.
  const app = await startApp({
    store,
    lines,
    bootstrap: false,
    sealProfiles: false,
    allowLocalRepos: opts.allowLocalRepos ?? opts.agent !== undefined,
    ...(metrics ? { metrics } : {}),
  });
  return {
    ...app,
    node,
    metrics,
    async stop() {
      await node.shutdown();
    },
  };
}

function agentOn(a: AgentOptions): WorkImplementations {
  return agentWork({
    sandboxes: createLocalSandboxProvider({
      root: a.workspace,
      allowLocalRepos: true,
      ...a.sandbox,
    }),
    profile: async () => ({
      id: 'scripted',
      name: 'scripted',
      isDefault: true,
      provider: a.model.provider,
      model: a.model.model,
    }),
    makeModel: () => a.model,
    budget: { maxCalls: 100, maxTokens: 10_000_000 },
  });
}
