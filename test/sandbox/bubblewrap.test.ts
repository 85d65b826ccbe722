/**
 * The local sandbox as a boundary (SANDBOX_ISOLATION=auto → bubblewrap, and
 * SANDBOX_NETWORK=auto → internet), attacked as a hostile repository or model
 * would: real bubblewrap, real slirp4netns, real git, real servers on this
 * machine's loopback, the suite's real Redis. This machine and CI have
 * bubblewrap and slirp4netns (.ci/run installs them): where the probes say
 * otherwise the first tests fail with the reason, they never skip. Each
 * attack is also run without the boundary where that shows the test can fail.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
} from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBubblewrap } from '../../sandbox/bubblewrap-probe.ts';
import { confinedArgv } from '../../sandbox/confined.ts';
import { chooseIsolation } from '../../sandbox/isolation.ts';
import { createLocalSandboxProvider, type LocalSandboxOptions } from '../../sandbox/local.ts';
import type { Sandbox } from '../../sandbox/port.ts';
import { SERVICE_DIR } from '../../server/config.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { redisUrl } from '../support/stores.ts';
import { CONTRACT_REPO_FILES, sandboxContract } from './contract.ts';

const SECRET = `bwrap-secret-${ulid()}`;
// Commands use the machine's node (the suite's own may live in the checkout, which they cannot see).
const NODE = '/usr/bin/node';

let base: string;
let repo: string;
const made: Sandbox[] = [];

async function provider(extra: Partial<LocalSandboxOptions> = {}) {
  return createLocalSandboxProvider({
    root: join(base, 'ws'),
    allowLocalRepos: true,
    isolation: 'auto',
    network: 'auto',
    hiddenPaths: [SERVICE_DIR, join(base, 'data')],
    ...extra,
  });
}

async function sandbox(extra: Partial<LocalSandboxOptions> = {}): Promise<Sandbox> {
  const sb = await (await provider(extra)).create({ sessionId: ulid(), repoUrl: repo });
  made.push(sb);
  return sb;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'swe-bwrap-'));
  repo = await makeTestRepo(join(base, 'repo'), {
    ...CONTRACT_REPO_FILES,
    'test.sh': '#!/bin/sh\necho tests pass\n',
  });
  await mkdir(join(base, 'data'), { recursive: true });
  await writeFile(join(base, 'data', 'store.db'), SECRET);
  // The planted secret is in this process's environment, as a service's keys are in its own.
  process.env['SWE_PLANTED_SECRET'] = SECRET;
});

afterAll(async () => {
  delete process.env['SWE_PLANTED_SECRET'];
  await rm(base, { recursive: true, force: true });
});

describe('the machine runs the boundary (the tests below need it)', () => {
  it('bubblewrap with each network: internet, none, host', async () => {
    for (const n of ['internet', 'none', 'host'] as const)
      expect(await probeBubblewrap(n), n).toEqual({ available: true, reason: '' });
    expect(await chooseIsolation('auto', 'auto')).toMatchObject({
      isolation: 'bubblewrap',
      network: 'internet',
    });
  });
});

describe('sandbox → other sessions and files', () => {
  it("a command sees its own workspace, not another session's, the service's directory or its .env, the data directory, or the user's home", async () => {
    const a = await sandbox();
    const b = await sandbox();
    const root = join(base, 'ws');
    const r = await a.runCommand(
      [
        `ls -a ${root}`,
        `echo pwned > ${root}/${b.id}/stolen 2>&1 || echo write-refused`,
        `cat ${root}/${b.id}/README.md 2>&1 || echo read-refused`,
        `ls ${SERVICE_DIR} 2>&1 | head -3`,
        `cat ${SERVICE_DIR}/.env ${SERVICE_DIR}/package.json 2>&1 | head -3`,
        `cat ${join(base, 'data', 'store.db')} 2>&1`,
        `ls /root /home 2>&1 | head -3`,
        'cat /etc/shadow 2>&1 | head -1',
      ].join('; '),
    );
    // Only its own workspace (and its HOME and /tmp beside it) are bound in the root.
    const listed = r.output.split('\n').slice(0, 5);
    expect(listed).toContain(a.id);
    expect(r.output).not.toContain(`${b.id}\n`);
    expect(r.output).toContain('write-refused');
    expect(r.output).toContain('read-refused');
    expect(r.output).not.toContain(SECRET);
    expect(r.output).not.toContain('"name": "swe-agent"');
    expect(r.output).toMatch(/No such file or directory/);
    expect(existsSync(join(root, b.id, 'stolen'))).toBe(false);
    // Even as root: /etc/shadow is masked (a device node on a nodev mount: unreadable).
    expect(r.output).not.toMatch(/^root:/m);
  });

  it("/tmp and HOME are the session's own: what one session leaves there, another does not see, and the machine's /tmp is untouched", async () => {
    const a = await sandbox();
    const b = await sandbox();
    const mark = `mark-${ulid()}`;
    expect((await a.runCommand(`echo ${SECRET} > /tmp/${mark}; echo x > ~/${mark}`)).exitCode).toBe(
      0,
    );
    expect((await a.runCommand(`cat /tmp/${mark}`)).output).toContain(SECRET);
    const other = await b.runCommand(`cat /tmp/${mark} ~/${mark} 2>&1 || true`);
    expect(other.output).not.toContain(SECRET);
    expect(existsSync(join('/tmp', mark))).toBe(false);
  });

  it('the system is read-only and hidden paths inside read-only ones are empty', async () => {
    const tools = join(base, 'tools');
    await mkdir(join(tools, 'private'), { recursive: true });
    await writeFile(join(tools, 'tool.sh'), 'echo tool');
    await writeFile(join(tools, 'private', 'key'), SECRET);
    // A settings file of the service's (ENV_FILE) where the view shows files read-only.
    await writeFile(join(tools, 'service.env'), `SECRET_KEY=${SECRET}\n`);
    const sb = await sandbox({
      readPaths: [tools],
      hiddenPaths: [SERVICE_DIR, join(tools, 'private'), join(tools, 'service.env')],
    });
    const r = await sb.runCommand(
      `touch /usr/pwned 2>&1 || echo usr-refused; sh ${tools}/tool.sh; ls -a ${tools}/private; cat ${tools}/private/key 2>&1; cat ${tools}/service.env 2>&1; touch ${tools}/x 2>&1 || echo tools-refused`,
    );
    expect(r.output).toContain('usr-refused');
    expect(r.output).toContain('tool');
    expect(r.output).not.toContain(SECRET);
    expect(r.output).toContain('tools-refused');
  });

  it("cannot read the service's environment through /proc: only the command's processes are there", async () => {
    const sb = await sandbox();
    const r = await sb.runCommand(
      `cat /proc/${process.pid}/environ 2>&1; cat /proc/1/environ 2>/dev/null | tr '\\0' '\\n' | grep -c SWE_PLANTED; ls /proc | grep -c '^[0-9]'`,
    );
    expect(r.output).not.toContain(SECRET);
    expect(Number(r.output.trim().split('\n').pop())).toBeLessThan(8);
  });
});

describe("a workspace under a directory holding the service's package.json and node_modules", () => {
  it('a CommonJS repository passes its own tests: nothing above the workspace is in the view', async () => {
    // The old default put workspaces in the service's checkout: an ESM package.json above them.
    const parent = join(base, 'service-like');
    await mkdir(join(parent, 'node_modules', 'lodash'), { recursive: true });
    await writeFile(join(parent, 'package.json'), '{ "name": "swe-agent", "type": "module" }\n');
    await writeFile(join(parent, 'node_modules', 'lodash', 'index.js'), 'module.exports = 1;\n');
    const cjs = await makeTestRepo(join(base, 'cjs-origin'), {
      'lib.js': 'module.exports = (a, b) => a + b;\n',
      'test.js':
        "const add = require('./lib');\nlet stray = false;\ntry { require('lodash'); stray = true; } catch {}\nif (add(1, 2) !== 3 || stray) process.exit(1);\nconsole.log('cjs tests pass');\n",
    });
    const run = async (extra: Partial<LocalSandboxOptions>) => {
      const p = createLocalSandboxProvider({
        root: join(parent, 'workspace'),
        allowLocalRepos: true,
        isolation: 'auto',
        network: 'auto',
        ...extra,
      });
      const sb = await p.create({ sessionId: ulid(), repoUrl: cjs });
      return sb.runCommand(`${NODE} test.js`);
    };
    const boxed = await run({});
    expect(boxed.exitCode, boxed.output).toBe(0);
    expect(boxed.output).toContain('cjs tests pass');
    // The control: as the service, the repository inherits the ESM package.json above it and fails.
    const bare = await run({ isolation: 'none', network: 'host' });
    expect(bare.exitCode).not.toBe(0);
    expect(bare.output).toMatch(/require is not defined|ES module/);
  });
});

describe("sandbox → service: the service's git on a .git a command armed", () => {
  const ARM = [
    // What a repository's test script can do to its own clone: a clean filter, an fsmonitor and a hook, all running a probe.
    `cat > .git/probe.sh <<'EOF'\n#!/bin/sh\ncat /proc/$SERVICE_PID/environ > "$OUT/environ" 2>/dev/null\ncat "$DATA" > "$OUT/data" 2>/dev/null\necho ran > "$OUT/ran"\ncat\nEOF`,
    'chmod +x .git/probe.sh',
    'git config filter.probe.clean "$PWD/.git/probe.sh"',
    'git config core.fsmonitor "$PWD/.git/probe.sh"',
    'git config core.hooksPath "$PWD/.git"',
    'echo "* filter=probe" > .gitattributes',
    'echo changed >> README.md',
  ].join('\n');

  /** Arms the workspace, then runs the service's diff; what the probe wrote outside the sandbox, if anything. */
  async function attack(extra: Partial<LocalSandboxOptions>) {
    const out = join(base, `out-${ulid()}`);
    await mkdir(out);
    const sb = await sandbox(extra);
    const vars = `SERVICE_PID=${process.pid} OUT=${out} DATA=${join(base, 'data', 'store.db')}`;
    // The probe's variables must be known when git runs it, so they go into the config with it.
    const armed = await sb.runCommand(
      `${ARM}\ngit config filter.probe.clean "env ${vars} $PWD/.git/probe.sh"\ngit config core.fsmonitor "env ${vars} $PWD/.git/probe.sh"`,
    );
    expect(armed.exitCode, armed.output).toBe(0);
    const diff = await sb.diff();
    const ran = existsSync(join(out, 'ran'));
    const read = (f: string) =>
      existsSync(join(out, f)) ? readFileSync(join(out, f), 'utf8') : '';
    return { diff, ran, environ: read('environ'), data: read('data') };
  }

  it('runs, if at all, inside the sandbox: nothing reaches the service, its environment or its files', async () => {
    const got = await attack({});
    expect(got.ran).toBe(false);
    expect(got.environ).toBe('');
    expect(got.data).toBe('');
    expect(got.diff).toContain('+changed');
  });

  it('the control: without isolation the same repository runs code as the service and reads its secrets', async () => {
    const got = await attack({ isolation: 'none', network: 'host' });
    expect(got.ran).toBe(true);
    // The service's environment (this process's, as it started) and its data: both in the attacker's hands.
    expect(got.environ).toContain('PATH=');
    expect(got.data).toContain(SECRET);
  });
});

