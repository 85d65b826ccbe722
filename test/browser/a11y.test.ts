/**
 * Accessibility of every page of the web UI, in headless Chromium against a
 * real node: every form field, button and image has an accessible name; the
 * "Start session" form works from the keyboard alone; all visible text meets
 * WCAG 2 AA contrast. Offenders are reported with a selector and colours.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  focused,
  lowContrastText,
  unnamedButtons,
  unnamedFields,
  unnamedImages,
  type Offender,
} from './a11y-checks.ts';
import { MODEL_KEY, fix, plan, review } from './server.ts';
import { waitFor } from '../support/wait.ts';
import { DEADLINE, browserRig, sessionIdOf } from './ui.ts';

let waitingId: string;
let completedId: string | undefined;

const rig = browserRig({
  async ready({ server }) {
    await server.api('POST', '/agent/ai-profiles', {
      name: 'Scripted model',
      provider: 'openai-compatible',
      model: 'scripted',
      api_key: MODEL_KEY,
      base_url: `${server.llm.url}/v1`,
      is_default: true,
    });
    server.llm.script(...plan());
    waitingId = (
      await server.api('POST', '/agent/sessions', {
        goal: 'Make the test pass',
        repo_url: server.repo,
        mode: 'review',
      })
    ).session_id;
    await untilApiStatus(waitingId, 'WAITING_FOR_USER');
  },
});

/** The API's view of a session once its status is one of `statuses`. */
async function untilApiStatus(id: string, ...statuses: string[]): Promise<any> {
  return waitFor(
    `session ${id} to be ${statuses.join(' or ')}`,
    async () => {
      const s = await rig.server.api('GET', `/agent/sessions/${id}`);
      return statuses.includes(s.status) ? s : undefined;
    },
    DEADLINE,
    100,
  );
}

describe('keyboard', () => {
  it('Tab reaches the Start session form fields in order, and Enter submits it', async () => {
    await rig.page.goto(`${rig.server.url}/#/sessions`);
    await rig.page.getByRole('form', { name: 'Start a session' }).waitFor();
    const path: string[] = [];
    const tab = async (key = 'Tab') => {
      await rig.page.keyboard.press(key);
      const f = await focused(rig.page);
      path.push(`${f.tag}:${f.name}`);
      return f;
    };
    let f = { name: '', tag: '' };
    for (let i = 0; i < 60 && !f.name.startsWith('Goal'); i++) f = await tab();
    expect(f.name, `Tab reaches Goal; focus went through ${path.join(' → ')}`).toMatch(/^Goal/);
    await rig.page.keyboard.type('Make the test pass, by keyboard');
    const order = [f.name];
    for (let i = 0; i < 20 && !/^Start session/.test(f.name); i++) {
      f = await tab();
      order.push(f.name);
      if (f.name.startsWith('Repository URL')) await rig.page.keyboard.type(rig.server.repo);
    }
    const at = (name: string) => order.findIndex((n) => n.startsWith(name));
    const fields = ['Goal', 'Repository URL', 'Mode', 'AI profile', 'Start session'];
    expect(fields.map(at), `focus order after Goal: ${order.join(' → ')}`).toEqual(
      fields
        .map(at)
        .slice()
        .sort((a, b) => a - b),
    );
    expect(
      fields.map(at).every((i) => i >= 0),
      `every field is reached: ${order.join(' → ')}`,
    ).toBe(true);

    // Back to the repository field; Enter there submits the form (auto mode: it runs to the end).
    for (let i = 0; i < 20 && !f.name.startsWith('Repository URL'); i++) f = await tab('Shift+Tab');
    expect(f.name).toMatch(/^Repository URL/);
    rig.server.llm.script(...plan(), ...fix(), ...review());
    await rig.page.keyboard.press('Enter');
    await expect
      .poll(() => sessionIdOf(rig.page), {
        timeout: DEADLINE,
        message: 'Enter opens the new session',
      })
      .toBeDefined();
    completedId = sessionIdOf(rig.page)!;
    const done = await untilApiStatus(completedId, 'COMPLETED', 'FAILED');
    expect(done).toMatchObject({ goal: 'Make the test pass, by keyboard', status: 'COMPLETED' });
    rig.watched.expectClean();
  });
});

