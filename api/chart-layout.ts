/**
 * Lays out the state chart on the server with ELK (`elkjs`, in process, no
 * worker): nested states as compound nodes, one edge per transition target,
 * edge labels sized so ELK keeps them clear of everything else, and an
 * initial marker in every compound state. The browser only draws the result.
 */
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { ChartNode, ChartTransition } from '../actors/chart.ts';

export interface Point {
  x: number;
  y: number;
}

export interface Box extends Point {
  width: number;
  height: number;
}

/** A state, in absolute coordinates. */
export interface LayoutNode extends Box {
  id: string;
  /** The state's key (`running`); the root's is its id. */
  label: string;
  kind: 'atomic' | 'compound' | 'final';
  parent: string | null;
  depth: number;
  /** The initial child's id (compound states). */
  initial: string | null;
  invoke: string[];
  tags: string[];
  entry: string[];
  exit: string[];
}

/** One target of one transition. */
export interface LayoutEdge {
  id: string;
  source: string;
  /** The target state; the source itself for a targetless (internal) transition. */
  target: string;
  event: string;
  kind: ChartTransition['kind'];
  guard: string | null;
  actions: string[];
  /** No target: the transition runs its actions and stays (drawn as a self-loop). */
  internal: boolean;
  /** Short event name, e.g. `done: planning.running`, `always`. */
  label: string;
  /** The label's lines: the short event, then `[guard]` if any. */
  labelLines: string[];
  points: Point[];
  labelBox: Box | null;
}

/** The filled dot of a compound state and the arrow into its initial child. */
export interface LayoutInitial {
  parent: string;
  target: string;
  /** The dot's centre and radius. */
  x: number;
  y: number;
  r: number;
  points: Point[];
}

export interface ChartLayout {
  width: number;
  height: number;
  /** Outermost first, in the machine's order. */
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  initials: LayoutInitial[];
}

/** Text metrics the browser's stylesheet matches (`api/ui/static/chart.css`): px per character and per line. */
export const METRICS = {
  titleChar: 8,
  titleLine: 18,
  detailChar: 6.6,
  detailLine: 15,
  labelChar: 6.6,
  labelLine: 14,
  padX: 12,
  padY: 8,
  minWidth: 96,
  minHeight: 36,
  initialRadius: 6,
} as const;

const DONE = 'xstate.done.actor.';
const ERROR = 'xstate.error.actor.';

/**
 * An event as people read it: `xstate.done.actor.0.session.planning.running`
 * becomes `done: planning.running` (the invoking state, without the root),
 * an eventless transition `always`.
 */
export function shortEvent(event: string, rootId: string): string {
  if (event === '') return 'always';
  for (const [prefix, word] of [
    [DONE, 'done'],
    [ERROR, 'error'],
  ] as const) {
    if (!event.startsWith(prefix)) continue;
    const actor = event.slice(prefix.length).replace(/^\d+\./, '');
    const state = actor.startsWith(`${rootId}.`) ? actor.slice(rootId.length + 1) : actor;
    return `${word}: ${state}`;
  }
  return event;
}

/**
 * ELK options for every graph level: with INCLUDE_CHILDREN each compound
 * state is its own layered graph and reads its own options, so they go on
 * the root and on every compound node alike.
 * - DOWN: edge labels are wide and one line high; stacked layers keep them
 *   short, and the machine reads top to bottom (RIGHT came out 5:1 wide).
 * - DEPTH_FIRST cycle breaking follows transitions from the initial state, so
 *   the main flow (queued → preparing → planning → … → completed) points
 *   down and the loops back (input, retry, review rounds) point up.
 * - LINEAR_SEGMENTS node placement stacks the long back edges tightly: the
 *   chart comes out about 1100 px wide instead of 1550 (NETWORK_SIMPLEX) or
 *   1900 (the default), so it stays legible when zoomed to fit a page;
 *   SPACE_EFFICIENT_LAYER puts each edge label where it widens the chart least.
 * (`considerModelOrder` crashes elkjs 0.12 on nested graphs; the seed makes
 * the result reproducible.)
 */
const LEVEL_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.randomSeed': '1',
  'elk.layered.cycleBreaking.strategy': 'DEPTH_FIRST',
  'elk.layered.nodePlacement.strategy': 'LINEAR_SEGMENTS',
  'elk.layered.edgeLabels.centerLabelPlacementStrategy': 'SPACE_EFFICIENT_LAYER',
  'elk.edgeLabels.placement': 'CENTER',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.layered.spacing.edgeNodeBetweenLayers': '16',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '10',
  'elk.spacing.nodeNode': '28',
  'elk.spacing.edgeNode': '14',
  'elk.spacing.edgeEdge': '10',
  'elk.spacing.edgeLabel': '4',
  'elk.spacing.nodeSelfLoop': '18',
};

