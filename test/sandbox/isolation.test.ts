/**
 * SANDBOX_ISOLATION for the local sandbox, with real processes and no mocks.
 * This machine and CI allow unprivileged user namespaces: when the probe says
 * they are unavailable, the namespace tests fail (they never skip), and the
 * probe's reason is in the first failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { loadConfig } from '../../runtime/config.ts';
import { ConfigError } from '../../runtime/errors.ts';
import { createLogger } from '../../runtime/logger.ts';
import { startService } from '../../runtime/service.ts';
import { chooseIsolation, describeIsolation, namespaceSupport, probeNamespaces } from '../../sandbox/isolation.ts';
import { createLocalSandboxProvider, type LocalSandboxOptions } from '../../sandbox/local.ts';
import type { Sandbox } from '../../sandbox/port.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { scriptedWork } from '../support/scripted-work.ts';
import { waitFor } from '../support/wait.ts';
import { CONTRACT_REPO_FILES, sandboxContract } from './contract.ts';

const SECRET = `isolation-secret-${ulid()}`;
const EXEC_TS = new URL('../../sandbox/exec.ts', import.meta.url).href;
const TSX = import.meta.resolve('tsx');
const failingProbe = () => probeNamespaces(['false']);

/** Pids on this machine (outside any namespace) whose command line holds `tag`, zombies left out. */
function processesWith(tag: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(tag)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] !== 'Z') found.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** A `sleep` argument no other process on the machine has: its processes can be found from outside. */
const uniqueSleep = () => `7${String(Date.now() % 1_000_000).padStart(6, '0')}${Math.floor(Math.random() * 1000)}`;

/** The numeric entries of a `ls /proc` listing. */
const pidsListed = (output: string) => output.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);

let dir: string;
let origin: string;
/** Stands in for the service: a process started with a secret in its environment, as the service is with its keys. */
let standIn: ChildProcess;
const saved = process.env['SWE_ISOLATION_SECRET'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swe-isolation-'));
  origin = await makeTestRepo(join(dir, 'origin'), CONTRACT_REPO_FILES);
  process.env['SWE_ISOLATION_SECRET'] = SECRET;
  standIn = spawn('sleep', ['1000'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SWE_ISOLATION_SECRET: SECRET }, stdio: 'ignore' });
});

afterAll(async () => {
  standIn?.kill('SIGKILL');
  if (saved === undefined) delete process.env['SWE_ISOLATION_SECRET'];
  else process.env['SWE_ISOLATION_SECRET'] = saved;
  await rm(dir, { recursive: true, force: true });
});

const sandbox = async (opts: Partial<LocalSandboxOptions>): Promise<Sandbox> =>
  createLocalSandboxProvider({ root: join(dir, 'workspace'), allowLocalRepos: true, ...opts }).create({ sessionId: `i${ulid()}`, repoUrl: origin });

describe('SANDBOX_ISOLATION=namespaces', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox({ isolation: 'namespaces' });
  });

  it('is available on this machine (the tests below need it)', async () => {
    expect(await namespaceSupport()).toEqual({ available: true, reason: '' });
  });

  it("a command cannot read another process's environment: not the service's, not this test's", async () => {
    const command = `tr '\\0' '\\n' < /proc/$PPID/environ; cat /proc/${process.pid}/environ /proc/${standIn.pid}/environ; echo; ls /proc; env`;
    const r = await sb.runCommand(command);
    expect(r.output).not.toContain(SECRET);
    const listed = pidsListed(r.output);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed).not.toContain(process.pid);
    expect(listed).not.toContain(standIn.pid);
    expect(Math.max(...listed), r.output).toBeLessThan(10);

    // The control: without isolation the same command does read them.
    const open = await (await sandbox({ isolation: 'none' })).runCommand(command);
    expect(open.output).toContain(`SWE_ISOLATION_SECRET=${SECRET}`);
    expect(pidsListed(open.output)).toContain(process.pid);
  });

  it("reads no secret through /proc/$PPID/environ of a service started with one (and would without isolation)", async () => {
    // The real path: the parent of the command is the service, whose start-up environment holds its keys.
    const script = join(dir, 'service.mts');
    await writeFile(
      script,
      `import { runCommand } from ${JSON.stringify(EXEC_TS)};\n` +
        `for (const isolation of ['namespaces', 'none']) {\n` +
        `  const r = await runCommand("tr '\\\\0' '\\\\n' < /proc/$PPID/environ; echo ppid=$PPID", { cwd: ${JSON.stringify(dir)}, home: ${JSON.stringify(dir)}, isolation });\n` +
        `  console.log(JSON.stringify({ isolation, ...r }));\n` +
        `}\n`,
    );
    const child = spawn(process.execPath, ['--import', TSX, script], { env: { PATH: process.env['PATH'] ?? '', SWE_ISOLATION_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code, err).toBe(0);
    const [inside, outside] = out.trim().split('\n').map((l) => JSON.parse(l) as { output: string });
    expect(inside!.output).not.toContain(SECRET);
    expect(inside!.output).toContain('ppid=0\n');
    expect(outside!.output).toContain(`SWE_ISOLATION_SECRET=${SECRET}`);
  });

  it("shows only the command's own processes; /proc/1 is its shell", async () => {
    const r = await sb.runCommand(
      "sleep 30 & for p in /proc/[0-9]*; do printf '%s ' \"${p#/proc/}\"; tr '\\0' ' ' < $p/cmdline; echo; done; kill $!",
    );
    expect(r.exitCode, r.output).toBe(0);
    const procs = r.output.trim().split('\n').map((l) => l.trim());
    expect(procs[0]).toMatch(/^1 \/bin\/sh -c sleep 30 & for p in/);
    // The shell, the sleep, and the `tr` (or the subshell about to become it) reading its own entry.
    expect(procs.length, r.output).toBeLessThanOrEqual(4);
    for (const p of procs.slice(1)) expect(p, r.output).toMatch(/^\d+ (sleep 30|tr .*|\/bin\/sh -c .*)?\s*$/);
    const ids = await sb.runCommand('id -u; echo "$HOME"; pwd');
    expect(ids.output.split('\n').slice(0, 3)).toEqual([String(process.getuid?.()), expect.stringMatching(/\.home$/), await realpath(join(dir, 'workspace', sb.id))]);
  });

  it('kills what a command leaves running, setsid escapees too, when it exits', async () => {
    const [a, b] = [uniqueSleep(), uniqueSleep()];
    const t0 = Date.now();
    const r = await sb.runCommand(`setsid sleep ${a} & (setsid sleep ${b} &); echo started`, { timeoutMs: 20_000 });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, output: 'started\n' });
    expect(Date.now() - t0).toBeLessThan(5000);
    await waitFor('the background processes to die', () => processesWith(a).length + processesWith(b).length === 0, 3000);
  });

  it('kills everything on timeout, the shell included when it left the process group', async () => {
    const [a, b] = [uniqueSleep(), uniqueSleep()];
    const t0 = Date.now();
    const r = await sb.runCommand(`setsid sleep ${a} & exec setsid sleep ${b}`, { timeoutMs: 1000 });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    expect(Date.now() - t0).toBeLessThan(10_000);
    await waitFor('every process of the command to die', () => processesWith(a).length + processesWith(b).length === 0, 3000);
  });

  it("passes the command's exit code through, not unshare's", async () => {
    for (const [command, code] of [['true', 0], ['false', 1], ['exit 42', 42], ['no-such-command-here', 127], ["sh -c 'kill -9 $$'; exit $?", 137]] as const) {
      expect((await sb.runCommand(command)).exitCode, command).toBe(code);
    }
  });
});

