import { createApp } from '../../api/app.ts';
import { createLogger } from '../../kernel/logger.ts';
import { RuntimeNode } from '../../runtime/node.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import type { Store } from '../../runtime/store/port.ts';
import type { WorkImplementations } from '../../actors/work-contract.ts';
import { scriptedWork } from './scripted-work.ts';
import { VERSION } from '../../kernel/version.ts';

/** One node and its app in this process, on the embedded store unless given one. */
export async function inProcessService(
  opts: {
    store?: Store;
    work?: WorkImplementations;
    nodeId?: string;
    leaseTtlMs?: number;
    lines?: string[];
    allowLocalRepos?: boolean;
  } = {},
) {
  const store = opts.store ?? new MemoryStore();
  const lines = opts.lines ?? [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const node = await RuntimeNode.start({
    store,
    nodeId: opts.nodeId ?? 'test-node',
    work: opts.work ?? scriptedWork(),
    logger,
    concurrency: 50,
    leaseTtlMs: opts.leaseTtlMs ?? 2000,
    claimIntervalMs: 20,
    version: VERSION,
  });
  const app = createApp({ store, logger, allowLocalRepos: opts.allowLocalRepos ?? false });
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const init: RequestInit = {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
    };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await app.request(path, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
  return {
    store,
    node,
    app,
    lines,
    call,
    async stop() {
      await node.shutdown();
    },
  };
}
