// @ts-check
/**
 * A row of the state chart's timeline (chart.js keeps the list and the
 * replay): its first line is one button that replays the step; a row with a
 * payload ends in a small toggle that opens the payload below the line.
 * Presentation from classes (chart.css): the page's CSP allows no inline styles.
 */
import { el } from './chart-draw.js';
import { clockTime, replayLabel, shortEvent } from './chart-model.js';

/** @typedef {import('./chart-model.js').HistoryEntry} HistoryEntry */

/** The class of a row's payload toggle and of the payload it opens: clicks there are not a replay. */
export const PAYLOAD_SELECTOR = '.timeline-payload-toggle, .timeline-payload';

/**
 * The timeline row of a history entry.
 * @param {HistoryEntry} h
 * @param {string} rootId the machine's root state id
 * @param {string} uid keeps the payload ids apart from other charts'
 * @returns {HTMLLIElement}
 */
export function timelineRow(h, rootId, uid) {
  const replay = el(
    'button',
    {
      type: 'button',
      class: 'timeline-replay',
      'aria-label': replayLabel(h, rootId),
      title: 'Replay this step',
    },
    el('time', { class: 'timeline-time', datetime: new Date(h.at).toISOString() }, clockTime(h.at)),
    el('span', { class: 'timeline-event' }, shortEvent(h.event, rootId)),
    el('span', { class: 'timeline-move' }, `${h.from || '(start)'} → ${h.to}`),
    el('span', { class: 'timeline-node' }, h.node),
    el('span', { class: 'timeline-epoch' }, `epoch ${h.epoch}`),
  );
  const line = el('div', { class: 'timeline-line' }, replay);
  const li = el(
    'li',
    { class: 'timeline-row', 'data-testid': 'timeline-row', 'data-n': h.n },
    line,
  );
  if (h.payload && Object.keys(h.payload).length) {
    const id = `${uid}-payload-${h.n}`;
    const body = el(
      'pre',
      { id, class: 'timeline-payload', hidden: true },
      JSON.stringify(h.payload, null, 2),
    );
    const toggle = el(
      'button',
      {
        type: 'button',
        class: 'timeline-payload-toggle',
        'aria-expanded': 'false',
        'aria-controls': id,
        'aria-label': `Payload of step ${h.n + 1}`,
      },
      'Payload',
    );
    toggle.addEventListener('click', () => {
      body.hidden = !body.hidden;
      toggle.setAttribute('aria-expanded', String(!body.hidden));
    });
    line.append(toggle);
    li.append(body);
  }
  return li;
}
