/**
 * Hostile repository URLs. At the API: remote helpers that run commands
 * (`ext::sh -c …`), option injection (`--upload-pack=…`), and local
 * repositories when the server does not allow them are a 400 naming
 * `repo_url`, store nothing and run nothing. Past the API, with local
 * repositories allowed: a host that does not answer, one that never finishes,
 * and a repository over the size limit end the session FAILED with a reason
 * that says which, leave no half clone behind, and write nothing outside the
 * workspace.
 */
import { INTERNAL_FAILURE } from '../../sandbox/local-clone.ts';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { startApp } from '../support/service/app.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { scriptedModel } from '../support/scripted-model.ts';
import { storeState } from '../support/store-state.ts';
import { waitFor } from '../support/wait.ts';
import { createLocalSandboxProvider } from '../../sandbox/local.ts';
import { runGit } from '../../sandbox/exec.ts';

const RUN = ulid().toLowerCase();
/** Files the hostile URLs would create if anything ran them. */
const marker = (name: string) => join(tmpdir(), `swe-pwned-${RUN}-${name}`);

/** URLs no server may clone, whatever its policy. */
const ALWAYS_REFUSED = [
  `ext::sh -c touch% ${marker('ext1')}`,
  `ext::sh -c "touch ${marker('ext2')}"`,
  `EXT::sh -c touch% ${marker('ext3')}`,
  'fd::17',
  `transport::${marker('transport')}`,
  `--upload-pack=touch ${marker('upload')}`,
  `-uupload-pack=touch% ${marker('u')}`,
  `--config=core.sshCommand=touch ${marker('config')}`,
  '-',
  `ssh://-oProxyCommand=touch%20${marker('proxy')}/x`,
  `git@-oProxyCommand=touch:${marker('scp')}`,
  `git@github.com:-upload-pack=touch`,
  `https://github.com/o/r.git --upload-pack=touch ${marker('space')}`,
  `https://github.com/o/r.git\n--upload-pack=x`,
  'https://github.com/o/r.git\u0000',
  'http://example.com/repo.git',
  'git://example.com/repo.git',
  'ftp://example.com/repo.git',
  'relative/path',
  './here',
  '../up',
  '~/repo',
  'C:\\repos\\x',
  'https://github.com',
  'https://169.254.169.254/latest/meta-data.git',
  'https://metadata.google.internal/computeMetadata/v1.git',
  'ssh://git@[fe80::1]/o/r.git',
];

/** Local repositories: refused unless ALLOW_LOCAL_REPOS. */
const LOCAL = ['file:///etc', '/etc', '/tmp', 'file:///tmp/../etc/passwd'];
/** Local-looking URLs refused even when local repositories are allowed. */
const LOCAL_ALWAYS_REFUSED = ['file://localhost/etc', 'file://host/x', 'file:relative'];

async function listTree(root: string, skip: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, e.name);
      if (path === skip) continue;
      const st = await stat(path).catch(() => null);
      out.push(`${relative(root, path)} ${e.isDirectory() ? 'dir' : st?.size}`);
      if (e.isDirectory() && !e.isSymbolicLink()) await walk(path);
    }
  };
  await walk(root);
  return out.sort();
}

const markersLeft = async () =>
  (await readdir(tmpdir())).filter((n) => n.startsWith(`swe-pwned-${RUN}`));

/** Credentials in a URL: refused, and never echoed back (the secret is `T0KEN-…`). */
const SECRET = `T0KEN-${RUN}`;
const WITH_CREDENTIALS = [
  `https://${SECRET}@github.com/o/private.git`,
  `https://x-access-token:${SECRET}@github.com/o/private.git`,
  `https://user:${SECRET}@gitlab.example.com/g/p.git`,
  `ssh://git:${SECRET}@example.com/o/r.git`,
];

