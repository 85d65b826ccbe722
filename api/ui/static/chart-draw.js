// @ts-check
/**
 * Draws the laid-out state chart as SVG (chart.js animates it): states as
 * nested rounded boxes with their invoked work and tags, initial markers,
 * transitions as routed paths with arrowheads and labels. Presentation comes
 * from classes (chart.css) and SVG attributes: the page's CSP allows no
 * inline styles.
 */
import { idToPhase } from './chart-model.js';

/**
 * @typedef {import('./chart-model.js').ChartLayout} ChartLayout
 * @typedef {import('./chart-model.js').LayoutNode} LayoutNode
 * @typedef {import('./chart-model.js').LayoutEdge} LayoutEdge
 * @typedef {import('./chart-model.js').MachineIndex} MachineIndex
 * @typedef {{
 *   svg: SVGSVGElement,
 *   states: Map<string, { g: SVGGElement, marker: SVGTSpanElement }>,
 *   edges: Map<string, { g: SVGGElement, path: SVGPathElement }>,
 * }} Drawing
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Text placement inside a state; the server sized the boxes with the same figures (api/chart-layout.ts). */
const TEXT = {
  padX: 12,
  padY: 8,
  titleLine: 18,
  titleBaseline: 13,
  detailLine: 15,
  detailBaseline: 11,
  labelLine: 14,
  labelBaseline: 12,
};
/** Arrowheads, one per colour: transition kinds, the last transition, initial markers. */
const ARROWS = /** @type {const} */ (['event', 'done', 'error', 'eventless', 'last', 'initial']);

/** The id of an arrowhead marker of a drawing. @param {string} uid @param {string} kind */
export const arrowOf = (uid, kind) => `url(#${uid}-arrow-${kind})`;

/**
 * An HTML element with attributes and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | undefined>} [attrs]
 * @param {(Node | string)[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  e.append(...children);
  return e;
}

/**
 * An SVG element with attributes.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | undefined>} [attrs]
 * @param {(Node | string)[]} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  setAttrs(e, attrs);
  e.append(...children);
  return e;
}

/** @param {Element} e @param {Record<string, string | number | boolean | undefined>} attrs */
export function setAttrs(e, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) e.removeAttribute(k);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
}

/** @param {import('./chart-model.js').Point[]} points */
export const pathOf = (points) => points.map((p, i) => `${i ? 'L' : 'M'}${p.x} ${p.y}`).join(' ');

/**
 * The chart as SVG: nested state groups, initial markers, transitions with
 * their labels; `uid` keeps its marker ids apart from other drawings'.
 * @param {ChartLayout} layout
 * @param {MachineIndex} index
 * @param {string} uid
 * @returns {Drawing}
 */
export function drawChart(layout, index, uid) {
  const defs = svg('defs');
  for (const kind of ARROWS) {
    defs.append(
      svg(
        'marker',
        {
          id: `${uid}-arrow-${kind}`,
          class: `chart-arrow chart-arrow-${kind}`,
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
          markerUnits: 'userSpaceOnUse',
        },
        svg('path', { d: 'M0 0 L10 5 L0 10 z' }),
      ),
    );
  }
  const s = svg('svg', {
    class: 'chart-svg',
    'data-testid': 'state-chart',
    role: 'img',
    'aria-label': 'State chart of the session',
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    width: layout.width,
    height: layout.height,
    preserveAspectRatio: 'xMidYMin meet',
  });
  s.append(defs);
  /** @type {Drawing} */
  const drawing = { svg: s, states: new Map(), edges: new Map() };

  // Nested as the states are: a compound state's group holds its children's.
  /** @type {Map<string, SVGGElement>} */
  const groups = new Map();
  for (const n of layout.nodes) {
    const g = stateGroup(n, index, drawing);
    const parent = n.parent ? groups.get(n.parent) : undefined;
    (parent ?? s).append(g);
    groups.set(n.id, g);
  }
  for (const i of layout.initials) {
    s.append(
      svg(
        'g',
        { class: 'initial', 'data-parent': i.parent, 'data-target': i.target },
        svg('path', {
          class: 'initial-path',
          d: pathOf(i.points),
          fill: 'none',
          'marker-end': arrowOf(uid, 'initial'),
        }),
        svg('circle', { class: 'initial-dot', cx: i.x, cy: i.y, r: i.r }),
      ),
    );
  }
  for (const e of layout.edges) s.append(transitionGroup(e, uid, drawing));
  return drawing;
}

