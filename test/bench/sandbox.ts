/**
 * What the local sandbox's boundary costs per command: `true` run through
 * each confinement a command can get (none, util-linux namespaces,
 * bubblewrap without a network, bubblewrap with slirp4netns's internet, and
 * the same with the rlimits), through `runCommand` as the agent runs it.
 * Rounds alternate between the cases, so a busy core slows every row alike;
 * the median of each is printed beside the unconfined peer.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MountView } from '../../sandbox/bubblewrap.ts';
import { runCommand, type RunCommandOptions } from '../../sandbox/exec.ts';
import { DEFAULT_LIMITS } from '../../sandbox/limits.ts';

export interface SandboxFigure {
  label: string;
  medianMs: number;
  p90Ms: number;
}

export async function benchSandbox(rounds = 40): Promise<SandboxFigure[]> {
  const base = await mkdtemp(join(tmpdir(), 'swe-bench-sandbox-'));
  try {
    const [workspace, home, tmp] = ['ws', 'home', 'tmp'].map((d) => join(base, d)) as [
      string,
      string,
      string,
    ];
    await Promise.all([mkdir(workspace), mkdir(home), mkdir(tmp)]);
    const view: MountView = { workspace, home, tmp, readPaths: [], hidden: [] };
    const cases: { label: string; opts: Partial<RunCommandOptions> }[] = [
      { label: 'none (the peer: /bin/sh as the service)', opts: { isolation: 'none' } },
      { label: 'namespaces (util-linux unshare)', opts: { isolation: 'namespaces' } },
      {
        label: 'bubblewrap, network none',
        opts: { isolation: 'bubblewrap', network: 'none', view },
      },
      {
        label: 'bubblewrap, network internet (slirp4netns)',
        opts: { isolation: 'bubblewrap', network: 'internet', view },
      },
      {
        label: 'bubblewrap, internet, with the rlimits',
        opts: { isolation: 'bubblewrap', network: 'internet', view, limits: DEFAULT_LIMITS },
      },
    ];
    const times = cases.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (const [i, c] of cases.entries()) {
        const t0 = performance.now();
        const res = await runCommand('true', { cwd: workspace, home, ...c.opts });
        if (res.exitCode !== 0) throw new Error(`${c.label}: exit ${res.exitCode}: ${res.output}`);
        if (r > 0) times[i]!.push(performance.now() - t0); // the first round warms caches
      }
    }
    return cases.map((c, i) => {
      const s = [...times[i]!].sort((a, b) => a - b);
      return {
        label: c.label,
        medianMs: s[Math.floor(s.length / 2)] ?? Number.NaN,
        p90Ms: s[Math.floor(s.length * 0.9)] ?? Number.NaN,
      };
    });
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}
