/**
 * The image without a Docker engine: the Dockerfile's invariants, then its
 * steps replayed on a clean copy of the build context (the production
 * install really runs), and the node started the way the image starts it,
 * as the image's user, with the image's environment.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  linkSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrl, uniquePrefix } from '../support/stores.ts';
import { freePort } from '../support/net.ts';
import { waitFor } from '../support/wait.ts';
import {
  last,
  parseCommand,
  parseCopy,
  parseDockerfile,
  parseEnv,
  parseHealthcheck,
  type Stage,
} from './dockerfile.ts';
import { buildContext, NODE_USER_ID, replay, type ReplayedStage } from './image-replay.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(DOCKERFILE);
const final = stages.at(-1)!;
const envOf = (s: Stage) =>
  Object.assign(
    {},
    ...s.steps.filter((x) => x.op === 'ENV').map((x) => parseEnv(x.args)),
  ) as Record<string, string>;
const execForm = (s: Stage, op: string) => {
  const c = parseCommand(last(s, op)?.args ?? '""');
  if (c.form !== 'exec') throw new Error(`${op} is not in exec form`);
  return c.argv;
};

describe('Dockerfile', () => {
  it('builds in two stages on node:24-trixie-slim: production dependencies, then the runtime', () => {
    expect(stages.map((s) => s.from)).toEqual(['node:24-trixie-slim', 'node:24-trixie-slim']);
    const install = stages[0]!.steps
      .filter((s) => s.op === 'RUN')
      .map((s) => s.args)
      .join(' && ');
    expect(install).toMatch(/\bnpm ci --omit=dev\b/);
    // node_modules reaches the runtime only from the deps stage, never from the build context.
    const copies = final.steps.filter((s) => s.op === 'COPY').map((s) => parseCopy(s.args));
    expect(copies.find((c) => c.sources.includes('/app/node_modules'))?.from).toBe(stages[0]!.name);
    expect(copies.filter((c) => c.from === undefined).flatMap((c) => c.sources)).not.toContain(
      'node_modules',
    );
    // Node runs the sources itself: neither tsx nor any other loader is needed in production.
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.engines.node).toBe('>=24');
  });

  it('runs as a non-root user, beyond loopback on 8000, with a health check, node as the command and tini as init', () => {
    const user = last(final, 'USER')?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    expect(envOf(final)).toMatchObject({ HOST: '0.0.0.0', PORT: '8000' });
    expect(last(final, 'EXPOSE')?.args.split(' ')).toContain('8000');
    expect(last(final, 'STOPSIGNAL')?.args).toBe('SIGTERM');
    // npm would stand between the signal and node: the command is node itself.
    expect(execForm(final, 'CMD')).toEqual(['node', 'server/main.ts']);
    expect(execForm(final, 'ENTRYPOINT')).toEqual(['/usr/bin/tini', '--']);
    const hc = parseHealthcheck(last(final, 'HEALTHCHECK')!.args);
    expect(hc).not.toBe('NONE');
    expect(hc !== 'NONE' && hc.command.form).toBe('exec');
  });

  it('installs git and the toolchains a local sandbox needs, and owns only the workspace', () => {
    const runs = final.steps
      .filter((s) => s.op === 'RUN')
      .map((s) => s.args)
      .join(' ');
    for (const pkg of [
      'tini',
      'git',
      'openssh-client',
      'ca-certificates',
      'curl',
      'bash',
      'python3',
      'make',
      'g++',
      'bubblewrap',
      'slirp4netns',
    ])
      expect(runs.split(' ')).toContain(pkg);
    expect(runs).toMatch(/--no-install-recommends/);
    expect(runs).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
    // Outside the service's /app: a repository there would inherit its package.json and node_modules.
    expect(envOf(final)['WORKSPACE_DIR']).toBe('/workspaces');
    expect(runs).toMatch(/chown node:node \/workspaces(\s|$)/);
    // The embedded store's data directory: the image's user owns it, Docker keeps it.
    expect(envOf(final)['DATA_DIR']).toBe('/data');
    expect(runs).toMatch(/chown node:node \/data(\s|$)/);
    expect(final.steps.filter((s) => s.op === 'VOLUME').map((s) => s.args)).toEqual([
      '/data /workspaces',
    ]);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['.env', 'node_modules', '.git', 'workspace', 'test-results'])
      expect(ignore).toContain(p);
  });
});

describe('the image, replayed without Docker', () => {
  let work: string;
  let app: ReplayedStage;
  let appDir: string;
  let home: string;
  const asRoot = process.getuid?.() === 0;
  let replayMs = 0;

  beforeAll(() => {
    const t0 = Date.now();
    work = mkdtempSync(join(tmpdir(), 'swe-image-'));
    chmodSync(work, 0o755);
    buildContext(REPO, join(work, 'context'));
    const replayed = replay(DOCKERFILE, join(work, 'context'), join(work, 'fs'), {
      // The same install, from the local npm cache when it has the packages.
      runEnv: { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
    });
    app = replayed.at(-1)!;
    appDir = join(app.root, app.workdir);
    home = join(work, 'home');
    mkdirSync(home);
    if (asRoot) chownSync(home, NODE_USER_ID, NODE_USER_ID);
    // The base image's node (/usr/local/bin/node): the Node running this
    // suite, where the image's user can run it (the suite's own may sit in a
    // directory only its owner enters, and PATH would then find an older one).
    mkdirSync(join(work, 'bin'));
    try {
      linkSync(process.execPath, join(work, 'bin', 'node'));
    } catch {
      copyFileSync(process.execPath, join(work, 'bin', 'node'));
    }
    chmodSync(join(work, 'bin', 'node'), 0o755);
    replayMs = Date.now() - t0;
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('has every module the node imports, and only production dependencies among them', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const { files, packages } = importGraph(join(appDir, execForm(final, 'CMD').at(-1)!));
    expect(files.size).toBeGreaterThan(20);
    for (const p of packages) {
      expect(
        Object.keys(pkg.dependencies),
        `${p} is imported by the node but is not a production dependency`,
      ).toContain(p);
      expect(
        existsSync(join(appDir, 'node_modules', p, 'package.json')),
        `${p} is not installed in the image`,
      ).toBe(true);
    }
    expect(
      existsSync(join(appDir, 'node_modules', 'vitest')),
      'dev dependencies must not reach the image',
    ).toBe(false);
    console.log(`image replay (context copy + npm ci --omit=dev): ${replayMs} ms`);
  });

  it('serves health, readiness, the UI and the API with the generated admin token, passes its HEALTHCHECK, and stops cleanly on SIGTERM', async () => {
    // docker run --env-file passes a line's comment through; the node ignores it.
    const node = await startNode({ LOG_LEVEL: 'info   # as docker run --env-file passes it' });
    let token = '';
    try {
      token = await waitFor(
        'the admin token on stderr',
        () => /ADMIN TOKEN[^\n]*: (\S+)\s*$/m.exec(node.stderr())?.[1],
        30_000,
      );
      expect((await fetch(`${node.url}/health`)).status).toBe(200);
      expect((await fetch(`${node.url}/ready`)).status).toBe(200);
      const page = await fetch(`${node.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const assets = [...(await page.text()).matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map(
        (m) => m[1]!,
      );
      expect(assets.length).toBeGreaterThan(0);
      for (const a of assets) expect((await fetch(`${node.url}${a}`)).status, a).toBe(200);
      expect((await fetch(`${node.url}/agent/me`)).status).toBe(401);
      const me = await fetch(`${node.url}/agent/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ role: 'admin', auth: 'token' });
      expect(healthcheck(node.port)).toBe(0);
      // As the image's user, not root (when the test can switch users).
      if (asRoot)
        expect(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${node.pid}/status`, 'utf8'))?.[1]).toBe(
          String(NODE_USER_ID),
        );
    } finally {
      const ms = await node.stop();
      console.log(`SIGTERM to exit (embedded store): ${ms} ms`);
    }
    expect(node.exitCode()).toBe(0);
    expect(healthcheck(node.port)).toBe(1);

    // A new container on the same /data volume: the admin and its token are still there.
    const again = await startNode({});
    try {
      const me = await fetch(`${again.url}/agent/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.status).toBe(200);
      expect(again.stderr()).not.toMatch(/ADMIN TOKEN/);
      expect(again.stderr() + again.stdout()).toMatch(/store: sqlite in \S*\/data /);
    } finally {
      await again.stop();
    }
  });

  it('runs on Redis with ADMIN_TOKEN and SECRET_KEY from the environment', async () => {
    const prefix = uniquePrefix();
    const adminToken = 'image-test-admin-token-0123456789';
    const node = await startNode({
      REDIS_URL: redisUrl(),
      REDIS_PREFIX: prefix,
      SECRET_KEY: 'image-test-secret-key-0123456789',
      ADMIN_TOKEN: adminToken,
    });
    try {
      expect((await fetch(`${node.url}/ready`)).status).toBe(200);
      const me = await fetch(`${node.url}/agent/me`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(me.status).toBe(200);
      expect(node.stderr()).not.toMatch(/ADMIN TOKEN/);
    } finally {
      const ms = await node.stop();
      console.log(`SIGTERM to exit (Redis): ${ms} ms`);
      const raw = new Redis(redisUrl());
      const keys = await raw.keys(`${prefix}:*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
    }
    expect(node.exitCode()).toBe(0);
  });

  /** The image's CMD, in its WORKDIR, with its ENV (paths mapped into the replay), as its USER when we can. */
  async function startNode(extra: Record<string, string>) {
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: `${join(work, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      HOME: home,
    };
    // Paths of the image (the app's folders, its volumes) are folders of the replay.
    const inImage = (v: string) =>
      v.startsWith(`${app.workdir}/`) || app.volumes.some((p) => v === p || v.startsWith(`${p}/`));
    for (const [k, v] of Object.entries(app.env)) env[k] = inImage(v) ? join(app.root, v) : v;
    Object.assign(env, { PORT: String(port) }, extra);
    const [exe, ...args] = execForm(final, 'CMD');
    const child = spawn(exe!, args, {
      cwd: appDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asRoot ? { uid: NODE_USER_ID, gid: NODE_USER_ID } : {}),
    });
    return NodeUnderTest.start(child, port);
  }

  /** Runs the HEALTHCHECK command as Docker would, against `port`; its exit code. */
  function healthcheck(port: number): number | null {
    const hc = parseHealthcheck(last(final, 'HEALTHCHECK')!.args);
    if (hc === 'NONE' || hc.command.form !== 'exec')
      throw new Error('HEALTHCHECK is not in exec form');
    const [exe, ...args] = hc.command.argv;
    return spawnSync(exe!, args, {
      env: { PATH: `${join(work, 'bin')}:${process.env['PATH'] ?? ''}`, PORT: String(port) },
      timeout: 10_000,
    }).status;
  }
});

class NodeUnderTest {
  readonly url: string;
  readonly port: number;
  #child: ChildProcess;
  #out = '';
  #err = '';
  #exit: Promise<number | null>;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    child.stdout!.on('data', (b: Buffer) => (this.#out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.#err += b.toString()));
    this.#exit = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  static async start(child: ChildProcess, port: number): Promise<NodeUnderTest> {
    const n = new NodeUnderTest(child, port);
    const died = n.#exit.then(() => {
      throw new Error(
        `the node exited before answering /health:\n${n.#out.slice(-2000)}\n${n.#err.slice(-2000)}`,
      );
    });
    died.catch(() => undefined);
    await Promise.race([
      waitFor(
        '/health',
        async () => (await fetch(`${n.url}/health`).catch(() => null))?.ok === true,
        60_000,
        100,
      ),
      died,
    ]);
    return n;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  stdout(): string {
    return this.#out;
  }

  stderr(): string {
    return this.#err;
  }

  exitCode(): number | null {
    return this.#child.exitCode;
  }

  /** SIGTERM; the time to exit in ms (fails after 5 s). */
  async stop(): Promise<number> {
    if (this.#child.exitCode !== null) return 0;
    const t0 = Date.now();
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await this.#exit;
    clearTimeout(timer);
    const ms = Date.now() - t0;
    if (ms >= 5_000)
      throw new Error(`the node took over 5 s to stop on SIGTERM:\n${this.#out.slice(-2000)}`);
    return ms;
  }
}

/** Every module reachable from `entry` through relative imports (static and dynamic), and the packages they import. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    if (!existsSync(file)) throw new Error(`${file} is imported but not in the image`);
    files.add(file);
    const src = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const specs = [
      ...[
        ...src.matchAll(
          /^\s*(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/gm,
        ),
      ]
        .filter((m) => !m[1])
        .map((m) => m[2]!),
      ...[...src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
    ];
    for (const spec of specs) {
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else
        packages.add(
          spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!,
        );
    }
  };
  visit(entry);
  return { files, packages };
}