describe('hostile repository URLs at the API', () => {
  it('are a 400 naming repo_url, store nothing and run nothing, with local repositories disallowed and allowed', async () => {
    for (const allowLocalRepos of [false, true]) {
      const h = await startApp({ allowLocalRepos });
      const ada = await h.user('ada');
      const refused = [
        ...ALWAYS_REFUSED,
        ...LOCAL_ALWAYS_REFUSED,
        ...(allowLocalRepos ? [] : LOCAL),
      ];
      const before = await storeState(h.store);
      for (const repo_url of refused) {
        for (const call of [h.admin, ada.call]) {
          const r = await call('POST', '/agent/sessions', { goal: 'pwn', repo_url });
          expect(r.status, `${repo_url} (local ${allowLocalRepos})`).toBe(400);
          expect(r.body.error, repo_url).toMatchObject({ code: 'bad_request', field: 'repo_url' });
          expect(r.body.error.message, repo_url).toMatch(/^repo_url /);
        }
      }
      expect(await storeState(h.store)).toBe(before);
      if (allowLocalRepos) {
        for (const repo_url of LOCAL)
          expect(
            (await h.admin('POST', '/agent/sessions', { goal: 'local', repo_url })).status,
            repo_url,
          ).toBe(201);
      }
    }
    expect(await markersLeft()).toEqual([]);
  });

  it('holding credentials are a 400 that does not echo them, and point to the node authenticating instead', async () => {
    const h = await startApp();
    for (const repo_url of WITH_CREDENTIALS) {
      const r = await h.admin('POST', '/agent/sessions', { goal: 'private', repo_url });
      expect(r.status, repo_url).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'bad_request', field: 'repo_url' });
      expect(r.body.error.message).toMatch(/holds credentials.*credential helper/);
      expect(JSON.stringify(r.body)).not.toContain(SECRET);
    }
    expect(h.bodies.join('\n') + h.lines.join('\n')).not.toContain(SECRET);
    expect(await h.store.listSessions({ limit: 10 })).toEqual([]);
    // A user name that is no secret stays allowed.
    expect(
      (
        await h.admin('POST', '/agent/sessions', {
          goal: 'ok',
          repo_url: 'ssh://git@example.com/o/r.git',
        })
      ).status,
    ).toBe(201);
  });

  it('are refused by the sandbox itself too, before git runs, even with local repositories allowed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swe-urls-'));
    try {
      const root = join(dir, 'ws');
      const provider = createLocalSandboxProvider({ root, allowLocalRepos: true });
      for (const repoUrl of [...ALWAYS_REFUSED, ...LOCAL_ALWAYS_REFUSED]) {
        await expect(
          provider.create({ sessionId: `u${ulid()}`, repoUrl }),
          repoUrl,
        ).rejects.toMatchObject({ code: 'sandbox_repo_url', status: 400, field: 'repo_url' });
      }
      // Nothing was cloned, not even half.
      expect(await readdir(root).catch(() => [] as string[])).toEqual([]);
      expect(await markersLeft()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('clones that cannot finish', () => {
  let dir: string;
  let small: string;
  let big: string;
  let tarpit: Server;
  let tarpitPort: number;
  const held: Socket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swe-clone-limits-'));
    small = await makeTestRepo(join(dir, 'repos', 'small'), { 'README.md': '# small\n' });
    big = await makeTestRepo(join(dir, 'repos', 'big'), { 'README.md': '# big\n' });
    // 3 MB that do not compress: the clone is as big on disk as it looks.
    await writeFile(join(big, 'blob.bin'), randomBytes(3 * 1024 * 1024));
    await runGit(['-c', 'user.name=t', '-c', 'user.email=t@t', 'add', 'blob.bin'], big, {
      home: dir,
    });
    await runGit(
      [
        '-c',
        'user.name=t',
        '-c',
        'user.email=t@t',
        '-c',
        'commit.gpgsign=false',
        'commit',
        '-q',
        '-m',
        'big',
      ],
      big,
      { home: dir },
    );
    // A server that accepts connections and never says a word: TLS never starts, the clone never ends.
    tarpit = createServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    tarpitPort = (tarpit.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => tarpit.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('an unreachable host, a host that never answers, a repository over the size limit: FAILED with the reason; a small one completes; nothing written outside the workspace', async () => {
    const ws = join(dir, 'ws');
    const outside = await listTree(dir, ws);
    const svc = await startInProcess({
      agent: {
        model: scriptedModel({}),
        workspace: ws,
        sandbox: { cloneTimeoutMs: 1500, cloneMaxBytes: 1024 * 1024 },
      },
    });
    try {
      const start = async (repo_url: string) => {
        const r = await svc.call('POST', '/agent/sessions', { goal: 'look at it', repo_url });
        expect(r.status, repo_url).toBe(201);
        return r.body.session_id as string;
      };
      const ids = {
        unreachable: await start('https://127.0.0.1:1/x.git'),
        silent: await start(`https://127.0.0.1:${tarpitPort}/slow.git`),
        big: await start(`file://${big}`),
        small: await start(small),
      };
      const t0 = Date.now();
      const ended = async (id: string) =>
        waitFor(
          `session ${id} to end`,
          async () => {
            const s = (await svc.call('GET', `/agent/sessions/${id}`)).body;
            return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s.status) ? s : undefined;
          },
          30_000,
          50,
        );
      const [unreachable, silent, tooBig, fine] = await Promise.all([
        ended(ids.unreachable),
        ended(ids.silent),
        ended(ids.big),
        ended(ids.small),
      ]);
      expect(Date.now() - t0, 'the time limit, not git, ended the silent clone').toBeLessThan(
        15_000,
      );

      // Both on loopback: a closed port and one that accepts and hangs read the same (port-probing.test.ts).
      expect(unreachable.status).toBe('FAILED');
      expect(unreachable.reason).toBe(
        `cloning the repository failed: cannot clone https://127.0.0.1:1/x.git: ${INTERNAL_FAILURE}`,
      );
      expect(silent.status).toBe('FAILED');
      expect(silent.reason).toBe(
        `cloning the repository failed: cannot clone https://127.0.0.1:${tarpitPort}/slow.git: ${INTERNAL_FAILURE}`,
      );
      expect(tooBig.status).toBe('FAILED');
      expect(tooBig.reason).toBe(
        `cloning the repository failed: cannot clone file://${big}: the repository is larger than the limit of 1 MB (CLONE_MAX_MB)`,
      );
      expect(fine.status, fine.reason).toBe('COMPLETED');
      for (const s of [unreachable, silent, tooBig])
        expect(s.logs.at(-1)).toBe(`Session failed: ${s.reason}`);

      // No half clone, no workspace left for the failed sessions; nothing new outside the workspace.
      await waitFor(
        'the workspaces to be removed',
        async () =>
          (await readdir(ws)).every((n) => !Object.values(ids).some((id) => n.startsWith(id))) ||
          undefined,
        10_000,
        50,
      );
      expect((await readdir(ws)).filter((n) => n.endsWith('.cloning'))).toEqual([]);
      expect(await listTree(dir, ws)).toEqual(outside);
      expect(existsSync(join(tmpdir(), 'x.git'))).toBe(false);
    } finally {
      await svc.stop();
    }
  });

  it('a clone is stopped while it runs when its size limit is reached (the abort kills git at once)', async () => {
    const limit = new AbortController();
    const t0 = Date.now();
    const clone = runGit(
      [
        'clone',
        '--quiet',
        '--',
        `https://127.0.0.1:${tarpitPort}/x.git`,
        join(dir, `stopped-${ulid()}`),
      ],
      dir,
      { home: dir, signal: limit.signal, timeoutMs: 60_000 },
    );
    setTimeout(
      () =>
        limit.abort(new Error('the repository is larger than the limit of 1 MB (CLONE_MAX_MB)')),
      300,
    );
    await expect(clone).rejects.toMatchObject({
      code: 'sandbox_failed',
      message: 'git clone stopped: the repository is larger than the limit of 1 MB (CLONE_MAX_MB)',
    });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
