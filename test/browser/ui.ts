/**
 * The browser tests' shared rig (a real node, headless Chromium, one watched
 * page), and what they read off the web UI, by the contract the UI is built
 * to: test ids, labels, button names, the visualizer's `g.state` nodes.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { launchBrowser, watchedPage, type WatchedPage } from '../support/browser.ts';
import { sleep } from '../support/wait.ts';
import { startBrowserServer, type BrowserServer } from './server.ts';

/** Generous: the agent, Redis and the browser share two cores with the rest of the suite. */
export const DEADLINE = 30_000;

/** What a browser test file's tests share. */
export interface BrowserRig {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly server: BrowserServer;
  /** The page, watched for problems from its first request. */
  readonly watched: WatchedPage;
  readonly page: Page;
}

export interface BrowserRigOptions {
  /** Accept every dialog the page opens (a confirmation before cancelling is the UI's choice). */
  acceptDialogs?: boolean;
  /** More set-up once the page is open, before the file's tests: a profile, a session to look at. */
  ready?: (rig: BrowserRig) => Promise<void>;
}

/**
 * Registers the file's `beforeAll` and `afterAll`: a real node
 * (`startBrowserServer`) and headless Chromium, started side by side; a
 * 1280×800 context whose actions wait up to `DEADLINE`; one watched page; all
 * closed after the file's tests. The rig's fields are set in `beforeAll`:
 * read them inside tests, hooks and what they call.
 */
export function browserRig(opts: BrowserRigOptions = {}): BrowserRig {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let server: BrowserServer | undefined;
  let watched: WatchedPage | undefined;
  const set = <T>(value: T | undefined, name: string): T => {
    if (value === undefined)
      throw new Error(
        `the browser rig's ${name} is set in beforeAll: read it inside a test or a hook`,
      );
    return value;
  };
  const rig: BrowserRig = {
    get browser() {
      return set(browser, 'browser');
    },
    get context() {
      return set(context, 'context');
    },
    get server() {
      return set(server, 'server');
    },
    get watched() {
      return set(watched, 'watched page');
    },
    get page() {
      return set(watched, 'page').page;
    },
  };
  beforeAll(async () => {
    [browser, server] = await Promise.all([launchBrowser(), startBrowserServer()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(DEADLINE);
    watched = await watchedPage(context);
    if (opts.acceptDialogs) watched.page.on('dialog', (d) => void d.accept());
    await opts.ready?.(rig);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
  });
  return rig;
}

/** `WAITING_FOR_USER`, however the page words it ("Waiting for user", "waiting-for-user"). */
export const asStatus = (text: string | null): string =>
  (text ?? '')
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');

/** Waits until the page's `session-status` shows one of `statuses`; returns the one it shows. */
export async function untilStatus(page: Page, ...statuses: string[]): Promise<string> {
  const status = page.getByTestId('session-status');
  let seen = '';
  await expect
    .poll(
      async () => {
        seen = asStatus(await status.textContent());
        return statuses.some((s) => seen.includes(s));
      },
      {
        timeout: DEADLINE,
        interval: 200,
        message: `session-status to show ${statuses.join(' or ')}`,
      },
    )
    .toBe(true);
  return seen;
}

/** Waits until the page's `session-status` no longer shows `status`. */
export async function untilStatusLeaves(page: Page, status: string): Promise<string> {
  const loc = page.getByTestId('session-status');
  let seen = '';
  await expect
    .poll(
      async () => {
        seen = asStatus(await loc.textContent());
        return seen !== '' && !seen.includes(status);
      },
      { timeout: DEADLINE, interval: 100, message: `session-status to leave ${status}` },
    )
    .toBe(true);
  return seen;
}

/** The session id in the page's URL (`#/sessions/{id}`). */
export function sessionIdOf(page: Page): string | undefined {
  return /#\/sessions\/([^/?#]+)/.exec(page.url())?.[1];
}

/** A `g.state` node's state id: `data-id`, else `data-state-id`, else its `id`. */
function stateIds(nodes: Locator): Promise<string[]> {
  return nodes.evaluateAll((els) =>
    els.map((el) => el.getAttribute('data-id') ?? el.getAttribute('data-state-id') ?? el.id).sort(),
  );
}

/** Ids of the states the visualizer highlights. */
export function highlightedStates(
  page: Page,
  svg = 'svg[data-testid="state-chart"]',
): Promise<string[]> {
  return stateIds(page.locator(`${svg} g.state[data-active="true"]`));
}

/** Waits until the visualizer highlights exactly the states the API reports active for `id`; fails showing both. */
export async function expectChartMatchesApi(
  page: Page,
  server: BrowserServer,
  id: string,
): Promise<void> {
  let api: string[] = [];
  let ui: string[] = [];
  const deadline = Date.now() + DEADLINE;
  do {
    api = ((await server.api('GET', `/agent/sessions/${id}/chart`)).active as string[])
      .slice()
      .sort();
    ui = await highlightedStates(page);
    if (JSON.stringify(ui) === JSON.stringify(api)) return;
    await sleep(250);
  } while (Date.now() < deadline);
  expect(
    ui,
    `svg[data-testid="state-chart"] g.state[data-active="true"] (data-state-id) vs GET /agent/sessions/${id}/chart active, for ${DEADLINE} ms`,
  ).toEqual(api);
}

/** The ids `activeIds` gives for a history entry's `to` (a dotted path below the root). */
export function idsOfPath(rootId: string, to: string): string[] {
  const parts = to.split('.').filter(Boolean);
  return [rootId, ...parts.map((_, i) => `${rootId}.${parts.slice(0, i + 1).join('.')}`)].sort();
}

/** The timeline's rows: `data-testid="timeline-row"`, else its table body rows, else its list items. */
export async function timelineRows(page: Page): Promise<Locator> {
  const timeline = page.getByTestId('timeline');
  const candidates = [
    timeline.getByTestId('timeline-row'),
    timeline.locator('tbody tr'),
    timeline.getByRole('listitem'),
  ];
  for (const rows of candidates) if ((await rows.count()) > 0) return rows;
  return candidates[0]!;
}

/** Waits until the chart's "Possible events" lists exactly what `GET /agent/sessions/{id}/chart` says the API accepts now. */
export async function expectPossibleEventsMatchApi(
  page: Page,
  server: BrowserServer,
  id: string,
): Promise<void> {
  let accepts: string[] = [];
  await expect
    .poll(
      async () => {
        accepts = (await server.api('GET', `/agent/sessions/${id}/chart`)).accepts as string[];
        const shown = await page
          .getByTestId('possible-events')
          .locator('li')
          .evaluateAll((els) => els.map((el) => el.getAttribute('data-event') ?? ''));
        return JSON.stringify(shown.slice().sort()) === JSON.stringify(accepts.slice().sort());
      },
      {
        timeout: DEADLINE,
        interval: 100,
        message: `possible-events to list what the API accepts (${JSON.stringify(accepts)})`,
      },
    )
    .toBe(true);
}
