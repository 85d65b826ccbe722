/**
 * `GET /agent/chart`: the session machine and its layout, the same for every
 * session, so computed once and served with a strong ETag (a browser that
 * has it gets a 304).
 */
import { Hono } from 'hono';
import type { ChartNode } from '../../actors/chart.ts';
import { SESSION_CHART } from '../../actors/session-chart.ts';
import { layoutChart } from '../chart-layout.ts';
import type { AppEnv } from '../principal.ts';
import { sha256, toHex } from '../../kernel/hash.ts';

interface Rendered {
  body: string;
  etag: string;
}

async function render(chart: ChartNode): Promise<Rendered> {
  const body = JSON.stringify({ machine: chart, layout: await layoutChart(chart) });
  const hex = toHex((await sha256(body)).slice(0, 12));
  return { body, etag: `"chart-${hex}"` };
}

/** True when `If-None-Match` names this ETag (or `*`); weak validators match too, as RFC 9110 asks for GET. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

export function chartRoutes(chart: ChartNode = SESSION_CHART): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let rendered: Promise<Rendered> | undefined;
  app.get('/', async (c) => {
    rendered ??= render(chart).catch((err: unknown) => {
      rendered = undefined;
      throw err;
    });
    const { body, etag } = await rendered;
    // Per user (behind auth) and static: caches may keep it, but must ask first.
    c.header('ETag', etag);
    c.header('Cache-Control', 'private, no-cache');
    if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304);
    return c.body(body, 200, { 'Content-Type': 'application/json; charset=UTF-8' });
  });
  return app;
}
