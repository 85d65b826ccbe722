/**
 * The embedded default (no Redis: SQLite in DATA_DIR) as `npm start` runs it,
 * in a real node process killed with SIGKILL mid-session: a new process on the
 * same data directory finds everything (the AI profile, the user and its
 * token, the sessions) and completes the sessions the dead one was running,
 * with the diff an undisturbed run gives. A second node on the directory is
 * refused while the first one lives.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedDiff } from '../support/expected.ts';
import { NodeProcess } from '../support/service/processes.ts';
import { waitFor } from '../support/wait.ts';

const nodes: NodeProcess[] = [];
let dir = '';
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const start = async (nodeId: string) => {
  const n = await NodeProcess.start({ dataDir: join(dir, 'data'), nodeId, delayMs: 300 });
  nodes.push(n);
  return n;
};

async function session(n: NodeProcess, id: string) {
  const r = await n.request('GET', `/agent/sessions/${id}`);
  expect(r.status).toBe(200);
  return r.body;
}

describe('the embedded SQLite node', () => {
  it('killed with SIGKILL mid-session, restarts on its data directory and completes every session with everything it was given', async () => {
    dir = await mkdtemp(join(tmpdir(), 'swe-embedded-'));
    const first = await start('e1');
    expect(first.output.join('\n')).toMatch(/store: sqlite in \S+\/data /);
    const profile = await first.request('POST', '/agent/ai-profiles', {
      name: 'kept',
      provider: 'openai-compatible',
      model: 'scripted',
      base_url: 'http://127.0.0.1:9/v1',
      api_key: 'sk-kept-across-restarts',
      is_default: true,
    });
    expect(profile.status).toBe(201);
    const user = await first.request('POST', '/agent/users', { name: 'ann' });
    expect(user.status).toBe(201);
    const goals = Array.from({ length: 4 }, (_, i) => `embedded restart goal ${i}`);
    const ids: string[] = [];
    for (const goal of goals) {
      const r = await first.request('POST', '/agent/sessions', {
        goal,
        repo_url: 'https://example.com/org/repo.git',
        mode: 'auto',
      });
      expect(r.status).toBe(201);
      ids.push(r.body.session_id);
    }
    await waitFor('a session running', async () => {
      const all = await Promise.all(ids.map((id) => session(first, id)));
      return all.some((s) => s.status === 'RUNNING');
    });

    // One node per data directory: refused while the first lives.
    await expect(start('intruder')).rejects.toThrow(/DATA_DIR: .* is in use by node pid \d+/);
    nodes.pop();

    await first.kill();
    const second = await start('e2');
    expect(second.output.join('\n')).toMatch(
      /sessions the previous process was running are resumed/,
    );
    const done = await waitFor(
      'every session completed on the restarted node',
      async () => {
        const all = await Promise.all(ids.map((id) => session(second, id)));
        return all.every((s) => ['COMPLETED', 'FAILED'].includes(s.status)) ? all : undefined;
      },
      60_000,
    );
    for (const [i, s] of done.entries()) {
      expect(s.status, `${s.id}: ${s.reason}`).toBe('COMPLETED');
      expect(s.result.diff).toBe(expectedDiff(goals[i]!));
    }
    const profiles = await second.request('GET', '/agent/ai-profiles');
    expect(profiles.body.profiles.map((p: { name: string }) => p.name)).toContain('kept');
    const users = await second.request('GET', '/agent/users');
    expect(JSON.stringify(users.body)).toContain('ann');
    // The provider key stays sealed: the kept SECRET_KEY file is not needed here (SECRET_KEY is set), and the key never shows.
    expect(JSON.stringify(profiles.body)).not.toContain('sk-kept-across-restarts');
  });
});
