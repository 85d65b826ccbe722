/**
 * The chaos soak, short enough for CI: 150 sessions on three node processes
 * and a Redis of its own, through SIGKILLs, SIGSTOPs past the lease TTL,
 * SIGTERM restarts and one Redis restart. Longer runs: `npm run soak -- --duration 600`.
 * SOAK_SEED replays a seed the summary printed.
 */
import { describe, expect, it } from 'vitest';
import { formatSummary, runSoak } from './soak.ts';

const seed = Number(process.env['SOAK_SEED'] ?? 20261125);

describe('chaos soak', () => {
  it('every session ends as expected and every accepted event is applied exactly once', async () => {
    const report = await runSoak({
      durationMs: 70_000,
      sessions: 150,
      seed,
      delayMs: 500,
      drainMs: 60_000,
    });
    console.log(formatSummary(report));
    const { verdict: v, disruptions: d } = report;
    expect(v.violations).toEqual([]);
    expect(v.sessions).toBeGreaterThanOrEqual(100);
    expect(v.accepted).toBeGreaterThan(100);
    expect({
      lost: v.lost,
      duplicated: v.duplicated,
      applied: v.applied,
      staleEpochEntries: v.staleEpochEntries,
    }).toEqual({
      lost: 0,
      duplicated: 0,
      applied: v.accepted,
      staleEpochEntries: 0,
    });
    expect(v.diffsChecked).toBe(v.byStatus['COMPLETED']);
    expect(v.diffMismatches).toBe(0);
    expect((v.byStatus['COMPLETED'] ?? 0) + (v.byStatus['CANCELLED'] ?? 0)).toBe(v.sessions);
    expect(d.kills).toBeGreaterThanOrEqual(1);
    expect(d.pauses).toBeGreaterThanOrEqual(1);
    expect(d.restarts).toBeGreaterThanOrEqual(1);
    expect(d.redisRestarts).toBe(1);
  }, 200_000);
});
