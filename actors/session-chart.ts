/**
 * The session machine as data, the same for every session: what the
 * visualizer draws and `GET /agent/sessions/{id}/chart` marks up. Its work is
 * only named here, never run.
 */
import { fromPromise } from 'xstate';
import { type ChartNode, chartOf } from './chart.ts';
import { createSessionMachine } from './session-machine.ts';
import type { SessionActors } from './work-contract.ts';

const unrun = <O, I>() =>
  fromPromise<O, I>(() => Promise.reject(new Error('the chart names work, it never runs it')));

const NAMED_ONLY: SessionActors = {
  clone: unrun(),
  plan: unrun(),
  code: unrun(),
  review: unrun(),
};

export const SESSION_CHART: ChartNode = chartOf(createSessionMachine(NAMED_ONLY));
