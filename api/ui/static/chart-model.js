// @ts-check
/**
 * The state-chart visualizer's pure part: which states a phase means, which
 * drawn transition a history entry took, which events the active states
 * accept, and how events and times read. No DOM here, so vitest runs it.
 */

/**
 * @typedef {{ event: string, kind: 'event' | 'done' | 'error' | 'eventless', targets: string[], guard: string | null, actions: string[] }} ChartTransition
 * @typedef {{ id: string, key: string, type: string, initial: string | null, tags: string[], entry: string[], exit: string[], invoke: string[], transitions: ChartTransition[], states: ChartNode[] }} ChartNode
 * @typedef {{ x: number, y: number }} Point
 * @typedef {{ x: number, y: number, width: number, height: number }} Box
 * @typedef {Box & { id: string, label: string, kind: 'atomic' | 'compound' | 'final', parent: string | null, depth: number, initial: string | null, invoke: string[], tags: string[], entry: string[], exit: string[] }} LayoutNode
 * @typedef {{ id: string, source: string, target: string, event: string, kind: ChartTransition['kind'], guard: string | null, actions: string[], internal: boolean, label: string, labelLines: string[], points: Point[], labelBox: Box | null }} LayoutEdge
 * @typedef {Point & { parent: string, target: string, r: number, points: Point[] }} LayoutInitial
 * @typedef {{ width: number, height: number, nodes: LayoutNode[], edges: LayoutEdge[], initials: LayoutInitial[] }} ChartLayout
 * @typedef {{ n: number, at: number, event: string, from: string, to: string, node: string, epoch: number, payload?: Record<string, unknown> }} HistoryEntry
 * @typedef {{ rootId: string, nodes: Map<string, ChartNode>, parent: Map<string, string | null>, depth: Map<string, number> }} MachineIndex
 * @typedef {{ source: string, target: string, guard: string | null, internal: boolean }} EventBranch
 * @typedef {{ event: string, branches: EventBranch[] }} PossibleEvent
 */

const DONE = 'xstate.done.actor.';
const ERROR = 'xstate.error.actor.';

/**
 * An event as people read it: `xstate.done.actor.0.session.planning.running`
 * is `done: planning.running` (the invoking state below the root), `''` (an
 * eventless transition) is `always`; the same rule as the server's layout.
 * @param {string} event
 * @param {string} rootId
 * @returns {string}
 */
export function shortEvent(event, rootId) {
  if (event === '') return 'always';
  for (const [prefix, word] of /** @type {const} */ ([
    [DONE, 'done'],
    [ERROR, 'error'],
  ])) {
    if (!event.startsWith(prefix)) continue;
    const actor = event.slice(prefix.length).replace(/^\d+\./, '');
    return `${word}: ${actor.startsWith(`${rootId}.`) ? actor.slice(rootId.length + 1) : actor}`;
  }
  return event;
}

/**
 * The ids of the states a phase means, outermost first: `planning.running`
 * under `session` is `session`, `session.planning`, `session.planning.running`.
 * @param {string} rootId
 * @param {string} phase
 * @returns {string[]}
 */
export function phaseToIds(rootId, phase) {
  const parts = phase.split('.').filter(Boolean);
  return [rootId, ...parts.map((_, i) => `${rootId}.${parts.slice(0, i + 1).join('.')}`)];
}

/**
 * A state id below the root as a phase: `session.planning.running` is `planning.running`.
 * @param {string} rootId
 * @param {string} id
 */
export function idToPhase(rootId, id) {
  return id.startsWith(`${rootId}.`) ? id.slice(rootId.length + 1) : id === rootId ? '' : id;
}

/**
 * Parents, depths and nodes of a machine by state id.
 * @param {ChartNode} machine
 * @returns {MachineIndex}
 */
export function indexMachine(machine) {
  /** @type {MachineIndex} */
  const index = { rootId: machine.id, nodes: new Map(), parent: new Map(), depth: new Map() };
  /** @param {ChartNode} n @param {string | null} parent @param {number} depth */
  const walk = (n, parent, depth) => {
    index.nodes.set(n.id, n);
    index.parent.set(n.id, parent);
    index.depth.set(n.id, depth);
    for (const c of n.states) walk(c, n.id, depth + 1);
  };
  walk(machine, null, 0);
  return index;
}

/**
 * The state entering `id` ends in: its initial child, that one's, and so on.
 * @param {MachineIndex} index
 * @param {string} id
 */
export function settle(index, id) {
  let cur = id;
  for (
    let n = index.nodes.get(cur);
    n?.initial && index.nodes.has(n.initial);
    n = index.nodes.get(cur)
  )
    cur = n.initial;
  return cur;
}

