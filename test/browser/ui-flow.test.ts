/**
 * The web UI end to end in headless Chromium, against a real node (Redis, the
 * real agent, a scripted model, a real git repository): create an AI profile
 * and test it, start a review-mode session, follow it on the state chart,
 * approve the plan, read the diff, replay the timeline, send input, cancel.
 * Every page must load without an uncaught error, a console error or a CSP
 * violation. Screenshots go to test-results/screenshots/.
 */
import { describe, expect, it } from 'vitest';
import { screenshot } from '../support/browser.ts';
import { waitFor } from '../support/wait.ts';
import { MODEL_KEY, connectionOk, fix, plan, review } from './server.ts';
import {
  DEADLINE,
  browserRig,
  expectChartMatchesApi,
  expectPossibleEventsMatchApi,
  highlightedStates,
  idsOfPath,
  sessionIdOf,
  timelineRows,
  untilStatus,
  untilStatusLeaves,
} from './ui.ts';

const PROFILE = 'Scripted model';
const GOAL = 'Make the test pass';

// A confirmation before cancelling is the UI's choice: say yes.
const rig = browserRig({ acceptDialogs: true });
/** Set by the test that starts the session from the form. */
let sessionId: string | undefined;

/** The default profile exists even when the profile form's test failed, so later tests still test their part. */
async function ensureProfile(): Promise<void> {
  const { profiles } = await rig.server.api('GET', '/agent/ai-profiles');
  if ((profiles as { name: string }[]).some((p) => p.name === PROFILE)) return;
  await rig.server.api('POST', '/agent/ai-profiles', {
    name: PROFILE,
    provider: 'openai-compatible',
    model: 'scripted',
    api_key: MODEL_KEY,
    base_url: `${rig.server.llm.url}/v1`,
    is_default: true,
  });
}

/** The session to work on: the one started from the form, else one started through the API. */
async function ensureSession(): Promise<string> {
  if (!sessionId) {
    await ensureProfile();
    rig.server.llm.script(...plan());
    const { session_id } = await rig.server.api('POST', '/agent/sessions', {
      goal: GOAL,
      repo_url: rig.server.repo,
      mode: 'review',
    });
    sessionId = session_id as string;
  }
  if (sessionIdOf(rig.page) !== sessionId)
    await rig.page.goto(`${rig.server.url}/#/sessions/${sessionId}`);
  return sessionId;
}

