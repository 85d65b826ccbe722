/**
 * The notice a node that keeps nothing shows (DATA_DIR=:memory:), in
 * Chromium: visible there, absent on a node whose store keeps its data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { launchBrowser, watchedPage } from '../support/browser.ts';
import { scriptedWork } from '../support/fake-work.ts';
import { type Served, serveService } from '../support/service/served.ts';

let browser: Browser;
let context: BrowserContext;
const served: Served[] = [];
let dir = '';

beforeAll(async () => {
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  dir = await mkdtemp(join(tmpdir(), 'swe-notice-'));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  for (const s of served) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function node(dataDir: string) {
  const s = await serveService(
    loadConfig({ PORT: '0', DATA_DIR: dataDir, WORKSPACE_DIR: join(dir, `ws-${served.length}`) }),
    scriptedWork(),
  );
  served.push(s);
  return s;
}

describe('the store notice', () => {
  it('says a DATA_DIR=:memory: node keeps nothing, and is absent on the SQLite default', async () => {
    for (const [dataDir, shown] of [
      [':memory:', true],
      [join(dir, 'data'), false],
    ] as const) {
      const s = await node(dataDir);
      const { page, expectClean } = await watchedPage(context);
      await page.goto(`${s.url}/#/sessions`);
      await page.getByRole('heading', { name: 'Sessions' }).first().waitFor();
      const notice = page.locator('#store-notice');
      if (shown) {
        await notice.waitFor({ state: 'visible' });
        expect(await notice.textContent()).toMatch(/keeps nothing .*lost when it stops/);
      } else {
        // /ready has answered (the page asked for it first), and the notice stayed hidden.
        await expect.poll(async () => (await fetch(`${s.url}/ready`)).ok).toBe(true);
        await page.waitForTimeout(300);
        expect(await notice.isVisible()).toBe(false);
      }
      expectClean();
      await page.close();
    }
  });
});