/** The root also asks for absolute coordinates everywhere. */
const ROOT_OPTIONS: Record<string, string> = {
  ...LEVEL_OPTIONS,
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT',
  'elk.padding': '[top=12,left=12,bottom=12,right=12]',
};

const detailLines = (n: ChartNode): string[] => [
  ...n.invoke.map((src) => `invoke: ${src}`),
  ...(n.tags.length ? [n.tags.map((t) => `#${t}`).join(' ')] : []),
];

/** Width of a title (room for the "● " active marker included) and its detail lines. */
function textWidth(title: string, details: string[]): number {
  const m = METRICS;
  const widest = Math.max(
    (title.length + 2) * m.titleChar,
    ...details.map((d) => d.length * m.detailChar),
  );
  return Math.ceil(widest + 2 * m.padX);
}

const headerHeight = (details: string[]) =>
  METRICS.padY + METRICS.titleLine + details.length * METRICS.detailLine + METRICS.padY;

function elkNode(n: ChartNode, root: boolean): ElkNode {
  const label = root ? n.id : n.key;
  const details = detailLines(n);
  const width = Math.max(METRICS.minWidth, textWidth(label, details));
  if (!n.states.length) {
    // Final states get a second border inside the first.
    const extra = n.type === 'final' ? 8 : 0;
    return {
      id: n.id,
      width: width + extra,
      height: Math.max(METRICS.minHeight, headerHeight(details)) + extra,
    };
  }
  const top = headerHeight(details) + 6;
  const children = n.states.map((c) => elkNode(c, false));
  if (n.initial)
    children.unshift({
      id: initialId(n.id),
      width: 2 * METRICS.initialRadius,
      height: 2 * METRICS.initialRadius,
    });
  return {
    id: n.id,
    layoutOptions: {
      ...LEVEL_OPTIONS,
      'elk.padding': `[top=${top},left=14,bottom=14,right=14]`,
      'elk.nodeSize.constraints': 'MINIMUM_SIZE',
      'elk.nodeSize.minimum': `(${width}, ${top + METRICS.minHeight})`,
    },
    children,
  };
}

const initialId = (parent: string) => `${parent}#initial`;

type EdgeInfo = Omit<LayoutEdge, 'points' | 'labelBox'>;

function edgeInfos(n: ChartNode, rootId: string, out: EdgeInfo[] = []): EdgeInfo[] {
  n.transitions.forEach((t, i) => {
    const targets = t.targets.length ? t.targets : [n.id];
    targets.forEach((target, j) => {
      const label = shortEvent(t.event, rootId);
      out.push({
        id: `${n.id}#${i}${targets.length > 1 ? `.${j}` : ''}`,
        source: n.id,
        target,
        event: t.event,
        kind: t.kind,
        guard: t.guard,
        actions: t.actions,
        internal: t.targets.length === 0,
        label,
        labelLines: t.guard ? [label, `[${t.guard}]`] : [label],
      });
    });
  });
  for (const c of n.states) edgeInfos(c, rootId, out);
  return out;
}

const ancestry = (id: string, parents: Map<string, string | null>): string[] => {
  const out: string[] = [];
  for (let cur: string | null | undefined = id; cur; cur = parents.get(cur)) out.push(cur);
  return out;
};

/** Where ELK expects an edge: the nearest node holding both ends (a node holds itself); a self-loop's parent. */
function container(
  source: string,
  target: string,
  parents: Map<string, string | null>,
): string | null {
  if (source === target) return parents.get(source) ?? null;
  const up = new Set(ancestry(source, parents));
  return ancestry(target, parents).find((a) => up.has(a)) ?? null;
}

// Hundredths of a pixel are plenty, and keep the JSON short.
const px = (n: number | undefined) => Math.round((n ?? 0) * 100) / 100;

function polyline(e: ElkExtendedEdge): Point[] {
  const pts: Point[] = [];
  for (const s of e.sections ?? []) {
    for (const p of [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]) {
      const q = { x: px(p.x), y: px(p.y) };
      const last = pts[pts.length - 1];
      if (!last || last.x !== q.x || last.y !== q.y) pts.push(q);
    }
  }
  return pts;
}

type ElkConstructor = new () => ELK;
let elkLoaded: Promise<ElkConstructor> | undefined;
/**
 * elkjs (a 1.6 MB bundle) is loaded on the first layout, not at start: a node
 * that never serves the chart never pays for it. It is CommonJS: Node and
 * Deno hand over module.exports, which is the constructor and has it as
 * `default` too.
 */