sandboxContract('local, SANDBOX_ISOLATION=namespaces', async () => {
  const root = await mkdtemp(join(tmpdir(), 'swe-isolation-contract-'));
  const repoUrl = await makeTestRepo(join(root, 'origin'), CONTRACT_REPO_FILES);
  const provider = createLocalSandboxProvider({ root: join(root, 'workspace'), allowLocalRepos: true, isolation: 'namespaces' });
  return { provider, repoUrl, cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('without namespaces', () => {
  it('the probe reports a wrapper that fails, or hangs, as unavailable, and says why', async () => {
    expect(await failingProbe()).toEqual({ available: false, reason: 'false failed (exit 1)' });
    expect(await probeNamespaces(['no-such-unshare-here'])).toMatchObject({ available: false, reason: expect.stringMatching(/not installed/) });
    const t0 = Date.now();
    expect(await probeNamespaces(['sh', '-c', 'sleep 30', '--'], 300)).toMatchObject({ available: false, reason: expect.stringMatching(/did not finish within 300 ms/) });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('auto falls back to the old behaviour, with a warning naming the variable', async () => {
    const choice = await chooseIsolation('auto', failingProbe);
    expect(choice).toEqual({ mode: 'auto', isolation: 'none', reason: 'false failed (exit 1)' });
    const said = describeIsolation(choice);
    expect(said.warn).toBe(true);
    expect(said.message).toMatch(/SANDBOX_ISOLATION=auto.*can read the service's processes/);
    const r = await (await sandbox({ isolation: 'auto', isolationProbe: failingProbe })).runCommand('ls /proc');
    expect(pidsListed(r.output)).toContain(process.pid);
  });

  it('namespaces required: a ConfigError naming SANDBOX_ISOLATION and the fix, and commands fail rather than run without', async () => {
    const refused = await chooseIsolation('namespaces', failingProbe).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).variable).toBe('SANDBOX_ISOLATION');
    expect((refused as ConfigError).message).toMatch(/false failed \(exit 1\).*Allow unprivileged user namespaces.*SANDBOX_ISOLATION=auto or none/);
    const sb = await sandbox({ isolation: 'namespaces', isolationProbe: failingProbe });
    await expect(sb.runCommand('echo hi')).rejects.toMatchObject({ code: 'sandbox_failed', message: expect.stringMatching(/SANDBOX_ISOLATION/) });
  });

  it('none never probes', async () => {
    const never = () => Promise.reject(new Error('probed'));
    expect(await chooseIsolation('none', never)).toMatchObject({ isolation: 'none' });
    expect(describeIsolation(await chooseIsolation('none', never))).toMatchObject({ warn: true, message: expect.stringMatching(/SANDBOX_ISOLATION=none/) });
  });
});

describe('a node with local sandboxes', () => {
  it('logs at start which isolation its commands get', async () => {
    for (const [mode, level, text] of [['namespaces', 'info', 'local sandbox isolation: namespaces'], ['none', 'warn', 'local sandbox isolation: none']] as const) {
      const lines: string[] = [];
      const config = loadConfig({ PORT: '0', WORKSPACE_DIR: join(dir, 'node-ws'), SANDBOX_ISOLATION: mode });
      const service = await startService(config, scriptedWork(), { logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) });
      await service.stop();
      const line = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => l.msg.startsWith(text));
      expect(line, lines.join('\n')).toMatchObject({ level });
    }
  });
});
