/**
 * The session machine as data, for the state-chart visualizer: nested states,
 * their tags, entry/exit actions and invoked work, and every transition with
 * its event, guard, actions and targets. XState's definition lists eventless
 * (`always`) transitions separately; they are added here, marked `eventless`.
 */
import type { AnyStateMachine } from 'xstate';

export interface ChartTransition {
  /** The event, `''` for an eventless one. */
  event: string;
  kind: 'event' | 'done' | 'error' | 'eventless';
  targets: string[];
  guard: string | null;
  actions: string[];
}

export interface ChartNode {
  id: string;
  key: string;
  type: string;
  initial: string | null;
  tags: string[];
  entry: string[];
  exit: string[];
  invoke: string[];
  transitions: ChartTransition[];
  states: ChartNode[];
}

// Actions and guards are names, `{ type }` objects or functions (XState's built-in ones carry a `type`).
const name = (a: unknown): string =>
  typeof a === 'string'
    ? a
    : (typeof a === 'object' || typeof a === 'function') &&
        a !== null &&
        'type' in a &&
        typeof a.type === 'string'
      ? a.type
      : 'inline';

/** The parts of XState's state-node objects read here: internals, walked defensively. */
type Target = string | { id?: unknown };
interface XTransition {
  eventType?: unknown;
  target?: readonly Target[] | undefined;
  guard?: unknown;
  actions?: readonly unknown[];
}
interface XNode {
  id: unknown;
  key: unknown;
  type: unknown;
  definition: {
    initial?: { target?: readonly Target[] } | undefined;
    tags?: Iterable<unknown>;
    entry?: readonly unknown[];
    exit?: readonly unknown[];
    invoke?: readonly { src?: unknown; id?: unknown }[];
    transitions?: readonly XTransition[];
  };
  always?: readonly XTransition[] | undefined;
  states?: Record<string, XNode>;
}

function transition(t: XTransition, eventless: boolean): ChartTransition {
  const event = eventless ? '' : String(t.eventType ?? '');
  const kind = eventless
    ? 'eventless'
    : event.startsWith('xstate.done.actor.')
      ? 'done'
      : event.startsWith('xstate.error.actor.')
        ? 'error'
        : 'event';
  return {
    event,
    kind,
    targets: (t.target ?? []).map((x) => (typeof x === 'string' ? x : String(x.id))),
    guard: t.guard ? name(t.guard) : null,
    actions: (t.actions ?? []).map(name),
  };
}

function node(n: XNode): ChartNode {
  const def = n.definition;
  const initial = def.initial?.target?.[0];
  return {
    id: String(n.id),
    key: String(n.key),
    type: String(n.type),
    initial: initial
      ? String(typeof initial === 'string' ? initial : (initial.id ?? initial))
      : null,
    tags: [...(def.tags ?? [])].map(String),
    entry: (def.entry ?? []).map(name),
    exit: (def.exit ?? []).map(name),
    invoke: (def.invoke ?? []).map((i) => String(typeof i.src === 'string' ? i.src : i.id)),
    transitions: [
      ...(def.transitions ?? []).map((t) => transition(t, false)),
      ...(n.always ?? []).map((t) => transition(t, true)),
    ],
    states: Object.values(n.states ?? {}).map(node),
  };
}

export function chartOf(machine: AnyStateMachine): ChartNode {
  return node(machine.root);
}

/** Ids of the active state nodes for a snapshot value, outermost first. */
export function activeIds(rootId: string, value: unknown): string[] {
  const out = [rootId];
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'string') out.push(`${prefix}.${v}`);
    else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        out.push(`${prefix}.${k}`);
        walk(`${prefix}.${k}`, child);
      }
    }
  };
  walk(rootId, value);
  return out;
}
