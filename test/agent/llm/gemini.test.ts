/**
 * The Gemini adapter through the real `@google/genai` SDK, over HTTP,
 * against a local server speaking Gemini's REST protocol.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGeminiChatModel } from '../../../agent/llm/gemini.ts';
import { LlmError, type ChatMessage, type ToolSpec } from '../../../agent/llm/port.ts';
import { GeminiServer } from './gemini-server.ts';

const KEY = 'AIza-test-SECRET-123';
const MODEL = 'gemini-test';
const FAST = { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 2_000 };

const server = new GeminiServer({ apiKey: KEY, models: [MODEL] });
beforeAll(() => server.start());
afterAll(() => server.stop());
beforeEach(() => {
  server.reset();
  server.apiKey = KEY;
});

const model = (
  opts: Parameters<typeof createGeminiChatModel>[1] = {},
  over: { model?: string; apiKey?: string } = {},
) =>
  createGeminiChatModel(
    {
      provider: 'gemini',
      model: over.model ?? MODEL,
      apiKey: over.apiKey ?? KEY,
      baseUrl: server.baseUrl,
    },
    { retry: FAST, timeoutMs: 5_000, ...opts },
  );

const readFile: ToolSpec = {
  name: 'read_file',
  description: 'Read a file from the workspace',
  parameters: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      path: { type: 'string', description: 'Relative path' },
      range: {
        type: 'object',
        additionalProperties: false,
        properties: { start: { type: 'integer', minimum: 1 }, end: { type: ['integer', 'null'] } },
      },
      // A parameter whose NAME is a keyword Gemini does not support: it must stay.
      additionalProperties: { type: 'boolean' },
    },
    required: ['path'],
  },
};
const listFiles: ToolSpec = {
  name: 'list_files',
  description: 'List files',
  parameters: { type: 'object', properties: {} },
};

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, it succeeded');
}

describe('Gemini adapter', () => {
  it('runs a multi-turn tool conversation, sending the model turn back verbatim with its thoughtSignature', async () => {
    const firstParts = [
      { text: 'Let me look.' },
      {
        functionCall: { name: 'read_file', args: { path: 'README.md' } },
        thoughtSignature: 'sig-abc',
      },
    ];
    server.script(
      {
        parts: firstParts,
        finishReason: 'STOP',
        usage: {
          promptTokenCount: 40,
          candidatesTokenCount: 12,
          totalTokenCount: 60,
          thoughtsTokenCount: 8,
        },
      },
      {
        parts: [{ text: 'The README says hello.' }],
        finishReason: 'STOP',
        usage: { promptTokenCount: 90, candidatesTokenCount: 7, totalTokenCount: 97 },
      },
    );
    const m = model();
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are a coding agent.' },
      { role: 'user', content: 'What does the README say?' },
    ];

    const first = await m.chat({ messages, tools: [readFile, listFiles] });
    expect(first.finishReason).toBe('tool_calls');
    expect(first.message.content).toBe('Let me look.');
    expect(first.message.toolCalls).toEqual([
      { id: 'call_0', name: 'read_file', arguments: JSON.stringify({ path: 'README.md' }) },
    ]);
    expect(first.message.providerParts).toEqual(firstParts);
    // Thinking tokens are output tokens.
    expect(first.usage).toEqual({ inputTokens: 40, outputTokens: 20, totalTokens: 60 });
    expect(first.model).toBe(MODEL);

    const req1 = server.requests[0]!;
    expect(req1.method).toBe('POST');
    expect(req1.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(req1.headers['x-goog-api-key']).toBe(KEY);
    expect(req1.path).not.toContain(KEY);

    messages.push(first.message, {
      role: 'tool',
      toolCallId: 'call_0',
      name: 'read_file',
      content: 'hello world',
    });
    const second = await m.chat({ messages, tools: [readFile, listFiles] });
    expect(second.finishReason).toBe('stop');
    expect(second.message.content).toBe('The README says hello.');
    expect(second.message.toolCalls).toBeUndefined();
    expect(second.usage).toEqual({ inputTokens: 90, outputTokens: 7, totalTokens: 97 });

    const body = server.requests[1]!.body;
    // Nothing but the conversation: no generation settings, and none of the
    // SDK's own options (abort signal, automatic continuation) on the wire.
    expect(Object.keys(body).sort()).toEqual(
      [
        'contents',
        'systemInstruction',
        'tools',
        ...('generationConfig' in body ? ['generationConfig'] : []),
      ].sort(),
    );
    expect(body.generationConfig ?? {}).toEqual({});
    expect(body.systemInstruction).toEqual({
      role: 'system',
      parts: [{ text: 'You are a coding agent.' }],
    });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'What does the README say?' }] },
      { role: 'model', parts: firstParts },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'read_file', response: { content: 'hello world' } } }],
      },
    ]);
    expect(body.contents[1].parts[1].thoughtSignature).toBe('sig-abc');
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'read_file',
            description: 'Read a file from the workspace',
            // Types as Gemini's Type enum names them (the SDK sends no other form).
            parameters: {
              type: 'OBJECT',
              properties: {
                path: { type: 'STRING', description: 'Relative path' },
                range: {
                  type: 'OBJECT',
                  properties: {
                    start: { type: 'INTEGER', minimum: 1 },
                    end: { type: 'INTEGER', nullable: true },
                  },
                },
                additionalProperties: { type: 'BOOLEAN' },
              },
              required: ['path'],
            },
          },
          // No properties: parameters left unset (Gemini rejects an empty OBJECT).
          { name: 'list_files', description: 'List files' },
        ],
      },
    ]);
    expect(server.pending).toBe(0);
  });

  it('builds parts for assistant turns without providerParts, and groups parallel tool results in one turn', async () => {
    server.script({ parts: [{ text: 'ok' }] });
    await model().chat({
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: null,
          toolCalls: [
            { id: 'a', name: 'read_file', arguments: '{"path":"a.ts"}' },
            { id: 'b', name: 'list_files', arguments: 'not json' },
          ],
        },
        { role: 'tool', toolCallId: 'a', name: 'read_file', content: '{"text":"A"}' },
        { role: 'tool', toolCallId: 'b', name: 'list_files', content: '["x","y"]' },
      ],
      tools: [],
    });
    const body = server.requests[0]!.body;
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'go' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'read_file', args: { path: 'a.ts' } } },
          { functionCall: { name: 'list_files', args: { _unparsed: 'not json' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'read_file', response: { text: 'A' } } },
          { functionResponse: { name: 'list_files', response: { content: '["x","y"]' } } },
        ],
      },
    ]);
    expect(body.tools).toBeUndefined();
    expect(body.systemInstruction).toBeUndefined();
  });

  it('waits as long as a 429 asks (RetryInfo), then succeeds', async () => {
    server.script(
      {
        error: {
          httpStatus: 429,
          status: 'RESOURCE_EXHAUSTED',
          message: 'Resource has been exhausted (e.g. check quota).',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '0.400s' }],
        },
        headers: { 'retry-after': '1' },
      },
      { parts: [{ text: 'done' }] },
    );
    const waits: { kind: string; delay: number }[] = [];
    const started = Date.now();
    const res = await model({
      onRetry: (err, delay) => waits.push({ kind: err.kind, delay }),
    }).chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] });
    expect(res.message.content).toBe('done');
    expect(waits).toEqual([{ kind: 'rate_limited', delay: 400 }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a 500 and then succeeds', async () => {
    server.script(
      {
        error: { httpStatus: 500, status: 'INTERNAL', message: 'An internal error has occurred.' },
      },
      { parts: [{ text: 'fine' }] },
    );
    const waits: string[] = [];
    const res = await model({ onRetry: (err) => waits.push(err.kind) }).chat({
      messages: [{ role: 'user', content: 'hi' }],
      tools: [],
    });
    expect(res.message.content).toBe('fine');
    expect(waits).toEqual(['unavailable']);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up on 503 after the configured attempts, as unavailable', async () => {
    const unavailable = {
      error: { httpStatus: 503, status: 'UNAVAILABLE', message: 'The model is overloaded.' },
    };
    server.script(unavailable, unavailable, unavailable);
    const err = await rejection(
      model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }),
    );
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).kind).toBe('unavailable');
    expect((err as LlmError).message).toContain('overloaded');
    expect(server.requests).toHaveLength(3);
  });

  it('maps an invalid key (400 API_KEY_INVALID) to auth, without retrying and without the key anywhere', async () => {
    server.apiKey = 'AIza-the-right-one';
    const err = await rejection(
      model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }),
    );
    expect(err).toBeInstanceOf(LlmError);
    const e = err as LlmError;
    expect(e.kind).toBe('auth');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('API_KEY_INVALID');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers['x-goog-api-key']).toBe(KEY);
    for (const text of [e.message, JSON.stringify(e), inspect(e, { depth: 5 }), String(e.stack)])
      expect(text).not.toContain(KEY);
  });

  it('maps 403 to auth and redacts the key even when the server echoes it', async () => {
    server.script({
      error: {
        httpStatus: 403,
        status: 'PERMISSION_DENIED',
        message: `Key ${KEY} may not call this API.`,
      },
    });
    const err = (await rejection(
      model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }),
    )) as LlmError;
    expect(err.kind).toBe('auth');
    expect(err.message).toContain('[redacted]');
    for (const text of [err.message, JSON.stringify(err), inspect(err, { depth: 5 })])
      expect(text).not.toContain(KEY);
  });

  it('maps an unknown model (404) to model_not_found, naming the model', async () => {
    const err = (await rejection(
      model({}, { model: 'gemini-nope' }).chat({
        messages: [{ role: 'user', content: 'hi' }],
        tools: [],
      }),
    )) as LlmError;
    expect(err).toBeInstanceOf(LlmError);
    expect(err.kind).toBe('model_not_found');
    expect(err.message).toContain('gemini-nope');
    expect(server.requests).toHaveLength(1);
  });

  it('maps another 400 to bad_request with the server message', async () => {
    server.script({
      error: {
        httpStatus: 400,
        status: 'INVALID_ARGUMENT',
        message: 'Invalid value at contents[0].role',
      },
    });
    const err = (await rejection(
      model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }),
    )) as LlmError;
    expect(err.kind).toBe('bad_request');
    expect(err.message).toContain('Invalid value at contents[0].role');
    expect(err.message).not.toContain(server.baseUrl);
    expect(server.requests).toHaveLength(1);
  });

  it('maps a SAFETY finish to refused', async () => {
    server.script({ parts: [], finishReason: 'SAFETY' });
    const err = (await rejection(
      model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }),
    )) as LlmError;
    expect(err).toBeInstanceOf(LlmError);
    expect(err.kind).toBe('refused');
    expect(err.message).toContain('SAFETY');
    expect(server.requests).toHaveLength(1);
  });

  it('maps a blocked prompt to refused', async () => {
    server.script({ blockReason: 'PROHIBITED_CONTENT' });
    const err = (await rejection(
      model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }),
    )) as LlmError;
    expect(err.kind).toBe('refused');
    expect(err.message).toContain('PROHIBITED_CONTENT');
  });

  it('maps MAX_TOKENS to length', async () => {
    server.script({ parts: [{ text: 'half an ans' }], finishReason: 'MAX_TOKENS' });
    const res = await model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] });
    expect(res.finishReason).toBe('length');
    expect(res.message.content).toBe('half an ans');
  });

  it('times out a hanging attempt after timeoutMs and gives up when the attempts run out', async () => {
    server.script({ hang: true }, { hang: true });
    const started = Date.now();
    const err = (await rejection(
      model({ timeoutMs: 300, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 } }).chat({
        messages: [{ role: 'user', content: 'hi' }],
        tools: [],
      }),
    )) as LlmError;
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(LlmError);
    expect(err.kind).toBe('timeout');
    // The test server is on loopback: a timeout there reads like every other failure (port-probing.test.ts).
    expect(err.message).toMatch(
      /no model server answered at http:\/\/127\.0\.0\.1:\d+ as one should/,
    );
    expect(server.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('the request timeoutMs overrides the adapter default', async () => {
    server.script({ hang: true });
    const started = Date.now();
    const err = (await rejection(
      model({ timeoutMs: 30_000, retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 } }).chat(
        { messages: [{ role: 'user', content: 'hi' }], tools: [], timeoutMs: 200 },
      ),
    )) as LlmError;
    expect(err.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('rejects promptly, without retrying, when the caller aborts', async () => {
    server.script({ hang: true }, { parts: [{ text: 'must not be asked for' }] });
    const controller = new AbortController();
    const reason = new Error('caller stopped the session');
    setTimeout(() => controller.abort(reason), 150);
    const started = Date.now();
    const err = await rejection(
      model({ timeoutMs: 10_000 }).chat({
        messages: [{ role: 'user', content: 'hi' }],
        tools: [],
        signal: controller.signal,
      }),
    );
    expect(err).toBe(reason);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.requests).toHaveLength(1);
    expect(server.pending).toBe(1);
  });

  it('fails at once, as auth, when no key is configured', async () => {
    const err = (await rejection(
      model({}, { apiKey: '' }).chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }),
    )) as LlmError;
    expect(err.kind).toBe('auth');
    expect(server.requests).toHaveLength(0);
  });

  it('maps a refused connection to unavailable after retrying', async () => {
    const closed = new GeminiServer({ apiKey: KEY, models: [MODEL] });
    await closed.start();
    const url = closed.baseUrl;
    await closed.stop();
    const waits: string[] = [];
    const m = createGeminiChatModel(
      { provider: 'gemini', model: MODEL, apiKey: KEY, baseUrl: url },
      { retry: FAST, onRetry: (e) => waits.push(e.kind) },
    );
    const err = (await rejection(
      m.chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] }),
    )) as LlmError;
    expect(err.kind).toBe('unavailable');
    expect(waits).toEqual(['unavailable', 'unavailable']);
    expect(err.message).not.toContain(KEY);
  });

  describe('the SDK kept to what the profile says', () => {
    const ENV = {
      GOOGLE_GENAI_USE_VERTEXAI: 'true',
      GOOGLE_GENAI_USE_ENTERPRISE: 'true',
      GOOGLE_CLOUD_PROJECT: 'env-project',
      GOOGLE_CLOUD_LOCATION: 'us-central1',
      GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9',
      GOOGLE_VERTEX_BASE_URL: 'http://127.0.0.1:9',
      GOOGLE_GENAI_API_VERSION: 'v1',
      // One of the two: with both set the SDK warns (on the console, naming
      // neither value) that it would take GOOGLE_API_KEY.
      GEMINI_API_KEY: 'AIza-from-the-environment-GEMINI',
    };
    const saved: Record<string, string | undefined> = {};
    beforeEach(() => {
      for (const [k, v] of Object.entries(ENV)) {
        saved[k] = process.env[k];
        process.env[k] = v;
      }
    });
    afterEach(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      vi.restoreAllMocks();
    });

    it("ignores the SDK's environment variables (Vertex AI, base URL, API version, keys) and prints nothing", async () => {
      const printed: unknown[][] = [];
      for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const)
        vi.spyOn(console, level).mockImplementation(
          (...args: unknown[]) => void printed.push(args),
        );
      server.script({ parts: [{ text: 'from the profile' }] });
      const res = await model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] });
      expect(res.message.content).toBe('from the profile');
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]!.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
      expect(server.requests[0]!.headers['x-goog-api-key']).toBe(KEY);
      expect(server.requests[0]!.headers['authorization']).toBeUndefined();
      expect(printed).toEqual([]);
    });
  });

  it("does not follow a CONTINUATION finish with a second request (the SDK's automatic continuation is off)", async () => {
    server.script(
      { parts: [{ text: 'part one' }], finishReason: 'CONTINUATION', continuationToken: 'tok-1' },
      { parts: [{ text: 'must not be asked for' }] },
    );
    const res = await model().chat({ messages: [{ role: 'user', content: 'hi' }], tools: [] });
    expect(res.message.content).toBe('part one');
    expect(res.finishReason).toBe('other');
    expect(server.requests).toHaveLength(1);
    expect(server.pending).toBe(1);
  });

  it('maps a request the SDK refuses to build (a model name it will not put in a URL) to bad_request, sending nothing and not retrying', async () => {
    const waits: string[] = [];
    const err = (await rejection(
      model({ onRetry: (e) => waits.push(e.kind) }, { model: 'gemini/../other' }).chat({
        messages: [{ role: 'user', content: 'hi' }],
        tools: [],
      }),
    )) as LlmError;
    expect(err).toBeInstanceOf(LlmError);
    expect(err.kind).toBe('bad_request');
    expect(err.message).toContain('gemini/../other');
    expect(waits).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it("sends schemas the SDK can take: a lone 'null' type as nullable, a type with oneOf as the type", async () => {
    server.script({ parts: [{ text: 'ok' }] });
    await model().chat({
      messages: [{ role: 'user', content: 'go' }],
      tools: [
        {
          name: 'pick',
          description: 'Pick one',
          parameters: {
            type: 'object',
            properties: {
              mode: { type: 'string', oneOf: [{ enum: ['a'] }, { pattern: '^b' }] },
              nothing: { type: 'null' },
              either: { anyOf: [{ type: 'string' }, { type: 'null' }] },
            },
          },
        },
      ],
    });
    expect(server.requests[0]!.body.tools[0].functionDeclarations[0].parameters).toEqual({
      type: 'OBJECT',
      properties: {
        mode: { type: 'STRING' },
        nothing: { nullable: true },
        either: { anyOf: [{ type: 'STRING' }], nullable: true },
      },
    });
  });
});
