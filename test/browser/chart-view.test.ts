/**
 * The state chart keeps the state it highlights in view: on a COMPLETED
 * session (`completed` sits at the bottom of a tall chart) and while
 * replaying, the innermost highlighted state lies inside the chart's own
 * scroll box, and the page itself does not scroll to get it there.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SCREENSHOT_DIR, screenshot } from '../support/browser.ts';
import { waitFor } from '../support/wait.ts';
import { MODEL_KEY, fix, plan, review } from './server.ts';
import { DEADLINE, browserRig, timelineRows } from './ui.ts';

let sessionId: string;

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
    server.llm.script(...plan(), ...fix(), ...review());
    sessionId = (
      await server.api('POST', '/agent/sessions', {
        goal: 'Make the test pass',
        repo_url: server.repo,
        mode: 'auto',
      })
    ).session_id;
    await waitFor(
      'the session to complete',
      async () => (await server.api('GET', `/agent/sessions/${sessionId}`)).status === 'COMPLETED',
      DEADLINE,
      100,
    );
  },
});

type Box = { left: number; top: number; right: number; bottom: number };
type Placement = { id: string | null; state: Box | null; view: Box; pageScrollY: number };

/** Where the innermost highlighted state is, and the visible part (inside borders and scrollbars) of the chart's scroll box. */
function placement(svg: string): Promise<Placement> {
  return rig.page.evaluate((svgSelector) => {
    const scroller = document.querySelector('[data-testid="chart-scroll"]') as HTMLElement;
    const s = scroller.getBoundingClientRect();
    const left = s.left + scroller.clientLeft;
    const top = s.top + scroller.clientTop;
    const view = {
      left,
      top,
      right: left + scroller.clientWidth,
      bottom: top + scroller.clientHeight,
    };
    const g = document.querySelector(`${svgSelector} g.state[data-innermost="true"]`);
    const r = g?.querySelector('.state-box')?.getBoundingClientRect();
    const state = r ? { left: r.left, top: r.top, right: r.right, bottom: r.bottom } : null;
    return {
      id: g?.getAttribute('data-state-id') ?? null,
      state,
      view,
      pageScrollY: window.scrollY,
    };
  }, svg);
}

/** Waits until `id` is the innermost highlighted state and lies wholly in the chart's visible box. */
async function expectInView(
  id: string,
  svg = 'svg[data-testid="state-chart"]',
): Promise<Placement> {
  let last: Placement | undefined;
  const inside = (p: Placement) =>
    p.state !== null &&
    p.state.left >= p.view.left - 0.5 &&
    p.state.right <= p.view.right + 0.5 &&
    p.state.top >= p.view.top - 0.5 &&
    p.state.bottom <= p.view.bottom + 0.5;
  await expect
    .poll(
      async () => {
        last = await placement(svg);
        return last.id === id && inside(last);
      },
      {
        timeout: DEADLINE,
        interval: 100,
        message: `${id} highlighted inside the chart's scroll box`,
      },
    )
    .toBe(true)
    .catch((err: Error) => {
      throw new Error(`${err.message}\nlast seen: ${JSON.stringify(last)}`);
    });
  return last!;
}

describe('the state chart keeps its highlighted state in view', () => {
  it('on a COMPLETED session, after load, without scrolling the page', async () => {
    await rig.page.goto(`${rig.server.url}/#/sessions/${sessionId}`);
    await rig.page.locator('svg[data-testid="state-chart"]').waitFor();
    const p = await expectInView('session.completed');
    expect(p.pageScrollY, 'the page itself stays at the top').toBe(0);
    // A full-page screenshot grows the viewport for a moment: the chart keeps its place.
    await screenshot(rig.page, 'chart-completed-page');
    await expectInView('session.completed');
    await rig.page
      .getByTestId('chart-view')
      .screenshot({ path: join(SCREENSHOT_DIR, 'chart-completed.png') });
    rig.watched.expectClean();
  });

  it('after replaying step 1, and again back live', async () => {
    const rows = await timelineRows(rig.page);
    await expect.poll(() => rows.count(), { timeout: DEADLINE }).toBeGreaterThan(1);
    const first = rows.first();
    expect(await first.getAttribute('data-n')).toBe('0');
    await first.click();
    await rig.page.locator('svg[data-replay="true"]').waitFor();
    const history = (await rig.server.api('GET', `/agent/sessions/${sessionId}/history`))
      .history as { n: number; to: string }[];
    await expectInView(`session.${history[0]!.to}`, 'svg[data-replay="true"]');
    await rig.page
      .getByTestId('chart-view')
      .screenshot({ path: join(SCREENSHOT_DIR, 'chart-replay.png') });

    // From the keyboard: the second row's replay button, and Enter.
    await rows
      .nth(1)
      .getByRole('button', { name: /^Show the state after step 2:/ })
      .focus();
    await rig.page.keyboard.press('Enter');
    await expect
      .poll(() => rig.page.getByTestId('replay-banner').textContent(), { timeout: DEADLINE })
      .toMatch(/^Replaying step 2 of/);
    await expectInView(`session.${history[1]!.to}`, 'svg[data-replay="true"]');

    // The last row's payload opens below its line, and replays nothing.
    const last = rows.last();
    await last.getByRole('button', { name: /^Payload/ }).click();
    await last.locator('.timeline-payload').waitFor();
    expect(await rig.page.getByTestId('replay-banner').textContent()).toMatch(
      /^Replaying step 2 of/,
    );
    await rig.page
      .getByTestId('timeline')
      .screenshot({ path: join(SCREENSHOT_DIR, 'chart-timeline-payload.png') });
    await last.getByRole('button', { name: /^Payload/ }).click();

    await rig.page.getByRole('button', { name: 'Live', exact: true }).click();
    await expect
      .poll(() => rig.page.locator('svg[data-replay="true"]').count(), { timeout: DEADLINE })
      .toBe(0);
    await expectInView('session.completed');
    rig.watched.expectClean();
  });
});
