import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LlmError,
  type ChatMessage,
  type ChatRequest,
  type ToolSpec,
} from '../../../agent/llm/port.ts';
import { waitFor } from '../../support/wait.ts';
import { CONTRACT_MODEL_OPTIONS, type LlmHarness } from './harness.ts';

const ATTEMPTS = CONTRACT_MODEL_OPTIONS.retry.maxAttempts;
/** The "promptly" of the adapters' own tests: well past any local round trip, far short of any timeout. */
const PROMPTLY_MS = 1_000;

const READ_FILE: ToolSpec = {
  name: 'read_file',
  description: 'Reads a file of the repository.',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};
const LIST_FILES: ToolSpec = {
  name: 'list_files',
  description: 'Lists the files under a directory.',
  parameters: { type: 'object', properties: { dir: { type: 'string' } } },
};
const OPENING: ChatMessage[] = [
  { role: 'system', content: 'You are a careful engineer.' },
  { role: 'user', content: 'What does the README say?' },
];
const ask = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: OPENING,
  tools: [READ_FILE, LIST_FILES],
  ...extra,
});

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, it succeeded');
}

async function llmFailure(p: Promise<unknown>): Promise<LlmError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(LlmError);
  return err as LlmError;
}

/** Every rendering of an error that could reach a log, a session or an HTTP answer. */
const renderings = (err: LlmError) => [
  err.message,
  String(err),
  String(err.stack),
  String(err.cause),
  JSON.stringify(err),
  inspect(err, { depth: 5 }),
];

/**
 * The chat model contract. Every provider adapter runs it from a few-line
 * test file; the runtime relies on exactly this from any provider, through
 * the `ChatModel` port alone. Wire details stay in each provider's own tests.
 */
