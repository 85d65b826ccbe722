/**
 * A user's budget stays within the operator's caps (BUDGET_MAX_CALLS,
 * BUDGET_MAX_TOKENS), at creation and when an input raises it: calls cost
 * money on profiles the user may not own. Over a cap is a 403 naming the
 * field; an admin sets any budget.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { startApp } from '../support/service/app.ts';

const REPO = 'https://example.com/o/r.git';

describe('budget caps', () => {
  it('refuse a user budget over the caps, at creation and by input; an admin may set more', async () => {
    const h = await startApp({ budgetCaps: { maxCalls: 300, maxTokens: 1_000_000 } });
    const ada = await h.user('ada');
    const over = await ada.call('POST', '/agent/sessions', {
      goal: 'g',
      repo_url: REPO,
      budget: { max_calls: 301 },
    });
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ field: 'budget.max_calls' });
    expect(over.body.error.message).toMatch(/at most 300 for users \(BUDGET_MAX_CALLS/);
    const ok = await ada.call('POST', '/agent/sessions', {
      goal: 'g',
      repo_url: REPO,
      budget: { max_calls: 300, max_tokens: 1_000_000 },
    });
    expect(ok.status).toBe(201);
    const id = ok.body.session_id as string;
    const raise = await ada.call('POST', `/agent/sessions/${id}/input`, {
      message: 'more',
      budget: { max_tokens: 5_000_000 },
    });
    expect(raise.status).toBe(403);
    expect(raise.body.error).toMatchObject({ field: 'budget.max_tokens' });
    expect(await h.store.readEvents(id, '0-0', 10)).toEqual([]);
    expect(
      (
        await h.admin('POST', `/agent/sessions/${id}/input`, {
          message: 'm',
          budget: { max_calls: 5000 },
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await h.admin('POST', '/agent/sessions', {
          goal: 'g',
          repo_url: REPO,
          budget: { max_calls: 5000 },
        })
      ).status,
    ).toBe(201);
  });

  it('come from BUDGET_MAX_CALLS and BUDGET_MAX_TOKENS', () => {
    expect(loadConfig({}).budgetCaps).toEqual({ maxCalls: 1000, maxTokens: 20_000_000 });
    expect(loadConfig({ BUDGET_MAX_CALLS: '50', BUDGET_MAX_TOKENS: '900' }).budgetCaps).toEqual({
      maxCalls: 50,
      maxTokens: 900,
    });
    expect(() => loadConfig({ BUDGET_MAX_CALLS: 'lots' })).toThrow(/^BUDGET_MAX_CALLS: /);
  });
});
