import { afterEach, describe, expect, it } from 'vitest';
import { Hono, type Context } from 'hono';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { ulid } from 'ulid';
import { eventRoutes, type EventRouteOptions } from '../../../api/routes/events.ts';
import { errorResponder } from '../../../api/errors.ts';
import { owns, type AppEnv } from '../../../api/principal.ts';
import { createLogger } from '../../../kernel/logger.ts';
import { MemoryStore } from '../../../runtime/store/memory/memory-store.ts';
import type { Store } from '../../../runtime/store/port.ts';
import { HISTORY_CAP, type Commit, type Lease } from '../../../runtime/store/records.ts';
import { sleep, waitFor } from '../../support/wait.ts';

const REPO = 'https://example.com/o/r.git';
const TTL = 60_000;
const POLL = 20;

/** One SSE frame as a client sees it; `comment` for `: ping` lines. */
interface Frame {
  event?: string;
  data?: string;
  id?: string;
  comment?: string;
}

/** Reads SSE frames from a response body, parsing the wire format by hand. */
class SseReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder();
  #buf = '';
  #frames: Frame[] = [];
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;

  constructor(body: ReadableStream<Uint8Array> | null) {
    if (!body) throw new Error('response has no body');
    this.#reader = body.getReader();
  }

  /** The next frame; throws after `timeoutMs` without one. */
  async next(timeoutMs = 3_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length === 0) {
      this.#pending ??= this.#reader.read();
      const left = deadline - Date.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        this.#pending,
        new Promise<'timeout'>(
          (res) => (timer = setTimeout(() => res('timeout'), Math.max(0, left))),
        ),
      ]);
      clearTimeout(timer);
      if (r === 'timeout') throw new Error(`no SSE frame within ${timeoutMs} ms`);
      this.#pending = undefined;
      if (r.done) throw new Error('stream ended');
      this.#buf += this.#decoder.decode(r.value, { stream: true });
      let end = this.#buf.indexOf('\n\n');
      while (end >= 0) {
        this.#frames.push(parseFrame(this.#buf.slice(0, end)));
        this.#buf = this.#buf.slice(end + 2);
        end = this.#buf.indexOf('\n\n');
      }
    }
    return this.#frames.shift()!;
  }

  /** Events (comments skipped) up to and including the first one matching `stop`. */
  async until(stop: (f: Frame) => boolean, timeoutMs = 3_000): Promise<Frame[]> {
    const out: Frame[] = [];
    for (;;) {
      const f = await this.next(timeoutMs);
      if (f.comment !== undefined) continue;
      out.push(f);
      if (stop(f)) return out;
    }
  }

  /** Events (comments skipped) that arrive within the next `ms`. */
  async quiet(ms: number): Promise<Frame[]> {
    const out: Frame[] = [];
    const deadline = Date.now() + ms;
    for (let left = ms; left > 0; left = deadline - Date.now()) {
      try {
        const f = await this.next(left);
        if (f.comment === undefined) out.push(f);
      } catch (err) {
        if (String(err).includes('no SSE frame')) return out;
        throw err;
      }
    }
    return out;
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

function parseFrame(text: string): Frame {
  const f: Frame = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) f.comment = line.slice(1).trim();
    else if (line.startsWith('event: ')) f.event = line.slice(7);
    else if (line.startsWith('data: '))
      f.data = f.data === undefined ? line.slice(6) : `${f.data}\n${line.slice(6)}`;
    else if (line.startsWith('id: ')) f.id = line.slice(4);
  }
  return f;
}

const dataOf = (f: Frame): any => JSON.parse(f.data ?? 'null');
const isStatus = (f: Frame) => f.event === 'status';

function appFor(store: Store, opts: EventRouteOptions = {}): Hono {
  const app = new Hono();
  app.onError(errorResponder(createLogger({ write: () => {} })));
  app.route('/agent/sessions', eventRoutes(store, { pollMs: POLL, ...opts }));
  return app;
}

