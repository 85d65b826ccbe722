/**
 * SANDBOX_ISOLATION for the local sandbox, with real processes and no mocks.
 * This machine and CI allow unprivileged user namespaces: when the probe says
 * they are unavailable, the namespace tests fail (they never skip), and the
 * probe's reason is in the first failure. SANDBOX_NETWORK=none is tested the
 * same way, against an HTTP server this test starts on 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { loadConfig } from '../../server/config.ts';
import { ConfigError } from '../../kernel/errors.ts';
import { createLogger } from '../../kernel/logger.ts';
import { startService } from '../../server/service.ts';
import { startupFailure } from '../../server/startup-error.ts';
import { runCommand } from '../../sandbox/exec.ts';
import {
  chooseIsolation,
  describeIsolation,
  NAMESPACE_WRAPPER,
  namespaceSupport,
  namespaceWrapper,
  probeNamespaces,
  shellArgv,
} from '../../sandbox/isolation.ts';
import { createLocalSandboxProvider, type LocalSandboxOptions } from '../../sandbox/local.ts';
import type { Sandbox } from '../../sandbox/port.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { scriptedWork } from '../support/fake-work.ts';
import { waitFor } from '../support/wait.ts';
import { CONTRACT_REPO_FILES, sandboxContract } from './contract.ts';

const SECRET = `isolation-secret-${ulid()}`;
const EXEC_TS = new URL('../../sandbox/exec.ts', import.meta.url).href;
const failingProbe = () => probeNamespaces(['false']);
/** bubblewrap as on a machine without it: what `auto` tries first. */
const noBubblewrap = () =>
  Promise.resolve({ available: false, reason: 'bwrap is not installed (bubblewrap)' });
const nothingWorks = { namespaces: failingProbe, bubblewrap: noBubblewrap };

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
const uniqueSleep = () =>
  `7${String(Date.now() % 1_000_000).padStart(6, '0')}${Math.floor(Math.random() * 1000)}`;

/** The numeric entries of a `ls /proc` listing. */
const pidsListed = (output: string) =>
  output
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);

let dir: string;
let origin: string;
/** Stands in for the service: a process started with a secret in its environment, as the service is with its keys. */
let standIn: ChildProcess;
const saved = process.env['SWE_ISOLATION_SECRET'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swe-isolation-'));
  origin = await makeTestRepo(join(dir, 'origin'), CONTRACT_REPO_FILES);
  process.env['SWE_ISOLATION_SECRET'] = SECRET;
  standIn = spawn('sleep', ['1000'], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SWE_ISOLATION_SECRET: SECRET },
    stdio: 'ignore',
  });
});

afterAll(async () => {
  standIn?.kill('SIGKILL');
  if (saved === undefined) delete process.env['SWE_ISOLATION_SECRET'];
  else process.env['SWE_ISOLATION_SECRET'] = saved;
  await rm(dir, { recursive: true, force: true });
});

