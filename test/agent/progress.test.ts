/**
 * Progress a person can follow: the clone's and the commands' output reach
 * the session log while they run (read back through the store, as the API
 * and the event stream do), rate-limited, without the service's secrets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { PROGRESS_LINES_PER_SECOND } from '../../sandbox/progress.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { FINISH, scriptedModel } from '../support/scripted-model.ts';
import { waitFor } from '../support/wait.ts';

let dir: string;
let origin: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swe-agent-progress-'));
  origin = await makeTestRepo(join(dir, 'origin'), { 'README.md': '# progress\n' });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (command: string) => ({ name: 'run_command', args: { command } });

describe('session progress', () => {
  it('streams command output into the session log as it runs, rate-limited, with no secrets', async () => {
    const secrets = {
      SECRET_KEY: `secret-key-${ulid()}`,
      ADMIN_TOKEN: `admin-token-${ulid()}`,
      AI_API_KEY: `sk-${ulid()}`,
    };
    const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
    Object.assign(process.env, secrets);
    const model = scriptedModel({
      programmer: [
        run('echo first; sleep 2; echo second >&2; sleep 1; echo third'),
        run('seq 1 300'),
        run('env; echo key=sk-abcdefghijklmnopqrstuvwxyz'),
        FINISH,
      ],
    });
    const svc = await startInProcess({ agent: { model, workspace: join(dir, 'ws1') } });
    try {
      const created = await svc.call('POST', '/agent/sessions', {
        goal: 'show progress',
        repo_url: origin,
      });
      expect(created.status).toBe(201);
      const id = created.body.session_id as string;

      // While the command runs: its first line is in the log, its last is not, nor its exit.
      const running = await waitFor(
        'the first line of the command in the session log',
        async () => {
          const logs = await svc.store.getLogs(id);
          return logs.includes('  | first') ? logs : undefined;
        },
        20_000,
        25,
      );
      expect(running).not.toContain('  | third');
      expect(running.some((l) => /^ {2}exit /.test(l))).toBe(false);
      expect(running).toContain('  $ echo first; sleep 2; echo second >&2; sleep 1; echo third');

      const done = await waitFor(
        'the session to complete',
        async () => {
          const r = await svc.call('GET', `/agent/sessions/${id}`);
          return r.body.status === 'COMPLETED' ? r.body : undefined;
        },
        30_000,
      );
      const logs: string[] = done.logs;
      const at = (line: string) => logs.indexOf(line);
      // The clone's own output, indented under the machine's line.
      expect(logs.some((l) => /^ {2}\| Cloning into 'workspace'/.test(l))).toBe(true);
      expect(at('  | first')).toBeLessThan(at('  | second'));
      expect(at('  | second')).toBeLessThan(at('  | third'));
      expect(logs[at('  | third') + 1]).toMatch(/^ {2}exit 0 \(\d+\.\d s\)$/);

      // `seq 1 300`: the first lines, then how many were left out; nothing lost in the count.
      const seqStart = at('  $ seq 1 300');
      const seqEnd = logs.findIndex((l, i) => i > seqStart && /^ {2}exit /.test(l));
      const shown = logs.slice(seqStart + 1, seqEnd);
      const note = /^ {2}\| … \((\d+) lines omitted\)$/.exec(shown[shown.length - 1]!);
      expect(note, shown.join('\n')).not.toBeNull();
      expect(shown.length - 1).toBeLessThanOrEqual(2 * PROGRESS_LINES_PER_SECOND);
      expect(shown.length - 1 + Number(note![1])).toBe(300);
      expect(shown[0]).toBe('  | 1');

      // No secret of the service: the environment is allow-listed, and key-shaped values are hidden.
      const all = logs.join('\n');
      for (const value of Object.values(secrets)) expect(all).not.toContain(value);
      expect(all).not.toContain('sk-abcdefghijklmnopqrstuvwxyz');
      expect(logs).toContain('  | key=[redacted]');

      // The model still got each command's whole output.
      const transcript = (await svc.store.getTranscript(id, 'programmer')) as {
        role: string;
        content?: string;
      }[];
      expect(
        transcript.some(
          (m) =>
            m.role === 'tool' &&
            m.content?.startsWith('exit code 0\n1\n2\n') &&
            m.content.trimEnd().endsWith('\n300'),
        ),
      ).toBe(true);
    } finally {
      await svc.stop();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 60_000);
});
