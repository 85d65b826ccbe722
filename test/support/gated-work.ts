import type { WorkImplementations } from '../../actors/work-contract.ts';
import { scriptedWork } from './scripted-work.ts';

/**
 * The scripted agent, except that each session's clone step waits until the
 * test opens that session's gate (or the step is aborted): a session stays
 * RUNNING for as long as the test wants.
 */
export function gatedWork() {
  const base = scriptedWork();
  const opened = new Set<string>();
  const waiting = new Map<string, () => void>();
  /** Sessions whose clone step has begun (with a live signal). */
  const started = new Set<string>();
  const work: WorkImplementations = {
    ...base,
    async clone(input, ctx) {
      if (!ctx.signal.aborted) started.add(input.sessionId);
      if (!opened.has(input.sessionId)) {
        await new Promise<void>((resolve, reject) => {
          if (ctx.signal.aborted) return reject(ctx.signal.reason);
          waiting.set(input.sessionId, resolve);
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
      }
      return base.clone(input, ctx);
    },
  };
  const open = (id: string) => {
    opened.add(id);
    waiting.get(id)?.();
    waiting.delete(id);
  };
  return { work, open, started };
}
