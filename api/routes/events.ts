import { Hono, type Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { SessionReads } from '../../runtime/store/port.ts';

/** What a stream reads: the record, then log lines and transitions from its cursor. */
export type EventStore = Pick<SessionReads, 'getSession' | 'getLogs' | 'getHistory'>;
import type { SessionRecord } from '../../runtime/store/records.ts';
import { ENDED_STATUSES, type SessionStatus } from '../../actors/status.ts';
import { badRequest, notFound, rateLimited } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';

const CURSOR = /^(0|[1-9][0-9]{0,14})\.(0|[1-9][0-9]{0,14})$/;
const MALFORMED = 'must be an event id of this stream: "<logs>.<transitions>", e.g. "12.4"';
const AHEAD =
  "is past the end of this session's events; reconnect without it to read from the start";
const PING = ': ping\n\n';

export interface EventRouteOptions {
  /** How often the store is read while a client is connected, ms (default 250). */
  pollMs?: number;
  /** Idle time after which a `: ping` comment keeps proxies from cutting the stream, ms (default 15 000). */
  keepAliveMs?: number;
  /** Most log lines read per poll (default 500); a full chunk is followed by the next at once. */
  logChunk?: number;
  /** Whether the caller may see the session; false answers 404 exactly like an unknown id. */
  canSee?: (c: Context, record: SessionRecord) => boolean | Promise<boolean>;
  /** Store failures that end a stream are logged here (the client resumes with its last id). */
  logger?: Logger;
  /** Whose stream it is, for the cap on open streams per user (none without it). */
  userOf?: (c: Context) => string;
  /** Most streams one user holds open on this node at once (default `MAX_STREAMS_PER_USER`). */
  maxStreamsPerUser?: number;
}

/**
 * Open event streams per user on one node. Each costs a store read every
 * poll interval: without a cap one user's 500 tabs cost ~5,500 Redis
 * operations a second. A browser tab holds one per session page.
 */
export const MAX_STREAMS_PER_USER = 20;

/** Position in a session's events: log lines and transitions delivered so far, both absolute. */
interface Cursor {
  logs: number;
  transitions: number;
}

/**
 * `GET /:id/events`: a session's log lines, transitions and status changes as
 * Server-Sent Events. Every event id is the cursor after it, so a client that
 * reconnects with `Last-Event-ID` (or `?last_event_id=`) misses nothing and
 * receives nothing twice. The stream never ends by itself while the session
 * exists: an ended session may be started again by input.
 */
export function eventRoutes(store: EventStore, opts: EventRouteOptions = {}): Hono {
  const app = new Hono();
  const pollMs = opts.pollMs ?? 250;
  const keepAliveMs = opts.keepAliveMs ?? 15_000;
  const logChunk = opts.logChunk ?? 500;
  const maxStreams = opts.maxStreamsPerUser ?? MAX_STREAMS_PER_USER;
  const open = new Map<string, number>();

  app.get('/:id/events', async (c) => {
    const id = c.req.param('id');
    const resume = cursorOf(c);
    const record = await store.getSession(id);
    if (!record || (opts.canSee && !(await opts.canSee(c, record)))) throw notFound('session', id);
    if (resume && (await isAhead(store, id, resume.cursor)))
      throw badRequest(`${resume.field} ${AHEAD}`, resume.field);
    const cursor: Cursor = resume?.cursor ?? { logs: 0, transitions: 0 };
    const user = opts.userOf?.(c);
    if (user !== undefined) {
      const held = open.get(user) ?? 0;
      if (held >= maxStreams)
        throw rateLimited(
          `too many open event streams: ${maxStreams} per user on this node; close one (each open session page holds one)`,
        );
      open.set(user, held + 1);
    }
    const closed = () => {
      if (user === undefined) return;
      const left = (open.get(user) ?? 1) - 1;
      if (left > 0) open.set(user, left);
      else open.delete(user);
    };

    return streamSSE(c, async function follow(stream) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let wake: (() => void) | undefined;
      stream.onAbort(() => {
        clearTimeout(timer);
        wake?.();
      });
      c.req.raw.signal.addEventListener('abort', () => stream.abort(), { once: true });
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, ms);
        });

      const feed = sessionFeed(store, id, cursor, stream, logChunk);
      let lastWrite = Date.now();
      try {
        while (!stream.aborted) {
          const step = await feed.poll();
          if (step === 'gone') return;
          if (step !== 'idle') lastWrite = Date.now();
          if (step === 'more' || stream.aborted) continue;
          if (Date.now() - lastWrite >= keepAliveMs) {
            await stream.write(PING);
            lastWrite = Date.now();
          }
          await pause(pollMs);
        }
      } catch (err) {
        // Closing is safe: the client reconnects with its last id and loses nothing.
        opts.logger?.warn('session event stream failed', {
          session: id,
          err: err instanceof Error ? err.message : String(err),
        });
      } finally {
        closed();
      }
    });
  });

  return app;
}

