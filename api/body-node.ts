import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { badRequest } from '../kernel/errors.ts';
import { webBodyReader, type BodyReader } from './body.ts';

/**
 * The body reader for @hono/node-server: reads the Node request stream
 * directly. Reading through `c.req.arrayBuffer()` makes the adapter build a
 * full web `Request` (with an AbortController and a stream around the socket)
 * per request; those objects outlive a young-generation GC, and the resulting
 * scavenges, 2–3 ms each, were most of the API's p99 latency.
 */
export const nodeBodyReader: BodyReader = (c: Context, limit: number) => {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return webBodyReader(c, limit);
  // Gone before we got here (the client hung up during the token lookup, say):
  // no event will come again, so waiting for one would leave the request pending for good.
  if (incoming.destroyed && !incoming.readableEnded) return Promise.reject(cutShort());
  if (incoming.readableEnded || incoming.readableDidRead) return webBodyReader(c, limit);
  return new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      chunks.push(chunk);
      // Enough to know it is too large: stop buffering, let the caller answer
      // 413. The rest is read and dropped, as Node does with an unread body,
      // so a kept-alive connection stays usable.
      if (size > limit) {
        done();
        incoming.resume();
      }
    };
    const onEnd = () => done();
    // Node's "aborted" (ECONNRESET) is the client's doing, not ours: a 400 the
    // client will not read, and no error in our log.
    const onError = () => done(cutShort());
    // Closed without 'end' (and, for an abort, possibly without 'error').
    const onClose = () => done(cutShort());
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
};

const cutShort = () =>
  badRequest('the request body was cut short: the connection closed before it ended', 'body');
