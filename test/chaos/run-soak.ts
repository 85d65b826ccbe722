/**
 * `npm run soak -- --duration 600 [--sessions N] [--seed S] [--fsync always|everysec] [--delay MS] [--ttl MS] [--user-limit N]`:
 * the chaos soak from the command line. Prints one summary; exits 1 when an
 * invariant failed (the node processes' output is then written to a file the
 * summary names). The seed is printed: the same seed replays the same plan.
 */
import { parseArgs } from 'node:util';
import { formatSummary, runSoak } from './soak.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    sessions: { type: 'string' },
    seed: { type: 'string' },
    fsync: { type: 'string', default: 'always' },
    delay: { type: 'string', default: '500' },
    ttl: { type: 'string', default: '1000' },
    'user-limit': { type: 'string', default: '0' },
  },
});

const number = (name: string, raw: string | undefined, min: number): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    console.error(`soak: --${name} must be a number ≥ ${min}, got ${raw}`);
    process.exit(2);
  }
  return n;
};
const duration = number('duration', values.duration, 10);
// About two new sessions per second of the run, and never fewer than 100.
const sessions =
  values.sessions === undefined
    ? Math.max(100, Math.round(duration * 2))
    : number('sessions', values.sessions, 1);
const seed =
  values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number('seed', values.seed, 0);
if (values.fsync !== 'always' && values.fsync !== 'everysec') {
  console.error(`soak: --fsync must be always or everysec, got ${values.fsync}`);
  process.exit(2);
}

const report = await runSoak({
  durationMs: duration * 1000,
  sessions,
  seed,
  fsync: values.fsync,
  delayMs: number('delay', values.delay, 0),
  leaseTtlMs: number('ttl', values.ttl, 200),
  userMaxRunning: number('user-limit', values['user-limit'], 0),
  drainMs: Math.max(120_000, duration * 200),
  log: (line) => console.log(`soak: ${line}`),
});
console.log(`\n${formatSummary(report)}`);
process.exit(report.verdict.violations.length === 0 ? 0 : 1);
