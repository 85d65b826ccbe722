/**
 * Start-up figures: how long `server/main.ts` takes from spawn to a `/health`
 * answer, and its RSS once it answers, with the ways a node can be started
 * side by side (median of several runs each, alternating, so a busy core
 * slows every row alike).
 */
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/net.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface StartupCase {
  label: string;
  /** Arguments to `node` before the entry. */
  nodeArgs: string[];
  env: Record<string, string>;
}

export interface StartupFigure {
  label: string;
  readyMs: number;
  rssMb: number;
}

const rssMb = async (pid: number) => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};

async function once(c: StartupCase): Promise<{ readyMs: number; rssMb: number }> {
  const port = await freePort();
  const data = await mkdtemp(join(tmpdir(), 'swe-start-'));
  const started = performance.now();
  const child = spawn(process.execPath, [...c.nodeArgs, 'server/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: data,
      XDG_DATA_HOME: data,
      DATA_DIR: join(data, 'data'),
      WORKSPACE_DIR: join(data, 'ws'),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ENV_FILE: '/dev/null',
      ...c.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${c.label}: exited early: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() - started > 60_000) throw new Error(`${c.label}: no /health in 60 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const readyMs = performance.now() - started;
    // Let start-up work that runs after listening (first sweep, heartbeat) settle.
    await new Promise((r) => setTimeout(r, 1000));
    return { readyMs, rssMb: await rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(data, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function measureStartup(cases: StartupCase[], runs = 5): Promise<StartupFigure[]> {
  const seen = cases.map(() => ({ ready: [] as number[], rss: [] as number[] }));
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of cases.entries()) {
      const f = await once(c);
      seen[i]!.ready.push(f.readyMs);
      seen[i]!.rss.push(f.rssMb);
    }
  }
  return cases.map((c, i) => ({
    label: c.label,
    readyMs: median(seen[i]!.ready),
    rssMb: median(seen[i]!.rss),
  }));
}