/** Each page and what shows it is loaded. */
const PAGES: { name: string; open(): Promise<void> }[] = [
  {
    name: 'sessions',
    open: () =>
      goto('#/sessions', () => rig.page.getByRole('form', { name: 'Start a session' }).waitFor()),
  },
  {
    name: 'session (waiting for approval)',
    open: () =>
      goto(`#/sessions/${waitingId}`, () =>
        rig.page.getByRole('button', { name: 'Approve plan' }).waitFor(),
      ),
  },
  {
    name: 'session (completed)',
    open: () =>
      goto(`#/sessions/${completedId ?? waitingId}`, () =>
        rig.page
          .getByTestId('session-status')
          .waitFor()
          .then(() => rig.page.locator('svg[data-testid="state-chart"]').waitFor()),
      ),
  },
  {
    name: 'AI profiles',
    open: () =>
      goto('#/settings/profiles', () => rig.page.getByTestId('profile-row').first().waitFor()),
  },
  {
    name: 'users',
    open: () => viaNav('Users', () => rig.page.getByRole('form', { name: 'New user' }).waitFor()),
  },
  {
    name: 'cluster',
    open: () => viaNav('Cluster', () => rig.page.getByTestId('node-row').first().waitFor()),
  },
];

async function goto(hash: string, loaded: () => Promise<unknown>): Promise<void> {
  await rig.page.goto(`${rig.server.url}/${hash}`);
  await loaded();
  // Let the page's first data load and render settle (it keeps an event stream open, so no network idle).
  await rig.page.waitForTimeout(300);
}

async function viaNav(link: string, loaded: () => Promise<unknown>): Promise<void> {
  await rig.page.goto(`${rig.server.url}/`);
  await rig.page.getByRole('link', { name: link, exact: true }).click();
  await loaded();
  await rig.page.waitForTimeout(300);
}

const listed = (offenders: Offender[]) =>
  offenders.map((o) => `  ${o.selector}: ${o.problem}`).join('\n');

describe.each(PAGES)('the $name page', ({ name, open }) => {
  beforeAll(async () => {
    await open();
  });

  it('every input, select and textarea has an accessible name', async () => {
    const bad = await unnamedFields(rig.page);
    expect(bad, `${name}: fields without a name:\n${listed(bad)}`).toEqual([]);
  });

  it('every button has text or an aria-label', async () => {
    const bad = await unnamedButtons(rig.page);
    expect(bad, `${name}: buttons without a name:\n${listed(bad)}`).toEqual([]);
  });

  it('images and SVGs have a role and a name', async () => {
    const bad = await unnamedImages(rig.page);
    expect(bad, `${name}: images without a name:\n${listed(bad)}`).toEqual([]);
  });

  it('visible text meets WCAG AA contrast (4.5, large text 3)', async () => {
    const { offenders, checked, root, lowest } = await lowContrastText(rig.page);
    if (process.env['A11Y_REPORT'])
      console.log(
        `${name}: ${checked} text nodes in ${root}; closest: ${lowest.map((l) => `${l.selector} "${l.text}" ${l.ratio}/${l.required}`).join('; ')}`,
      );
    expect(checked, `${name}: text nodes checked in ${root}`).toBeGreaterThan(0);
    const report = offenders
      .map(
        (o) =>
          `  ${o.selector} "${o.text}": ${o.color} on ${o.background} = ${o.ratio} < ${o.required} (${o.fontSize}, weight ${o.fontWeight})`,
      )
      .join('\n');
    expect(offenders, `${name}: low contrast in ${root}:\n${report}`).toEqual([]);
  });

  it('loaded without errors', () => {
    rig.watched.expectClean();
  });
});
