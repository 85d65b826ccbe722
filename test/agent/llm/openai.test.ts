/**
 * The OpenAI-style adapter through the real `openai` SDK, over HTTP, against
 * a local server speaking the chat completions wire protocol.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIChatModel, type OpenAIChatModelOptions } from '../../../agent/llm/openai.ts';
import {
  LlmError,
  type ChatMessage,
  type ChatRequest,
  type ProviderProfile,
  type ToolSpec,
} from '../../../agent/llm/port.ts';
import type { RetryPolicy } from '../../../agent/llm/retry.ts';
import { startOpenAIServer, type OpenAIServer } from './openai-server.ts';

const KEY = 'sk-test-SECRET-123';
const FAST: RetryPolicy = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 5_000 };

const READ_FILE: ToolSpec = {
  name: 'read_file',
  description: 'Reads a file of the repository.',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};
const OPENING: ChatMessage[] = [
  { role: 'system', content: 'You are a careful engineer.' },
  { role: 'user', content: 'What does the README say?' },
];

let server: OpenAIServer;
beforeEach(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
});
afterEach(async () => {
  await server.close();
});

function openai(extra: Partial<ProviderProfile> = {}, opts: OpenAIChatModelOptions = {}) {
  return createOpenAIChatModel(
    { provider: 'openai', model: 'gpt-4o', apiKey: KEY, baseUrl: `${server.url}/v1`, ...extra },
    { retry: FAST, ...opts },
  );
}

const ask = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  messages: OPENING,
  tools: [READ_FILE],
  ...extra,
});

/** The rejection of `p`, which must reject. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function llmFailure(p: Promise<unknown>): Promise<LlmError> {
  const err = await failure(p);
  expect(err).toBeInstanceOf(LlmError);
  return err as LlmError;
}

describe('OpenAI adapter: conversation', () => {
  it('runs a two-turn tool conversation and sends what the wire protocol expects', async () => {
    const model = openai();
    server.script(
      {
        kind: 'completion',
        content: null,
        toolCalls: [{ id: 'call_1', name: 'read_file', arguments: '{"path":"README.md"}' }],
        usage: { prompt_tokens: 120, completion_tokens: 17, total_tokens: 137 },
        model: 'gpt-4o-2024-08-06',
      },
      {
        kind: 'completion',
        content: 'The README describes the service.',
        usage: { prompt_tokens: 160, completion_tokens: 9, total_tokens: 169 },
      },
    );

    const first = await model.chat(ask());
    expect(first).toEqual({
      message: {
        role: 'assistant',
        content: null,
        toolCalls: [{ id: 'call_1', name: 'read_file', arguments: '{"path":"README.md"}' }],
      },
      usage: { inputTokens: 120, outputTokens: 17, totalTokens: 137 },
      model: 'gpt-4o-2024-08-06',
      finishReason: 'tool_calls',
    });

    const history: ChatMessage[] = [
      ...OPENING,
      first.message,
      { role: 'tool', toolCallId: 'call_1', name: 'read_file', content: '# swe-agent\nA service.' },
    ];
    const second = await model.chat(ask({ messages: history }));
    expect(second.message).toEqual({
      role: 'assistant',
      content: 'The README describes the service.',
    });
    expect(second.finishReason).toBe('stop');
    expect(second.usage).toEqual({ inputTokens: 160, outputTokens: 9, totalTokens: 169 });
    expect(second.model).toBe('gpt-4o');

    expect(server.requests.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/v1/chat/completions'],
      ['POST', '/v1/chat/completions'],
    ]);
    const [one, two] = server.requests;
    expect(one!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(one!.body).toMatchObject({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'You are a careful engineer.' },
        { role: 'user', content: 'What does the README say?' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'read_file',
            description: READ_FILE.description,
            parameters: READ_FILE.parameters,
          },
        },
      ],
      tool_choice: 'auto',
    });
    expect(one!.body.stream).toBeFalsy();
    expect(two!.body.messages).toEqual([
      { role: 'system', content: 'You are a careful engineer.' },
      { role: 'user', content: 'What does the README say?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'read_file', arguments: '{"path":"README.md"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '# swe-agent\nA service.' },
    ]);
    expect(two!.body.tools).toHaveLength(1);
  });

  it('sends neither tools nor tool_choice when there are no tools', async () => {
    server.script({ kind: 'completion', content: 'hi' });
    await openai().chat(ask({ tools: [] }));
    expect(server.requests[0]!.body).not.toHaveProperty('tools');
    expect(server.requests[0]!.body).not.toHaveProperty('tool_choice');
  });

  it('reports zero usage when the server sends none, and keeps tool arguments verbatim even when not JSON', async () => {
    server.script({
      kind: 'completion',
      toolCalls: [
        { id: 'a', name: 'read_file', arguments: '{"path":' },
        { id: 'b', name: 'read_file', arguments: '{"path":"x"}' },
      ],
      usage: null,
    });
    const res = await openai().chat(ask());
    expect(res.usage).toEqual({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });
    expect(res.message.toolCalls).toEqual([
      { id: 'a', name: 'read_file', arguments: '{"path":' },
      { id: 'b', name: 'read_file', arguments: '{"path":"x"}' },
    ]);
  });

  it('maps finish reasons: length, content_filter as refusal, and tool calls that say stop', async () => {
    server.script(
      { kind: 'completion', content: 'cut sho', finishReason: 'length' },
      { kind: 'completion', content: '', finishReason: 'content_filter' },
      {
        kind: 'completion',
        toolCalls: [{ id: 'c', name: 'read_file', arguments: '{}' }],
        finishReason: 'stop',
      },
    );
    const model = openai();
    expect((await model.chat(ask())).finishReason).toBe('length');
    expect((await model.chat(ask())).finishReason).toBe('refusal');
    expect((await model.chat(ask())).finishReason).toBe('tool_calls');
  });
});

describe('OpenAI adapter: providers', () => {
  it('talks to Azure on the deployment path with api-version and the api-key header', async () => {
    server.script({ kind: 'completion', content: 'from azure', model: 'gpt-4o-2024-11-20' });
    const model = createOpenAIChatModel(
      {
        provider: 'azure',
        model: 'gpt-4o',
        apiKey: KEY,
        baseUrl: server.url,
        apiVersion: '2024-10-21',
        deployment: 'prod-4o',
      },
      { retry: FAST },
    );
    expect(model.provider).toBe('azure');
    const res = await model.chat(ask());
    expect(res.message.content).toBe('from azure');
    expect(res.model).toBe('gpt-4o-2024-11-20');
    const [req] = server.requests;
    expect(req!.path).toBe('/openai/deployments/prod-4o/chat/completions');
    expect(req!.query).toEqual({ 'api-version': '2024-10-21' });
    expect(req!.headers['api-key']).toBe(KEY);
    expect(req!.headers.authorization).toBeUndefined();
  });

  it('names the Azure deployment when it is not found', async () => {
    server.script({
      kind: 'error',
      status: 404,
      message: 'The API deployment for this resource does not exist.',
      code: 'DeploymentNotFound',
    });
    const model = createOpenAIChatModel(
      {
        provider: 'azure',
        model: 'gpt-4o',
        apiKey: KEY,
        baseUrl: server.url,
        apiVersion: '2024-10-21',
        deployment: 'missing-one',
      },
      { retry: FAST },
    );
    const err = await llmFailure(model.chat(ask()));
    expect(err.kind).toBe('model_not_found');
    expect(err.message).toContain("deployment 'missing-one'");
    expect(server.requests).toHaveLength(1);
  });

  it('talks to Ollama at its base URL, with a placeholder key when none is configured', async () => {
    const local = await startOpenAIServer({ apiKey: 'ollama' });
    try {
      local.script({ kind: 'completion', content: 'llama says hi' });
      const model = createOpenAIChatModel(
        { provider: 'ollama', model: 'llama3.1', baseUrl: `${local.url}/v1` },
        { retry: FAST },
      );
      const res = await model.chat(ask());
      expect(res.message.content).toBe('llama says hi');
      expect(local.requests[0]!.path).toBe('/v1/chat/completions');
      expect(local.requests[0]!.body.model).toBe('llama3.1');
    } finally {
      await local.close();
    }
  });

  it('talks to an OpenAI-compatible server under its base URL path', async () => {
    server.script({ kind: 'completion', content: 'compatible' });
    const model = createOpenAIChatModel(
      {
        provider: 'openai-compatible',
        model: 'qwen2.5-coder',
        apiKey: KEY,
        baseUrl: `${server.url}/proxy/v1`,
      },
      { retry: FAST },
    );
    expect((await model.chat(ask())).message.content).toBe('compatible');
    expect(server.requests[0]!.path).toBe('/proxy/v1/chat/completions');
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('refuses a profile it cannot use, before any request', () => {
    expect(() => createOpenAIChatModel({ provider: 'openai-compatible', model: 'm' })).toThrow(
      LlmError,
    );
    expect(() =>
      createOpenAIChatModel({ provider: 'azure', model: 'm', apiKey: KEY, baseUrl: server.url }),
    ).toThrow(/apiVersion/);
    expect(() => createOpenAIChatModel({ provider: 'openai', model: 'm' })).toThrow(/no API key/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('OpenAI adapter: retries', () => {
  it('waits the Retry-After of a 429, then succeeds', async () => {
    const waits: Array<[string, number]> = [];
    server.script(
      {
        kind: 'error',
        status: 429,
        message: 'Rate limit reached for gpt-4o.',
        type: 'requests',
        code: 'rate_limit_exceeded',
        headers: { 'retry-after': '0.2' },
      },
      { kind: 'completion', content: 'after the wait' },
    );
    const model = openai({}, { onRetry: (err, delay) => waits.push([err.kind, delay]) });
    const res = await model.chat(ask());
    expect(res.message.content).toBe('after the wait');
    expect(server.requests).toHaveLength(2);
    expect(waits).toEqual([['rate_limited', 200]]);
    // The policy's own backoff here is ≤ 10 ms: only the header explains this gap.
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(195);
  });

  it('retries a 500 twice, then succeeds', async () => {
    const kinds: string[] = [];
    server.script(
      {
        kind: 'error',
        status: 500,
        message: 'The server had an error while processing your request.',
      },
      {
        kind: 'error',
        status: 500,
        message: 'The server had an error while processing your request.',
      },
      { kind: 'completion', content: 'third time' },
    );
    const res = await openai({}, { onRetry: (err) => kinds.push(err.kind) }).chat(ask());
    expect(res.message.content).toBe('third time');
    expect(server.requests).toHaveLength(3);
    expect(kinds).toEqual(['unavailable', 'unavailable']);
  });

  it('gives up as unavailable when 503s outlast the attempts', async () => {
    server.script(
      { kind: 'error', status: 503, message: 'Service overloaded' },
      { kind: 'error', status: 503, message: 'Service overloaded' },
      { kind: 'error', status: 503, message: 'Service overloaded' },
      { kind: 'completion', content: 'too late' },
    );
    const err = await llmFailure(openai().chat(ask()));
    expect(err.kind).toBe('unavailable');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('503');
    expect(server.requests).toHaveLength(3);
    expect(server.pending()).toBe(1);
  });

  it('does not retry a 429 for exhausted quota', async () => {
    server.script(
      {
        kind: 'error',
        status: 429,
        message: 'You exceeded your current quota.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      },
      { kind: 'completion', content: 'never' },
    );
    const err = await llmFailure(openai().chat(ask()));
    expect(err.kind).toBe('rate_limited');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('quota');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a refused connection, then reports the service unavailable', async () => {
    const gone = await startOpenAIServer({ apiKey: KEY });
    const url = gone.url;
    await gone.close();
    const kinds: string[] = [];
    const model = createOpenAIChatModel(
      { provider: 'openai-compatible', model: 'm', apiKey: KEY, baseUrl: `${url}/v1` },
      { retry: FAST, onRetry: (e) => kinds.push(e.kind) },
    );
    const err = await llmFailure(model.chat(ask()));
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain(url);
    expect(kinds).toEqual(['unavailable', 'unavailable']);
  });
});

describe('OpenAI adapter: failures', () => {
  it('reports a rejected key as auth, without the key anywhere, and does not retry', async () => {
    // The server quotes the key it was sent, as OpenAI does (masked) and some compatible servers do (in full).
    const model = openai({ apiKey: 'sk-test-SECRET-123-wrong' });
    const err = await llmFailure(model.chat(ask()));
    expect(err.kind).toBe('auth');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('openai: the API key was rejected (401)');
    for (const text of [
      err.message,
      JSON.stringify(err),
      String(err.stack),
      String(err.cause),
      String(err),
    ]) {
      expect(text).not.toContain('SECRET');
    }
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-test-SECRET-123-wrong');
  });

  it('reports a 403 as auth too', async () => {
    server.script({
      kind: 'error',
      status: 403,
      message: 'Project does not have access to model gpt-4o',
      code: 'model_not_allowed',
    });
    const err = await llmFailure(openai().chat(ask()));
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('403');
  });

  it('reports an unknown model as model_not_found, naming it', async () => {
    server.script({
      kind: 'error',
      status: 404,
      message: 'The model `gpt-9` does not exist or you do not have access to it.',
      code: 'model_not_found',
    });
    const err = await llmFailure(openai({ model: 'gpt-9' }).chat(ask()));
    expect(err.kind).toBe('model_not_found');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("model 'gpt-9'");
    expect(server.requests).toHaveLength(1);
  });

  it("reports a 400 as bad_request with the provider's message, key cut out, and does not retry", async () => {
    server.script({
      kind: 'error',
      status: 400,
      message: `Invalid 'messages[1].content': too long (request from key ${KEY})`,
      type: 'invalid_request_error',
    });
    const err = await llmFailure(openai().chat(ask()));
    expect(err.kind).toBe('bad_request');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("Invalid 'messages[1].content': too long");
    expect(err.message).not.toContain(KEY);
    expect(JSON.stringify(err)).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });

  it('throws refused with the refusal text', async () => {
    server.script({ kind: 'completion', content: null, refusal: "I can't help with that." });
    const err = await llmFailure(openai().chat(ask()));
    expect(err.kind).toBe('refused');
    expect(err.message).toContain("I can't help with that.");
    expect(server.requests).toHaveLength(1);
  });

  it('reports empty choices and a non-JSON body as invalid_response', async () => {
    server.script(
      {
        kind: 'raw',
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ id: 'x', object: 'chat.completion', model: 'gpt-4o', choices: [] }),
      },
      { kind: 'raw', status: 200, contentType: 'text/html', body: '<html>proxy login</html>' },
      { kind: 'raw', status: 200, contentType: 'application/json', body: '{"choices": [' },
    );
    const model = openai();
    for (let i = 0; i < 3; i++) {
      const err = await llmFailure(model.chat(ask()));
      expect(err.kind).toBe('invalid_response');
    }
    expect(server.requests).toHaveLength(3);
  });
});

describe('OpenAI adapter: timeouts and aborts', () => {
  it('times out each hung attempt after timeoutMs, retries, then reports timeout', async () => {
    server.script({ kind: 'hang' }, { kind: 'hang' });
    const model = openai(
      {},
      { timeoutMs: 300, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 } },
    );
    const started = Date.now();
    const err = await llmFailure(model.chat(ask()));
    const elapsed = Date.now() - started;
    expect(err.kind).toBe('timeout');
    expect(err.retryable).toBe(true);
    // The server is on loopback: its timeout reads like every other failure there (see the port-probing test).
    expect(err.message).toMatch(
      /no model server answered at http:\/\/127\.0\.0\.1:\d+ as one should/,
    );
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(3_000);
  });

  it("takes the request's timeoutMs over the adapter's", async () => {
    server.script({ kind: 'hang' });
    const model = openai(
      {},
      { timeoutMs: 60_000, retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 } },
    );
    const started = Date.now();
    const err = await llmFailure(model.chat(ask({ timeoutMs: 200 })));
    expect(err.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("rejects promptly with the caller's abort during a request, without retrying", async () => {
    server.script({ kind: 'hang' }, { kind: 'completion', content: 'never' });
    const model = openai(
      {},
      { timeoutMs: 10_000, retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 10 } },
    );
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const err = await failure(model.chat(ask({ signal: controller.signal })));
    expect(err).not.toBeInstanceOf(LlmError);
    expect(err).toBe(controller.signal.reason);
    expect((err as Error).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.requests).toHaveLength(1);
  });

  it("rejects promptly with the caller's abort during a Retry-After wait", async () => {
    server.script(
      { kind: 'error', status: 429, message: 'slow down', headers: { 'retry-after': '10' } },
      { kind: 'completion', content: 'never' },
    );
    const model = openai({}, { retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 30_000 } });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 150);
    const err = await failure(model.chat(ask({ signal: controller.signal })));
    expect(err).toBe(controller.signal.reason);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.requests).toHaveLength(1);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await failure(openai().chat(ask({ signal: controller.signal })));
    expect(err).toBe(controller.signal.reason);
    expect(server.requests).toHaveLength(0);
  });
});
