/**
 * Output a person can follow: the line feed on its own (an injected clock),
 * then the local sandbox streaming a command's and a clone's output while
 * they run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { OutputFeed } from '../../sandbox/progress.ts';
import { createLocalSandboxProvider } from '../../sandbox/local.ts';
import type { Sandbox } from '../../sandbox/port.ts';
import { makeTestRepo } from '../support/git-repo.ts';

function feed(opts: { linesPerSecond?: number; maxLineChars?: number } = {}) {
  let t = 1_000_000;
  const lines: string[] = [];
  const f = new OutputFeed((l) => lines.push(l), { ...opts, now: () => t });
  return {
    f,
    lines,
    tick: (ms: number) => {
      t += ms;
    },
  };
}

describe('OutputFeed', () => {
  it('buffers each stream to whole lines, across chunks and split characters', () => {
    const { f, lines } = feed();
    const euro = Buffer.from('€');
    f.write('stdout', Buffer.from('hel'));
    f.write('stderr', Buffer.from('warn'));
    f.write('stdout', Buffer.concat([Buffer.from('lo '), euro.subarray(0, 1)]));
    expect(lines).toEqual([]);
    f.write('stdout', Buffer.concat([euro.subarray(1), Buffer.from('\nnext\r\n\n  \nlast')]));
    f.write('stderr', Buffer.from('ing\n'));
    expect(lines).toEqual(['hello €', 'next', 'warning']);
    f.end();
    expect(lines).toEqual(['hello €', 'next', 'warning', 'last']);
    f.write('stdout', 'ignored after end\n');
    expect(lines).toHaveLength(4);
  });

  it('cuts long lines, also ones that never end, and strips terminal escapes', () => {
    const { f, lines } = feed({ maxLineChars: 10 });
    f.write('stdout', `${'a'.repeat(25)}\n\x1b[31mred\x1b[0m\tok\x07\n`);
    f.write('stdout', 'b'.repeat(8));
    f.write('stdout', 'b'.repeat(8));
    f.write('stdout', 'b'.repeat(100));
    f.write('stdout', 'bb\nafter\n');
    expect(lines).toEqual([`${'a'.repeat(10)} …`, 'red\tok', `${'b'.repeat(10)} …`, 'after']);
  });

  it('lets at most linesPerSecond lines through in a second and reports the rest once, at the end', () => {
    const { f, lines, tick } = feed({ linesPerSecond: 3 });
    f.write('stdout', '1\n2\n3\n4\n5\n');
    expect(lines).toEqual(['1', '2', '3']);
    tick(999);
    f.write('stdout', '6\n');
    tick(1);
    f.write('stdout', '7\n8\n9\n10\n');
    expect(lines).toEqual(['1', '2', '3', '7', '8', '9']);
    expect(f.omitted).toBe(4);
    f.end();
    expect(lines[lines.length - 1]).toBe('… (4 lines omitted)');
  });

  it('shows progress redraws (\\r) at most once a second, and the final line whole', () => {
    const { f, lines, tick } = feed();
    f.write('stderr', 'Receiving objects:  10%\rReceiving objects:  20%\r');
    tick(400);
    f.write('stderr', 'Receiving objects:  30%\r');
    tick(700);
    f.write('stderr', 'Receiving objects:  40%\r');
    f.write('stderr', 'Receiving objects: 100%, done.\r');
    // The second half of a `\r\n` split across chunks: a line end, not a redraw.
    f.write('stderr', '\n');
    f.end();
    expect(lines).toEqual([
      'Receiving objects:  10%',
      'Receiving objects:  30%',
      'Receiving objects: 100%, done.',
    ]);
  });
});

describe('local sandbox: output as it happens', () => {
  let dir: string;
  let origin: string;
  let sandbox: Sandbox;
  const provider = () =>
    createLocalSandboxProvider({ root: join(dir, 'workspace'), allowLocalRepos: true });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swe-progress-'));
    origin = await makeTestRepo(join(dir, 'origin'), { 'README.md': '# progress\n' });
    sandbox = await provider().create({ sessionId: `p${ulid()}`, repoUrl: origin });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hands over each line while the command still runs', async () => {
    const seen: { line: string; at: number }[] = [];
    const t0 = Date.now();
    const r = await sandbox.runCommand(
      'echo first; sleep 1; echo second >&2; sleep 1; echo third',
      { onOutput: (line) => seen.push({ line, at: Date.now() }) },
    );
    const ended = Date.now();
    expect(r.exitCode).toBe(0);
    expect(seen.map((s) => s.line)).toEqual(['first', 'second', 'third']);
    expect(ended - t0).toBeGreaterThanOrEqual(2000);
    // `first` came about two seconds before the command ended, `second` about one.
    expect(ended - seen[0]!.at).toBeGreaterThan(1500);
    expect(ended - seen[1]!.at).toBeGreaterThan(500);
  });

  it("streams a clone's progress without the server's paths", async () => {
    const lines: string[] = [];
    await provider().create({
      sessionId: `p${ulid()}`,
      repoUrl: origin,
      onOutput: (l) => lines.push(l),
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^Cloning into 'workspace'/);
    expect(lines.join('\n')).not.toContain(dir);
  });

  it('a clone that fails still says why, without its progress lines', async () => {
    const lines: string[] = [];
    const err = await provider()
      .create({
        sessionId: `p${ulid()}`,
        repoUrl: join(dir, 'no-such-repo'),
        onOutput: (l) => lines.push(l),
      })
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /cannot clone .*: git clone failed \(exit 128\): fatal: /,
    );
    expect((err as Error).message).not.toContain('Cloning into');
  });

  it('shows no service secret in the lines it hands over', async () => {
    const secrets = {
      SECRET_KEY: `secret-${ulid()}`,
      ADMIN_TOKEN: `swa_${ulid()}${ulid()}`,
      AI_API_KEY: `sk-${ulid()}`,
    };
    const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
    Object.assign(process.env, secrets);
    try {
      const lines: string[] = [];
      const r = await sandbox.runCommand('env; echo done', { onOutput: (l) => lines.push(l) });
      expect(r.exitCode).toBe(0);
      expect(lines).toContain('done');
      for (const value of Object.values(secrets)) expect(lines.join('\n')).not.toContain(value);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
