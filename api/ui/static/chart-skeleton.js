/**
 * The chart view's page parts, built once per mounted chart: the toolbar,
 * the scroll box the SVG goes into, where the session is, the possible
 * events and the timeline with its replay buttons; and its stylesheet.
 */
import { el } from './chart-draw.js';

/**
 * Links `chart.css` (next to this module) once, unless the page already does;
 * resolves when it applies (or failed to load: the chart works without it).
 * @returns {Promise<void>}
 */
export function ensureStylesheet() {
  const href = new URL('./chart.css', import.meta.url);
  let link = /** @type {HTMLLinkElement | undefined} */ (
    Array.from(document.querySelectorAll('link[rel="stylesheet"]')).find(
      (l) =>
        l instanceof HTMLLinkElement && new URL(l.href, location.href).pathname === href.pathname,
    )
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
 * The elements of one chart view; `uid` keeps their ids apart when several
 * charts are on a page.
 * @param {string} uid
 */
export function chartSkeleton(uid) {
  const message = el('p', { class: 'chart-message' }, 'Loading the state chart…');
  const banner = el('p', {
    class: 'chart-replay-banner',
    'data-testid': 'replay-banner',
    role: 'status',
    hidden: true,
  });
  const zoomOut = el(
    'button',
    { type: 'button', class: 'chart-button', 'aria-label': 'Zoom out' },
    '−',
  );
  const zoomIn = el(
    'button',
    { type: 'button', class: 'chart-button', 'aria-label': 'Zoom in' },
    '+',
  );
  const zoomFit = el('button', { type: 'button', class: 'chart-button' }, 'Fit');
  const scroller = el('div', {
    class: 'chart-scroll',
    'data-testid': 'chart-scroll',
    tabindex: 0,
    role: 'region',
    'aria-label': 'State chart (scrollable)',
  });
  const current = el('p', {
    class: 'chart-current',
    'data-testid': 'chart-current',
    'aria-live': 'polite',
  });
  const eventsHeading = el(
    'h3',
    { id: `${uid}-events`, class: 'chart-heading', 'data-testid': 'possible-events-heading' },
    'Possible events',
  );
  const events = el('ul', {
    class: 'chart-events',
    'data-testid': 'possible-events',
    'aria-labelledby': `${uid}-events`,
  });
  const noEvents = el('p', { class: 'chart-events-none', hidden: true });
  const prev = el('button', { type: 'button', class: 'chart-button' }, 'Previous step');
  const next = el('button', { type: 'button', class: 'chart-button' }, 'Next step');
  const live = el('button', { type: 'button', class: 'chart-button' }, 'Live');
  const timeline = el('ol', {
    class: 'chart-timeline',
    'data-testid': 'timeline',
    'aria-labelledby': `${uid}-timeline`,
  });
  const noHistory = el('p', { class: 'chart-timeline-empty', hidden: true }, 'No transitions yet.');

  const view = el(
    'div',
    { class: 'chart-view', 'data-testid': 'chart-view' },
    el(
      'div',
      { class: 'chart-main' },
      el(
        'div',
        { class: 'chart-toolbar', role: 'toolbar', 'aria-label': 'Zoom' },
        zoomOut,
        zoomIn,
        zoomFit,
      ),
      banner,
      scroller,
    ),
    el(
      'aside',
      { class: 'chart-side', 'aria-label': 'Where the session is' },
      current,
      eventsHeading,
      events,
      noEvents,
    ),
    el(
      'section',
      { class: 'chart-history', 'aria-labelledby': `${uid}-timeline` },
      el('h3', { id: `${uid}-timeline`, class: 'chart-heading' }, 'Timeline'),
      el(
        'div',
        { class: 'chart-toolbar', role: 'toolbar', 'aria-label': 'Replay' },
        prev,
        next,
        live,
      ),
      timeline,
      noHistory,
    ),
  );
  return {
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
  };
}
