import { beforeAll, describe, expect, it } from 'vitest';
import type { ChartNode } from '../../actors/chart.ts';
import { layoutChart, shortEvent, type Box, type ChartLayout } from '../../api/chart-layout.ts';
import { SESSION_CHART } from '../../actors/session-chart.ts';

const all = (n: ChartNode): ChartNode[] => [n, ...n.states.flatMap(all)];
const finite = (...xs: number[]) => xs.every(Number.isFinite);
const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.5 &&
  inner.y >= outer.y - 0.5 &&
  inner.x + inner.width <= outer.x + outer.width + 0.5 &&
  inner.y + inner.height <= outer.y + outer.height + 0.5;
const touches = (p: { x: number; y: number }, b: Box) =>
  p.x >= b.x - 1 && p.x <= b.x + b.width + 1 && p.y >= b.y - 1 && p.y <= b.y + b.height + 1;

describe('state chart layout', () => {
  let layout: ChartLayout;
  beforeAll(async () => {
    layout = await layoutChart(SESSION_CHART);
  });

  it('has a node with finite coordinates for every state', () => {
    const states = all(SESSION_CHART);
    expect(layout.nodes.map((n) => n.id)).toEqual(states.map((s) => s.id));
    for (const n of layout.nodes) {
      expect(finite(n.x, n.y, n.width, n.height), n.id).toBe(true);
      expect(n.width, n.id).toBeGreaterThan(0);
      expect(n.height, n.id).toBeGreaterThan(0);
    }
    const byId = new Map(layout.nodes.map((n) => [n.id, n]));
    expect(byId.get('session')).toMatchObject({
      kind: 'compound',
      parent: null,
      depth: 0,
      label: 'session',
      initial: 'session.queued',
    });
    expect(byId.get('session.planning')).toMatchObject({
      kind: 'compound',
      parent: 'session',
      initial: 'session.planning.running',
      tags: ['running'],
    });
    expect(byId.get('session.planning.running')).toMatchObject({
      kind: 'atomic',
      label: 'running',
      invoke: ['plan'],
    });
    expect(byId.get('session.cancelled')).toMatchObject({ kind: 'final' });
    expect(finite(layout.width, layout.height)).toBe(true);
  });

  it('puts every state inside its parent, clear of its siblings, and the whole inside the drawing', () => {
    const byId = new Map(layout.nodes.map((n) => [n.id, n]));
    const drawing = { x: 0, y: 0, width: layout.width, height: layout.height };
    for (const n of layout.nodes) {
      expect(inside(n, drawing), n.id).toBe(true);
      if (!n.parent) continue;
      const parent = byId.get(n.parent)!;
      expect(inside(n, parent), `${n.id} inside ${n.parent}`).toBe(true);
      // Below the parent's title.
      expect(n.y, `${n.id} below the title of ${n.parent}`).toBeGreaterThanOrEqual(parent.y + 26);
    }
    const siblings = layout.nodes.filter((n) => n.parent === 'session');
    for (const a of siblings) {
      for (const b of siblings) {
        if (a === b) continue;
        const apart =
          a.x + a.width <= b.x ||
          b.x + b.width <= a.x ||
          a.y + a.height <= b.y ||
          b.y + b.height <= a.y;
        expect(apart, `${a.id} and ${b.id} overlap`).toBe(true);
      }
    }
  });

  it('has an edge for every target of every transition (targetless ones as self-loops), routed from source to target', () => {
    const expected = all(SESSION_CHART).flatMap((s) =>
      s.transitions.flatMap((t) =>
        (t.targets.length ? t.targets : [s.id]).map(
          (target) => `${s.id} -${t.event}[${t.guard ?? ''}]-> ${target}`,
        ),
      ),
    );
    expect(
      layout.edges.map((e) => `${e.source} -${e.event}[${e.guard ?? ''}]-> ${e.target}`),
    ).toEqual(expected);
    expect(new Set(layout.edges.map((e) => e.id)).size).toBe(layout.edges.length);
    const byId = new Map(layout.nodes.map((n) => [n.id, n]));
    for (const e of layout.edges) {
      expect(e.points.length, e.id).toBeGreaterThanOrEqual(2);
      for (const p of e.points) expect(finite(p.x, p.y), e.id).toBe(true);
      expect(touches(e.points[0]!, byId.get(e.source)!), `${e.id} starts at its source`).toBe(true);
      expect(touches(e.points.at(-1)!, byId.get(e.target)!), `${e.id} ends at its target`).toBe(
        true,
      );
      expect(e.labelBox, e.id).not.toBeNull();
      expect(
        finite(e.labelBox!.x, e.labelBox!.y, e.labelBox!.width, e.labelBox!.height),
        e.id,
      ).toBe(true);
    }
    // Labels sit clear of the states they do not belong to.
    const leaves = layout.nodes.filter((n) => n.kind !== 'compound');
    for (const e of layout.edges) {
      const b = e.labelBox!;
      for (const n of leaves) {
        const apart =
          b.x + b.width <= n.x ||
          n.x + n.width <= b.x ||
          b.y + b.height <= n.y ||
          n.y + n.height <= b.y;
        expect(apart, `the label of ${e.id} covers ${n.id}`).toBe(true);
      }
    }
    const internal = layout.edges.filter((e) => e.internal);
    expect(internal.map((e) => e.source).sort()).toEqual([
      'session.coding',
      'session.planning',
      'session.preparing',
      'session.reviewing',
    ]);
    for (const e of internal) expect(e.target).toBe(e.source);
  });

  it('marks eventless transitions and labels events as people read them', () => {
    const eventless = layout.edges.filter((e) => e.kind === 'eventless');
    expect(eventless).toHaveLength(1);
    expect(eventless[0]).toMatchObject({
      source: 'session.queued',
      target: 'session.preparing',
      event: '',
      label: 'always',
      labelLines: ['always'],
    });
    const reenter = layout.edges.find(
      (e) => e.source === 'session.planning.running' && e.guard === 'hasPendingInputs',
    );
    expect(reenter).toMatchObject({
      kind: 'done',
      target: 'session.planning',
      label: 'done: planning.running',
      labelLines: ['done: planning.running', '[hasPendingInputs]'],
    });
    const retry = layout.edges.find(
      (e) => e.source === 'session.coding.running' && e.kind === 'error' && e.guard === 'canRetry',
    );
    expect(retry).toMatchObject({
      target: 'session.coding.waitingRetry',
      label: 'error: coding.running',
    });
    expect(layout.edges.find((e) => e.source === 'session')).toMatchObject({
      event: 'cancel',
      target: 'session.cancelled',
      label: 'cancel',
    });
  });

  it('shortens XState event names', () => {
    expect(shortEvent('xstate.done.actor.0.session.planning.running', 'session')).toBe(
      'done: planning.running',
    );
    expect(shortEvent('xstate.error.actor.0.session.coding.running', 'session')).toBe(
      'error: coding.running',
    );
    expect(shortEvent('xstate.done.actor.planner', 'session')).toBe('done: planner');
    expect(shortEvent('', 'session')).toBe('always');
    expect(shortEvent('approve', 'session')).toBe('approve');
  });

  it('draws an initial marker into the initial child of every compound state', () => {
    const compound = all(SESSION_CHART).filter((s) => s.initial);
    expect(layout.initials.map((i) => [i.parent, i.target])).toEqual(
      compound.map((s) => [s.id, s.initial]),
    );
    const byId = new Map(layout.nodes.map((n) => [n.id, n]));
    for (const i of layout.initials) {
      const parent = byId.get(i.parent)!;
      expect(
        inside({ x: i.x - i.r, y: i.y - i.r, width: 2 * i.r, height: 2 * i.r }, parent),
        i.parent,
      ).toBe(true);
      expect(
        touches(i.points.at(-1)!, byId.get(i.target)!),
        `${i.parent}'s marker points at ${i.target}`,
      ).toBe(true);
    }
  });

  it('is deterministic and memoized per chart', async () => {
    expect(await layoutChart(SESSION_CHART)).toBe(layout);
    // An equal chart, built again: laid out afresh, to the same result.
    const again = structuredClone(SESSION_CHART);
    const fresh = await layoutChart(again);
    expect(fresh).not.toBe(layout);
    expect(fresh).toEqual(layout);
  });

  it('lays out any chart: a self-transition, several targets, a final child', async () => {
    const chart: ChartNode = {
      id: 'm',
      key: 'm',
      type: 'compound',
      initial: 'm.a',
      tags: [],
      entry: [],
      exit: [],
      invoke: [],
      transitions: [{ event: 'reset', kind: 'event', targets: ['m.a'], guard: null, actions: [] }],
      states: [
        {
          id: 'm.a',
          key: 'a',
          type: 'atomic',
          initial: null,
          tags: ['t'],
          entry: [],
          exit: [],
          invoke: ['work'],
          transitions: [
            { event: 'go', kind: 'event', targets: ['m.b', 'm.c'], guard: 'ok', actions: [] },
            { event: 'again', kind: 'event', targets: ['m.a'], guard: null, actions: [] },
          ],
          states: [],
        },
        {
          id: 'm.b',
          key: 'b',
          type: 'atomic',
          initial: null,
          tags: [],
          entry: [],
          exit: [],
          invoke: [],
          transitions: [],
          states: [],
        },
        {
          id: 'm.c',
          key: 'c',
          type: 'final',
          initial: null,
          tags: [],
          entry: [],
          exit: [],
          invoke: [],
          transitions: [],
          states: [],
        },
      ],
    };
    const l = await layoutChart(chart);
    expect(l.edges.map((e) => `${e.id} ${e.source}->${e.target}`)).toEqual([
      'm#0 m->m.a',
      'm.a#0.0 m.a->m.b',
      'm.a#0.1 m.a->m.c',
      'm.a#1 m.a->m.a',
    ]);
    for (const e of l.edges) expect(e.points.length, e.id).toBeGreaterThanOrEqual(2);
    expect(l.nodes.find((n) => n.id === 'm.c')?.kind).toBe('final');
  });
});
