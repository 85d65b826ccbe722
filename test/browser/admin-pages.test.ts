/**
 * The admin pages in headless Chromium against a real node: users and their
 * tokens (a new token is shown once, and works), and the cluster's nodes.
 * Reached through the page's navigation, as a person would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, screenshot, watchedPage, type WatchedPage } from '../support/browser.ts';
import { startBrowserServer, type BrowserServer } from './server.ts';
import { DEADLINE } from './ui.ts';

let browser: Browser;
let context: BrowserContext;
let server: BrowserServer;
let watched: WatchedPage;
let page: Page;

beforeAll(async () => {
  [browser, server] = await Promise.all([launchBrowser(), startBrowserServer()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(DEADLINE);
  watched = await watchedPage(context);
  page = watched.page;
  page.on('dialog', (d) => void d.accept());
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});

/** Opens `/` and follows the navigation link named `name`. */
async function navigate(name: string): Promise<void> {
  await page.goto(`${server.url}/`);
  await page.getByRole('link', { name, exact: true }).click();
}

describe('the admin pages', () => {
  it('Users: creates a user; New token shows the token once, and it works', async () => {
    await navigate('Users');
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByLabel('Name', { exact: true }).fill('ada');
    await form.getByRole('button', { name: 'Create user', exact: true }).click();
    await expect.poll(async () => ((await server.api('GET', '/agent/users')).users as { name: string }[]).some((u) => u.name === 'ada'), { timeout: DEADLINE }).toBe(true);
    const ada = ((await server.api('GET', '/agent/users')).users as { id: string; name: string }[]).find((u) => u.name === 'ada')!;

    // The row of the new user, and its New token button.
    const row = page.locator('tr, li, [data-testid="user-row"]').filter({ hasText: 'ada' }).filter({ has: page.getByRole('button', { name: 'New token' }) });
    const button = (await row.count()) > 0 ? row.last().getByRole('button', { name: 'New token' }) : page.getByRole('button', { name: 'New token' }).last();
    await button.click();
    const shown = page.getByTestId('new-token');
    await shown.waitFor();
    // As text, or in a read-only field to copy from.
    const text = await shown.evaluate((el) => `${el.textContent ?? ''} ${(el as HTMLInputElement).value ?? ''} ${el.querySelector('input, textarea') ? (el.querySelector('input, textarea') as HTMLInputElement).value : ''}`);
    const token = /swa_[A-Za-z0-9_-]+/.exec(text)?.[0] ?? '';
    expect(token, 'new-token shows the token').toMatch(/^swa_/);
    await screenshot(page, 'users');
    const me = await fetch(`${server.url}/agent/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: ada.id, auth: 'token' });
    const tokens = (await server.api('GET', `/agent/users/${ada.id}/tokens`)).tokens as unknown[];
    expect(tokens).toHaveLength(1);

    // Shown once: back on the page, the token is gone.
    await navigate('Users');
    await page.getByRole('form', { name: 'New user' }).waitFor();
    await page.getByText('ada').first().waitFor();
    expect(await page.getByTestId('new-token').count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    watched.expectClean();
  });

  it('Cluster: a row for the node', async () => {
    await navigate('Cluster');
    const row = page.getByTestId('node-row').filter({ hasText: 'browser-node' });
    await row.waitFor();
    expect(await page.getByTestId('node-row').count()).toBe(1);
    await screenshot(page, 'cluster');
    watched.expectClean();
  });
});