describe('the web UI, end to end', () => {
  it('AI profiles: creates a default profile through the form; the key shows only as a hint; Test connection says ok', async () => {
    await rig.page.goto(`${rig.server.url}/#/settings/profiles`);
    await rig.page.getByLabel('Name', { exact: true }).fill(PROFILE);
    await rig.page.getByLabel('Provider', { exact: true }).selectOption('openai-compatible');
    await rig.page.getByLabel('Model', { exact: true }).fill('scripted');
    await rig.page.getByLabel('API key', { exact: true }).fill(MODEL_KEY);
    await rig.page.getByLabel('Base URL', { exact: true }).fill(`${rig.server.llm.url}/v1`);
    await rig.page.getByLabel('Default profile', { exact: true }).check();
    await rig.page.getByRole('button', { name: 'Save profile', exact: true }).click();

    const row = rig.page.getByTestId('profile-row').filter({ hasText: PROFILE });
    await row.waitFor();
    expect(await row.textContent()).toContain(MODEL_KEY.slice(-4)); // the hint: "…" and the last 4
    expect(await rig.page.content(), 'the key never appears in the page').not.toContain(MODEL_KEY);
    const stored = (await rig.server.api('GET', '/agent/ai-profiles')).profiles as {
      name: string;
      is_default: boolean;
    }[];
    expect(stored.find((p) => p.name === PROFILE)).toMatchObject({ is_default: true });

    rig.server.llm.script(connectionOk());
    await row.getByRole('button', { name: 'Test connection' }).click();
    const result = rig.page.getByTestId('profile-test-result');
    await expect
      .poll(async () => (await result.textContent()) ?? '', {
        timeout: DEADLINE,
        message: 'profile-test-result to say ok',
      })
      .toMatch(/\bok\b/i);
    expect(await result.textContent()).not.toMatch(/fail|error|refused|not ok/i);
    expect(rig.server.llm.pending(), 'the check made one real call').toBe(0);
    expect(await rig.page.content()).not.toContain(MODEL_KEY);
    await screenshot(rig.page, 'ai-profiles');
    rig.watched.expectClean();
  });

  it('starts a review-mode session from the form; the plan waits for approval; the chart shows where the session is', async () => {
    await ensureProfile();
    await rig.page.goto(`${rig.server.url}/#/sessions`);
    const form = rig.page.getByRole('form', { name: 'Start a session' });
    await form.getByLabel('Goal', { exact: true }).fill(GOAL);
    await form.getByLabel('Repository URL', { exact: true }).fill(rig.server.repo);
    await form.getByLabel('Mode', { exact: true }).selectOption('review');
    const profileSelect = form.getByLabel('AI profile', { exact: true });
    // The profiles load after the form shows: wait a moment for ours, else take the default.
    let options: string[] = [];
    await waitFor(
      'our profile among the options',
      async () => {
        options = await profileSelect.locator('option').allTextContents();
        return options.some((o) => o.includes(PROFILE));
      },
      5_000,
      100,
    ).catch(() => undefined);
    const choice =
      options.find((o) => o.includes(PROFILE)) ?? options.find((o) => /default/i.test(o));
    expect(
      choice,
      `an AI profile option for ${PROFILE} or the default, among ${JSON.stringify(options)}`,
    ).toBeDefined();
    await profileSelect.selectOption({ label: choice! });

    rig.server.llm.script(...plan());
    await form.getByRole('button', { name: 'Start session', exact: true }).click();
    await expect
      .poll(() => sessionIdOf(rig.page), {
        timeout: DEADLINE,
        message: 'the session page (#/sessions/{id})',
      })
      .toBeDefined();
    sessionId = sessionIdOf(rig.page)!;
    const session = await rig.server.api('GET', `/agent/sessions/${sessionId}`);
    expect(session).toMatchObject({ goal: GOAL, mode: 'review' });

    await untilStatus(rig.page, 'WAITING_FOR_USER');
    const planText = await rig.page.getByTestId('plan').textContent();
    expect(planText).toContain('Fix add()');
    expect(planText).toContain('Make add() add');
    await rig.page.locator('svg[data-testid="state-chart"]').waitFor();
    await expectChartMatchesApi(rig.page, rig.server, sessionId);
    await expectPossibleEventsMatchApi(rig.page, rig.server, sessionId);
    await screenshot(rig.page, 'session-waiting');
    rig.watched.expectClean();
  });

  it('approving the plan runs it to COMPLETED: the diff, the chart, the timeline and its replay', async () => {
    const id = await ensureSession();
    await untilStatus(rig.page, 'WAITING_FOR_USER');
    rig.server.llm.script(...fix(), ...review());
    await rig.page.getByRole('button', { name: 'Approve plan' }).click();
    await untilStatus(rig.page, 'COMPLETED', 'FAILED');
    const done = await rig.server.api('GET', `/agent/sessions/${id}`);
    expect(done.status, done.reason).toBe('COMPLETED');
    // The approval's notice was about the way to COMPLETED: it is gone.
    expect(
      await rig.page.getByText('Plan approved').count(),
      'no out-of-date notice next to COMPLETED',
    ).toBe(0);

    const file = rig.page
      .getByTestId('diff')
      .getByTestId('diff-file')
      .filter({ hasText: 'src/add.js' });
    await file.first().waitFor();
    expect(await file.first().textContent()).toContain('a + b');
    await expectChartMatchesApi(rig.page, rig.server, id);
    // COMPLETED: the machine would take cancel too; the API takes only input, and so does the list.
    await expectPossibleEventsMatchApi(rig.page, rig.server, id);
    expect(
      await rig.page.getByTestId('possible-events').locator('li[data-event="cancel"]').count(),
    ).toBe(0);

    // The timeline: one row per history entry.
    const history = (await rig.server.api('GET', `/agent/sessions/${id}/history`)).history as {
      n: number;
      to: string;
      event: string;
    }[];
    expect(history.length).toBeGreaterThan(1);
    await rig.page.getByTestId('timeline').waitFor();
    let rows = await timelineRows(rig.page);
    await expect
      .poll(
        async () => {
          rows = await timelineRows(rig.page);
          return rows.count();
        },
        {
          timeout: DEADLINE,
          message: 'a timeline row per history entry',
        },
      )
      .toBe(history.length);
    await screenshot(rig.page, 'session-completed');

    // Replaying the first row highlights the state it went to.
    const first = rows.first();
    const firstText = (await first.textContent()) ?? '';
    // The row's entry: its `data-n`, else (oldest or newest first) the one whose target state it names.
    const n = await first.getAttribute('data-n');
    const entry =
      n !== null
        ? history.find((e) => e.n === Number(n))!
        : firstText.includes(history[0]!.to)
          ? history[0]!
          : history.at(-1)!;
    expect(entry, `the history entry of the first timeline row (data-n=${n})`).toBeDefined();
    expect(firstText, 'the first timeline row names its target state').toContain(entry.to);
    // A row's payload toggle opens the payload below the row, and is no replay.
    const withPayload = rows.filter({ has: rig.page.locator('.timeline-payload-toggle') }).first();
    expect(
      await withPayload.count(),
      'a row with a payload (the done events carry their output)',
    ).toBe(1);
    const toggle = withPayload.getByRole('button', { name: /^Payload/ });
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    await withPayload.locator('.timeline-payload').waitFor();
    expect(
      await rig.page.locator('svg[data-replay="true"]').count(),
      'the payload toggle replays nothing',
    ).toBe(0);
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    // Its replay control is a button named by the step.
    expect(
      await first
        .getByRole('button', { name: `Show the state after step ${entry.n + 1}:` })
        .count(),
    ).toBe(1);
    // A click in the middle of the row replays it.
    await first.click();
    await rig.page.locator('svg[data-replay="true"]').waitFor();
    const root = (await rig.server.api('GET', `/agent/sessions/${id}/chart`)).machine.id as string;
    await expect
      .poll(() => highlightedStates(rig.page, 'svg[data-replay="true"]'), {
        timeout: DEADLINE,
        message: `the replay highlights ${entry.to}`,
      })
      .toEqual(idsOfPath(root, entry.to));
    await screenshot(rig.page, 'session-replay');

    await rig.page.getByRole('button', { name: 'Live', exact: true }).click();
    await expect
      .poll(() => rig.page.locator('svg[data-replay="true"]').count(), {
        timeout: DEADLINE,
        message: 'the chart back to live',
      })
      .toBe(0);
    await expectChartMatchesApi(rig.page, rig.server, id);
    rig.watched.expectClean();
  });

  it('a message to the agent on a completed session replans it; Cancel session cancels it while it waits', async () => {
    const id = await ensureSession();
    rig.server.llm.script(...plan('Keep the fix'));
    await rig.page
      .getByLabel('Message to the agent', { exact: true })
      .fill('Also keep the code style');
    await rig.page.getByRole('button', { name: 'Send', exact: true }).click();
    const left = await untilStatusLeaves(rig.page, 'COMPLETED');
    expect(left).not.toContain('COMPLETED');
    await untilStatus(rig.page, 'WAITING_FOR_USER');
    expect((await rig.server.api('GET', `/agent/sessions/${id}`)).goal).toContain(
      'User input: Also keep the code style',
    );
    expect(await rig.page.getByTestId('plan').textContent()).toContain('Keep the fix');

    await rig.page.getByRole('button', { name: 'Cancel session' }).click();
    await untilStatus(rig.page, 'CANCELLED');
    expect((await rig.server.api('GET', `/agent/sessions/${id}`)).status).toBe('CANCELLED');
    rig.watched.expectClean();
  });

  it('the sessions list shows the session', async () => {
    await rig.page.goto(`${rig.server.url}/#/sessions`);
    await rig.page.getByRole('form', { name: 'Start a session' }).waitFor();
    await rig.page.getByText(GOAL).first().waitFor();
    await screenshot(rig.page, 'sessions-list');
    rig.watched.expectClean();
  });

  it('no secret reached the page or the log', async () => {
    expect(await rig.page.content()).not.toContain(MODEL_KEY);
    expect(rig.server.lines.join('\n')).not.toContain(MODEL_KEY);
  });

  it('Delete session, on an ended session, removes it (after a confirmation) and goes back to the list', async () => {
    const id = await ensureSession();
    if ((await rig.server.api('GET', `/agent/sessions/${id}`)).status !== 'CANCELLED')
      await rig.server.api('POST', `/agent/sessions/${id}/cancel`, {});
    await rig.page.goto(`${rig.server.url}/#/sessions/${encodeURIComponent(id)}`);
    await untilStatus(rig.page, 'CANCELLED');
    await rig.page.getByRole('button', { name: 'Delete session' }).click();
    await rig.page.waitForURL(/#\/sessions$/);
    await rig.page.getByRole('form', { name: 'Start a session' }).waitFor();
    const list = await rig.server.api('GET', '/agent/sessions');
    expect(list.sessions.map((s: { id: string }) => s.id)).not.toContain(id);
    rig.watched.expectClean();
  });
});