function loadElk(): Promise<ElkConstructor> {
  elkLoaded ??= import('elkjs/lib/elk.bundled.js').then((m: { default: unknown }) => {
    const exports = m.default as ElkConstructor & { default?: ElkConstructor };
    return exports.default ?? exports;
  });
  return elkLoaded;
}

async function compute(chart: ChartNode): Promise<ChartLayout> {
  const parents = new Map<string, string | null>();
  const nodesById = new Map<string, { node: ChartNode; depth: number }>();
  const walk = (n: ChartNode, parent: string | null, depth: number) => {
    parents.set(n.id, parent);
    nodesById.set(n.id, { node: n, depth });
    if (n.initial) parents.set(initialId(n.id), n.id);
    for (const c of n.states) walk(c, n.id, depth + 1);
  };
  walk(chart, null, 0);

  const graph: ElkNode = {
    id: '#root',
    layoutOptions: ROOT_OPTIONS,
    children: [elkNode(chart, true)],
    edges: [],
  };
  const elkById = new Map<string, ElkNode>();
  const index = (n: ElkNode) => {
    elkById.set(n.id, n);
    n.children?.forEach(index);
  };
  index(graph);
  const place = (edge: ElkExtendedEdge, source: string, target: string) => {
    const home = elkById.get(container(source, target, parents) ?? '#root') ?? graph;
    home.edges ??= [];
    home.edges.push(edge);
  };

  const infos = edgeInfos(chart, chart.id);
  for (const [id, { node }] of nodesById) {
    if (node.initial)
      place(
        { id: `${id}#initial-edge`, sources: [initialId(id)], targets: [node.initial] },
        initialId(id),
        node.initial,
      );
  }
  for (const e of infos) {
    const width = Math.ceil(Math.max(...e.labelLines.map((l) => l.length)) * METRICS.labelChar + 8);
    const height = e.labelLines.length * METRICS.labelLine + 4;
    place(
      {
        id: e.id,
        sources: [e.source],
        targets: [e.target],
        labels: [{ id: `${e.id}#label`, text: e.labelLines.join('\n'), width, height }],
      },
      e.source,
      e.target,
    );
  }

  const Elk = await loadElk();
  const out = await new Elk().layout(graph);
  const laid = new Map<string, ElkNode>();
  const laidEdges = new Map<string, ElkExtendedEdge>();
  const collect = (n: ElkNode) => {
    laid.set(n.id, n);
    for (const e of n.edges ?? []) laidEdges.set(e.id, e);
    n.children?.forEach(collect);
  };
  collect(out as ElkNode);

  const box = (id: string): Box => {
    const n = laid.get(id);
    if (!n) throw new Error(`chart layout: ELK returned no node ${id}`);
    return { x: px(n.x), y: px(n.y), width: px(n.width), height: px(n.height) };
  };
  const nodes: LayoutNode[] = [...nodesById].map(([id, { node, depth }]) => ({
    id,
    label: depth === 0 ? node.id : node.key,
    kind: node.states.length ? 'compound' : node.type === 'final' ? 'final' : 'atomic',
    parent: parents.get(id) ?? null,
    depth,
    initial: node.initial,
    invoke: node.invoke,
    tags: node.tags,
    entry: node.entry,
    exit: node.exit,
    ...box(id),
  }));
  const edges: LayoutEdge[] = infos.map((e) => {
    const laidEdge = laidEdges.get(e.id);
    const l = laidEdge?.labels?.[0];
    const labelBox =
      l && l.x !== undefined && l.y !== undefined
        ? { x: px(l.x), y: px(l.y), width: px(l.width), height: px(l.height) }
        : null;
    return { ...e, points: laidEdge ? polyline(laidEdge) : [], labelBox };
  });
  const initials: LayoutInitial[] = [...nodesById].flatMap(([id, { node }]) => {
    if (!node.initial) return [];
    const dot = box(initialId(id));
    const edge = laidEdges.get(`${id}#initial-edge`);
    const r = dot.width / 2;
    return [
      {
        parent: id,
        target: node.initial,
        x: dot.x + r,
        y: dot.y + r,
        r,
        points: edge ? polyline(edge) : [],
      },
    ];
  });
  return { width: px(out.width), height: px(out.height), nodes, edges, initials };
}

const cache = new WeakMap<ChartNode, Promise<ChartLayout>>();

/**
 * The chart laid out, in absolute coordinates. Deterministic (ELK's layered
 * algorithm with a fixed seed, the same input in the same order) and
 * memoized per chart object: the chart is the same for every session.
 */
export function layoutChart(chart: ChartNode): Promise<ChartLayout> {
  let layout = cache.get(chart);
  if (!layout) {
    layout = compute(chart);
    cache.set(chart, layout);
    // A failed layout is not kept: the next call tries again.
    layout.catch(() => cache.delete(chart));
  }
  return layout;
}