const sandbox = async (opts: Partial<LocalSandboxOptions>): Promise<Sandbox> =>
  createLocalSandboxProvider({
    root: join(dir, 'workspace'),
    allowLocalRepos: true,
    ...opts,
  }).create({ sessionId: `i${ulid()}`, repoUrl: origin });

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

  it('reads no secret through /proc/$PPID/environ of a service started with one (and would without isolation)', async () => {
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
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env['PATH'] ?? '', SWE_ISOLATION_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code, err).toBe(0);
    const [inside, outside] = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { output: string });
    expect(inside!.output).not.toContain(SECRET);
    expect(inside!.output).toContain('ppid=0\n');
    expect(outside!.output).toContain(`SWE_ISOLATION_SECRET=${SECRET}`);
  });

  it("shows only the command's own processes; /proc/1 is its shell", async () => {
    const r = await sb.runCommand(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
      "sleep 30 & for p in /proc/[0-9]*; do printf '%s ' \"${p#/proc/}\"; tr '\\0' ' ' < $p/cmdline; echo; done; kill $!",
    );
    expect(r.exitCode, r.output).toBe(0);
    const procs = r.output
      .trim()
      .split('\n')
      .map((l) => l.trim());
    expect(procs[0]).toMatch(/^1 \/bin\/sh -c sleep 30 & for p in/);
    // The shell, the sleep, and the `tr` (or the subshell about to become it) reading its own entry.
    expect(procs.length, r.output).toBeLessThanOrEqual(4);
    for (const p of procs.slice(1))
      expect(p, r.output).toMatch(/^\d+ (sleep 30|tr .*|\/bin\/sh -c .*)?\s*$/);
    const ids = await sb.runCommand('id -u; echo "$HOME"; pwd');
    expect(ids.output.split('\n').slice(0, 3)).toEqual([
      String(process.getuid?.()),
      expect.stringMatching(/\.home$/),
      await realpath(join(dir, 'workspace', sb.id)),
    ]);
  });

  it('kills what a command leaves running, setsid escapees too, when it exits', async () => {
    const [a, b] = [uniqueSleep(), uniqueSleep()];
    const t0 = Date.now();
    const r = await sb.runCommand(`setsid sleep ${a} & (setsid sleep ${b} &); echo started`, {
      timeoutMs: 20_000,
    });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, output: 'started\n' });
    expect(Date.now() - t0).toBeLessThan(5000);
    await waitFor(
      'the background processes to die',
      () => processesWith(a).length + processesWith(b).length === 0,
      3000,
    );
  });

  it('kills everything on timeout, the shell included when it left the process group', async () => {
    const [a, b] = [uniqueSleep(), uniqueSleep()];
    const t0 = Date.now();
    const r = await sb.runCommand(`setsid sleep ${a} & exec setsid sleep ${b}`, {
      timeoutMs: 1000,
    });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    expect(Date.now() - t0).toBeLessThan(10_000);
    await waitFor(
      'every process of the command to die',
      () => processesWith(a).length + processesWith(b).length === 0,
      3000,
    );
  });

  it("passes the command's exit code through, not unshare's", async () => {
    for (const [command, code] of [
      ['true', 0],
      ['false', 1],
      ['exit 42', 42],
      ['no-such-command-here', 127],
      ["sh -c 'kill -9 $$'; exit $?", 137],
    ] as const) {
      expect((await sb.runCommand(command)).exitCode, command).toBe(code);
    }
  });
});

sandboxContract('local, SANDBOX_ISOLATION=namespaces', async () => {
  const root = await mkdtemp(join(tmpdir(), 'swe-isolation-contract-'));
  const repoUrl = await makeTestRepo(join(root, 'origin'), CONTRACT_REPO_FILES);
  const provider = createLocalSandboxProvider({
    root: join(root, 'workspace'),
    allowLocalRepos: true,
    isolation: 'namespaces',
  });
  return { provider, repoUrl, cleanup: () => rm(root, { recursive: true, force: true }) };
});

/** Network interface names in a `/proc/net/dev` listing. */
const interfacesListed = (output: string) =>
  [...output.matchAll(/^\s*([^\s:|]+):/gm)].map((m) => m[1]!);