/**
 * One session's events from `cursor` on. Each poll reads the session first and
 * its history and logs after, so a `status` event follows every transition and
 * log line committed up to that status; logs are read before the history, so
 * a log line never comes before the transition that produced it.
 */
function sessionFeed(
  store: EventStore,
  id: string,
  cursor: Cursor,
  stream: SSEStreamingApi,
  logChunk: number,
) {
  let shown: string | undefined;
  let shownStatus: SessionStatus | undefined;
  const send = (event: string, data: unknown) =>
    stream.writeSSE({
      event,
      data: JSON.stringify(data),
      id: `${cursor.logs}.${cursor.transitions}`,
    });

  /** 'more': a full log chunk was sent and more may wait; 'gone': the session no longer exists. */
  async function poll(): Promise<'wrote' | 'idle' | 'more' | 'gone'> {
    const record = await store.getSession(id);
    if (!record) return 'gone';
    if (stream.aborted) return 'idle';
    const lines = await store.getLogs(id, cursor.logs, logChunk);
    if (stream.aborted) return 'idle';
    // The history is the costly read (a whole capped list on Redis): skipped when the record says nothing new was committed.
    const news = record.history_count === undefined || record.history_count > cursor.transitions;
    const history = news
      ? (await store.getHistory(id, cursor.transitions)).filter((h) => h.n >= cursor.transitions)
      : [];
    let wrote = false;

    const first = history[0];
    if (first && first.n > cursor.transitions) {
      const lost = first.n - cursor.transitions;
      cursor.transitions = first.n;
      await send('gap', { transitions_lost: lost, first_available: first.n });
      wrote = true;
    }
    for (const entry of history) {
      cursor.transitions = entry.n + 1;
      await send('transition', entry);
      wrote = true;
    }
    for (const line of lines) {
      const index = cursor.logs++;
      await send('log', { index, line });
      wrote = true;
    }
    if (lines.length >= logChunk) return 'more';

    const view = statusView(record);
    // `updated_at` moves with every commit; the transitions already tell of those.
    const key = JSON.stringify([view.status, view.phase, view.reason, view.owner]);
    if (key !== shown) {
      await send('status', view);
      const ended = ENDED_STATUSES.includes(record.status);
      if (ended && (shownStatus === undefined || !ENDED_STATUSES.includes(shownStatus)))
        await send('end', { status: record.status });
      shown = key;
      shownStatus = record.status;
      wrote = true;
    }
    return wrote ? 'wrote' : 'idle';
  }

  return { poll };
}

/** What a `status` event carries; the lease deadline is left out, as renewals would change it every few seconds. */
function statusView(r: SessionRecord) {
  return {
    status: r.status,
    phase: r.phase,
    reason: r.reason,
    owner: r.owner ? { node_id: r.owner.nodeId, epoch: r.owner.epoch } : null,
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

/**
 * The cursor to resume from: the `Last-Event-ID` header (an `EventSource`
 * reconnecting sends it), else `?last_event_id=` for clients that cannot set
 * headers. The header wins because a reconnecting `EventSource` repeats the
 * first URL, query and all. An empty value means "from the start".
 */
function cursorOf(c: Context): { cursor: Cursor; field: string } | undefined {
  const header = c.req.header('last-event-id');
  const [raw, field] = header
    ? [header, 'Last-Event-ID']
    : [c.req.query('last_event_id'), 'last_event_id'];
  if (!raw) return undefined;
  const m = CURSOR.exec(raw.trim());
  if (!m) throw badRequest(`${field} ${MALFORMED}`, field);
  return { cursor: { logs: Number(m[1]), transitions: Number(m[2]) }, field };
}

/** A cursor this stream never handed out: the log line or transition before it does not exist (yet). */
async function isAhead(store: EventStore, id: string, at: Cursor): Promise<boolean> {
  if (at.logs > 0 && (await store.getLogs(id, at.logs - 1, 1)).length === 0) return true;
  if (at.transitions > 0 && (await store.getHistory(id, at.transitions - 1)).length === 0)
    return true;
  return false;
}
