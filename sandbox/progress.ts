/**
 * A command's output as lines a person can follow while it runs: what the
 * sandboxes hand to `onOutput` (`CommandOptions`, `SandboxSpec`). The model
 * still gets the capped result at the end; this only feeds the session log.
 */

/** Lines a second at most, per command (a session runs one command at a time). */
export const PROGRESS_LINES_PER_SECOND = 20;
/** Longer lines are cut. */
export const PROGRESS_LINE_CHARS = 400;
/** Progress redraws (a line ended by `\r`, like git's percentages) are shown at most this often. */
const REDRAW_EVERY_MS = 1000;
// ANSI escape sequences and control characters other than tab: the log is text, not a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal escapes and control characters from command output
const CONTROL = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

export type OutputStream = 'stdout' | 'stderr';

export interface OutputFeedOptions {
  linesPerSecond?: number;
  maxLineChars?: number;
  /** Clock in ms (tests inject one). */
  now?: () => number;
}

interface StreamState {
  decoder: TextDecoder;
  partial: string;
  /** The current line was already shown, cut: the rest of it up to its end is dropped. */
  cut: boolean;
  /** The last chunk ended with `\r`: a `\n` at the start of the next one makes it a line end, anything else a redraw. */
  cr: boolean;
}

/**
 * Turns output chunks into lines: each stream is line-buffered on its own (a
 * chunk may end mid-line or mid-character), blank lines are skipped, long
 * lines cut, redraws kept to one a second, and at most `linesPerSecond` lines
 * pass in any second; the others are counted and reported once by `end()`,
 * as `… (k lines omitted)`.
 */
export class OutputFeed {
  readonly #onLine: (line: string) => void;
  readonly #perSecond: number;
  readonly #maxChars: number;
  readonly #now: () => number;
  readonly #streams: Record<OutputStream, StreamState>;
  #windowStart = -Infinity;
  #windowCount = 0;
  #omitted = 0;
  #lastRedraw = -Infinity;
  #ended = false;

  constructor(onLine: (line: string) => void, opts: OutputFeedOptions = {}) {
    this.#onLine = onLine;
    this.#perSecond = opts.linesPerSecond ?? PROGRESS_LINES_PER_SECOND;
    this.#maxChars = opts.maxLineChars ?? PROGRESS_LINE_CHARS;
    this.#now = opts.now ?? Date.now;
    const state = (): StreamState => ({
      decoder: new TextDecoder(),
      partial: '',
      cut: false,
      cr: false,
    });
    this.#streams = { stdout: state(), stderr: state() };
  }

  /** Lines held back by the rate limit so far. */
  get omitted(): number {
    return this.#omitted;
  }

  write(stream: OutputStream, chunk: Uint8Array | string): void {
    if (this.#ended) return;
    const st = this.#streams[stream];
    let text = typeof chunk === 'string' ? chunk : st.decoder.decode(chunk, { stream: true });
    if (st.cr) {
      st.cr = false;
      const endsLine = text.startsWith('\n');
      if (endsLine) text = text.slice(1);
      this.#segment(st, '', !endsLine);
    }
    const ends = /\r\n|\n|\r/g;
    let from = 0;
    for (let m = ends.exec(text); m; m = ends.exec(text)) {
      const piece = text.slice(from, m.index);
      from = m.index + m[0].length;
      if (m[0] === '\r' && from === text.length) {
        // Maybe the first half of `\r\n`: decided by the next chunk.
        if (!st.cut) st.partial += piece;
        st.cr = true;
        return;
      }
      this.#segment(st, piece, m[0] === '\r');
    }
    this.#append(st, text.slice(from));
  }

  /** Flushes unfinished lines and reports what the rate limit held back. Further writes are ignored. */
  end(): void {
    if (this.#ended) return;
    for (const st of Object.values(this.#streams)) {
      this.#append(st, st.decoder.decode());
      if (st.partial !== '' || st.cr) this.#segment(st, '', false);
    }
    this.#ended = true;
    if (this.#omitted > 0)
      this.#onLine(`… (${this.#omitted} line${this.#omitted === 1 ? '' : 's'} omitted)`);
  }

  #append(st: StreamState, text: string): void {
    if (st.cut || text === '') return;
    st.partial += text;
    if (st.partial.length > this.#maxChars) {
      // A line with no end in sight: show its start now, drop the rest.
      const line = st.partial;
      st.partial = '';
      st.cut = true;
      this.#show(line, false);
    }
  }

  /** A line ends: `piece` completes the stream's partial line. */
  #segment(st: StreamState, piece: string, redraw: boolean): void {
    const line = st.partial + piece;
    st.partial = '';
    if (st.cut) {
      st.cut = false;
      return;
    }
    this.#show(line, redraw);
  }

  #show(raw: string, redraw: boolean): void {
    let line = raw.replace(CONTROL, '').trimEnd();
    if (line.trim() === '') return;
    if (line.length > this.#maxChars) line = `${line.slice(0, this.#maxChars)} …`;
    const now = this.#now();
    if (redraw) {
      // A redraw is superseded by the next one: skipping it loses nothing, so it is not counted.
      if (now - this.#lastRedraw < REDRAW_EVERY_MS) return;
      this.#lastRedraw = now;
    }
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    if (this.#windowCount >= this.#perSecond) {
      this.#omitted++;
      return;
    }
    this.#windowCount++;
    this.#onLine(line);
  }
}
