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
import { clockTime, idToPhase, indexMachine, matchTransition, mergeHistory, phaseToIds, possibleEvents, shortEvent, stepReplay } from './chart-model.js';

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

let mounted = 0;

/**
 * Links `chart.css` (next to this module) once, unless the page already does;
 * resolves when it applies (or failed to load: the chart works without it).
 * @returns {Promise<void>}
 */
function ensureStylesheet() {
  const href = new URL('./chart.css', import.meta.url);
  let link = /** @type {HTMLLinkElement | undefined} */ (
    Array.from(document.querySelectorAll('link[rel="stylesheet"]')).find((l) => l instanceof HTMLLinkElement && new URL(l.href, location.href).pathname === href.pathname)
  );
  if (link?.sheet) return Promise.resolve();
  if (!link) {
    link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = href.pathname;
    document.head.append(link);
  }
  const l = link;
  return new Promise((resolve) => {
    l.addEventListener('load', () => resolve(), { once: true });
    l.addEventListener('error', () => resolve(), { once: true });
  });
}

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

  // ------------------------------------------------------------ skeleton
  const message = el('p', { class: 'chart-message' }, 'Loading the state chart…');
  const banner = el('p', { class: 'chart-replay-banner', 'data-testid': 'replay-banner', role: 'status', hidden: true });
  const zoomOut = el('button', { type: 'button', class: 'chart-button', 'aria-label': 'Zoom out' }, '−');
  const zoomIn = el('button', { type: 'button', class: 'chart-button', 'aria-label': 'Zoom in' }, '+');
  const zoomFit = el('button', { type: 'button', class: 'chart-button' }, 'Fit');
  const scroller = el('div', { class: 'chart-scroll', tabindex: 0, role: 'region', 'aria-label': 'State chart (scrollable)' });
  const current = el('p', { class: 'chart-current', 'data-testid': 'chart-current', 'aria-live': 'polite' });
  const events = el('ul', { class: 'chart-events', 'data-testid': 'possible-events', 'aria-labelledby': `${uid}-events` });
  const noEvents = el('p', { class: 'chart-events-none', hidden: true }, 'None: no event moves the session from here.');
  const prev = el('button', { type: 'button', class: 'chart-button' }, 'Previous step');
  const next = el('button', { type: 'button', class: 'chart-button' }, 'Next step');
  const live = el('button', { type: 'button', class: 'chart-button' }, 'Live');
  const timeline = el('ol', { class: 'chart-timeline', 'data-testid': 'timeline', 'aria-labelledby': `${uid}-timeline` });
  const noHistory = el('p', { class: 'chart-timeline-empty', hidden: true }, 'No transitions yet.');

  const view = el(
    'div',
    { class: 'chart-view', 'data-testid': 'chart-view' },
    el(
      'div',
      { class: 'chart-main' },
      el('div', { class: 'chart-toolbar', role: 'toolbar', 'aria-label': 'Zoom' }, zoomOut, zoomIn, zoomFit),
      banner,
      scroller,
    ),
    el(
      'aside',
      { class: 'chart-side', 'aria-label': 'Where the session is' },
      current,
      el('h3', { id: `${uid}-events`, class: 'chart-heading' }, 'Possible events'),
      events,
      noEvents,
    ),
    el(
      'section',
      { class: 'chart-history', 'aria-labelledby': `${uid}-timeline` },
      el('h3', { id: `${uid}-timeline`, class: 'chart-heading' }, 'Timeline'),
      el('div', { class: 'chart-toolbar', role: 'toolbar', 'aria-label': 'Replay' }, prev, next, live),
      timeline,
      noHistory,
    ),
  );
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
    const innermost = [...activeSet].filter((id) => index.nodes.has(id)).sort((a, b) => (index.depth.get(b) ?? 0) - (index.depth.get(a) ?? 0))[0];
    for (const [id, { g, marker }] of drawn.states) {
      const on = activeSet.has(id);
      setAttrs(g, { 'data-active': on ? 'true' : 'false', 'data-innermost': on && id === innermost ? 'true' : undefined });
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
    banner.textContent = replaying && entry ? `Replaying step ${entry.n + 1} of ${total} — Live to return` : '';

    const where = replaying && entry ? entry.to : phase;
    current.replaceChildren(
      replaying ? 'Replayed state: ' : 'Current state: ',
      el('strong', {}, where || idToPhase(index.rootId, innermost ?? '') || index.rootId),
      ...(replaying || !status ? [] : [` (${status})`]),
    );

    const possible = possibleEvents(index, active, { hidden: HIDDEN_EVENTS });
    events.replaceChildren(
      ...possible.map((p) =>
        el(
          'li',
          { 'data-event': p.event },
          el('code', { class: 'event-name' }, p.event),
          ' ',
          el(
            'span',
            { class: 'event-branches' },
            p.branches.map((b) => `${b.guard ? `[${b.guard}] ` : ''}${b.internal ? '(stays)' : `→ ${idToPhase(index.rootId, b.target)}`}`).join('; '),
          ),
        ),
      ),
    );
    noEvents.hidden = possible.length > 0;

    for (const [n, row] of rowEls) {
      const on = replaying && entry?.n === n;
      setAttrs(row, { 'aria-current': on ? 'step' : undefined });
      row.classList.toggle('replaying', on);
    }
    setAttrs(prev, { 'aria-disabled': history.length === 0 || replayAt === 0 ? 'true' : undefined });
    setAttrs(next, { 'aria-disabled': replayAt === null ? 'true' : undefined });
    setAttrs(live, { 'aria-disabled': replayAt === null ? 'true' : undefined, 'aria-pressed': replayAt === null ? 'true' : 'false' });
  }

  /** @type {string | undefined} */
  let shownInnermost;

  /** Scrolls the chart (not the page) so that a state is in view, centred where it fits: once styled and laid out. */
  function reveal(/** @type {string} */ id) {
    void styled.then(() => requestAnimationFrame(() => !disposed && id === shownInnermost && scrollTo(id)));
  }

  /** @param {string} id */
  function scrollTo(id) {
    const box = drawn?.states.get(id)?.g.querySelector('.state-box');
    if (!box || !scroller.isConnected) return;
    const r = box.getBoundingClientRect();
    const v = scroller.getBoundingClientRect();
    if (r.top >= v.top && r.bottom <= v.bottom && r.left >= v.left && r.right <= v.right) return;
    scroller.scrollTop += r.top + r.height / 2 - (v.top + v.height / 2);
    scroller.scrollLeft += r.left + r.width / 2 - (v.left + v.width / 2);
  }

  // ------------------------------------------------------------ timeline
  /** @param {HistoryEntry} h */
  function row(h) {
    const root = chart?.index.rootId ?? '';
    const li = el(
      'li',
      { class: 'timeline-row', 'data-testid': 'timeline-row', 'data-n': h.n, tabindex: 0, title: 'Replay this step' },
      el(
        'span',
        { class: 'timeline-summary' },
        el('time', { class: 'timeline-time', datetime: new Date(h.at).toISOString() }, clockTime(h.at)),
        ' ',
        el('span', { class: 'timeline-event' }, shortEvent(h.event, root)),
        ' ',
        el('span', { class: 'timeline-move' }, `${h.from || '(start)'} → ${h.to}`),
        ' ',
        el('span', { class: 'timeline-node' }, h.node),
        ' ',
        el('span', { class: 'timeline-epoch' }, `epoch ${h.epoch}`),
      ),
    );
    if (h.payload && Object.keys(h.payload).length) {
      li.firstElementChild?.append(el('details', { class: 'timeline-payload' }, el('summary', {}, 'Payload'), el('pre', {}, JSON.stringify(h.payload, null, 2))));
    }
    return li;
  }

  function renderTimeline() {
    const stick = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 8;
    let added = false;
    history.forEach((h) => {
      if (rowEls.has(h.n)) return;
      const li = row(h);
      const after = [...rowEls.keys()].filter((n) => n > h.n).sort((a, b) => a - b)[0];
      timeline.insertBefore(li, after === undefined ? null : rowEls.get(after) ?? null);
      rowEls.set(h.n, li);
      added = true;
    });
    noHistory.hidden = history.length > 0;
    if (added && stick && replayAt === null) timeline.scrollTop = timeline.scrollHeight;
  }

  /** @param {number | null} at */
  function replay(at) {
    replayAt = at === null || history.length === 0 ? null : Math.max(0, Math.min(at, history.length - 1));
    update();
  }

  /** @param {Event} ev */
  function onRowActivate(ev) {
    const target = /** @type {Element | null} */ (ev.target instanceof Element ? ev.target : null);
    // Opening the payload, or selecting its text, is not a replay.
    if (!target || target.closest('summary, pre')) return;
    const li = target.closest('li.timeline-row');
    if (!li) return;
    const n = Number(li.getAttribute('data-n'));
    const at = history.findIndex((h) => h.n === n);
    if (at >= 0) replay(at);
  }

  /** @param {KeyboardEvent} ev */
  function onRowKey(ev) {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    if (!(ev.target instanceof HTMLLIElement)) return;
    ev.preventDefault();
    onRowActivate(ev);
  }

  timeline.addEventListener('click', onRowActivate);
  timeline.addEventListener('keydown', onRowKey);
  prev.addEventListener('click', () => {
    if (prev.getAttribute('aria-disabled') !== 'true') replay(stepReplay(replayAt, 'previous', history.length));
  });
  next.addEventListener('click', () => {
    if (next.getAttribute('aria-disabled') !== 'true') replay(stepReplay(replayAt, 'next', history.length));
  });
  live.addEventListener('click', () => replay(null));

  // ------------------------------------------------------------ zoom
  /** @param {number | null} scale null: fit the width */
  function zoom(scale) {
    if (!drawn || !chart) return;
    const { width, height } = chart.layout;
    drawn.svg.classList.toggle('fit', scale === null);
    const s = scale ?? 1;
    setAttrs(drawn.svg, { width: Math.round(width * s), height: Math.round(height * s) });
  }
  /** The scale the chart shows at now (fitted or zoomed). */
  function currentScale() {
    const svgEl = drawn?.svg;
    const width = chart?.layout.width;
    return svgEl && width ? svgEl.getBoundingClientRect().width / width || 1 : 1;
  }
  zoomIn.addEventListener('click', () => zoom(Math.min(ZOOM_MAX, currentScale() * ZOOM_STEP)));
  zoomOut.addEventListener('click', () => zoom(Math.max(ZOOM_MIN, currentScale() / ZOOM_STEP)));
  zoomFit.addEventListener('click', () => zoom(null));

  // ------------------------------------------------------------ data
  /** @param {{ active?: string[], status?: string, phase?: string }} s */
  function takeSession(s) {
    if (Array.isArray(s.active)) liveActive = s.active.map(String);
    if (typeof s.status === 'string') status = s.status;
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

  const soon = (/** @type {ReturnType<typeof setTimeout> | undefined} */ timer, /** @type {() => void} */ fn) => {
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
      takeSession({ ...(typeof ev.data?.status === 'string' ? { status: ev.data.status } : {}), ...(typeof ev.data?.phase === 'string' ? { phase: ev.data.phase } : {}) });
      update();
      refreshTimer = soon(refreshTimer, refreshSession);
    } else if (ev.event === 'gap') {
      historyTimer = soon(historyTimer, refreshHistory);
    }
  }

  const unsubscribe = opts.onEvent(onStreamEvent);

  Promise.all([opts.fetchJson('/agent/chart'), opts.fetchJson(`${sessionPath}/chart`), opts.fetchJson(`${sessionPath}/history`)])
    .then(([laidOut, session, past]) => {
      if (disposed) return;
      const machine = /** @type {ChartNode} */ (laidOut.machine);
      const layout = /** @type {ChartLayout} */ (laidOut.layout);
      chart = { machine, layout, index: indexMachine(machine) };
      takeSession(session);
      history = mergeHistory([], past.history ?? []);
      drawn = drawChart(layout, chart.index, uid);
      scroller.replaceChildren(drawn.svg);
      root.replaceChildren(view);
      renderTimeline();
      update();
      const pending = early ?? [];
      early = null;
      for (const ev of pending) onStreamEvent(ev);
    })
    .catch((err) => {
      if (disposed) return;
      console.warn('state chart: loading failed', err);
      root.replaceChildren(el('p', { class: 'chart-message chart-error', role: 'alert' }, `The state chart could not be loaded: ${err instanceof Error ? err.message : String(err)}`));
    });

  return () => {
    disposed = true;
    clearTimeout(refreshTimer);
    clearTimeout(historyTimer);
    try {
      unsubscribe();
    } finally {
      root.replaceChildren();
    }
  };
}
