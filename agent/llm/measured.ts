/**
 * A model whose calls are counted: calls, tokens, errors by code and call
 * duration, by provider. A call is one `chat()`, its retries included.
 */
import { isAppError } from '../../kernel/errors.ts';
import type { ServiceMetrics } from '../../kernel/service-metrics.ts';
import type { ChatModel } from './port.ts';

export type LlmMetrics = Pick<
  ServiceMetrics,
  'llmCalls' | 'llmTokens' | 'llmErrors' | 'llmDuration'
>;

export function measuredModel(model: ChatModel, metrics: LlmMetrics): ChatModel {
  const provider = model.provider;
  const calls = metrics.llmCalls.labels(provider);
  const input = metrics.llmTokens.labels(provider, 'input');
  const output = metrics.llmTokens.labels(provider, 'output');
  const duration = metrics.llmDuration.labels(provider);
  const tokens = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);
  return {
    provider,
    model: model.model,
    async chat(req) {
      const started = performance.now();
      calls.inc();
      try {
        const res = await model.chat(req);
        input.inc(tokens(res.usage.inputTokens));
        output.inc(tokens(res.usage.outputTokens));
        return res;
      } catch (err) {
        const code = req.signal?.aborted ? 'aborted' : isAppError(err) ? err.code : 'unknown';
        metrics.llmErrors.labels(provider, code).inc();
        throw err;
      } finally {
        duration.observe((performance.now() - started) / 1000);
      }
    },
  };
}