let seq = 0;
function commitOf(over: Partial<Commit> = {}): Commit {
  return {
    seq: ++seq,
    snapshot: { v: 1, state: { value: 'coding' } },
    status: 'RUNNING',
    phase: 'coding.running',
    reason: null,
    goal: 'goal',
    result: null,
    lastEventId: '0-0',
    history: [],
    logs: [],
    release: false,
    ...over,
  };
}
const step = (event: string, from: string, to: string) => ({ event, from, to });

async function queued(store: Store, userId?: string): Promise<string> {
  const { record } = await store.createSession({
    id: ulid(),
    goal: 'goal',
    repo_url: REPO,
    mode: 'auto',
    ...(userId ? { userId } : {}),
  });
  return record.id;
}

async function claim(store: Store, id: string, node = 'n1'): Promise<Lease> {
  await store.takeReady(100, TTL);
  const c = await store.claim(id, node, TTL);
  if (c.kind !== 'claimed') throw new Error(`claim → ${c.kind}`);
  return c.lease;
}

async function running(store: Store): Promise<{ id: string; lease: Lease }> {
  const id = await queued(store);
  return { id, lease: await claim(store, id) };
}

async function open(
  app: Hono,
  id: string,
  headers: Record<string, string> = {},
  query = '',
): Promise<SseReader> {
  const res = await app.request(`/agent/sessions/${id}/events${query}`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return new SseReader(res.body);
}

/** Log lines and transitions as keys, in stream order, for comparing with the store. */
const logKeys = (frames: Frame[]) =>
  frames.filter((f) => f.event === 'log').map((f) => `${dataOf(f).index}:${dataOf(f).line}`);
const transitionKeys = (frames: Frame[]) =>
  frames.filter((f) => f.event === 'transition').map((f) => `${dataOf(f).n}:${dataOf(f).event}`);
async function storeKeys(store: Store, id: string) {
  return {
    logs: (await store.getLogs(id)).map((line, i) => `${i}:${line}`),
    transitions: (await store.getHistory(id)).map((h) => `${h.n}:${h.event}`),
  };
}

const readers: SseReader[] = [];
const servers: ServerType[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) await r.cancel().catch(() => {});
  for (const s of servers.splice(0)) {
    (s as { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise((res) => s.close(() => res(undefined)));
  }
});
const track = (r: SseReader) => {
  readers.push(r);
  return r;
};

describe('GET /agent/sessions/:id/events', () => {
  it('sends existing transitions, then logs, then the status, each with the cursor after it', async () => {
    const store = new MemoryStore();
    const { id, lease } = await running(store);
    await store.commit(
      id,
      lease,
      commitOf({
        history: [step('START', 'queued', 'preparing'), step('READY', 'preparing', 'coding')],
        logs: ['Starting session...', 'two\nlines'],
      }),
    );
    await store.appendLogs(id, lease, ['progress']);
    const r = track(await open(appFor(store), id));
    const frames = await r.until(isStatus);
    expect(frames.map((f) => [f.event, f.id])).toEqual([
      ['transition', '0.1'],
      ['transition', '0.2'],
      ['log', '1.2'],
      ['log', '2.2'],
      ['log', '3.2'],
      ['status', '3.2'],
    ]);
    expect(dataOf(frames[0]!)).toMatchObject({
      n: 0,
      event: 'START',
      from: 'queued',
      to: 'preparing',
      node: 'n1',
      epoch: 1,
    });
    expect(dataOf(frames[1]!)).toMatchObject({ n: 1, event: 'READY' });
    expect(frames.slice(2, 5).map(dataOf)).toEqual([
      { index: 0, line: 'Starting session...' },
      { index: 1, line: 'two\nlines' },
      { index: 2, line: 'progress' },
    ]);
    const status = dataOf(frames[5]!);
    expect(status).toEqual({
      status: 'RUNNING',
      phase: 'coding.running',
      reason: null,
      owner: { node_id: 'n1', epoch: 1 },
      updated_at: expect.any(String),
    });
    expect(Number.isNaN(Date.parse(status.updated_at))).toBe(false);
    // Nothing is repeated while nothing changes.
    expect(await r.quiet(5 * POLL)).toEqual([]);
  });

  it('a backlog larger than one log chunk arrives whole and in order, the status after its last line', async () => {
    const store = new MemoryStore();
    const { id, lease } = await running(store);
    const lines = Array.from({ length: 11 }, (_, i) => `line ${i}`);
    await store.commit(id, lease, commitOf({ logs: lines }));
    // A poll interval far beyond the read timeout: the chunks after the first must come without waiting for it.
    const r = track(await open(appFor(store, { logChunk: 3, pollMs: 10_000 }), id));
    const frames = await r.until(isStatus);
    expect(frames.map((f) => f.event)).toEqual([...lines.map(() => 'log'), 'status']);
    expect(frames.map((f) => dataOf(f).line).slice(0, 11)).toEqual(lines);
    expect(frames.at(-1)!.id).toBe('11.0');
  });

  it('streams live: claim, commits and log appends arrive as they happen', async () => {
    const store = new MemoryStore();
    const id = await queued(store);
    const r = track(await open(appFor(store), id));
    const first = await r.next();
    expect([first.event, first.id]).toEqual(['status', '0.0']);
    expect(dataOf(first)).toMatchObject({ status: 'QUEUED', phase: 'queued', owner: null });

    const lease = await claim(store, id);
    const owned = await r.next();
    expect([owned.event, dataOf(owned).owner]).toEqual(['status', { node_id: 'n1', epoch: 1 }]);

    await store.commit(
      id,
      lease,
      commitOf({ history: [step('START', 'queued', 'coding')], logs: ['Starting session...'] }),
    );
    const frames = await r.until(isStatus);
    expect(frames.map((f) => [f.event, f.id])).toEqual([
      ['transition', '0.1'],
      ['log', '1.1'],
      ['status', '1.1'],
    ]);
    expect(dataOf(frames[2]!)).toMatchObject({ status: 'RUNNING', phase: 'coding.running' });

    await store.appendLogs(id, lease, ['cloning']);
    const log = await r.next();
    expect([log.event, log.id, dataOf(log)]).toEqual(['log', '2.1', { index: 1, line: 'cloning' }]);
    expect(await r.quiet(5 * POLL)).toEqual([]); // a log append changes no status

    // A commit that changes only updated_at brings its log line, not a status event.
    await sleep(5);
    await store.commit(id, lease, commitOf({ logs: ['checkpoint'] }));
    expect((await r.quiet(5 * POLL)).map((f) => [f.event, f.id])).toEqual([['log', '3.1']]);
  });

  it('an ended session sends `end` after its status and stays open: input restarts it on the same stream', async () => {
    const store = new MemoryStore();
    const { id, lease } = await running(store);
    const r = track(await open(appFor(store), id));
    await r.until(isStatus);
    await store.commit(
      id,
      lease,
      commitOf({
        status: 'COMPLETED',
        phase: 'completed',
        history: [step('DONE', 'coding', 'completed')],
        release: true,
      }),
    );
    const done = await r.until((f) => f.event === 'end');
    expect(done.map((f) => f.event)).toEqual(['transition', 'status', 'end']);
    expect(dataOf(done[1]!)).toMatchObject({ status: 'COMPLETED', owner: null });
    expect(dataOf(done[2]!)).toEqual({ status: 'COMPLETED' });

    await store.appendEvent(id, { type: 'input', payload: { message: 'more' } });
    const again = await claim(store, id, 'n2');
    const owned = await r.next();
    expect([owned.event, dataOf(owned).status, dataOf(owned).owner]).toEqual([
      'status',
      'COMPLETED',
      { node_id: 'n2', epoch: 2 },
    ]);
    await store.commit(
      id,
      again,
      commitOf({ history: [step('INPUT', 'completed', 'planning')], logs: ['replanning'] }),
    );
    const rerun = await r.until(isStatus);
    expect(rerun.map((f) => f.event)).toEqual(['transition', 'log', 'status']);
    expect(dataOf(rerun[2]!).status).toBe('RUNNING');
    await store.commit(
      id,
      again,
      commitOf({ status: 'FAILED', phase: 'failed', reason: 'boom', release: true }),
    );
    expect((await r.until((f) => f.event === 'end')).map((f) => f.event)).toEqual([
      'status',
      'end',
    ]);
  });

  it('disconnect mid-stream, more commits, reconnect with the last id: both connections together are exactly the whole sequence', async () => {
    const store = new MemoryStore();
    const { id, lease } = await running(store);
    const app = appFor(store);
    await store.commit(
      id,
      lease,
      commitOf({ history: [step('A', 'q', 'p'), step('B', 'p', 'c')], logs: ['l0', 'l1', 'l2'] }),
    );
    await store.appendLogs(id, lease, ['l3']);

    const one = await open(app, id);
    const seen1 = [await one.next(), await one.next(), await one.next()]; // two transitions and a log: mid-backlog
    await one.cancel();
    const lastId = seen1.at(-1)!.id!;
    expect(lastId).toBe('1.2');

    await store.commit(id, lease, commitOf({ history: [step('C', 'c', 'r')], logs: ['l4'] }));
    await store.appendLogs(id, lease, ['l5']);
    await store.commit(id, lease, commitOf({ history: [step('D', 'r', 'c')], logs: [] }));

    const two = track(await open(app, id, { 'Last-Event-ID': lastId }));
    const seen2 = await two.until(isStatus);
    const all = [...seen1, ...seen2];
    const want = await storeKeys(store, id);
    expect(want.logs).toHaveLength(6);
    expect(want.transitions).toHaveLength(4);
    expect(logKeys(all)).toEqual(want.logs);
    expect(transitionKeys(all)).toEqual(want.transitions);
    expect(seen2[0]!.event).not.toBe('gap');
    expect(seen2.at(-1)!.id).toBe('6.4');
  });

  it('?last_event_id= resumes for clients that cannot set headers; the header wins over it', async () => {
    const store = new MemoryStore();
    const { id, lease } = await running(store);
    await store.commit(
      id,
      lease,
      commitOf({ history: [step('A', 'q', 'p'), step('B', 'p', 'c')], logs: ['l0', 'l1', 'l2'] }),
    );
    const app = appFor(store);

    const byQuery = track(await open(app, id, {}, '?last_event_id=2.1'));
    const q = await byQuery.until(isStatus);
    expect(q.map((f) => [f.event, f.id])).toEqual([
      ['transition', '2.2'],
      ['log', '3.2'],
      ['status', '3.2'],
    ]);

    // A reconnecting EventSource repeats the first URL and sends its newer id as the header.
    const both = track(await open(app, id, { 'Last-Event-ID': '3.2' }, '?last_event_id=0.0'));
    expect((await both.until(isStatus)).map((f) => f.event)).toEqual(['status']);
  });

  it('a malformed Last-Event-ID (or one past the end) is a 400 naming the field', async () => {
    const store = new MemoryStore();
    const { id, lease } = await running(store);
    await store.commit(id, lease, commitOf({ history: [step('A', 'q', 'p')], logs: ['l0'] }));
    const app = appFor(store);
    for (const bad of ['abc', '1', '1.2.3', '-1.0', '01.0', '1.x', '1e3.0']) {
      const res = await app.request(`/agent/sessions/${id}/events`, {
        headers: { 'Last-Event-ID': bad },
      });
      expect(res.status, bad).toBe(400);
      const body = (await res.json()) as any;
      expect(body.error).toMatchObject({ code: 'bad_request', field: 'Last-Event-ID' });
      expect(body.error.message).toContain('Last-Event-ID');
    }
    const q = await app.request(`/agent/sessions/${id}/events?last_event_id=nope`);
    expect(q.status).toBe(400);
    expect(((await q.json()) as any).error).toMatchObject({
      code: 'bad_request',
      field: 'last_event_id',
    });
    for (const ahead of ['2.0', '1.2']) {
      const res = await app.request(`/agent/sessions/${id}/events`, {
        headers: { 'Last-Event-ID': ahead },
      });
      expect(res.status, ahead).toBe(400);
      expect(((await res.json()) as any).error.message).toContain('past the end');
    }
    // The very end is a valid place to resume from.
    const atEnd = track(await open(app, id, { 'Last-Event-ID': '1.1' }));
    expect((await atEnd.until(isStatus)).map((f) => f.event)).toEqual(['status']);
  });

  it('unknown id → 404; a session the caller may not see → the same 404', async () => {
    const store = new MemoryStore();
    const alices = await queued(store, 'alice');
    const app = new Hono<AppEnv>();
    app.onError(errorResponder(createLogger({ write: () => {} })));
    app.use(async (c, next) => {
      c.set('principal', {
        userId: c.req.header('x-user') ?? 'nobody',
        role: 'user',
        via: 'token',
      });
      await next();
    });
    const canSee = (c: Context<AppEnv>, record: { userId?: string }) =>
      owns(c.get('principal'), record.userId);
    app.route('/agent/sessions', eventRoutes(store, { pollMs: POLL, canSee }));

    const unknownId = ulid();
    const unknown = await app.request(`/agent/sessions/${unknownId}/events`, {
      headers: { 'x-user': 'bob' },
    });
    const hidden = await app.request(`/agent/sessions/${alices}/events`, {
      headers: { 'x-user': 'bob' },
    });
    expect([unknown.status, hidden.status]).toEqual([404, 404]);
    const [u, h] = [(await unknown.json()) as any, (await hidden.json()) as any];
    expect(u).toEqual({ error: { code: 'not_found', message: `session ${unknownId} not found` } });
    expect(h).toEqual({ error: { code: 'not_found', message: `session ${alices} not found` } });
    expect(hidden.headers.get('content-type')).toBe(unknown.headers.get('content-type'));

    const own = await app.request(`/agent/sessions/${alices}/events`, {
      headers: { 'x-user': 'alice' },
    });
    expect(own.status).toBe(200);
    const r = track(new SseReader(own.body));
    expect((await r.next()).event).toBe('status');
  });

  it('trimmed history: a `gap` event says how many transitions were lost, then the stream goes on', async () => {
    const store = new MemoryStore();
    const { id, lease } = await running(store);
    const history = Array.from({ length: HISTORY_CAP + 5 }, (_, i) => step(`e${i}`, 'a', 'b'));
    await store.commit(id, lease, commitOf({ history }));
    const app = appFor(store);

    const fresh = track(await open(app, id));
    const frames = await fresh.until(isStatus);
    expect([frames[0]!.event, frames[0]!.id, dataOf(frames[0]!)]).toEqual([
      'gap',
      '0.5',
      { transitions_lost: 5, first_available: 5 },
    ]);
    expect([frames[1]!.event, frames[1]!.id, dataOf(frames[1]!).n]).toEqual([
      'transition',
      '0.6',
      5,
    ]);
    expect(frames.filter((f) => f.event === 'transition')).toHaveLength(HISTORY_CAP);
    expect(frames.at(-1)!.id).toBe(`0.${HISTORY_CAP + 5}`);

    const resumed = track(await open(app, id, { 'Last-Event-ID': '0.2' }));
    const gap = await resumed.next();
    expect([gap.event, dataOf(gap)]).toEqual(['gap', { transitions_lost: 3, first_available: 5 }]);
  });

  it('a store failure mid-stream closes the stream (the client resumes with its last id) and is logged', async () => {
    class FlakyStore extends MemoryStore {
      fail = false;
      override async getLogs(id: string, from?: number, count?: number): Promise<string[]> {
        if (this.fail) throw new Error('Command timed out');
        return super.getLogs(id, from, count);
      }
    }
    const store = new FlakyStore();
    const id = await queued(store);
    const lines: string[] = [];
    const app = appFor(store, { logger: createLogger({ write: (l) => lines.push(l) }) });
    const r = track(await open(app, id));
    expect((await r.next()).event).toBe('status');
    store.fail = true;
    await expect(r.next()).rejects.toThrow('stream ended');
    expect(lines.some((l) => l.includes(id) && l.includes('Command timed out'))).toBe(true);
  });

  it('idle streams get `: ping` comments', async () => {
    const store = new MemoryStore();
    const id = await queued(store);
    const r = track(await open(appFor(store, { keepAliveMs: 60 }), id));
    expect((await r.next()).event).toBe('status');
    expect(await r.next(1_000)).toEqual({ comment: 'ping' });
  });

  it('polling stops when the client disconnects: no store calls after the abort', async () => {
    const { store, calls } = counted(new MemoryStore());
    const id = await queued(store);
    const r = await open(appFor(store), id);
    await r.next();
    const before = calls();
    await sleep(5 * POLL);
    expect(calls()).toBeGreaterThan(before); // it was polling
    await r.cancel();
    const atAbort = calls();
    await sleep(10 * POLL);
    expect(calls()).toBe(atAbort);
  });

  it('reads the history only when the record says a transition was committed since', async () => {
    const inner = new MemoryStore();
    let historyReads = 0;
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop === 'getHistory')
          return (...args: [string, number?]) => {
            historyReads++;
            return inner.getHistory(...args);
          };
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as Store;
    const { id, lease } = await running(store);
    await store.commit(id, lease, commitOf({ history: [step('A', 'q', 'p')] }));
    const r = track(await open(appFor(store), id));
    await r.until(isStatus);
    const settled = historyReads;
    await sleep(10 * POLL);
    expect(historyReads).toBe(settled); // ten idle polls, no history read
    await store.commit(id, lease, commitOf({ history: [step('B', 'p', 'c')] }));
    const got = await r.until((f) => f.event === 'transition');
    expect(dataOf(got[got.length - 1]!)).toMatchObject({ n: 1, event: 'B' });
    expect(historyReads).toBeGreaterThan(settled);
  });

  it('over real HTTP: live events, disconnect, resume with Last-Event-ID, and the server stops polling', async () => {
    const { store, calls } = counted(new MemoryStore());
    const { id, lease } = await running(store);
    await store.commit(id, lease, commitOf({ history: [step('A', 'q', 'p')], logs: ['l0'] }));
    const server = serve({ fetch: appFor(store).fetch, port: 0, hostname: '127.0.0.1' });
    servers.push(server);
    await new Promise((res) => server.once('listening', res));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent/sessions/${id}/events`;

    const abort = new AbortController();
    const res = await fetch(url, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const one = new SseReader(res.body);
    const seen1 = await one.until(isStatus);
    await store.commit(id, lease, commitOf({ history: [step('B', 'p', 'c')], logs: ['l1'] }));
    seen1.push(...(await one.until((f) => f.event === 'log')));
    abort.abort();

    // The server notices the closed socket and stops reading the store.
    const stable = await waitFor(
      'polling to stop',
      async () => {
        const n = calls();
        await sleep(5 * POLL);
        return calls() === n ? n : undefined;
      },
      3_000,
      0,
    );
    await store.appendLogs(id, lease, ['l2']);
    await store.commit(id, lease, commitOf({ history: [step('C', 'c', 'd')], logs: ['l3'] }));
    const afterWrites = calls();
    expect(afterWrites).toBe(stable + 2); // only this test's own writes
    await sleep(5 * POLL);
    expect(calls()).toBe(afterWrites);

    const again = await fetch(url, { headers: { 'Last-Event-ID': seen1.at(-1)!.id! } });
    const two = track(new SseReader(again.body));
    const seen2 = await two.until(isStatus);
    const all = [...seen1, ...seen2];
    const want = await storeKeys(store, id);
    expect(logKeys(all)).toEqual(want.logs);
    expect(transitionKeys(all)).toEqual(want.transitions);
    expect(want.logs).toHaveLength(4);
  });
});

/** The store with every method call counted. */
function counted(inner: MemoryStore): { store: Store; calls: () => number } {
  let n = 0;
  const store = new Proxy(inner, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        n++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, calls: () => n };
}
