import { describe, expect, it } from 'vitest';
import { historyPayload } from '../../actors/payload.ts';

describe('history payloads', () => {
  it('keep what an inbox event said, without its id or type', () => {
    expect(
      historyPayload({
        type: 'input',
        eventId: '1-0',
        message: 'use async',
        budget: { maxCalls: 5 },
      }),
    ).toEqual({ message: 'use async', budget: { maxCalls: 5 } });
    expect(historyPayload({ type: 'approve', eventId: '2-0' })).toBeUndefined();
  });

  it('cut long strings, reduce diffs to their size, summarise deep values, drop secret-looking fields', () => {
    const p = historyPayload({
      type: 'xstate.done.actor.code',
      output: {
        summary: 'x'.repeat(500),
        diff: 'diff --git a/f b/f\n'.repeat(50),
        apiKey: 'sk-secret-1234',
        steps: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      },
    })!;
    const out = p['output'] as Record<string, unknown>;
    expect(String(out['summary'])).toMatch(/^x{200}… \(500 characters\)$/);
    expect(out['diff']).toBe('(950 characters)');
    expect(out).not.toHaveProperty('apiKey');
    expect(out['steps']).toEqual(['a', 'b', 'c', 'd', 'e', '… 2 more']);
    expect(JSON.stringify(p)).not.toContain('sk-secret');
    expect(JSON.stringify(p).length).toBeLessThanOrEqual(800);
  });

  it('show the message of a failed step, and stay small whatever the output', () => {
    expect(
      historyPayload({ type: 'xstate.error.actor.plan', error: new Error('model said no') }),
    ).toEqual({ error: 'model said no' });
    const huge = {
      type: 'xstate.done.actor.plan',
      output: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, 'v'.repeat(150)])),
    };
    expect(JSON.stringify(historyPayload(huge)).length).toBeLessThan(1000);
  });
});
