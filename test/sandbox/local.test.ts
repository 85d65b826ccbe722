import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { createLocalSandboxProvider, SEARCH_HIT_CAP } from '../../sandbox/local.ts';
import { OutputCollector } from '../../sandbox/exec.ts';
import { checkRepoUrl } from '../../sandbox/repo-url.ts';
import type { SandboxProvider } from '../../sandbox/port.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { waitFor } from '../support/wait.ts';
import { CONTRACT_REPO_FILES, sandboxContract } from './contract.ts';

sandboxContract('local', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'swe-sandbox-'));
  const repoUrl = await makeTestRepo(join(dir, 'origin'), CONTRACT_REPO_FILES);
  const provider = createLocalSandboxProvider({
    root: join(dir, 'workspace'),
    allowLocalRepos: true,
  });
  return { provider, repoUrl, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

/** True while the process exists and is not a zombie (init in a container may reap late, or never). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self/stat')) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('local sandbox', () => {
  let dir: string;
  let origin: string;
  let provider: SandboxProvider;
  const root = () => join(dir, 'workspace');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swe-sandbox-local-'));
    origin = await makeTestRepo(join(dir, 'origin'), CONTRACT_REPO_FILES);
    provider = createLocalSandboxProvider({
      root: root(),
      allowLocalRepos: true,
      outputCapBytes: 1000,
    });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the service secrets out of commands, and gives them their own HOME', async () => {
    const secrets = {
      SECRET_KEY: `sk-${ulid()}`,
      REDIS_URL: `redis://:${ulid()}@localhost:6379/0`,
      OPENAI_API_KEY: `sk-openai-${ulid()}`,
      DAYTONA_API_KEY: `dtn-${ulid()}`,
    };
    const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
    Object.assign(process.env, secrets);
    try {
      const big = createLocalSandboxProvider({ root: root(), allowLocalRepos: true });
      const sb = await big.create({ sessionId: `l${ulid()}`, repoUrl: origin });
      const r = await sb.runCommand('env');
      expect(r.exitCode).toBe(0);
      for (const value of Object.values(secrets)) expect(r.output).not.toContain(value);
      expect(r.output).not.toMatch(/^(SECRET_KEY|REDIS_URL|OPENAI_API_KEY|DAYTONA_API_KEY)=/m);
      expect(r.output).toMatch(/^GIT_TERMINAL_PROMPT=0$/m);
      expect(r.output).toMatch(/^CI=true$/m);
      const home = /^HOME=(.*)$/m.exec(r.output)?.[1];
      expect(home).toBeDefined();
      expect(home).not.toBe(process.env['HOME']);
      expect(home).toMatch(/\/l[0-9A-Z]+\.home$/);

      // The service's own git calls get the same scrubbed environment: a clean
      // filter the agent configures runs during diff() but sees no secrets.
      const leak = join(dir, `leak-${ulid()}`);
      await sb.runCommand(
        `git config filter.leak.clean 'env > ${leak}; cat' && printf '* filter=leak\\n' > .gitattributes`,
      );
      await sb.diff();
      const seen = await readFile(leak, 'utf8');
      for (const value of Object.values(secrets)) expect(seen).not.toContain(value);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('kills the timed-out process group: the child pid is gone from this machine', async () => {
    const sb = await provider.create({ sessionId: `l${ulid()}`, repoUrl: origin });
    const r = await sb.runCommand("sh -c 'sleep 1000 & echo $! > child.pid; exec sleep 1000'", {
      timeoutMs: 1000,
    });
    expect(r.timedOut).toBe(true);
    const pid = Number((await sb.readFile('child.pid')).trim());
    expect(pid).toBeGreaterThan(1);
    await waitFor('the child to die', () => !isAlive(pid), 3000);
  });

  it('kills background processes a command leaves behind when it exits', async () => {
    const sb = await provider.create({ sessionId: `l${ulid()}`, repoUrl: origin });
    const t0 = Date.now();
    const r = await sb.runCommand('sleep 1000 & echo $! > bg.pid; echo started', {
      timeoutMs: 20_000,
    });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, output: 'started\n' });
    expect(Date.now() - t0).toBeLessThan(5000);
    const pid = Number((await sb.readFile('bg.pid')).trim());
    await waitFor('the background process to die', () => !isAlive(pid), 3000);
  });

  it('cuts output to the configured cap exactly, head and tail kept', async () => {
    const sb = await provider.create({ sessionId: `l${ulid()}`, repoUrl: origin });
    const r = await sb.runCommand("head -c 5000 /dev/zero | tr '\\0' x");
    expect(r.truncatedBytes).toBe(4000);
    expect(r.output).toBe(`${'x'.repeat(500)}\n[... 4000 bytes cut ...]\n${'x'.repeat(500)}`);
    const small = await sb.runCommand("head -c 1000 /dev/zero | tr '\\0' y");
    expect(small).toMatchObject({ truncatedBytes: 0, output: 'y'.repeat(1000) });
  });

  it('keeps head and tail across many small chunks', () => {
    const c = new OutputCollector(10);
    for (const ch of 'abcdefghijklmnopqrstuvwxyz') c.push(Buffer.from(ch));
    expect(c.result()).toEqual({
      output: 'abcde\n[... 16 bytes cut ...]\nvwxyz',
      truncatedBytes: 16,
    });
  });

  it('caps search hits', async () => {
    const sb = await provider.create({ sessionId: `l${ulid()}`, repoUrl: origin });
    await sb.writeFile('many.txt', 'match me\n'.repeat(SEARCH_HIT_CAP * 3));
    const hits = await sb.searchCode('match');
    expect(hits).toHaveLength(SEARCH_HIT_CAP);
    expect(hits[SEARCH_HIT_CAP - 1]).toEqual({
      path: 'many.txt',
      line: SEARCH_HIT_CAP,
      text: 'match me',
    });
    await expect(sb.searchCode('(unclosed')).rejects.toMatchObject({ status: 400 });
  });

  it('attaches only with the right id, to a workspace that is still a repository at its base', async () => {
    const sessionId = `l${ulid()}`;
    const sb = await provider.create({ sessionId, repoUrl: origin });
    expect(await provider.attach(sessionId, 'some-other-id')).toBeNull();
    expect(await provider.attach('../etc', '../etc')).toBeNull();
    await rm(join(root(), sessionId, '.git'), { recursive: true, force: true });
    expect(await provider.attach(sessionId, sb.id)).toBeNull();
  });

  it('clones file:// URLs when local repositories are allowed, and refuses local ones otherwise', async () => {
    const sb = await provider.create({ sessionId: `l${ulid()}`, repoUrl: `file://${origin}` });
    expect(await sb.readFile('src/b.ts')).toBe(CONTRACT_REPO_FILES['src/b.ts']);
    const strict = createLocalSandboxProvider({ root: root(), allowLocalRepos: false });
    for (const repoUrl of [origin, `file://${origin}`]) {
      await expect(strict.create({ sessionId: `l${ulid()}`, repoUrl })).rejects.toMatchObject({
        code: 'sandbox_repo_url',
        status: 400,
        field: 'repo_url',
      });
    }
  });

  it('reports a clone that fails as sandbox_failed', async () => {
    await expect(
      provider.create({ sessionId: `l${ulid()}`, repoUrl: join(dir, 'no-such-repo') }),
    ).rejects.toMatchObject({ code: 'sandbox_failed' });
  });
});

describe('checkRepoUrl', () => {
  const accepted = [
    'https://github.com/owner/repo.git',
    'https://gitlab.example.com/group/sub/repo',
    'ssh://git@github.com/owner/repo.git',
    'ssh://git@[::1]:2222/owner/repo.git',
    'git@github.com:owner/repo.git',
  ];
  const rejected = [
    '-uupload-pack=touch /tmp/x',
    '--upload-pack=touch%20/tmp/x',
    'ext::sh -c touch% /tmp/pwned',
    'ext::sh',
    'fd::17',
    'transport::address',
    'https://example.com/ext::x',
    'http://example.com/repo.git',
    'git://example.com/repo.git',
    'ftp://example.com/repo.git',
    'file:///tmp/x',
    '/tmp/x',
    'relative/path',
    '',
    'https://example.com/repo.git\n',
    'https://example.com/re po.git',
    'https://example.com/\u0000x',
    'https://github.com',
    'git@-oProxyCommand=touch:repo',
    'git@github.com:-repo',
    'ssh://-oProxyCommand=touch/x',
  ];

  it.each(accepted)('accepts %j', (url) => {
    expect(checkRepoUrl(url, { allowLocalRepos: false })).toBe(url);
  });

  it.each(rejected)('rejects %j', (url) => {
    let caught: unknown;
    try {
      checkRepoUrl(url, { allowLocalRepos: false });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'sandbox_repo_url', status: 400, field: 'repo_url' });
  });

  it('accepts file:// URLs and absolute paths only when local repositories are allowed', () => {
    expect(checkRepoUrl('file:///srv/repos/x', { allowLocalRepos: true })).toBe(
      'file:///srv/repos/x',
    );
    expect(checkRepoUrl('/srv/repos/x', { allowLocalRepos: true })).toBe('/srv/repos/x');
    expect(() => checkRepoUrl('file://host/x', { allowLocalRepos: true })).toThrow(/file:\/\/\//);
    expect(() => checkRepoUrl('ext::sh -c x', { allowLocalRepos: true })).toThrow(/remote helper/);
  });
});
