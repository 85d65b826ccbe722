/**
 * A node running the real agent (local sandboxes, a scripted model) and its
 * app, in this process on the embedded store, measured into `metrics`.
 */
import { agentWork } from '../../agent/agent-work.ts';
import type { ChatModel } from '../../agent/llm/port.ts';
import { createApp } from '../../api/app.ts';
import { createLogger } from '../../kernel/logger.ts';
import { RuntimeNode } from '../../runtime/node.ts';
import { createServiceMetrics } from '../../kernel/service-metrics.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import { createLocalSandboxProvider, type LocalSandboxOptions } from '../../sandbox/local.ts';

export async function agentService(opts: {
  model: ChatModel;
  workspace: string;
  leaseTtlMs?: number;
  concurrency?: number;
  sandbox?: Partial<LocalSandboxOptions>;
}) {
  const store = new MemoryStore();
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const metrics = createServiceMetrics();
  const work = agentWork({
    sandboxes: createLocalSandboxProvider({
      root: opts.workspace,
      allowLocalRepos: true,
      ...opts.sandbox,
    }),
    profile: async () => ({
      id: 'scripted',
      name: 'scripted',
      isDefault: true,
      provider: opts.model.provider,
      model: opts.model.model,
    }),
    makeModel: () => opts.model,
    budget: { maxCalls: 100, maxTokens: 10_000_000 },
  });
  const node = await RuntimeNode.start({
    store,
    nodeId: 'agent-node',
    work,
    logger,
    metrics,
    concurrency: opts.concurrency ?? 10,
    leaseTtlMs: opts.leaseTtlMs ?? 2000,
    claimIntervalMs: 20,
  });
  const app = createApp({ store, logger, metrics, allowLocalRepos: true });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: /metrics
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return { store, node, app, metrics, lines, call, stop: () => node.shutdown() };
}
