import { afterEach, describe, expect, it } from 'vitest';
import { startInProcess } from '../../support/service/in-process.ts';
import { scriptedWork } from '../../support/fake-work.ts';
import { expectedDiff } from '../../support/expected.ts';
import { waitFor } from '../../support/wait.ts';

type Svc = Awaited<ReturnType<typeof startInProcess>>;
let svc: Svc;
afterEach(async () => svc?.stop());

const REPO = 'https://github.com/example/my-repo.git';

async function statusOf(id: string, want: string) {
  return waitFor(
    `session ${id} to be ${want}`,
    async () => {
      const r = await svc.call('GET', `/agent/sessions/${id}`);
      return r.body.status === want ? r.body : undefined;
    },
    10_000,
    10,
  );
}

describe('session routes (the guide)', () => {
  it('auto mode: create → RUNNING → COMPLETED with logs and a diff', async () => {
    svc = await startInProcess();
    const created = await svc.call('POST', '/agent/sessions', {
      goal: 'Refactor the login function',
      repo_url: REPO,
      mode: 'auto',
    });
    expect(created.status).toBe(201);
    expect(created.body.session_id).toMatch(/^[0-9A-Z]{26}$/);
    expect(created.headers.get('location')).toBe(`/agent/sessions/${created.body.session_id}`);
    const done = await statusOf(created.body.session_id, 'COMPLETED');
    expect(done.result.diff).toBe(expectedDiff('Refactor the login function'));
    expect(done.logs).toEqual(
      expect.arrayContaining([
        'Starting session...',
        'Cloning repo...',
        'PLANNER: Generating plan...',
        'PROGRAMMER: Executing plan...',
      ]),
    );
    expect(done.owner).toBeNull(); // passivated: no lease held
    const hist = await svc.call('GET', `/agent/sessions/${done.id}/history`);
    expect(hist.body.history.map((h: any) => h.to)).toContain('completed');
    expect(hist.body.history[0]).toMatchObject({ node: 'test-node', epoch: 1 });
  });

  it('mode defaults to auto', async () => {
    svc = await startInProcess();
    const created = await svc.call('POST', '/agent/sessions', { goal: 'g', repo_url: REPO });
    const s = await statusOf(created.body.session_id, 'COMPLETED');
    expect(s.mode).toBe('auto');
  });

  it('review mode waits for approval; approve continues; approve again is 409', async () => {
    svc = await startInProcess();
    const { body } = await svc.call('POST', '/agent/sessions', {
      goal: 'Critical security fix',
      repo_url: REPO,
      mode: 'review',
    });
    const id = body.session_id;
    const waiting = await statusOf(id, 'WAITING_FOR_USER');
    expect(waiting.owner).toBeNull();
    // The plan under review is shown while the session waits for approval.
    expect(waiting.plan).toMatchObject({ summary: expect.any(String), steps: expect.any(Array) });
    expect(waiting.plan.steps.length).toBeGreaterThan(0);
    // The timeline says what each event carried.
    const hist = (await svc.call('GET', `/agent/sessions/${id}/history`)).body.history;
    expect(hist.find((h: any) => h.to === 'awaitingApproval')?.payload?.output).toEqual({
      summary: waiting.plan.summary,
      steps: waiting.plan.steps,
    });
    const approve = await svc.call('POST', `/agent/sessions/${id}/approve`); // no body, no content-type: as the guide's curl
    expect(approve.status).toBe(202);
    expect(approve.body).toMatchObject({ session_id: id, accepted: true, duplicate: false });
    await statusOf(id, 'COMPLETED');
    const again = await svc.call('POST', `/agent/sessions/${id}/approve`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('input on a completed session updates the goal and replans', async () => {
    svc = await startInProcess();
    const { body } = await svc.call('POST', '/agent/sessions', {
      goal: 'first goal',
      repo_url: REPO,
    });
    await statusOf(body.session_id, 'COMPLETED');
    const r = await svc.call('POST', `/agent/sessions/${body.session_id}/input`, {
      message: 'Please also update the README',
    });
    expect(r.status).toBe(202);
    const s = await waitFor(
      'replanned result',
      async () => {
        const v = (await svc.call('GET', `/agent/sessions/${body.session_id}`)).body;
        return v.status === 'COMPLETED' &&
          v.goal.includes('Please also update the README') &&
          v.result.diff.includes('README')
          ? v
          : undefined;
      },
      10_000,
      10,
    );
    expect(s.result.diff).toBe(expectedDiff(s.goal));
  });

  it('cancel stops a running session; cancel of a cancelled one is 409', async () => {
    const slow = scriptedWork({ delayMs: 5_000 });
    svc = await startInProcess({ work: slow });
    const { body } = await svc.call('POST', '/agent/sessions', { goal: 'slow', repo_url: REPO });
    await statusOf(body.session_id, 'RUNNING');
    expect(
      (
        await svc.call('POST', `/agent/sessions/${body.session_id}/cancel`, {
          reason: 'changed my mind',
        })
      ).status,
    ).toBe(202);
    const s = await statusOf(body.session_id, 'CANCELLED');
    expect(s.reason).toContain('changed my mind');
    expect((await svc.call('POST', `/agent/sessions/${body.session_id}/cancel`)).status).toBe(409);
    expect(
      (await svc.call('POST', `/agent/sessions/${body.session_id}/input`, { message: 'x' })).status,
    ).toBe(409);
  });

  it('lists sessions newest first, filters by status, paginates with a cursor', async () => {
    svc = await startInProcess();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await svc.call('POST', '/agent/sessions', {
            goal: `g${i}`,
            repo_url: REPO,
            mode: i % 2 ? 'review' : 'auto',
          })
        ).body.session_id,
      );
    await waitFor(
      'all settled',
      async () => {
        const l = (await svc.call('GET', '/agent/sessions?limit=50')).body.sessions;
        return l.every((s: any) => s.status === 'COMPLETED' || s.status === 'WAITING_FOR_USER');
      },
      10_000,
      10,
    );
    const page1 = await svc.call('GET', '/agent/sessions?limit=2');
    expect(page1.body.sessions.map((s: any) => s.id)).toEqual([ids[4], ids[3]]);
    const page2 = await svc.call('GET', `/agent/sessions?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.sessions.map((s: any) => s.id)).toEqual([ids[2], ids[1]]);
    const waiting = await svc.call('GET', '/agent/sessions?status=WAITING_FOR_USER');
    expect(waiting.body.sessions.map((s: any) => s.id).sort()).toEqual([ids[1], ids[3]].sort());
    expect((await svc.call('GET', '/agent/sessions?status=NOPE')).body.error.field).toBe('status');
  });

  it('an Idempotency-Key makes a retried create and a retried input no-ops', async () => {
    svc = await startInProcess();
    const h = { 'idempotency-key': 'create-1' };
    const a = await svc.call(
      'POST',
      '/agent/sessions',
      { goal: 'once', repo_url: REPO, mode: 'review' },
      h,
    );
    const b = await svc.call(
      'POST',
      '/agent/sessions',
      { goal: 'once', repo_url: REPO, mode: 'review' },
      h,
    );
    expect(a.status).toBe(201);
    // The first answer again, marked as a replay.
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(a.headers.get('idempotent-replayed')).toBeNull();
    const id = a.body.session_id;
    await statusOf(id, 'WAITING_FOR_USER');
    const i1 = await svc.call(
      'POST',
      `/agent/sessions/${id}/input`,
      { message: 'only once please' },
      { 'idempotency-key': 'in-1' },
    );
    const i2 = await svc.call(
      'POST',
      `/agent/sessions/${id}/input`,
      { message: 'only once please' },
      { 'idempotency-key': 'in-1' },
    );
    expect(i2.body).toMatchObject({ event_id: i1.body.event_id, duplicate: true });
    expect(i2.headers.get('idempotent-replayed')).toBe('true');
    const s = await waitFor(
      'input applied',
      async () => {
        const v = (await svc.call('GET', `/agent/sessions/${id}`)).body;
        return v.status === 'WAITING_FOR_USER' && v.goal.includes('only once please')
          ? v
          : undefined;
      },
      10_000,
      10,
    );
    expect(s.goal.split('only once please').length - 1).toBe(1);
  });
});

describe('session routes: bad input', () => {
  it.each([
    ['missing goal', { repo_url: REPO }, 'goal'],
    ['empty goal', { goal: '  ', repo_url: REPO }, 'goal'],
    ['goal not a string', { goal: 42, repo_url: REPO }, 'goal'],
    ['missing repo_url', { goal: 'g' }, 'repo_url'],
    [
      'repo_url option injection',
      { goal: 'g', repo_url: '--upload-pack=touch /tmp/x' },
      'repo_url',
    ],
    ['repo_url ext transport', { goal: 'g', repo_url: 'ext::sh -c touch% /tmp/pwned' }, 'repo_url'],
    ['bad mode', { goal: 'g', repo_url: REPO, mode: 'turbo' }, 'mode'],
    ['unknown field', { goal: 'g', repo_url: REPO, extra: 1 }, 'extra'],
    ['control characters', { goal: 'a\u0000b', repo_url: REPO }, 'goal'],
    ['budget not an object', { goal: 'g', repo_url: REPO, budget: 5 }, 'budget'],
    [
      'budget.max_calls not a positive integer',
      { goal: 'g', repo_url: REPO, budget: { max_calls: 0 } },
      'budget.max_calls',
    ],
    [
      'budget.max_tokens a string',
      { goal: 'g', repo_url: REPO, budget: { max_tokens: '1e6' } },
      'budget.max_tokens',
    ],
    [
      'budget unknown field',
      { goal: 'g', repo_url: REPO, budget: { max_dollars: 5 } },
      'budget.max_dollars',
    ],
  ])('%s → 400 naming the field', async (_name, body, field) => {
    svc = await startInProcess();
    const r = await svc.call('POST', '/agent/sessions', body);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'bad_request', field });
    expect(typeof r.body.error.message).toBe('string');
  });

  it('malformed JSON → 400, not JSON → 415, too large → 413, array → 400', async () => {
    svc = await startInProcess();
    expect((await svc.call('POST', '/agent/sessions', '{"goal": ')).status).toBe(400);
    const notJson = await svc.app.request('/agent/sessions', {
      method: 'POST',
      body: 'goal=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(notJson.status).toBe(415);
    expect(
      (await svc.call('POST', '/agent/sessions', { goal: 'x'.repeat(70_000), repo_url: REPO }))
        .status,
    ).toBe(413);
    expect((await svc.call('POST', '/agent/sessions', '[1,2]')).body.error.field).toBe('body');
  });

  it('unknown session → 404 JSON on every route; unknown route → 404 JSON', async () => {
    svc = await startInProcess();
    const id = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    for (const [m, p, b] of [
      ['GET', `/agent/sessions/${id}`, undefined],
      ['GET', `/agent/sessions/${id}/history`, undefined],
      ['POST', `/agent/sessions/${id}/approve`, undefined],
      ['POST', `/agent/sessions/${id}/input`, { message: 'hi' }],
      ['POST', `/agent/sessions/${id}/cancel`, undefined],
    ] as const) {
      const r = await svc.call(m, p, b);
      expect(r.status, `${m} ${p}`).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
    expect((await svc.call('GET', '/nope')).status).toBe(404);
  });

  it('input needs a message; bad Idempotency-Key is 400', async () => {
    svc = await startInProcess();
    const { body } = await svc.call('POST', '/agent/sessions', {
      goal: 'g',
      repo_url: REPO,
      mode: 'review',
    });
    const r = await svc.call('POST', `/agent/sessions/${body.session_id}/input`, {});
    expect(r.body.error.field).toBe('message');
    const k = await svc.call(
      'POST',
      `/agent/sessions/${body.session_id}/input`,
      { message: 'm' },
      { 'idempotency-key': 'a b' },
    );
    expect(k.body.error.field).toBe('Idempotency-Key');
  });

  it('health and ready', async () => {
    svc = await startInProcess();
    expect((await svc.call('GET', '/health')).body).toEqual({ ok: true });
    expect((await svc.call('GET', '/ready')).body).toEqual({ ok: true, store: 'memory' });
  });
});

describe('cluster view', () => {
  it('lists this node with its heartbeat', async () => {
    svc = await startInProcess({ nodeId: 'node-x' });
    const r = await svc.call('GET', '/agent/nodes');
    expect(r.status).toBe(200);
    expect(r.body.nodes).toEqual([
      expect.objectContaining({ id: 'node-x', active_sessions: 0, version: '0.1.0' }),
    ]);
  });
});

describe('the state chart of a session', () => {
  it('gives the machine with its eventless transitions, and the active states as the session moves', async () => {
    svc = await startInProcess();
    const created = await svc.call('POST', '/agent/sessions', {
      goal: 'g',
      repo_url: REPO,
      mode: 'review',
    });
    const id = created.body.session_id as string;
    const waiting = await waitFor(
      'waiting',
      async () => {
        const r = await svc.call('GET', `/agent/sessions/${id}/chart`);
        return r.body.status === 'WAITING_FOR_USER' ? r : undefined;
      },
      10_000,
      10,
    );
    expect(waiting.status).toBe(200);
    const machine = waiting.body.machine;
    expect(machine).toMatchObject({ id: 'session', type: 'compound', initial: 'session.queued' });
    const byId = new Map<string, any>();
    const walk = (n: any) => {
      byId.set(n.id, n);
      n.states.forEach(walk);
    };
    walk(machine);
    expect(byId.get('session.queued').transitions).toEqual([
      {
        event: '',
        kind: 'eventless',
        targets: ['session.preparing'],
        guard: null,
        actions: ['log'],
      },
    ]);
    expect(byId.get('session.coding.running').invoke).toEqual(['code']);
    expect(byId.get('session.awaitingApproval').transitions).toContainEqual({
      event: 'approve',
      kind: 'event',
      targets: ['session.coding'],
      guard: null,
      actions: [],
    });
    expect(byId.get('session.reviewing.running').transitions).toContainEqual(
      expect.objectContaining({
        kind: 'done',
        guard: 'reviewApproved',
        targets: ['session.completed'],
      }),
    );
    expect(waiting.body.active).toEqual(['session', 'session.awaitingApproval']);
    expect(waiting.body.accepts).toEqual(['approve', 'input', 'cancel']);
    await svc.call('POST', `/agent/sessions/${id}/approve`);
    await statusOf(id, 'COMPLETED');
    const done = (await svc.call('GET', `/agent/sessions/${id}/chart`)).body;
    expect(done.active).toEqual(['session', 'session.completed']);
    // The machine would take a cancel here; the API would not (409), so the chart does not offer it.
    expect(done.accepts).toEqual(['input']);
    expect((await svc.call('GET', '/agent/sessions/01JZZZZZZZZZZZZZZZZZZZZZZZ/chart')).status).toBe(
      404,
    );
  });
});

describe('listing by creation time', () => {
  it('filters with created_after and created_before (ISO or ms), and names a bad one', async () => {
    svc = await startInProcess();
    const first = (await svc.call('POST', '/agent/sessions', { goal: 'one', repo_url: REPO })).body
      .session_id;
    const created = (await svc.call('GET', `/agent/sessions/${first}`)).body.created_at as string;
    await new Promise((r) => setTimeout(r, 15));
    const second = (await svc.call('POST', '/agent/sessions', { goal: 'two', repo_url: REPO })).body
      .session_id;
    const after = await svc.call(
      'GET',
      `/agent/sessions?created_after=${encodeURIComponent(created)}`,
    );
    expect(after.body.sessions.map((s: any) => s.id)).toEqual([second]);
    const before = await svc.call(
      'GET',
      `/agent/sessions?created_before=${Date.parse(created) + 1}`,
    );
    expect(before.body.sessions.map((s: any) => s.id)).toEqual([first]);
    const bad = await svc.call('GET', '/agent/sessions?created_after=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'bad_request', field: 'created_after' });
  });
});