describe('SANDBOX_NETWORK=none', () => {
  const BODY = `hello-from-the-host-${ulid()}`;
  let server: Server;
  let port: number;
  let requests = 0;
  let none: Sandbox;
  let host: Sandbox;
  const hasCurl = spawnSync('which', ['curl']).status === 0;
  /** A GET of the test's server that prints the body and exits non-zero when it cannot connect within 2 s. */
  const get = () =>
    hasCurl
      ? `curl -s -m 2 http://127.0.0.1:${port}/`
      : `'${process.execPath}' -e 'fetch("http://127.0.0.1:${port}/", { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e.cause ?? e)); process.exit(7); })'`;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.end(BODY);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    [none, host] = await Promise.all([
      sandbox({ isolation: 'namespaces', network: 'none' }),
      sandbox({ isolation: 'namespaces', network: 'host' }),
    ]);
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
  });

  it('is available on this machine, probed with --net on the outer unshare (the tests below need it)', async () => {
    const wrapper = namespaceWrapper('none');
    expect(wrapper.slice(0, wrapper.indexOf('--'))).toContain('--net');
    expect(namespaceWrapper('host')).toEqual(NAMESPACE_WRAPPER);
    expect(NAMESPACE_WRAPPER).not.toContain('--net');
    expect(await namespaceSupport('none')).toEqual({ available: true, reason: '' });
  });

  it('a command cannot reach a server on 127.0.0.1 and fails; with host it can', async () => {
    const before = requests;
    const t0 = Date.now();
    const blocked = await none.runCommand(get(), { timeoutMs: 20_000 });
    expect(blocked.timedOut).toBe(false);
    expect(blocked.exitCode, blocked.output).not.toBe(0);
    expect(blocked.exitCode, blocked.output).not.toBeNull();
    expect(blocked.output).not.toContain(BODY);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(requests).toBe(before);

    const open = await host.runCommand(get(), { timeoutMs: 20_000 });
    expect(open, open.output).toMatchObject({ exitCode: 0, output: BODY });
    expect(requests).toBe(before + 1);
  });

  it('inside, the only network interface is lo, and it is down; processes stay isolated', async () => {
    const r = await none.runCommand(
      'cat /proc/net/dev; echo ---; ip -o link show 2>/dev/null || echo no-ip; echo ---; ls /proc',
    );
    expect(r.exitCode, r.output).toBe(0);
    const [dev = '', links = '', procs = ''] = r.output.split('---\n');
    expect(interfacesListed(dev), r.output).toEqual(['lo']);
    if (links.trim() !== 'no-ip') {
      expect(links.trim().split('\n'), r.output).toHaveLength(1);
      expect(links, r.output).toMatch(/^1: lo: <LOOPBACK>/);
      expect(links, r.output).toMatch(/state DOWN/);
    }
    expect(Math.max(...pidsListed(procs)), r.output).toBeLessThan(10);
    // The control: with host the command sees this machine's interfaces.
    const seen = await host.runCommand('cat /proc/net/dev');
    expect(interfacesListed(seen.output).sort()).toEqual(
      interfacesListed(readFileSync('/proc/net/dev', 'utf8')).sort(),
    );
  });

  it('exit codes and timeouts work as without it', async () => {
    for (const [command, code] of [
      ['true', 0],
      ['false', 1],
      ['exit 42', 42],
      ['no-such-command-here', 127],
    ] as const) {
      expect((await none.runCommand(command)).exitCode, command).toBe(code);
    }
    const [a, b] = [uniqueSleep(), uniqueSleep()];
    const t0 = Date.now();
    const r = await none.runCommand(`setsid sleep ${a} & exec setsid sleep ${b}`, {
      timeoutMs: 1000,
    });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    expect(Date.now() - t0).toBeLessThan(10_000);
    await waitFor(
      'every process of the command to die',
      () => processesWith(a).length + processesWith(b).length === 0,
      3000,
    );
  });

  it('the probe through a --net wrapper fails when the command still sees more than lo', async () => {
    // A stand-in wrapper that names --net but leaves the command on this machine's network.
    const pretend = ['sh', '-c', 'exec "$@"', '--net', ...NAMESPACE_WRAPPER];
    const others = interfacesListed(readFileSync('/proc/net/dev', 'utf8')).filter(
      (n) => n !== 'lo',
    );
    const found = await probeNamespaces(pretend);
    // A machine whose own network has only lo cannot tell the difference.
    if (others.length > 0) {
      expect(found).toEqual({
        available: false,
        reason: expect.stringMatching(
          /^the command still sees network interfaces other than lo \(/,
        ),
      });
      expect(found.reason).toContain(others[0]);
    } else {
      expect(found).toEqual({ available: true, reason: '' });
    }
  });

  it('without namespaces, runCommand refuses rather than run the command on the network', async () => {
    const before = requests;
    await expect(runCommand(get(), { cwd: dir, home: dir, network: 'none' })).rejects.toMatchObject(
      {
        code: 'sandbox_failed',
        message: expect.stringMatching(/network 'none' needs isolation 'namespaces'/),
      },
    );
    const sb = await sandbox({ isolation: 'none', network: 'none' });
    await expect(sb.runCommand(get())).rejects.toMatchObject({
      code: 'sandbox_failed',
      message: expect.stringMatching(/SANDBOX_NETWORK/),
    });
    expect(requests).toBe(before);
  });
});

