/**
 * The local workspace quota (SANDBOX_MAX_MB) with a 5 MB limit on a real
 * clone: one huge file stops at the limit at once (`ulimit -f`), many small
 * files are stopped by the watchdog, write_file refuses to pass it, and an
 * ordinary command sees nothing of it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { diskBytes } from '../../sandbox/disk-usage.ts';
import { runCommand } from '../../sandbox/exec.ts';
import { createLocalSandboxProvider } from '../../sandbox/local.ts';
import type { Sandbox, SandboxProvider } from '../../sandbox/port.ts';
import { makeTestRepo } from '../support/git-repo.ts';

const MB = 1024 * 1024;
const QUOTA = 5 * MB;

let dir: string;
let origin: string;
let provider: SandboxProvider;
const root = () => join(dir, 'workspace');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swe-quota-'));
  origin = await makeTestRepo(join(dir, 'origin'), {
    'README.md': '# demo\n',
    'src/app.js': 'export const answer = 41;\n',
  });
  provider = createLocalSandboxProvider({
    root: root(),
    allowLocalRepos: true,
    workspaceMaxBytes: QUOTA,
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sandbox(p = provider): Promise<{ sb: Sandbox; used: () => Promise<number> }> {
  const id = `q${ulid()}`;
  const sb = await p.create({ sessionId: id, repoUrl: origin });
  return { sb, used: () => diskBytes([join(root(), id), join(root(), `${id}.home`)]) };
}

describe('the workspace quota (local)', () => {
  it('stops one huge file at the limit at once; the command goes on and the model is told', async () => {
    const { sb, used } = await sandbox();
    const t0 = performance.now();
    const r = await sb.runCommand(
      'head -c 30000000 /dev/zero > big.bin; echo "after $(wc -c < big.bin)"',
      { timeoutMs: 60_000 },
    );
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBe(0);
    expect(r.output).toMatch(/File size limit exceeded|File too large/);
    const written = Number(/after (\d+)/.exec(r.output)?.[1]);
    expect(written).toBeGreaterThan(4 * MB);
    expect(written).toBeLessThanOrEqual(QUOTA);
    expect(r.killed).toMatch(
      /^the workspace is over its limit of 5 MB \(SANDBOX_MAX_MB\): writes past it fail \("File too large"\); delete what you do not need$/,
    );
    expect(await used()).toBeLessThan(QUOTA + 64 * 1024);

    // Over the limit, a command may shrink the workspace, and is told that it started over it; once under, nothing more is said.
    const clean = await sb.runCommand('rm big.bin && echo cleaned');
    expect(clean).toMatchObject({ exitCode: 0, output: 'cleaned\n', timedOut: false });
    expect(clean.killed).toBe(
      'the workspace was over its limit of 5 MB (SANDBOX_MAX_MB) when the command started, so no file it wrote could grow past 512 bytes; it is under the limit now',
    );
    expect(await sb.runCommand('head -c 1000000 /dev/zero > one.bin && wc -c < one.bin')).toEqual({
      exitCode: 0,
      output: '1000000\n',
      timedOut: false,
      truncatedBytes: 0,
    });
  });

  it('kills a command writing many small files once the workspace passes the limit', async () => {
    const { sb, used } = await sandbox();
    const t0 = performance.now();
    // About 10 MB a second in 200 KB files, forever: no single file meets the file size limit.
    const r = await sb.runCommand(
      'i=0; while :; do i=$((i+1)); head -c 200000 /dev/zero > f$i; sleep 0.02; done',
      { timeoutMs: 60_000 },
    );
    const took = performance.now() - t0;
    expect(r).toMatchObject({
      exitCode: null,
      timedOut: false,
      killed:
        'the workspace grew past its limit of 5 MB (SANDBOX_MAX_MB); delete what you do not need',
    });
    expect(took).toBeLessThan(15_000);
    // Measured every second: it overshoots by at most about a second of writing.
    const after = await used();
    expect(after).toBeGreaterThan(QUOTA);
    expect(after).toBeLessThan(QUOTA + 15 * MB);

    // Still over: a command that writes is held to what it started with, and told; one that deletes runs.
    const grow = await sb.runCommand('head -c 100000 /dev/zero > more.bin; echo $?');
    expect(grow.output).toMatch(/^153$/m);
    expect(grow.killed).toMatch(/^the workspace is over its limit of 5 MB/);
    const clean = await sb.runCommand('rm -f f* more.bin && echo cleaned');
    expect(clean).toMatchObject({
      exitCode: 0,
      output: 'cleaned\n',
      killed: expect.stringMatching(/^the workspace was over its limit/),
    });
    expect(await used()).toBeLessThan(MB);
    expect((await sb.runCommand('echo fine')).killed).toBeUndefined();
  });

  it('refuses a write_file that would pass the limit, and counts the content it replaces', async () => {
    const { sb } = await sandbox();
    await expect(sb.writeFile('big.txt', 'x'.repeat(6 * MB))).rejects.toMatchObject({
      code: 'payload_too_large',
      status: 413,
      message: expect.stringMatching(
        /^writeFile big\.txt: 6 MB would take the workspace past its limit of 5 MB \(SANDBOX_MAX_MB\); it holds [\d.]+ KB: delete what you do not need$/,
      ),
    });
    expect(existsSync(join(root(), sb.id, 'big.txt'))).toBe(false);
    await sb.writeFile('three.txt', 'y'.repeat(3 * MB));
    // Overwriting the same file with as much again fits: its old content makes room.
    await sb.writeFile('three.txt', 'z'.repeat(3 * MB));
    await expect(sb.writeFile('two.txt', 'w'.repeat(2 * MB))).rejects.toMatchObject({
      status: 413,
    });
    await sb.editFile('src/app.js', '41', '42');
    expect(await sb.readFile('src/app.js')).toBe('export const answer = 42;\n');
  });

  it("leaves an ordinary command as it was: exit code, output, the shell's line numbers", async () => {
    const { sb } = await sandbox();
    const r = await sb.runCommand('echo hello; exit 3');
    expect(r).toEqual({ exitCode: 3, output: 'hello\n', timedOut: false, truncatedBytes: 0 });
    const lines = await sb.runCommand('echo one\nno-such-command-here');
    expect(lines.output).toMatch(/^one\n.*\b2: no-such-command-here: not found\n$/);
    // The per-file limit is what is left of the quota, in 512-byte blocks; without a quota there is none.
    const limit = Number((await sb.runCommand('ulimit -f')).output);
    expect(limit * 512).toBeGreaterThan(4 * MB);
    expect(limit * 512).toBeLessThanOrEqual(QUOTA + 512);
    const free = createLocalSandboxProvider({ root: root(), allowLocalRepos: true });
    expect((await (await sandbox(free)).sb.runCommand('ulimit -f')).output).toBe('unlimited\n');
  });

  it('runCommand: an abort kills the whole group and gives its reason', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('enough')), 300);
    const t0 = performance.now();
    const r = await runCommand('sleep 100 & sleep 100; echo never', {
      cwd: dir,
      home: dir,
      timeoutMs: 60_000,
      signal: ac.signal,
    });
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(r).toEqual({
      exitCode: null,
      output: '',
      timedOut: false,
      truncatedBytes: 0,
      killed: 'enough',
    });
  });
});
