// @ts-check
/**
 * The state-chart visualizer: draws the session machine as SVG from the
 * layout the server computed (`GET /agent/chart`), highlights where the
 * session is and the transition that brought it there, lists the events it
 * accepts now, and shows its transitions as a timeline that can be replayed
 * step by step. Live: `transition` and `status` events move it along.
 * No inline styles (the page's CSP forbids them): classes, styled by
 * `chart.css`, and SVG attributes.
 */
import { arrowOf, drawChart, el, setAttrs } from './chart-draw.js';
import {
  acceptedEvents,
  idToPhase,
  indexMachine,
  matchTransition,
  mergeHistory,
  phaseToIds,
  possibleEvents,
  stepReplay,
} from './chart-model.js';
import { PAYLOAD_SELECTOR, timelineRow } from './chart-timeline.js';
import { chartSkeleton, ensureStylesheet } from './chart-skeleton.js';

/**
 * @typedef {import('./chart-model.js').ChartNode} ChartNode
 * @typedef {import('./chart-model.js').ChartLayout} ChartLayout
 * @typedef {import('./chart-model.js').HistoryEntry} HistoryEntry
 * @typedef {import('./chart-model.js').MachineIndex} MachineIndex
 * @typedef {{ event: string, data: any, id: string }} ChartStreamEvent
 * @typedef {{
 *   sessionId: string,
 *   fetchJson: (path: string) => Promise<any>,
 *   onEvent: (handler: (ev: ChartStreamEvent) => void) => () => void,
 * }} MountOptions
 */

/** The machine's own durable timers: not something a user sends. */
const HIDDEN_EVENTS = ['timer'];
const REFRESH_DELAY_MS = 250;
const ZOOM_STEP = 1.25;
const ZOOM_MIN = 0.2;
const ZOOM_MAX = 3;
/**
 * The smallest text of the chart is 11 px at 1:1 (chart.css: details, edge
 * labels); below this scale it reads under 11 px. The chart opens fitted to
 * the width only where that keeps it readable, else at this scale, scrolled
 * to the state it highlights.
 */
const READABLE_SCALE = 1;
/** How far inside the chart's box a state must be to count as in view. */
const REVEAL_MARGIN_PX = 16;

let mounted = 0;

/**
 * Draws the session's state chart into `root` and keeps it live.
 * @param {HTMLElement} root
 * @param {MountOptions} opts
 * @returns {() => void} cleanup: stops following the session and empties `root`
 */