/**
 * The drawn transition a history entry took: its source is one of the states
 * of `from` (an ancestor counts: the root's `cancel`), and entering its target
 * ends in `to`. An edge of the same event wins; otherwise only an eventless
 * one can explain the move (it runs after whatever event came, e.g.
 * `xstate.init`). Among several, the innermost source wins, as in XState,
 * then the first in the machine's order. Null when nothing fits.
 * @param {MachineIndex} index
 * @param {Pick<LayoutEdge, 'id' | 'source' | 'target' | 'event' | 'kind' | 'internal'>[]} edges
 * @param {Pick<HistoryEntry, 'event' | 'from' | 'to'>} entry
 * @returns {string | null}
 */
export function matchTransition(index, edges, entry) {
  const from = new Set(phaseToIds(index.rootId, entry.from));
  const toIds = phaseToIds(index.rootId, entry.to);
  const leaf = toIds[toIds.length - 1];
  const fits = edges.filter(
    (e) =>
      !e.internal &&
      from.has(e.source) &&
      toIds.includes(e.target) &&
      settle(index, e.target) === leaf,
  );
  const same = fits.filter((e) => e.event === entry.event);
  const pool = same.length ? same : fits.filter((e) => e.kind === 'eventless');
  let best = null;
  for (const e of pool)
    if (!best || (index.depth.get(e.source) ?? 0) > (index.depth.get(best.source) ?? 0)) best = e;
  return best ? best.id : null;
}

/**
 * Events the active states accept, innermost state first (the order XState
 * tries them): named events only (no done, error or eventless ones), minus
 * `hidden` (e.g. the machine's own `timer`), each with every branch it may
 * take (its guard, where it goes).
 * @param {MachineIndex} index
 * @param {string[]} activeIds
 * @param {{ hidden?: readonly string[] }} [opts]
 * @returns {PossibleEvent[]}
 */
export function possibleEvents(index, activeIds, opts = {}) {
  const hidden = new Set(opts.hidden ?? []);
  const states = activeIds
    .filter((id) => index.nodes.has(id))
    .sort((a, b) => (index.depth.get(b) ?? 0) - (index.depth.get(a) ?? 0));
  /** @type {Map<string, PossibleEvent>} */
  const out = new Map();
  for (const id of states) {
    for (const t of index.nodes.get(id)?.transitions ?? []) {
      if (t.kind !== 'event' || hidden.has(t.event)) continue;
      let ev = out.get(t.event);
      if (!ev) {
        ev = { event: t.event, branches: [] };
        out.set(t.event, ev);
      }
      const targets = t.targets.length ? t.targets : [id];
      for (const target of targets)
        ev.branches.push({ source: id, target, guard: t.guard, internal: t.targets.length === 0 });
    }
  }
  return [...out.values()];
}

/**
 * The possible events the API takes now: the machine's, kept only where
 * `accepts` (from `GET /agent/sessions/{id}/chart`, by the session's status)
 * lists them; a COMPLETED session's machine would take `cancel`, the API
 * answers it 409. Without `accepts` (an older server) the machine's list.
 * @param {PossibleEvent[]} possible
 * @param {readonly string[] | null | undefined} accepts
 * @returns {PossibleEvent[]}
 */
export function acceptedEvents(possible, accepts) {
  if (!Array.isArray(accepts)) return possible;
  const ok = new Set(accepts);
  return possible.filter((p) => ok.has(p.event));
}

/**
 * The accessible name of a timeline row's replay control:
 * `Show the state after step 4: approve, awaitingApproval → coding.running`
 * (steps count from 1, as the replay banner does).
 * @param {Pick<HistoryEntry, 'n' | 'event' | 'from' | 'to'>} entry
 * @param {string} rootId
 */
export function replayLabel(entry, rootId) {
  return `Show the state after step ${entry.n + 1}: ${shortEvent(entry.event, rootId)}, ${entry.from || '(start)'} → ${entry.to}`;
}

/** @param {number} n @param {number} width */
const pad = (n, width = 2) => String(n).padStart(width, '0');

/**
 * Local wall-clock time with milliseconds, `HH:MM:SS.mmm`.
 * @param {number} at epoch milliseconds
 */
export function clockTime(at) {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * History entries merged by `n` (a later copy wins), oldest first.
 * @param {HistoryEntry[]} a
 * @param {HistoryEntry[]} b
 * @returns {HistoryEntry[]}
 */
export function mergeHistory(a, b) {
  /** @type {Map<number, HistoryEntry>} */
  const byN = new Map();
  for (const e of [...a, ...b]) byN.set(e.n, e);
  return [...byN.values()].sort((x, y) => x.n - y.n);
}

/**
 * Where the replay goes from `at` (an index into the history; null: live).
 * `Previous` from live shows the step before the current one; `Next` past the
 * last step returns to live.
 * @param {number | null} at
 * @param {'previous' | 'next'} step
 * @param {number} count history length
 * @returns {number | null}
 */
export function stepReplay(at, step, count) {
  if (count === 0) return null;
  if (step === 'previous') return at === null ? Math.max(0, count - 2) : Math.max(0, at - 1);
  if (at === null) return null;
  return at + 1 >= count ? null : at + 1;
}
