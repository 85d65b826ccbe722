/**
 * A local server that speaks Gemini's REST wire protocol, enough for the real
 * `@google/genai` SDK: `POST /v1beta/models/{model}:generateContent` with the
 * key in `x-goog-api-key`. It checks the key and the model the way
 * Gemini does (400 API_KEY_INVALID, 404 NOT_FOUND), records every request, and
 * answers from a scripted queue. An empty queue is a test bug: it answers 500
 * with a message saying so, which the test then sees fail.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body (undefined when it was not JSON). */
  body: any;
  /** `Date.now()` when the request arrived. */
  at: number;
}

export type Scripted =
  /** A 200 with one candidate. */
  | {
      parts: Record<string, unknown>[];
      finishReason?: string;
      /** `null` leaves `usageMetadata` out of the answer. */
      usage?: {
        promptTokenCount: number;
        candidatesTokenCount: number;
        totalTokenCount: number;
        thoughtsTokenCount?: number;
      } | null;
      modelVersion?: string;
      /** Set on the candidate, as Gemini does when it ends an answer with finish reason CONTINUATION. */
      continuationToken?: string;
    }
  /** A 200 whose prompt was blocked: no candidates, only promptFeedback. */
  | { blockReason: string }
  /** A Google API error body `{error:{code,message,status,details}}`. */
  | {
      error: { httpStatus: number; status: string; message: string; details?: unknown[] };
      headers?: Record<string, string>;
    }
  /** Any body with a 200, for answers no well-behaved server would send. */
  | { raw: string; contentType: string }
  /** Never answers (until the client gives up or the server closes). */
  | { hang: true };

export class GeminiServer {
  readonly requests: RecordedRequest[] = [];
  /** The key the server accepts. */
  apiKey: string;
  /** The models that exist; any other is a 404. */
  models: Set<string>;
  private readonly queue: Scripted[] = [];
  private readonly server: Server;
  private port = 0;

  constructor(opts: { apiKey: string; models: string[] }) {
    this.apiKey = opts.apiKey;
    this.models = new Set(opts.models);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Closes the server, cutting any hanging request. */
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  script(...replies: Scripted[]): void {
    this.queue.push(...replies);
  }

  reset(): void {
    this.queue.length = 0;
    this.requests.length = 0;
  }

  /** Replies still queued (a test that expects all to be used checks this is 0). */
  get pending(): number {
    return this.queue.length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const path = req.url ?? '';
    this.requests.push({
      method: req.method ?? '',
      path,
      headers: req.headers,
      body,
      at: Date.now(),
    });

    const match = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path);
    if (req.method !== 'POST' || !match) {
      return googleError(
        res,
        404,
        'NOT_FOUND',
        `The requested URL ${path} was not found on this server.`,
      );
    }
    if (req.headers['x-goog-api-key'] !== this.apiKey) {
      return googleError(
        res,
        400,
        'INVALID_ARGUMENT',
        'API key not valid. Please pass a valid API key.',
        [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
          },
        ],
      );
    }
    const model = decodeURIComponent(match[1]!);
    if (!this.models.has(model)) {
      return googleError(
        res,
        404,
        'NOT_FOUND',
        `models/${model} is not found for API version v1beta, or is not supported for generateContent.`,
      );
    }
    if (body === undefined)
      return googleError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');

    const next = this.queue.shift();
    if (!next)
      return googleError(res, 500, 'INTERNAL', 'gemini-server: no scripted reply left (test bug)');
    if ('hang' in next) return; // the socket stays open until the client aborts or stop() cuts it
    if ('error' in next) {
      return googleError(
        res,
        next.error.httpStatus,
        next.error.status,
        next.error.message,
        next.error.details,
        next.headers,
      );
    }
    if ('raw' in next) {
      res.writeHead(200, { 'content-type': next.contentType });
      res.end(next.raw);
      return;
    }
    if ('blockReason' in next) {
      return json(res, 200, {
        promptFeedback: { blockReason: next.blockReason, safetyRatings: [] },
        usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 },
      });
    }
    const usage =
      next.usage === undefined
        ? { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 }
        : next.usage;
    json(res, 200, {
      candidates: [
        {
          content: { role: 'model', parts: next.parts },
          finishReason: next.finishReason ?? 'STOP',
          index: 0,
          ...(next.continuationToken ? { continuationToken: next.continuationToken } : {}),
        },
      ],
      ...(usage ? { usageMetadata: usage } : {}),
      modelVersion: next.modelVersion ?? model,
    });
  }
}

function googleError(
  res: ServerResponse,
  httpStatus: number,
  status: string,
  message: string,
  details?: unknown[],
  headers: Record<string, string> = {},
): void {
  json(
    res,
    httpStatus,
    { error: { code: httpStatus, message, status, ...(details ? { details } : {}) } },
    headers,
  );
}

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