export function mountChart(root, opts) {
  const styled = ensureStylesheet();
  const uid = `chart${++mounted}`;
  const sessionPath = `/agent/sessions/${encodeURIComponent(opts.sessionId)}`;

  /** @type {{ machine: ChartNode, layout: ChartLayout, index: MachineIndex } | null} */
  let chart = null;
  /** @type {string[]} */
  let liveActive = [];
  let status = '';
  let phase = '';
  /** @type {string[] | null} the events the API accepts (`accepts`); null: not told */
  let accepts = null;
  /** The status `accepts` was answered for: after a status event, until the refresh, it is not known. */
  let acceptsFor = '';
  /** @type {HistoryEntry[]} */
  let history = [];
  /** Index into `history` being replayed; null: live. */
  let replayAt = /** @type {number | null} */ (null);
  let disposed = false;
  /** @type {ChartStreamEvent[] | null} events that came before the first load finished */
  let early = [];
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refreshTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let historyTimer;

  /** @type {Map<number, HTMLLIElement>} */
  const rowEls = new Map();

  const {
    message,
    banner,
    zoomOut,
    zoomIn,
    zoomFit,
    scroller,
    current,
    eventsHeading,
    events,
    noEvents,
    prev,
    next,
    live,
    timeline,
    noHistory,
    view,
  } = chartSkeleton(uid);
  root.replaceChildren(message);

  /** @type {import('./chart-draw.js').Drawing | null} */
  let drawn = null;

  // ------------------------------------------------------------ state shown
  /** What the chart shows: the live state, or the one after the replayed step. */
  function shown() {
    if (!chart) return { active: [], entry: /** @type {HistoryEntry | undefined} */ (undefined) };
    const entry = replayAt === null ? history[history.length - 1] : history[replayAt];
    const active = replayAt === null ? liveActive : phaseToIds(chart.index.rootId, entry?.to ?? '');
    return { active, entry };
  }

  function update() {
    if (!chart || !drawn) return;
    const { index, layout } = chart;
    const { active, entry } = shown();
    const activeSet = new Set(active);
    const innermost = [...activeSet]
      .filter((id) => index.nodes.has(id))
      .sort((a, b) => (index.depth.get(b) ?? 0) - (index.depth.get(a) ?? 0))[0];
    for (const [id, { g, marker }] of drawn.states) {
      const on = activeSet.has(id);
      setAttrs(g, {
        'data-active': on ? 'true' : 'false',
        'data-innermost': on && id === innermost ? 'true' : undefined,
      });
      g.classList.toggle('active', on);
      g.classList.toggle('innermost', on && id === innermost);
      marker.textContent = on ? '● ' : '';
    }
    if (innermost !== shownInnermost) {
      shownInnermost = innermost;
      if (innermost) reveal(innermost);
    }
    const last = entry ? matchTransition(index, layout.edges, entry) : null;
    for (const [id, { g, path }] of drawn.edges) {
      const on = id === last;
      g.setAttribute('data-last', on ? 'true' : 'false');
      g.classList.toggle('last', on);
      const kind = g.getAttribute('data-kind') ?? 'event';
      path.setAttribute('marker-end', arrowOf(uid, on ? 'last' : kind));
      // Drawn last, so the highlighted route is never under another.
      if (on) g.parentNode?.append(g);
    }

    const replaying = replayAt !== null && entry !== undefined;
    setAttrs(drawn.svg, { 'data-replay': replaying ? 'true' : undefined });
    const total = history.length ? (history[history.length - 1]?.n ?? 0) + 1 : 0;
    banner.hidden = !replaying;
    banner.textContent =
      replaying && entry ? `Replaying step ${entry.n + 1} of ${total} — Live to return` : '';

    const where = replaying && entry ? entry.to : phase;
    current.replaceChildren(
      replaying ? 'Replayed state: ' : 'Current state: ',
      el('strong', {}, where || idToPhase(index.rootId, innermost ?? '') || index.rootId),
      ...(replaying || !status ? [] : [` (${status})`]),
    );

    // Live: what the API takes now. Replaying: what the machine takes in that state (not the present), the one it took marked.
    const machineEvents = possibleEvents(index, active, { hidden: HIDDEN_EVENTS });
    const checking = !replaying && accepts !== null && acceptsFor !== status;
    const possible = replaying
      ? machineEvents
      : checking
        ? []
        : acceptedEvents(machineEvents, accepts);
    const takenNext = replaying && replayAt !== null ? history[replayAt + 1]?.event : undefined;
    eventsHeading.textContent = replaying
      ? 'Events the machine takes from the replayed state'
      : 'Possible events';
    events.classList.toggle('replayed', replaying);
    events.replaceChildren(
      ...possible.map((p) =>
        el(
          'li',
          { 'data-event': p.event, 'data-taken-next': p.event === takenNext ? 'true' : undefined },
          el('code', { class: 'event-name' }, p.event),
          ' ',
          el(
            'span',
            { class: 'event-branches' },
            p.branches
              .map(
                (b) =>
                  `${b.guard ? `[${b.guard}] ` : ''}${b.internal ? '(stays)' : `→ ${idToPhase(index.rootId, b.target)}`}`,
              )
              .join('; '),
          ),
          ...(p.event === takenNext
            ? [' ', el('span', { class: 'event-taken' }, '(taken next)')]
            : []),
        ),
      ),
    );
    noEvents.textContent = replaying
      ? 'None: the machine takes no event from this state.'
      : checking
        ? `Checking what the session accepts now that it is ${status}…`
        : 'None: the session accepts no event now.';
    noEvents.hidden = possible.length > 0;

    for (const [n, row] of rowEls) {
      const on = replaying && entry?.n === n;
      const button = row.querySelector('.timeline-replay');
      if (button) setAttrs(button, { 'aria-current': on ? 'step' : undefined });
      row.classList.toggle('replaying', on);
    }
    setAttrs(prev, {
      'aria-disabled': history.length === 0 || replayAt === 0 ? 'true' : undefined,
    });
    setAttrs(next, { 'aria-disabled': replayAt === null ? 'true' : undefined });
    setAttrs(live, {
      'aria-disabled': replayAt === null ? 'true' : undefined,
      'aria-pressed': replayAt === null ? 'true' : 'false',
    });
  }

  /** @type {string | undefined} */
  let shownInnermost;
  /** Resolves once the chart is styled and at its opening zoom: scrolling waits for it. */
  let laidOut = styled;

  /** Scrolls the chart (not the page) so that a state is in view, centred where it fits: once styled and laid out. */
  function reveal(/** @type {string} */ id) {
    void laidOut.then(() =>
      requestAnimationFrame(() => !disposed && id === shownInnermost && scrollTo(id)),
    );
  }

  /**
   * Per axis: where the state is not well inside the chart's visible box
   * (inside its borders and scrollbars), centres it on that axis. Only the
   * chart's box scrolls, never the page (no scrollIntoView).
   * @param {string | undefined} id
   */
  function scrollTo(id) {
    const box = id ? drawn?.states.get(id)?.g.querySelector('.state-box') : null;
    if (!box || !scroller.isConnected) return;
    const r = box.getBoundingClientRect();
    const v = scroller.getBoundingClientRect();
    const left = v.left + scroller.clientLeft;
    const top = v.top + scroller.clientTop;
    const m = REVEAL_MARGIN_PX;
    if (r.left < left + m || r.right > left + scroller.clientWidth - m)
      scroller.scrollLeft += r.left + r.width / 2 - (left + scroller.clientWidth / 2);
    if (r.top < top + m || r.bottom > top + scroller.clientHeight - m)
      scroller.scrollTop += r.top + r.height / 2 - (top + scroller.clientHeight / 2);
  }

  // The box changes size with the window (or a full-page screenshot's viewport): keep the state in view.
  const resized = new ResizeObserver(() => !disposed && scrollTo(shownInnermost));
  resized.observe(scroller);

  // ------------------------------------------------------------ timeline
  function renderTimeline() {
    const stick = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 8;
    let added = false;
    history.forEach((h) => {
      if (rowEls.has(h.n)) return;
      const li = timelineRow(h, chart?.index.rootId ?? '', uid);
      const after = [...rowEls.keys()].filter((n) => n > h.n).sort((a, b) => a - b)[0];
      timeline.insertBefore(li, after === undefined ? null : (rowEls.get(after) ?? null));
      rowEls.set(h.n, li);
      added = true;
    });
    noHistory.hidden = history.length > 0;
    if (added && stick && replayAt === null) timeline.scrollTop = timeline.scrollHeight;
  }

  /** @param {number | null} at */
  function replay(at) {
    replayAt =
      at === null || history.length === 0 ? null : Math.max(0, Math.min(at, history.length - 1));
    update();
  }

  /** A click anywhere on a row (its replay button, keyboard included) replays it; its payload toggle and payload do not. @param {MouseEvent} ev */
  function onRowClick(ev) {
    const target = ev.target instanceof Element ? ev.target : null;
    if (!target || target.closest(PAYLOAD_SELECTOR)) return;
    const li = target.closest('li.timeline-row');
    if (!li) return;
    const n = Number(li.getAttribute('data-n'));
    const at = history.findIndex((h) => h.n === n);
    if (at >= 0) replay(at);
  }

  timeline.addEventListener('click', onRowClick);
  prev.addEventListener('click', () => {
    if (prev.getAttribute('aria-disabled') !== 'true')
      replay(stepReplay(replayAt, 'previous', history.length));
  });
  next.addEventListener('click', () => {
    if (next.getAttribute('aria-disabled') !== 'true')
      replay(stepReplay(replayAt, 'next', history.length));
  });
  live.addEventListener('click', () => replay(null));

  // ------------------------------------------------------------ zoom
  /**
   * Shows the chart at `scale`, keeping the point at the centre of its box there.
   * @param {number | null} scale null: fit the width
   */
  function zoom(scale) {
    if (!drawn || !chart) return;
    const { width, height } = chart.layout;
    const before = currentScale();
    const cx = (scroller.scrollLeft + scroller.clientWidth / 2) / before;
    const cy = (scroller.scrollTop + scroller.clientHeight / 2) / before;
    drawn.svg.classList.toggle('fit', scale === null);
    const s = scale ?? 1;
    setAttrs(drawn.svg, { width: Math.round(width * s), height: Math.round(height * s) });
    const after = currentScale();
    scroller.scrollLeft = cx * after - scroller.clientWidth / 2;
    scroller.scrollTop = cy * after - scroller.clientHeight / 2;
  }
  /** The scale the chart shows at now (fitted or zoomed). */
  function currentScale() {
    const svgEl = drawn?.svg;
    const width = chart?.layout.width;
    return svgEl && width ? svgEl.getBoundingClientRect().width / width || 1 : 1;
  }
  /** Fitted to the width where that keeps the text readable, else at the readable scale. */
  function openingZoom() {
    if (!chart || disposed) return;
    zoom(scroller.clientWidth / chart.layout.width >= READABLE_SCALE ? null : READABLE_SCALE);
  }
  zoomIn.addEventListener('click', () => zoom(Math.min(ZOOM_MAX, currentScale() * ZOOM_STEP)));
  zoomOut.addEventListener('click', () => zoom(Math.max(ZOOM_MIN, currentScale() / ZOOM_STEP)));
  zoomFit.addEventListener('click', () => zoom(null));

  // ------------------------------------------------------------ data
  /** @param {{ active?: string[], status?: string, phase?: string, accepts?: string[] }} s */
  function takeSession(s) {
    if (Array.isArray(s.active)) liveActive = s.active.map(String);
    if (typeof s.status === 'string') status = s.status;
    if (Array.isArray(s.accepts)) {
      accepts = s.accepts.map(String);
      acceptsFor = status;
    }
    if (typeof s.phase === 'string') phase = s.phase;
  }

  async function refreshSession() {
    try {
      const s = await opts.fetchJson(`${sessionPath}/chart`);
      if (disposed) return;
      takeSession(s);
      update();
    } catch (err) {
      console.warn('state chart: refreshing the session failed', err);
    }
  }

  async function refreshHistory() {
    try {
      const h = await opts.fetchJson(`${sessionPath}/history`);
      if (disposed) return;
      history = mergeHistory(history, h.history ?? []);
      renderTimeline();
      update();
    } catch (err) {
      console.warn('state chart: refreshing the history failed', err);
    }
  }

  const soon = (
    /** @type {ReturnType<typeof setTimeout> | undefined} */ timer,
    /** @type {() => void} */ fn,
  ) => {
    clearTimeout(timer);
    return setTimeout(fn, REFRESH_DELAY_MS);
  };

  /** @param {ChartStreamEvent} ev */
  function onStreamEvent(ev) {
    if (disposed) return;
    if (early) {
      early.push(ev);
      return;
    }
    if (!chart) return;
    if (ev.event === 'transition' && ev.data && typeof ev.data.n === 'number') {
      history = mergeHistory(history, [ev.data]);
      renderTimeline();
      // Where the entry went, until the session's own view (after the status that follows) says more.
      if (history[history.length - 1]?.n === ev.data.n) {
        liveActive = phaseToIds(chart.index.rootId, String(ev.data.to ?? ''));
        phase = String(ev.data.to ?? phase);
      }
      update();
      refreshTimer = soon(refreshTimer, refreshSession);
    } else if (ev.event === 'status' || ev.event === 'end') {
      takeSession({
        ...(typeof ev.data?.status === 'string' ? { status: ev.data.status } : {}),
        ...(typeof ev.data?.phase === 'string' ? { phase: ev.data.phase } : {}),
      });
      update();
      refreshTimer = soon(refreshTimer, refreshSession);
    } else if (ev.event === 'gap') {
      historyTimer = soon(historyTimer, refreshHistory);
    }
  }

  const unsubscribe = opts.onEvent(onStreamEvent);

  Promise.all([
    opts.fetchJson('/agent/chart'),
    opts.fetchJson(`${sessionPath}/chart`),
    opts.fetchJson(`${sessionPath}/history`),
  ])
    .then(([loaded, session, past]) => {
      if (disposed) return;
      const machine = /** @type {ChartNode} */ (loaded.machine);
      const layout = /** @type {ChartLayout} */ (loaded.layout);
      chart = { machine, layout, index: indexMachine(machine) };
      takeSession(session);
      history = mergeHistory([], past.history ?? []);
      drawn = drawChart(layout, chart.index, uid);
      scroller.replaceChildren(drawn.svg);
      root.replaceChildren(view);
      laidOut = styled.then(openingZoom);
      renderTimeline();
      update();
      const pending = early ?? [];
      early = null;
      for (const ev of pending) onStreamEvent(ev);
    })
    .catch((err) => {
      if (disposed) return;
      console.warn('state chart: loading failed', err);
      root.replaceChildren(
        el(
          'p',
          { class: 'chart-message chart-error', role: 'alert' },
          `The state chart could not be loaded: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    });

  return () => {
    disposed = true;
    resized.disconnect();
    clearTimeout(refreshTimer);
    clearTimeout(historyTimer);
    try {
      unsubscribe();
    } finally {
      root.replaceChildren();
    }
  };
}
