/**
 * What only the SQLite adapter promises: its data outlives the process (a
 * close, and a SIGKILL mid-write), one node per data directory, private files,
 * and a schema it does not know refused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../../runtime/store/sqlite/open.ts';
import { SqliteStore } from '../../../runtime/store/sqlite/sqlite-store.ts';

let dir: string;
const open: SqliteStore[] = [];
const store = () => {
  const s = new SqliteStore({ dir });
  open.push(s);
  return s;
};

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'swe-sqlite-')), 'data');
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

const NEW = { goal: 'g', repo_url: 'https://example.com/o/r.git', mode: 'auto' as const };

describe('sqlite store', () => {
  it('keeps sessions, events, profiles, users and tokens across a close and reopen', async () => {
    const a = store();
    await a.createSession({ id: 'S1', ...NEW, userId: 'u1' });
    const ev = await a.appendEvent('S1', { type: 'input', payload: { text: 'more' } });
    await a.putProfile({
      id: 'p1',
      name: 'main',
      isDefault: true,
      provider: 'openai',
      model: 'm',
      apiKey: 'sealed',
    });
    await a.putUser({ id: 'u1', name: 'ann', role: 'admin', createdAt: 1 });
    await a.putToken({
      id: 't1',
      userId: 'u1',
      name: 'cli',
      hash: 'h'.repeat(64),
      prefix: 'swa_x',
      createdAt: 2,
    });
    await a.close();

    const b = store();
    expect((await b.getSession('S1'))?.goal).toBe('g');
    expect((await b.readEvents('S1', '0-0', 10)).map((e) => e.id)).toEqual([
      ev.kind === 'appended' ? ev.eventId : 'missing',
    ]);
    expect((await b.defaultProfile())?.id).toBe('p1');
    expect((await b.getUser('u1'))?.name).toBe('ann');
    expect((await b.tokenByHash('h'.repeat(64)))?.id).toBe('t1');
    // Event ids keep increasing after a restart, even if the clock is behind the last one.
    const later = await b.appendEvent('S1', { type: 'input', payload: {} });
    expect(later.kind === 'appended' && ev.kind === 'appended' && later.eventId > ev.eventId).toBe(
      true,
    );
  });

  it('keeps every acknowledged commit of a process killed with SIGKILL mid-write, and resumes its session at once', async () => {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures', 'sqlite-writer.ts'), dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    const deadline = Date.now() + 30_000;
    while (!/ack 50\n/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`writer: ${err || out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const acked = Math.max(...[...out.matchAll(/ack (\d+)/g)].map((m) => Number(m[1])));

    const s = store();
    const logs = await s.getLogs('S1');
    expect(logs.length).toBeGreaterThanOrEqual(acked);
    expect(logs.slice(0, acked)).toEqual(Array.from({ length: acked }, (_, i) => `line ${i + 1}`));
    const rec = await s.getSession('S1');
    expect((rec?.snapshot?.state as { seq?: number } | undefined)?.seq ?? 0).toBeGreaterThanOrEqual(
      acked,
    );
    // The dead writer's lease is dropped at open: the session is handed out now, not after its 60 s TTL.
    expect(rec?.owner).toBeNull();
    expect(s.orphansReleased).toBe(1);
    expect(await s.takeReady(10, 1000)).toEqual(['S1']);
    const c = await s.claim('S1', 'next', 1000);
    expect(c.kind === 'claimed' && c.lease.epoch).toBe(2);
  });

  it('refuses a second node on the same data directory, naming the holder, and lets one in after the first closes', async () => {
    const a = store();
    expect(() => new SqliteStore({ dir })).toThrow(
      new RegExp(
        `DATA_DIR: ${dir} is in use by node pid ${process.pid}.*one node per data directory`,
      ),
    );
    // Another process is refused the same way.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `import(${JSON.stringify(join(import.meta.dirname, '../../../runtime/store/sqlite/sqlite-store.ts'))}).then((m) => new m.SqliteStore({ dir: ${JSON.stringify(dir)} })).catch((e) => { console.error(e.message); process.exit(3); })`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += String(d)));
    const code = await new Promise((r) => child.once('exit', r));
    expect({ code, err }).toMatchObject({ code: 3 });
    expect(err).toMatch(/DATA_DIR: .* is in use by node pid \d+/);
    await a.close();
    open.length = 0;
    const b = store();
    expect(await b.listSessions({ limit: 1 })).toEqual([]);
  });

  it('keeps its directory and files private to the user', async () => {
    const s = store();
    await s.createSession({ id: 'S1', ...NEW });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, DB_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, `${DB_FILE}-wal`)).mode & 0o077).toBe(0);
    expect(readFileSync(join(dir, 'node.pid'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  });

  it('refuses a data directory written by a newer schema', async () => {
    await store().close();
    open.length = 0;
    const raw = new DatabaseSync(join(dir, DB_FILE));
    raw.exec('PRAGMA user_version = 99');
    raw.close();
    expect(() => new SqliteStore({ dir })).toThrow(/DATA_DIR: .*schema version 99, newer than/);
  });

  it('removes an ended session with every row it owns (a scan of every table), and keeps the others', async () => {
    let t = 1_000;
    const st = new SqliteStore({ dir, clock: () => t });
    const ids = ['SESSION-AAAA', 'SESSION-BBBB'];
    for (const id of ids) {
      const key = (k: string) => ({
        userId: 'u',
        key: `${k}-${id}`,
        fingerprint: 'f',
        ttlMs: 60_000,
      });
      await st.createSession({ id, ...NEW, userId: 'u' }, key('create'));
      await st.takeReady(10, 100);
      const c = await st.claim(id, 'n', 100);
      if (c.kind !== 'claimed') throw new Error('claim');
      await st.admit(id, 'u', 5);
      await st.appendEvent(
        id,
        { type: 'input', payload: { text: id } },
        { idempotencyKey: key('input') },
      );
      await st.scheduleTimer(id, c.lease, { key: 'x', delayMs: 1, payload: {} });
      await st.addUsage(id, c.lease, { calls: 1, inputTokens: 1, outputTokens: 1, costMicros: 1 });
      await st.appendTranscript(id, c.lease, 'planner', [{ a: id }]);
      await st.putArtifacts(id, c.lease, { diff: id });
      const events = await st.readEvents(id, '0-0', 10);
      const done = await st.commit(id, c.lease, {
        seq: 1,
        snapshot: { v: 1, state: { id } },
        status: 'COMPLETED',
        phase: 'done',
        reason: null,
        goal: 'g',
        result: { id },
        lastEventId: events.at(-1)?.id ?? '0-0',
        history: [{ event: 'e', from: 'a', to: 'b' }],
        logs: [`log ${id}`],
        release: true,
      });
      expect(done).toEqual({ kind: 'ok', released: true });
      await st.setRunning(id, 'u', false);
    }
    t += 10;
    expect(await st.removeSession('SESSION-AAAA')).toEqual({ kind: 'removed' });
    expect(await st.removeSession('SESSION-AAAA')).toEqual({ kind: 'not_found' });
    await st.close();

    const raw = new DatabaseSync(join(dir, DB_FILE), { readOnly: true });
    const tables = raw
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => String(r['name']));
    const mentions = (id: string) =>
      tables.flatMap((table) =>
        raw
          .prepare(`SELECT * FROM ${table}`)
          .all()
          .filter((row) => Object.values(row).some((v) => String(v).includes(id)))
          .map(() => table),
      );
    try {
      expect(mentions('SESSION-AAAA')).toEqual([]);
      // The other session keeps its rows in every table a session writes.
      expect(new Set(mentions('SESSION-BBBB'))).toEqual(
        new Set([
          'sessions',
          'inbox',
          'history',
          'logs',
          'request_keys',
          'reservations',
          'timers',
          'transcripts',
          'artifacts',
        ]),
      );
    } finally {
      raw.close();
    }
  });
});