describe('without namespaces', () => {
  it('the probe reports a wrapper that fails, or hangs, as unavailable, and says why', async () => {
    expect(await failingProbe()).toEqual({ available: false, reason: 'false failed (exit 1)' });
    expect(await probeNamespaces(['no-such-unshare-here'])).toMatchObject({
      available: false,
      reason: expect.stringMatching(/not installed/),
    });
    const t0 = Date.now();
    expect(await probeNamespaces(['sh', '-c', 'sleep 30', '--'], 300)).toMatchObject({
      available: false,
      reason: expect.stringMatching(/did not finish within 300 ms/),
    });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('auto falls back to the old behaviour, with a warning naming the variable', async () => {
    const choice = await chooseIsolation('auto', 'host', nothingWorks);
    expect(choice).toEqual({
      mode: 'auto',
      isolation: 'none',
      network: 'host',
      networkSetting: 'host',
      reason:
        'bubblewrap is unavailable: bwrap is not installed (bubblewrap); false failed (exit 1)',
    });
    const said = describeIsolation(choice);
    expect(said.warn).toBe(true);
    expect(said.message).toMatch(
      /SANDBOX_ISOLATION=auto.*bwrap is not installed.*can read the service's processes/,
    );
    // bubblewrap missing, namespaces working: those, with a warning that says what is missing.
    const fallback = await chooseIsolation('auto', 'auto', { bubblewrap: noBubblewrap });
    expect(fallback).toMatchObject({ isolation: 'namespaces', network: 'host' });
    expect(describeIsolation(fallback)).toMatchObject({
      warn: true,
      message: expect.stringMatching(
        /bwrap is not installed.*other sessions' workspaces.*Install bubblewrap/,
      ),
    });
    const r = await (
      await sandbox({ isolation: 'auto', isolationProbes: nothingWorks })
    ).runCommand('ls /proc');
    expect(pidsListed(r.output)).toContain(process.pid);
  });

  it('namespaces required: a ConfigError naming SANDBOX_ISOLATION and the fix, and commands fail rather than run without', async () => {
    const refused = await chooseIsolation('namespaces', 'host', nothingWorks).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).variable).toBe('SANDBOX_ISOLATION');
    expect((refused as ConfigError).message).toMatch(
      /false failed \(exit 1\).*Allow unprivileged user namespaces.*SANDBOX_ISOLATION=auto or none/,
    );
    const sb = await sandbox({ isolation: 'namespaces', isolationProbes: nothingWorks });
    await expect(sb.runCommand('echo hi')).rejects.toMatchObject({
      code: 'sandbox_failed',
      message: expect.stringMatching(/SANDBOX_ISOLATION/),
    });
  });

  it('SANDBOX_NETWORK=none refused: a ConfigError naming SANDBOX_NETWORK and the fix, with SANDBOX_ISOLATION=none or a failing probe', async () => {
    const never = () => Promise.reject(new Error('probed'));
    const off = await chooseIsolation('none', 'none', {
      namespaces: never,
      bubblewrap: never,
    }).catch((e: unknown) => e);
    expect(off).toBeInstanceOf(ConfigError);
    expect((off as ConfigError).variable).toBe('SANDBOX_NETWORK');
    expect((off as ConfigError).message).toMatch(
      /^SANDBOX_NETWORK: is none, which needs namespaces.*SANDBOX_ISOLATION=none.*Set SANDBOX_ISOLATION=auto.*or SANDBOX_NETWORK=host/,
    );
    for (const mode of ['auto', 'namespaces'] as const) {
      const refused = await chooseIsolation(mode, 'none', nothingWorks).catch((e: unknown) => e);
      expect(refused, mode).toBeInstanceOf(ConfigError);
      expect((refused as ConfigError).variable, mode).toBe('SANDBOX_NETWORK');
      expect((refused as ConfigError).message, mode).toMatch(
        /network namespaces here \(false failed \(exit 1\)\).*Allow unprivileged user and network namespaces.*SANDBOX_NETWORK=host/,
      );
    }
  });

  it('a node with SANDBOX_NETWORK=none and SANDBOX_ISOLATION=none does not start: configuration error, exit 2', async () => {
    const config = loadConfig({
      PORT: '0',
      DATA_DIR: ':memory:',
      WORKSPACE_DIR: join(dir, 'node-ws'),
      SANDBOX_ISOLATION: 'none',
      SANDBOX_NETWORK: 'none',
    });
    const err = await startService(config, scriptedWork(), {
      logger: createLogger({ level: 'error', write: () => {} }),
    }).then(
      (s) => s.stop().then(() => 'started'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('SANDBOX_NETWORK');
    expect(startupFailure(err)).toEqual({
      line: expect.stringMatching(/^swe-agent: configuration error: SANDBOX_NETWORK: is none/),
      code: 2,
    });
  });

  it('none never probes', async () => {
    const never = () => Promise.reject(new Error('probed'));
    const probes = { namespaces: never, bubblewrap: never };
    expect(await chooseIsolation('none', 'host', probes)).toMatchObject({ isolation: 'none' });
    expect(describeIsolation(await chooseIsolation('none', 'host', probes))).toMatchObject({
      warn: true,
      message: expect.stringMatching(/SANDBOX_ISOLATION=none/),
    });
  });
});

describe('a node with local sandboxes', () => {
  it('logs at start which isolation and network its commands get', async () => {
    for (const [mode, network, level, text, says] of [
      [
        'namespaces',
        'host',
        'warn',
        'local sandbox isolation: namespaces (SANDBOX_ISOLATION=namespaces): ',
        'network: host: commands reach what this machine reaches',
      ],
      [
        'namespaces',
        'none',
        'warn',
        'local sandbox isolation: namespaces (SANDBOX_ISOLATION=namespaces): ',
        "network: none: commands reach no network, not even this machine's loopback (SANDBOX_NETWORK=none)",
      ],
      [
        'auto',
        'auto',
        'info',
        'local sandbox isolation: bubblewrap (SANDBOX_ISOLATION=auto): ',
        "network: internet: commands reach the internet through slirp4netns, not this machine's loopback",
      ],
      [
        'auto',
        'host',
        'warn',
        'local sandbox isolation: bubblewrap (SANDBOX_ISOLATION=auto): ',
        "network: host: commands reach what this machine reaches, the service's own port and a Redis on loopback included (SANDBOX_NETWORK=host)",
      ],
      ['none', 'host', 'warn', 'local sandbox isolation: none', 'SANDBOX_NETWORK=host'],
    ] as const) {
      const lines: string[] = [];
      const config = loadConfig({
        PORT: '0',
        DATA_DIR: ':memory:',
        WORKSPACE_DIR: join(dir, 'node-ws'),
        SANDBOX_ISOLATION: mode,
        SANDBOX_NETWORK: network,
      });
      const service = await startService(config, scriptedWork(), {
        logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
      });
      await service.stop();
      const line = lines
        .map((l) => JSON.parse(l) as { level: string; msg: string })
        .find((l) => l.msg.startsWith(text));
      expect(line, lines.join('\n')).toMatchObject({ level, msg: expect.stringContaining(says) });
    }
  });
});

describe('the service data hidden from commands (the embedded store in DATA_DIR)', () => {
  let data: string;
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'swe-hide-'));
    data = join(work, 'data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'swe-agent.db'), `db ${SECRET}\n`);
    await writeFile(join(data, 'secret-key'), `key ${SECRET}\n`);
    await chmod(work, 0o755);
    await chmod(data, 0o755);
    await chmod(join(data, 'swe-agent.db'), 0o644);
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  const look = (d: string) =>
    `cat ${d}/swe-agent.db ${d}/secret-key; echo entries=$(ls -A ${d} | wc -l); echo uid=$(id -u); umount ${d} 2>/dev/null && echo unmounted; cat ${d}/secret-key; true`;

  it("a settings file of the service's (ENV_FILE) reads as empty, and a hidden path that does not exist is no error", async () => {
    const envFile = join(work, 'service.env');
    await writeFile(envFile, `SECRET_KEY=${SECRET}\n`);
    const r = await runCommand(`cat ${envFile}; echo "bytes=$(wc -c < ${envFile})"`, {
      cwd: work,
      home: work,
      isolation: 'namespaces',
      hidden: [envFile, join(work, 'not-there')],
    });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).not.toContain(SECRET);
    expect(r.output).toContain('bytes=0');
  });

  it('a command in namespaces sees an empty directory there, cannot unmount it, and keeps its uid; without hiding it reads the files', async () => {
    for (const network of ['host', 'none'] as const) {
      expect(await namespaceSupport(network, [data])).toEqual({ available: true, reason: '' });
      const r = await runCommand(look(data), {
        cwd: work,
        home: work,
        isolation: 'namespaces',
        network,
        hidden: [data],
      });
      expect(r.output, network).not.toContain(SECRET);
      expect(r.output).toContain('entries=0');
      expect(r.output).not.toContain('unmounted');
      expect(r.output).toContain(`uid=${process.getuid?.()}`);
    }
    const open = await runCommand(look(data), { cwd: work, home: work, isolation: 'namespaces' });
    expect(open.output).toContain(SECRET);
  });

  it('as an unprivileged user too (the image runs as uid 1000)', () => {
    if (process.getuid?.() !== 0) return void expect(process.getuid?.()).toBeGreaterThan(0);
    const { file, args } = shellArgv(
      look(data),
      'namespaces',
      namespaceWrapper('host', [data], { uid: 1000, gid: 1000 }),
    );
    const run = (argv: string[]) =>
      spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', ...argv], {
        cwd: '/',
        encoding: 'utf8',
        timeout: 20_000,
      });
    const hidden = run([file, ...args]);
    expect(hidden.status, hidden.stderr).toBe(0);
    expect(hidden.stdout).not.toContain(SECRET);
    expect(hidden.stdout).toContain('entries=0');
    expect(hidden.stdout).toContain('uid=1000');
    expect(hidden.stdout).not.toContain('unmounted');
    // The control: the same user without the hiding reads the database.
    const plain = shellArgv(look(data), 'namespaces', NAMESPACE_WRAPPER);
    expect(run([plain.file, ...plain.args]).stdout).toContain(SECRET);
  });
});
