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

type Named = { type?: unknown } | string | undefined;
const name = (a: Named): string =>
  typeof a === 'string' ? a : typeof a?.type === 'string' ? a.type : 'inline';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function transition(t: any, eventless: boolean): ChartTransition {
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
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    targets: (t.target ?? []).map((x: any) => (typeof x === 'string' ? x : String(x.id))),
    guard: t.guard ? name(t.guard) : null,
    actions: (t.actions ?? []).map(name),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function node(n: any): ChartNode {
  const def = n.definition;
  return {
    id: String(n.id),
    key: String(n.key),
    type: String(n.type),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    initial: def.initial?.target?.[0]
      ? String((def.initial.target[0] as any).id ?? def.initial.target[0])
      : null,
    tags: [...(def.tags ?? [])].map(String),
    entry: (def.entry ?? []).map(name),
    exit: (def.exit ?? []).map(name),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    invoke: (def.invoke ?? []).map((i: any) => String(typeof i.src === 'string' ? i.src : i.id)),
    transitions: [
      ...(def.transitions ?? []).map((t: unknown) => transition(t, false)),
      ...(n.always ?? []).map((t: unknown) => transition(t, true)),
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