export function chatModelContract(name: string, factory: () => Promise<LlmHarness>): void {
  describe(`chat model contract: ${name}`, () => {
    let h: LlmHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => h.close());

    it('runs a two-turn tool conversation: calls out, results back, with the tools offered each time', async () => {
      h.reply(
        {
          kind: 'answer',
          text: 'Let me look.',
          toolCalls: [
            { name: 'read_file', arguments: '{"path":"README.md"}' },
            { name: 'list_files', arguments: '{"dir":"src"}' },
          ],
        },
        { kind: 'answer', text: 'The README says hello.' },
      );
      const first = await h.model.chat(ask());
      expect(first.finishReason).toBe('tool_calls');
      expect(first.message.role).toBe('assistant');
      expect(first.message.content).toBe('Let me look.');
      const calls = first.message.toolCalls ?? [];
      expect(calls.map((c) => [c.name, c.arguments])).toEqual([
        ['read_file', '{"path":"README.md"}'],
        ['list_files', '{"dir":"src"}'],
      ]);
      // The caller answers each call by its id: ids must tell the calls apart.
      for (const c of calls) expect(c.id).toMatch(/\S/);
      expect(new Set(calls.map((c) => c.id)).size).toBe(calls.length);

      const second = await h.model.chat(
        ask({
          messages: [
            ...OPENING,
            first.message,
            { role: 'tool', toolCallId: calls[0]!.id, name: 'read_file', content: 'hello world' },
            { role: 'tool', toolCallId: calls[1]!.id, name: 'list_files', content: 'a.ts\nb.ts' },
          ],
        }),
      );
      expect(second.finishReason).toBe('stop');
      expect(second.message.content).toBe('The README says hello.');
      expect(second.message.toolCalls).toBeUndefined();

      const [one, two] = h.requests();
      expect(h.requests()).toHaveLength(2);
      expect(one).toMatchObject({
        credential: h.apiKey,
        tools: ['read_file', 'list_files'],
        messages: [
          { role: 'system', text: 'You are a careful engineer.' },
          { role: 'user', text: 'What does the README say?' },
        ],
      });
      expect(two!.tools).toEqual(['read_file', 'list_files']);
      expect(two!.messages).toEqual([
        { role: 'system', text: 'You are a careful engineer.' },
        { role: 'user', text: 'What does the README say?' },
        {
          role: 'assistant',
          text: 'Let me look.',
          toolCalls: [
            { name: 'read_file', arguments: '{"path":"README.md"}' },
            { name: 'list_files', arguments: '{"dir":"src"}' },
          ],
        },
        { role: 'tool', name: 'read_file', content: 'hello world' },
        { role: 'tool', name: 'list_files', content: 'a.ts\nb.ts' },
      ]);
      expect(h.pending()).toBe(0);
    });

    it('returns a text answer verbatim, names the model that answered, and offers no tools when given none', async () => {
      const text = 'Café ✓\n  indented line\n\nlast line';
      h.reply({ kind: 'answer', text, servedBy: 'contract-model-2024-01-01' });
      const res = await h.model.chat(ask({ tools: [] }));
      expect(res.message).toMatchObject({ role: 'assistant', content: text });
      expect(res.message.toolCalls).toBeUndefined();
      expect(res.finishReason).toBe('stop');
      expect(res.model).toBe('contract-model-2024-01-01');
      expect(h.requests()).toHaveLength(1);
      expect(h.requests()[0]!.tools).toEqual([]);
    });

    it('reports an answer cut at the token limit as length, keeping its text', async () => {
      h.reply({ kind: 'answer', text: 'half an ans', cutShort: true });
      const res = await h.model.chat(ask());
      expect(res.finishReason).toBe('length');
      expect(res.message.content).toBe('half an ans');
    });

    it('reports the usage the server counted, and zeros when it sends none', async () => {
      h.reply(
        {
          kind: 'answer',
          text: 'counted',
          usage: { inputTokens: 120, outputTokens: 17, totalTokens: 137 },
        },
        { kind: 'answer', text: 'uncounted', usage: null },
      );
      expect((await h.model.chat(ask())).usage).toEqual({
        inputTokens: 120,
        outputTokens: 17,
        totalTokens: 137,
      });
      expect((await h.model.chat(ask())).usage).toEqual({
        inputTokens: 0,
        outputTokens: 0,
        totalTokens: 0,
      });
    });

    it('sends tool-call arguments back verbatim, even when they are not JSON', async () => {
      h.reply({ kind: 'answer', text: 'noted' });
      await h.model.chat(
        ask({
          messages: [
            ...OPENING,
            // A turn from elsewhere (another provider, a restored transcript): no provider parts.
            {
              role: 'assistant',
              content: null,
              toolCalls: [
                { id: 'x1', name: 'read_file', arguments: '{"path":' },
                { id: 'x2', name: 'list_files', arguments: '{"dir":"src"}' },
              ],
            },
            { role: 'tool', toolCallId: 'x1', name: 'read_file', content: 'invalid arguments' },
            { role: 'tool', toolCallId: 'x2', name: 'list_files', content: 'a.ts' },
          ],
        }),
      );
      expect(h.requests()[0]!.messages.slice(2)).toEqual([
        {
          role: 'assistant',
          text: null,
          toolCalls: [
            { name: 'read_file', arguments: '{"path":' },
            { name: 'list_files', arguments: '{"dir":"src"}' },
          ],
        },
        { role: 'tool', name: 'read_file', content: 'invalid arguments' },
        { role: 'tool', name: 'list_files', content: 'a.ts' },
      ]);
    });

    it('reports a rejected key as auth, once, with the key nowhere in the error', async () => {
      h.reply({ kind: 'rejected_key' }, { kind: 'answer', text: 'must not be asked for' });
      const err = await llmFailure(h.model.chat(ask()));
      expect(err.kind).toBe('auth');
      expect(err.code).toBe('llm_auth');
      expect(err.retryable).toBe(false);
      expect(err.provider).toBe(h.model.provider);
      for (const text of renderings(err)) expect(text).not.toContain(h.apiKey);
      expect(h.requests()).toHaveLength(1);
      expect(h.pending()).toBe(1);
    });

    it('reports an unknown model as model_not_found, naming the model, without retrying', async () => {
      h.reply({ kind: 'unknown_model' }, { kind: 'answer', text: 'must not be asked for' });
      const err = await llmFailure(h.model.chat(ask()));
      expect(err.kind).toBe('model_not_found');
      expect(err.code).toBe('llm_model_not_found');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain(h.model.model);
      expect(h.requests()).toHaveLength(1);
    });

    it("reports a 400 as bad_request with the provider's message, the key cut out, without retrying", async () => {
      h.reply(
        {
          kind: 'http_error',
          status: 400,
          message: `Invalid 'messages[1].content': too long (request from key ${h.apiKey})`,
        },
        { kind: 'answer', text: 'must not be asked for' },
      );
      const err = await llmFailure(h.model.chat(ask()));
      expect(err.kind).toBe('bad_request');
      expect(err.code).toBe('llm_bad_request');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain("Invalid 'messages[1].content': too long (request from key ");
      for (const text of renderings(err)) expect(text).not.toContain(h.apiKey);
      expect(h.requests()).toHaveLength(1);
    });

    it('reports a refusal as refused, without retrying', async () => {
      h.reply({ kind: 'refusal' }, { kind: 'answer', text: 'must not be asked for' });
      const err = await llmFailure(h.model.chat(ask()));
      expect(err.kind).toBe('refused');
      expect(err.retryable).toBe(false);
      expect(h.requests()).toHaveLength(1);
    });

    it('reports a body that is not JSON as invalid_response, without retrying', async () => {
      h.reply({ kind: 'garbage' }, { kind: 'answer', text: 'must not be asked for' });
      const err = await llmFailure(h.model.chat(ask()));
      expect(err.kind).toBe('invalid_response');
      expect(err.retryable).toBe(false);
      expect(h.requests()).toHaveLength(1);
    });

    it('waits as long as a 429 asks, then succeeds', async () => {
      h.reply(
        { kind: 'http_error', status: 429, message: 'Rate limit reached.', retryAfterMs: 300 },
        { kind: 'answer', text: 'after the wait' },
      );
      const res = await h.model.chat(ask());
      expect(res.message.content).toBe('after the wait');
      const [one, two] = h.requests();
      expect(h.requests()).toHaveLength(2);
      // The policy's own backoff is ≤ 10 ms here: only the provider's delay explains this gap.
      expect(two!.at - one!.at).toBeGreaterThanOrEqual(295);
    });

    it('retries a 500, then succeeds', async () => {
      const failed = { kind: 'http_error', status: 500, message: 'Internal error.' } as const;
      h.reply(failed, failed, { kind: 'answer', text: 'third time' });
      const res = await h.model.chat(ask());
      expect(res.message.content).toBe('third time');
      expect(h.requests()).toHaveLength(3);
      expect(h.pending()).toBe(0);
    });

    it("gives up as unavailable when 503s outlast the attempts, with the status and the provider's message", async () => {
      const overloaded = {
        kind: 'http_error',
        status: 503,
        message: 'The model is overloaded.',
      } as const;
      h.reply(...Array.from({ length: ATTEMPTS }, () => overloaded), {
        kind: 'answer',
        text: 'too late',
      });
      const err = await llmFailure(h.model.chat(ask()));
      expect(err.kind).toBe('unavailable');
      expect(err.code).toBe('llm_unavailable');
      expect(err.retryable).toBe(true);
      expect(err.message).toContain('503');
      expect(err.message).toContain('The model is overloaded.');
      expect(h.requests()).toHaveLength(ATTEMPTS);
      expect(h.pending()).toBe(1);
    });

    it('reports a refused connection as unavailable, retryable, without the key', async () => {
      const model = await h.unreachableModel();
      const err = await llmFailure(model.chat(ask()));
      expect(err.kind).toBe('unavailable');
      expect(err.retryable).toBe(true);
      for (const text of renderings(err)) expect(text).not.toContain(h.apiKey);
    });

    it("times out each hung attempt after the request's timeoutMs, then reports timeout", async () => {
      h.reply(...Array.from({ length: ATTEMPTS }, () => ({ kind: 'hang' }) as const));
      const started = Date.now();
      const err = await llmFailure(h.model.chat(ask({ timeoutMs: 300 })));
      const elapsed = Date.now() - started;
      expect(err.kind).toBe('timeout');
      expect(err.code).toBe('llm_timeout');
      expect(err.retryable).toBe(true);
      expect(h.requests()).toHaveLength(ATTEMPTS);
      // Every attempt waited its full 300 ms, and none the model's own 10 s.
      expect(elapsed).toBeGreaterThanOrEqual(ATTEMPTS * 300 - 10);
      expect(elapsed).toBeLessThan(ATTEMPTS * 300 + 1_800);
    });

    it("rejects promptly with the caller's abort during a request, without retrying", async () => {
      h.reply({ kind: 'hang' }, { kind: 'answer', text: 'must not be asked for' });
      const controller = new AbortController();
      const reason = new Error('the session was stopped');
      const call = rejection(h.model.chat(ask({ signal: controller.signal })));
      await waitFor('the request to arrive', () => h.requests().length === 1, 10_000, 10);
      const aborted = Date.now();
      controller.abort(reason);
      expect(await call).toBe(reason);
      expect(Date.now() - aborted).toBeLessThan(PROMPTLY_MS);
      expect(h.requests()).toHaveLength(1);
      expect(h.pending()).toBe(1);
    });

    it("rejects promptly with the caller's abort during a retry wait", async () => {
      h.reply(
        { kind: 'http_error', status: 429, message: 'Slow down.', retryAfterMs: 10_000 },
        { kind: 'answer', text: 'must not be asked for' },
      );
      const controller = new AbortController();
      const reason = new Error('the session was stopped');
      const call = rejection(h.model.chat(ask({ signal: controller.signal })));
      await waitFor('the request to arrive', () => h.requests().length === 1, 10_000, 10);
      // Past the 429's round trip, into the wait it asked for.
      await new Promise((r) => setTimeout(r, 200));
      const aborted = Date.now();
      controller.abort(reason);
      expect(await call).toBe(reason);
      expect(Date.now() - aborted).toBeLessThan(PROMPTLY_MS);
      expect(h.requests()).toHaveLength(1);
    });

    it('sends nothing when the signal is already aborted, with or without a reason', async () => {
      h.reply({ kind: 'answer', text: 'must not be asked for' });
      const plain = new AbortController();
      plain.abort();
      expect(await rejection(h.model.chat(ask({ signal: plain.signal })))).toBe(
        plain.signal.reason,
      );
      const stopped = new AbortController();
      const reason = new Error('the session was stopped');
      stopped.abort(reason);
      expect(await rejection(h.model.chat(ask({ signal: stopped.signal })))).toBe(reason);
      expect(h.requests()).toHaveLength(0);
      expect(h.pending()).toBe(1);
    });
  });
}
