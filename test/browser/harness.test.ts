/**
 * The browser harness itself: the machine's Chromium starts headless, reaches
 * the real node over HTTP, reports page problems, and saves screenshots; the
 * accessibility checks find what they must on a page made for them.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchBrowser, screenshot, watchedPage } from '../support/browser.ts';
import { lowContrastText, unnamedButtons, unnamedFields, unnamedImages } from './a11y-checks.ts';
import { startBrowserServer, type BrowserServer } from './server.ts';

let browser: Browser;
let context: BrowserContext;
let server: BrowserServer;

beforeAll(async () => {
  [browser, server] = await Promise.all([launchBrowser(), startBrowserServer()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

describe('the browser harness', () => {
  it('opens the real node in headless Chromium and saves a screenshot', async () => {
    const { page, expectClean } = await watchedPage(context);
    const res = await page.goto(`${server.url}/health`);
    expect(res?.status()).toBe(200);
    expect(await page.locator('body').textContent()).toContain('ok');
    const path = await screenshot(page, 'harness-health');
    expect(existsSync(path)).toBe(true);
    expectClean();
    await page.close();
  });

  it('reports an uncaught page error and a CSP violation', async () => {
    const { page, problems, expectClean } = await watchedPage(context);
    await page.route(`${server.url}/probe`, (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html',
        headers: { 'content-security-policy': "default-src 'self'; script-src 'self'" },
        body: '<!doctype html><title>probe</title><img src="https://example.invalid/x.png" alt="">',
      }),
    );
    await page.goto(`${server.url}/probe`);
    await page.evaluate(() =>
      setTimeout(() => {
        throw new Error('boom');
      }, 0),
    );
    await expect.poll(() => problems.pageErrors.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => problems.cspViolations.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(() => expectClean()).toThrow(/page error: Error: boom[\s\S]*CSP violation/);
    await page.close();
  });
});

describe('the accessibility checks', () => {
  it('find unnamed fields, buttons and images, and low-contrast text, and pass good ones', async () => {
    const { page } = await watchedPage(context);
    await page.setContent(`<!doctype html><html><body style="background:#fff">
      <main>
        <label for="a">Named</label><input id="a"><input id="b" aria-label="Also named"><input id="bad-input"><select id="bad-select"></select>
        <button>Text</button><button aria-label="Labelled"><svg aria-hidden="true"></svg></button><button id="bad-button"></button>
        <img src="data:," alt=""><img id="bad-img" src="data:,">
        <svg role="img" aria-label="Chart"><rect width="50" height="20" fill="#000"></rect><text id="svg-ok" x="2" y="14" fill="#fff">ok</text></svg>
        <svg id="bad-svg"><rect width="50" height="20" fill="#000"></rect><text id="svg-bad" x="2" y="14" fill="#333">dim</text></svg>
        <p id="good" style="color:#595959">Grey enough: 7.0</p>
        <p id="bad-grey" style="color:#999">Too light: 2.85</p>
        <div style="background:rgba(0,0,0,0.5)"><span id="bad-half" style="color:#333">dark grey on half-black over white: 3.2</span></div>
        <p id="large-ok" style="color:#888;font-size:24px">Large, 3.54 is enough</p>
        <button disabled style="color:#ccc">Disabled is exempt</button>
      </main></body></html>`);
    expect((await unnamedFields(page)).map((o) => o.selector)).toEqual([
      'input#bad-input',
      'select#bad-select',
    ]);
    expect((await unnamedButtons(page)).map((o) => o.selector)).toEqual(['button#bad-button']);
    expect((await unnamedImages(page)).map((o) => o.selector)).toEqual([
      'img#bad-img',
      'svg#bad-svg',
    ]);
    const { offenders } = await lowContrastText(page);
    expect(offenders.map((o) => o.selector).sort()).toEqual(
      ['span#bad-half', 'p#bad-grey', 'text#svg-bad'].sort(),
    );
    expect(offenders.find((o) => o.selector.endsWith('#bad-grey'))).toMatchObject({
      color: 'rgb(153, 153, 153)',
      background: 'rgb(255, 255, 255)',
      ratio: 2.85,
    });
    await page.close();
  });
});