/** @param {LayoutNode} n @param {MachineIndex} index @param {Drawing} drawing */
function stateGroup(n, index, drawing) {
  const g = svg('g', {
    class: `state state-${n.kind}`,
    'data-state-id': n.id,
    'data-kind': n.kind,
    'data-depth': n.depth,
    'data-active': 'false',
  });
  const node = index.nodes.get(n.id);
  const about = [
    `State ${idToPhase(index.rootId, n.id) || n.id}`,
    ...(node?.entry.length ? [`entry: ${node.entry.join(', ')}`] : []),
    ...(node?.exit.length ? [`exit: ${node.exit.join(', ')}`] : []),
  ];
  g.append(svg('title', {}, about.join('\n')));
  g.append(
    svg('rect', {
      class: 'state-box',
      x: n.x,
      y: n.y,
      width: n.width,
      height: n.height,
      rx: 8,
      ry: 8,
    }),
  );
  if (n.kind === 'final')
    g.append(
      svg('rect', {
        class: 'state-box-inner',
        x: n.x + 4,
        y: n.y + 4,
        width: n.width - 8,
        height: n.height - 8,
        rx: 5,
        ry: 5,
        fill: 'none',
      }),
    );
  const details = [
    ...n.invoke.map((src) => ({ text: `invoke: ${src}`, cls: 'state-invoke' })),
    ...(n.tags.length ? [{ text: n.tags.map((t) => `#${t}`).join(' '), cls: 'state-tags' }] : []),
  ];
  const block = TEXT.titleLine + details.length * TEXT.detailLine;
  // Compound states keep their title at the top; the others centre theirs.
  const top =
    n.kind === 'compound' ? n.y + TEXT.padY : n.y + Math.max(TEXT.padY, (n.height - block) / 2);
  const x = n.x + TEXT.padX + (n.kind === 'final' ? 4 : 0);
  const marker = svg('tspan', { class: 'active-marker' });
  g.append(svg('text', { class: 'state-title', x, y: top + TEXT.titleBaseline }, marker, n.label));
  details.forEach((d, i) => {
    g.append(
      svg(
        'text',
        { class: d.cls, x, y: top + TEXT.titleLine + i * TEXT.detailLine + TEXT.detailBaseline },
        d.text,
      ),
    );
  });
  drawing.states.set(n.id, { g, marker });
  return g;
}

/** @param {LayoutEdge} e @param {string} uid @param {Drawing} drawing */
function transitionGroup(e, uid, drawing) {
  const g = svg('g', {
    class: `transition transition-${e.kind}${e.kind === 'eventless' ? ' eventless' : ''}${e.internal ? ' internal' : ''}`,
    'data-edge-id': e.id,
    'data-event': e.event,
    'data-label': e.label,
    'data-source': e.source,
    'data-target': e.target,
    'data-kind': e.kind,
    'data-guard': e.guard ?? undefined,
    'data-last': 'false',
  });
  const actions = e.actions.length ? `\nactions: ${e.actions.join(', ')}` : '';
  g.append(svg('title', {}, `${e.labelLines.join(' ')}${e.internal ? ' (stays)' : ''}${actions}`));
  const path = svg('path', {
    class: 'transition-path',
    d: pathOf(e.points),
    fill: 'none',
    'stroke-dasharray': e.kind === 'eventless' ? '6 4' : undefined,
    'marker-end': arrowOf(uid, e.kind),
  });
  g.append(path);
  if (e.labelBox) {
    const b = e.labelBox;
    const label = svg(
      'g',
      { class: 'transition-label' },
      svg('rect', {
        class: 'transition-label-box',
        x: b.x,
        y: b.y,
        width: b.width,
        height: b.height,
        rx: 3,
        ry: 3,
      }),
    );
    e.labelLines.forEach((line, i) => {
      label.append(
        svg(
          'text',
          {
            class: i === 0 ? 'transition-event' : 'transition-guard',
            x: b.x + 4,
            y: b.y + 2 + i * TEXT.labelLine + TEXT.labelBaseline,
          },
          line,
        ),
      );
    });
    g.append(label);
  }
  drawing.edges.set(e.id, { g, path });
  return g;
}
