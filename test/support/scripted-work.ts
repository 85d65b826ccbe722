import type { WorkContext, WorkImplementations } from '../../actors/work-contract.ts';

/**
 * A deterministic stand-in for the LLM agent, for tests and benchmarks only.
 * Outputs depend only on inputs, so a disturbed run must end with exactly the
 * diff an undisturbed one produces. Knobs in the goal or URL:
 * - `[reject:N]` in the goal: the reviewer rejects the first N rounds;
 * - `flaky` in the repo URL: the first clone attempt fails with a retryable error;
 * - `broken` in the repo URL: the clone fails for good.
 */
export function scriptedWork(opts: { delayMs?: number } = {}): WorkImplementations {
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  // Like the agent, which asks before each model call and command: a session
  // its node paused (lease not confirmed) waits here and goes on when resumed.
  const delay = async (ms: number, ctx: WorkContext) => {
    await sleep(ms, ctx.signal);
    if (ms > 0) await ctx.ready();
  };
  const d = opts.delayMs ?? 0;
  return {
    async clone(input, ctx) {
      await delay(d, ctx);
      if (input.repoUrl.includes('broken'))
        throw new Error(`repository ${input.repoUrl} not found`);
      if (input.repoUrl.includes('flaky') && input.key.endsWith(':1')) {
        throw Object.assign(new Error('connection reset while cloning'), { retryable: true });
      }
      ctx.log(`cloned ${input.repoUrl}`);
      return {};
    },
    async plan(input, ctx) {
      await delay(d, ctx);
      const lines = input.goal.split('\n').filter((l) => l.trim() !== '');
      return {
        summary: `Plan for: ${lines[0] ?? ''}`,
        steps: lines.map((l, i) => `${i + 1}. ${l}`),
      };
    },
    async code(input, ctx) {
      await delay(d, ctx);
      const lines = input.goal.split('\n').filter((l) => l.trim() !== '');
      const body = lines.map((l) => `+${l}`).join('\n');
      const diff = `--- a/CHANGES.md\n+++ b/CHANGES.md\n@@ -0,0 +1,${lines.length} @@\n${body}\n`;
      return { summary: `iteration ${input.iteration}: ${lines.length} line(s)`, diff };
    },
    async review(input, ctx) {
      await delay(d, ctx);
      const m = /\[reject:(\d+)\]/.exec(input.goal);
      const rejections = m ? Number(m[1]) : 0;
      if (input.round < rejections)
        return { approved: false, feedback: `round ${input.round}: please refine` };
      return { approved: true, feedback: 'looks good' };
    },
  };
}
