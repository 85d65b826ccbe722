/**
 * A local server that speaks OpenAI chat completions over real HTTP, so the
 * adapter is tested through the real `openai` SDK. It serves
 * `POST {prefix}/v1/chat/completions` (OpenAI, Ollama, compatible servers,
 * whatever the base URL's path) and Azure's
 * `POST /openai/deployments/{deployment}/chat/completions?api-version=…`,
 * checks credentials the way each does (`Authorization: Bearer` or
 * `api-key`), loosely validates the body, records every request, and answers
 * from a scripted queue.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ScriptedReply =
  | {
      kind: 'completion';
      content?: string | null;
      toolCalls?: ScriptedToolCall[];
      refusal?: string;
      /** Defaults to 'tool_calls' with tool calls, else 'stop'. */
      finishReason?: string;
      /** `null` leaves `usage` out of the answer. */
      usage?: { prompt_tokens: number; completion_tokens: number; total_tokens?: number } | null;
      /** Defaults to the request's model. */
      model?: string;
    }
  | {
      kind: 'error';
      status: number;
      message: string;
      type?: string;
      code?: string | null;
      headers?: Record<string, string>;
    }
  /** Any body, for answers no well-behaved server would send. */
  | { kind: 'raw'; status: number; body: string; contentType: string }
  /** Never answers; the connection stays open until the client gives up or the server closes. */
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body, or null when it did not parse. */
  body: any;
  /** `Date.now()` when the request arrived. */
  at: number;
}

export interface OpenAIServer {
  /** `http://127.0.0.1:{port}`, no trailing slash. */
  url: string;
  requests: RecordedRequest[];
  /** Queues replies, answered in order, one per request that passes auth and validation. */
  script(...replies: ScriptedReply[]): void;
  /** Replies still queued. */
  pending(): number;
  close(): Promise<void>;
}

const OPENAI_PATH = /^(?:\/.*)?\/v1\/chat\/completions$/;
const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

/** `apiKey`: the only key accepted; any other gets a 401 like OpenAI's, which quotes the key it was sent. */
export async function startOpenAIServer(opts: { apiKey: string }): Promise<OpenAIServer> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  let counter = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      sendError(res, 500, `openai-server: ${String(err)}`, 'server_error');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const text = await readBody(req);
    const body = parseJson(text);
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      at: Date.now(),
    });

    const azure = AZURE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || (!azure && !OPENAI_PATH.test(url.pathname))) {
      return sendError(
        res,
        404,
        `Unknown request URL: ${req.method} ${url.pathname}`,
        'invalid_request_error',
        'unknown_url',
      );
    }

    // Azure wants its key in `api-key`; everyone else in a bearer token.
    const sent = azure ? req.headers['api-key'] : bearer(req.headers.authorization);
    if (sent !== opts.apiKey) {
      return sendError(
        res,
        401,
        `Incorrect API key provided: ${String(sent)}.`,
        'invalid_request_error',
        'invalid_api_key',
      );
    }
    if (azure && !url.searchParams.get('api-version')) {
      return sendError(
        res,
        400,
        'Missing required query parameter: api-version',
        'invalid_request_error',
      );
    }
    const invalid = validate(body, !azure);
    if (invalid) return sendError(res, 400, invalid, 'invalid_request_error');

    const reply = queue.shift();
    if (!reply) return sendError(res, 500, 'openai-server: no scripted reply left', 'server_error');
    switch (reply.kind) {
      case 'hang':
        return;
      case 'raw':
        res.writeHead(reply.status, { 'content-type': reply.contentType });
        res.end(reply.body);
        return;
      case 'error':
        return sendError(
          res,
          reply.status,
          reply.message,
          reply.type ?? 'server_error',
          reply.code ?? null,
          reply.headers,
        );
      case 'completion': {
        const toolCalls = reply.toolCalls ?? [];
        const message: Record<string, unknown> = {
          role: 'assistant',
          content: reply.content ?? null,
          refusal: reply.refusal ?? null,
        };
        if (toolCalls.length > 0) {
          message.tool_calls = toolCalls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.name, arguments: c.arguments },
          }));
        }
        const answer: Record<string, unknown> = {
          id: `chatcmpl-${++counter}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: reply.model ?? body.model,
          choices: [
            {
              index: 0,
              message,
              logprobs: null,
              finish_reason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
            },
          ],
        };
        const usage =
          reply.usage === undefined ? { prompt_tokens: 10, completion_tokens: 5 } : reply.usage;
        if (usage)
          answer.usage = {
            ...usage,
            total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens,
          };
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-request-id': `req_${counter}`,
        });
        res.end(JSON.stringify(answer));
        return;
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Hung replies keep their sockets open; close would wait for them forever.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Loose checks, the ones OpenAI itself would answer 400 to: a model, messages with known roles, well-formed tools. */
function validate(body: any, needsModel: boolean): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'We could not parse the JSON body of your request.';
  if (needsModel && (typeof body.model !== 'string' || body.model === ''))
    return 'you must provide a model parameter';
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return "'messages' must be a non-empty array";
  for (const [i, m] of body.messages.entries()) {
    if (typeof m !== 'object' || m === null || !ROLES.has(m.role))
      return `Invalid value for 'messages[${i}].role'`;
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string')
      return `Missing required parameter: 'messages[${i}].tool_call_id'`;
    if (m.role === 'assistant' && m.tool_calls !== undefined && !Array.isArray(m.tool_calls))
      return `Invalid type for 'messages[${i}].tool_calls'`;
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools) || body.tools.length === 0)
      return "Invalid 'tools': empty array";
    for (const [i, t] of body.tools.entries()) {
      if (t?.type !== 'function' || typeof t.function?.name !== 'string')
        return `Invalid value for 'tools[${i}]'`;
    }
  } else if (body.tool_choice !== undefined) {
    return "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.";
  }
  return null;
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, type, param: null, code } }));
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
