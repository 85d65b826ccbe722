/**
 * The admin pages in headless Chromium against a real node: users and their
 * tokens (a new token is shown once, and works), and the cluster's nodes.
 * Reached through the page's navigation, as a person would.
 */
import { describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.ts';
import { DEADLINE, browserRig } from './ui.ts';

const rig = browserRig({ acceptDialogs: true });

/** Opens `/` and follows the navigation link named `name`. */
async function navigate(name: string): Promise<void> {
  await rig.page.goto(`${rig.server.url}/`);
  await rig.page.getByRole('link', { name, exact: true }).click();
}

describe('the admin pages', () => {
  it('Users: creates a user; New token shows the token once, and it works', async () => {
    await navigate('Users');
    const form = rig.page.getByRole('form', { name: 'New user' });
    await form.getByLabel('Name', { exact: true }).fill('ada');
    await form.getByRole('button', { name: 'Create user', exact: true }).click();
    await expect
      .poll(
        async () =>
          ((await rig.server.api('GET', '/agent/users')).users as { name: string }[]).some(
            (u) => u.name === 'ada',
          ),
        { timeout: DEADLINE },
      )
      .toBe(true);
    const ada = (
      (await rig.server.api('GET', '/agent/users')).users as { id: string; name: string }[]
    ).find((u) => u.name === 'ada')!;

    // The row of the new user, and its New token button.
    const row = rig.page
      .locator('tr, li, [data-testid="user-row"]')
      .filter({ hasText: 'ada' })
      .filter({ has: rig.page.getByRole('button', { name: 'New token' }) });
    const button =
      (await row.count()) > 0
        ? row.last().getByRole('button', { name: 'New token' })
        : rig.page.getByRole('button', { name: 'New token' }).last();
    await button.click();
    const shown = rig.page.getByTestId('new-token');
    await shown.waitFor();
    // As text, or in a read-only field to copy from.
    const text = await shown.evaluate(
      (el) =>
        `${el.textContent ?? ''} ${(el as HTMLInputElement).value ?? ''} ${el.querySelector('input, textarea') ? (el.querySelector('input, textarea') as HTMLInputElement).value : ''}`,
    );
    const token = /swa_[A-Za-z0-9_-]+/.exec(text)?.[0] ?? '';
    expect(token, 'new-token shows the token').toMatch(/^swa_/);
    await screenshot(rig.page, 'users');
    const me = await fetch(`${rig.server.url}/agent/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: ada.id, auth: 'token' });
    const tokens = (await rig.server.api('GET', `/agent/users/${ada.id}/tokens`))
      .tokens as unknown[];
    expect(tokens).toHaveLength(1);

    // Shown once: back on the page, the token is gone.
    await navigate('Users');
    await rig.page.getByRole('form', { name: 'New user' }).waitFor();
    await rig.page.getByText('ada').first().waitFor();
    expect(await rig.page.getByTestId('new-token').count()).toBe(0);
    expect(await rig.page.content()).not.toContain(token);
    rig.watched.expectClean();
  });

  it('Cluster: a row for the node', async () => {
    await navigate('Cluster');
    const row = rig.page.getByTestId('node-row').filter({ hasText: 'browser-node' });
    await row.waitFor();
    expect(await rig.page.getByTestId('node-row').count()).toBe(1);
    await screenshot(rig.page, 'cluster');
    rig.watched.expectClean();
  });
});