describe('sandbox → Redis and the API: the internet network', () => {
  let api: Server;
  let apiPort: number;
  let outside: TcpServer;
  let outsidePort: number;
  let outsideAddress: string;
  const hits: string[] = [];

  beforeAll(async () => {
    api = createHttpServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.end(SECRET);
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiPort = (api.address() as AddressInfo).port;
    // "The internet": this machine's own non-loopback address, reached the way a registry would be.
    const v4 = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    expect(v4, 'this machine needs a non-loopback IPv4 address for this test').toBeDefined();
    outsideAddress = v4?.address ?? '';
    outside = createTcpServer((s) => s.end('outside-ok\n'));
    await new Promise<void>((r) => outside.listen(0, outsideAddress, r));
    outsidePort = (outside.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((r) => api.close(r));
    await new Promise((r) => outside.close(r));
  });

  const connect = (host: string, port: number) =>
    `${NODE} -e 'const s=require("net").connect(${port},"${host}");s.setTimeout(3000);s.on("data",d=>{process.stdout.write("got:"+d);s.destroy()});s.on("timeout",()=>{console.log("timeout");process.exit(3)});s.on("error",e=>{console.log("error:"+e.code);process.exit(2)})'`;

  it("reaches the outside, but not this machine's loopback: not the API, not Redis, not through the gateway", async () => {
    expect(existsSync(NODE), `${NODE} is what these commands run`).toBe(true);
    const redis = new URL(redisUrl());
    const sb = await sandbox();
    const out = await sb.runCommand(connect(outsideAddress, outsidePort));
    expect(out.output).toContain('got:outside-ok');
    for (const [host, port] of [
      ['127.0.0.1', apiPort],
      ['10.0.2.2', apiPort],
      [redis.hostname === 'localhost' ? '127.0.0.1' : redis.hostname, Number(redis.port || 6379)],
    ] as const) {
      const r = await sb.runCommand(connect(host, port));
      expect(r.output, `${host}:${port}`).toMatch(
        /error:(ECONNREFUSED|ENETUNREACH|EHOSTUNREACH)|timeout/,
      );
      expect(r.output).not.toContain(SECRET);
    }
    expect(hits).toEqual([]);
    // The control: the machine's network reaches the same API.
    const host = await (await sandbox({ network: 'host' })).runCommand(
      `curl -s http://127.0.0.1:${apiPort}/`,
    );
    expect(host.output).toContain(SECRET);
  });

  it("names resolve through the namespace's own resolver, and git inside works offline on the repository", async () => {
    const sb = await sandbox();
    const r = await sb.runCommand('cat /etc/resolv.conf; git log --oneline | wc -l');
    expect(r.output).toContain('nameserver 10.0.2.3');
    expect(r.output.trim().split('\n').pop()).toBe('1');
  });
});

describe('limits per command, and the model told which one ended its command', () => {
  it('CPU time: a busy loop is killed at SANDBOX_CPU_SECONDS', async () => {
    const sb = await sandbox({ limits: { memoryBytes: 0, processes: 0, cpuSeconds: 1 } });
    const r = await sb.runCommand('while :; do :; done', { timeoutMs: 60_000 });
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(128 + 24);
    expect(r.killed).toMatch(/CPU time limit of 1 s \(SANDBOX_CPU_SECONDS\)/);
  });

  it('memory: an allocation past SANDBOX_MEMORY_MB fails, and the model hears why', async () => {
    const sb = await sandbox({
      limits: { memoryBytes: 256 * 1024 * 1024, processes: 0, cpuSeconds: 0 },
    });
    const r = await sb.runCommand(
      `${NODE} -e 'const a=[]; for (let i=0;i<64;i++) a.push(Buffer.alloc(32*1024*1024, 1)); console.log("allocated")'`,
    );
    expect(r.output).not.toContain('allocated');
    expect(r.killed).toMatch(/out of memory: each may hold at most 256 MB \(SANDBOX_MEMORY_MB\)/);
    // Within the limit the same program runs.
    const ok = await sb.runCommand(
      `${NODE} -e 'Buffer.alloc(32*1024*1024, 1); console.log("fine")'`,
    );
    expect(ok).toMatchObject({ exitCode: 0 });
    expect(ok.killed).toBeUndefined();
  });

  it('processes: a fork bomb stops at SANDBOX_MAX_PROCESSES (as uid 1000: the kernel exempts root)', async () => {
    if (process.getuid?.() !== 0) return void expect(process.getuid?.()).toBeGreaterThan(0);
    const ws = join(base, `u1000-${ulid()}`);
    const [dir, home, tmp] = [join(ws, 'w'), join(ws, 'h'), join(ws, 't')];
    for (const d of [ws, dir, home, tmp]) {
      await mkdir(d, { recursive: true });
      await chown(d, 1000, 1000);
    }
    await chmod(base, 0o755);
    const { file, args } = confinedArgv(
      [
        '/bin/sh',
        '-c',
        'for i in $(seq 100); do sleep 5 & done 2>&1 | tail -1; echo started=$(jobs -p | wc -l)',
      ],
      {
        isolation: 'bubblewrap',
        network: 'none',
        view: { workspace: dir, home, tmp, readPaths: [], hidden: [] },
        limits: { memoryBytes: 0, processes: 30, cpuSeconds: 0 },
      },
      dir,
    );
    const r = spawnSync(
      'setpriv',
      ['--reuid=1000', '--regid=1000', '--clear-groups', file, ...args],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    const said = r.stdout + r.stderr;
    expect(said).toMatch(/Cannot fork|Resource temporarily unavailable/);
    const { limitHit } = await import('../../sandbox/limits.ts');
    expect(limitHit(2, said, { memoryBytes: 0, processes: 30, cpuSeconds: 0 })).toMatch(
      /at most 30 processes and threads .*SANDBOX_MAX_PROCESSES/,
    );
  });
});

describe('the clone: size limit over the whole clone, and cancel', () => {
  it('a small repository holding one huge file stops at CLONE_MAX_MB, not after writing it', async () => {
    const bomb = join(base, 'bomb');
    await makeTestRepo(bomb, { 'README.md': 'small\n' });
    // 200 MB of zeros: a pack of a few hundred KB, a checkout of 200 MB.
    spawnSync(
      'sh',
      [
        '-c',
        'head -c 200000000 /dev/zero > big.bin && git add big.bin && git -c user.name=t -c user.email=t@t commit -qm big',
      ],
      {
        cwd: bomb,
      },
    );
    const { clone } = await import('../../sandbox/local-clone.ts');
    const { directoryBytes } = await import('../../sandbox/disk-usage.ts');
    const into = join(base, `bomb-clone-${ulid()}`);
    const max = 5 * 1024 * 1024;
    const err = await clone(bomb, into, base, {
      root: base,
      allowLocalRepos: true,
      cloneMaxBytes: max,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/larger than the limit of 5 MB \(CLONE_MAX_MB\)/);
    // What was written stays near the limit: the file stopped at it.
    expect(await directoryBytes(into).catch(() => 0)).toBeLessThan(2 * max);
  });

  it('cancel kills a hung clone and every process it started', async () => {
    const tag = `hang-${ulid()}`;
    const held: import('node:net').Socket[] = [];
    // A git host that accepts and never answers.
    const server = createTcpServer((s) => held.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const stop = new AbortController();
    const p = await provider();
    const made = p.create({
      sessionId: ulid(),
      repoUrl: `https://127.0.0.1:${port}/${tag}.git`,
      signal: stop.signal,
    });
    const running = () =>
      readdirSync0().filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(tag);
        } catch {
          return false;
        }
      });
    const { waitFor } = await import('../support/wait.ts');
    await waitFor('the clone to start', () => running().length > 0);
    stop.abort(new Error('the session was cancelled'));
    await expect(made).rejects.toMatchObject({ message: expect.stringMatching(/cancelled/) });
    await waitFor('every process of the clone to be gone', () => running().length === 0);
    for (const s of held) s.destroy();
    await new Promise((r) => server.close(r));
  });
});

function readdirSync0(): string[] {
  return spawnSync('ls', ['/proc'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((n) => /^\d+$/.test(n));
}

// The port's contract holds under the boundary too: files, commands, diff and checkpoint.
sandboxContract('local, under bubblewrap with the internet network', async () => {
  const root = await mkdtemp(join(tmpdir(), 'swe-bwrap-contract-'));
  const repoUrl = await makeTestRepo(join(root, 'origin'), CONTRACT_REPO_FILES);
  const provider = createLocalSandboxProvider({
    root: join(root, 'workspace'),
    allowLocalRepos: true,
    isolation: 'bubblewrap',
    network: 'internet',
    limits: { memoryBytes: 1024 * 1024 * 1024, processes: 512, cpuSeconds: 600 },
  });
  return { provider, repoUrl, cleanup: () => rm(root, { recursive: true, force: true }) };
});
