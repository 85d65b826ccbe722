// @ts-check
/**
 * The browser's side of the API: a fetch wrapper that sends the stored token
 * and turns JSON errors into `ApiError`s, and a client for a session's live
 * events over `fetch` (EventSource cannot send `Authorization`).
 */

const TOKEN_KEY = 'swe-agent-token';

/** An error answer of the API: `{error: {code, message, field?}}`, or a network failure (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string | undefined} [field]
   */
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** @param {unknown} e @returns {e is ApiError} */
export const isApiError = (e) => e instanceof Error && e.name === 'ApiError';

/** @returns {string | null} */
export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** @param {string | null} token */
export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Fires `unauthorized` when the API answers 401: the app shows the sign-in view. */
export const auth = new EventTarget();

/** @param {Record<string, string>} [extra] */
function headers(extra = {}) {
  /** @type {Record<string, string>} */
  const h = { accept: 'application/json', ...extra };
  const token = getToken();
  if (token) h['authorization'] = `Bearer ${token}`;
  return h;
}

/** A key for `Idempotency-Key`: one per submitted form, so a retried submit creates nothing twice. */
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `ui-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * Calls the API and answers the parsed JSON (null for 204).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {Record<string, string>} [extraHeaders]
 * @returns {Promise<any>}
 */
export async function request(method, path, body, extraHeaders = {}) {
  /** @type {Response} */
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: headers(
        body === undefined ? extraHeaders : { 'content-type': 'application/json', ...extraHeaders },
      ),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (e) {
    throw new ApiError(
      0,
      'network',
      `${method} ${path}: the server cannot be reached (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (res.status === 204) return null;
  const text = await res.text();
  /** @type {any} */
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return json;
  const err = json && typeof json === 'object' && json.error ? json.error : null;
  const message =
    typeof err?.message === 'string'
      ? err.message
      : `${method} ${path} answered ${res.status} ${res.statusText}`;
  const error = new ApiError(
    res.status,
    typeof err?.code === 'string' ? err.code : 'http_error',
    message,
    typeof err?.field === 'string' ? err.field : undefined,
  );
  if (res.status === 401) auth.dispatchEvent(new CustomEvent('unauthorized', { detail: error }));
  throw error;
}

export const api = {
  /** @param {string} path */
  get: (path) => request('GET', path),
  /** @param {string} path @param {unknown} [body] @param {Record<string, string>} [h] */
  post: (path, body = {}, h) => request('POST', path, body, h),
  /** @param {string} path @param {unknown} body */
  patch: (path, body) => request('PATCH', path, body),
  /** @param {string} path */
  del: (path) => request('DELETE', path),
};

/** @typedef {{event: string, data: any, id: string}} StreamEvent */
/** @typedef {'connecting' | 'open' | 'retrying' | 'closed'} StreamState */

/**
 * A session's live events (`log`, `transition`, `status`, `end`, `gap`),
 * fanned out to every subscriber. Reconnects with backoff, resuming with
 * `Last-Event-ID`; stops on `close()`, when the page is left, or on 401/404.
 */
export class EventStream {
  /** @type {Set<(ev: StreamEvent) => void>} */
  #handlers = new Set();
  /** @type {Set<(state: StreamState, detail?: string) => void>} */
  #stateHandlers = new Set();
  #controller = new AbortController();
  #lastId = '';
  #path;
  #onPageHide = () => this.close();

  /** @param {string} path the `.../events` route */
  constructor(path) {
    this.#path = path;
    window.addEventListener('pagehide', this.#onPageHide);
    void this.#run();
  }

  /**
   * @param {(ev: StreamEvent) => void} handler
   * @returns {() => void} unsubscribes
   */
  subscribe(handler) {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** @param {(state: StreamState, detail?: string) => void} handler */
  onState(handler) {
    this.#stateHandlers.add(handler);
    return () => this.#stateHandlers.delete(handler);
  }

  close() {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort();
    window.removeEventListener('pagehide', this.#onPageHide);
    this.#state('closed');
  }

  /** @param {StreamState} state @param {string} [detail] */
  #state(state, detail) {
    for (const h of this.#stateHandlers) h(state, detail);
  }

  async #run() {
    const signal = this.#controller.signal;
    let delay = 500;
    while (!signal.aborted) {
      this.#state('connecting');
      try {
        const res = await fetch(this.#path, {
          headers: headers({
            accept: 'text/event-stream',
            ...(this.#lastId ? { 'last-event-id': this.#lastId } : {}),
          }),
          signal,
        });
        if (res.status === 401) auth.dispatchEvent(new CustomEvent('unauthorized'));
        if (res.status === 401 || res.status === 403 || res.status === 404) {
          this.#state('closed', `live events: ${res.status}`);
          return this.close();
        }
        // A cursor the server no longer knows (the session was replaced): start over.
        if (res.status === 400) this.#lastId = '';
        if (res.ok && res.body) {
          this.#state('open');
          if (await this.#read(res.body, signal)) delay = 500;
        }
      } catch {
        if (signal.aborted) return;
      }
      if (signal.aborted) return;
      this.#state('retrying');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 15_000);
    }
  }

  /**
   * Parses `event:`/`data:`/`id:` frames until the stream ends.
   * @param {ReadableStream<Uint8Array>} body
   * @param {AbortSignal} signal
   * @returns {Promise<boolean>} whether any event arrived
   */
  async #read(body, signal) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
    let buffer = '';
    let got = false;
    /** @type {{event: string, data: string[], id: string | undefined}} */
    let frame = { event: '', data: [], id: undefined };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return got;
      buffer += decoder.decode(value, { stream: true });
      // A '\r' at the end may be half of a '\r\n': it waits for the next chunk.
      const held = buffer.endsWith('\r') ? '\r' : '';
      const lines = (held ? buffer.slice(0, -1) : buffer).split(/\r\n|\r|\n/);
      buffer = (lines.pop() ?? '') + held;
      for (const line of lines) {
        if (line === '') {
          if (frame.id !== undefined) this.#lastId = frame.id;
          if (frame.data.length) {
            got = true;
            this.#emit(frame.event || 'message', frame.data.join('\n'), this.#lastId);
          }
          frame = { event: '', data: [], id: undefined };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let val = colon === -1 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'event') frame.event = val;
        else if (field === 'data') frame.data.push(val);
        else if (field === 'id' && !val.includes('\0')) frame.id = val;
      }
    }
  }

  /** @param {string} event @param {string} raw @param {string} id */
  #emit(event, raw, id) {
    /** @type {any} */
    let data = raw;
    try {
      data = JSON.parse(raw);
    } catch {
      // not JSON: handed on as text
    }
    for (const h of [...this.#handlers]) {
      try {
        h({ event, data, id });
      } catch (e) {
        console.error('event handler failed', e);
      }
    }
  }
}

/** @param {number} ms @param {AbortSignal} signal */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
      { once: true },
    );
  });
}
