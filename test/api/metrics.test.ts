/**
 * Metrics: the registry's text format (parsed back), and `GET /metrics`
 * through the app after requests and real sessions, with the counters moved.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measuredModel } from '../../agent/llm/measured.ts';
import { LlmError, type ChatModel } from '../../agent/llm/port.ts';
import { createApp } from '../../api/app.ts';
import { bootstrapAdmin } from '../../server/bootstrap.ts';
import { createLogger } from '../../kernel/logger.ts';
import { CONTENT_TYPE, MetricsRegistry } from '../../kernel/metrics.ts';
import { createServiceMetrics } from '../../kernel/service-metrics.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';
import { hashToken } from '../../api/tokens.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { FINISH, SCRIPTED_USAGE, scriptedModel } from '../support/scripted-model.ts';
import { waitFor } from '../support/wait.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: HELP/TYPE lines and samples, label values unescaped. */
function parse(text: string) {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (kind === 'HELP')
        help.set(
          name!,
          rest!.replace(/\\(n|\\)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\')),
        );
      else type.set(name!, rest!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    const body = m![2] ?? '';
    const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    for (let at = 0; at < body.length; ) {
      pair.lastIndex = at;
      const p = pair.exec(body);
      expect(p, `bad labels in: ${line}`).not.toBeNull();
      labels[p![1]!] = p![2]!.replace(/\\(n|\\|")/g, (_x, c: string) => (c === 'n' ? '\n' : c));
      at = pair.lastIndex;
    }
    const raw = m![3]!;
    samples.push({
      name: m![1]!,
      labels,
      value: raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw),
    });
  }
  const find = (name: string, labels: Record<string, string> = {}) =>
    samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  const value = (name: string, labels: Record<string, string> = {}) => {
    const found = find(name, labels);
    return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
  };
  return { help, type, samples, find, value };
}

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in the text format, escaped', async () => {
    const r = new MetricsRegistry();
    const c = r.counter('t_requests_total', 'Requests, with a \\ backslash\nand a newline.', [
      'path',
    ]);
    c.labels('/a "quoted"\\path\nline').inc();
    c.labels('/a "quoted"\\path\nline').inc(2);
    c.labels('/b').inc();
    r.gauge('t_temperature', 'A gauge.').set(-1.5);
    const h = r.histogram('t_latency_seconds', 'A histogram.', ['op'], [0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 2, 20]) h.labels('read').observe(v);
    r.counter('t_empty_total', 'Never touched.', ['x']);

    const text = await r.render();
    const p = parse(text);
    expect(p.help.get('t_requests_total')).toBe('Requests, with a \\ backslash\nand a newline.');
    expect(text).toContain(
      '# HELP t_requests_total Requests, with a \\\\ backslash\\nand a newline.\n',
    );
    expect(Object.fromEntries(p.type)).toEqual({
      t_requests_total: 'counter',
      t_temperature: 'gauge',
      t_latency_seconds: 'histogram',
      t_empty_total: 'counter',
    });
    expect(text).toContain('t_requests_total{path="/a \\"quoted\\"\\\\path\\nline"} 3\n');
    expect(p.value('t_requests_total', { path: '/a "quoted"\\path\nline' })).toBe(3);
    expect(p.value('t_requests_total', { path: '/b' })).toBe(1);
    expect(p.value('t_temperature')).toBe(-1.5);
    expect(p.find('t_empty_total')).toEqual([]);

    // Buckets are cumulative, `le` inclusive, the last one +Inf equal to the count.
    const buckets = p
      .find('t_latency_seconds_bucket', { op: 'read' })
      .map((s) => [s.labels['le'], s.value]);
    expect(buckets).toEqual([
      ['0.1', 2],
      ['1', 3],
      ['10', 4],
      ['+Inf', 5],
    ]);
    expect(p.value('t_latency_seconds_count', { op: 'read' })).toBe(5);
    expect(p.value('t_latency_seconds_sum', { op: 'read' })).toBeCloseTo(22.65);
    // Every sample belongs to a declared family, HELP and TYPE first.
    for (const s of p.samples) {
      const family = p.type.has(s.name) ? s.name : s.name.replace(/_(bucket|sum|count)$/, '');
      if (family !== s.name) expect(p.type.get(family), s.name).toBe('histogram');
    }
  });

  it('keeps one child per label values, and refuses what the format cannot carry', () => {
    const r = new MetricsRegistry();
    const c = r.counter('t_total', 'x', ['a', 'b']);
    expect(c.labels('1', '2')).toBe(c.labels('1', '2'));
    expect(() => c.labels('1')).toThrow(/takes 2 label values/);
    expect(() => c.inc()).toThrow(/has labels/);
    expect(() => c.labels('1', '2').inc(-1)).toThrow(/only goes up/);
    expect(() => r.counter('t_total', 'again')).toThrow(/registered twice/);
    expect(() => r.gauge('bad-name', 'x')).toThrow(/not a valid metric name/);
    expect(() => r.gauge('t_g', 'x', ['le'])).toThrow(/not a valid label name/);
    expect(() => r.gauge('t_g2', 'x', ['__x'])).toThrow(/not a valid label name/);
    expect(() => r.histogram('t_h', 'x', [], [1, 1])).toThrow(/increasing/);
  });

  it('runs collectors before rendering; a failing one leaves the others', async () => {
    const r = new MetricsRegistry();
    const g = r.gauge('t_live', 'x');
    let n = 0;
    const remove = r.onCollect(() => g.set(++n));
    r.onCollect(async () => {
      throw new Error('source down');
    });
    expect(parse(await r.render()).value('t_live')).toBe(1);
    expect(parse(await r.render()).value('t_live')).toBe(2);
    remove();
    expect(parse(await r.render()).value('t_live')).toBe(2);
  });

  it('counts model calls, tokens, errors by code and durations, by provider', async () => {
    const m = createServiceMetrics();
    let fail: Error | undefined;
    const inner: ChatModel = {
      provider: 'gemini',
      model: 'g',
      async chat() {
        if (fail) throw fail;
        return {
          message: { role: 'assistant', content: 'ok' },
          usage: { inputTokens: 7, outputTokens: 3, totalTokens: 10 },
          model: 'g',
          finishReason: 'stop',
        };
      },
    };
    const model = measuredModel(inner, m);
    await model.chat({ messages: [], tools: [] });
    fail = new LlmError('rate_limited', 'gemini', 'slow down');
    await expect(model.chat({ messages: [], tools: [] })).rejects.toThrow('slow down');
    fail = new Error('socket hang up');
    await expect(model.chat({ messages: [], tools: [] })).rejects.toThrow();
    const p = parse(await m.registry.render());
    expect(p.value('swe_llm_calls_total', { provider: 'gemini' })).toBe(3);
    expect(p.value('swe_llm_tokens_total', { provider: 'gemini', type: 'input' })).toBe(7);
    expect(p.value('swe_llm_tokens_total', { provider: 'gemini', type: 'output' })).toBe(3);
    expect(p.value('swe_llm_errors_total', { provider: 'gemini', code: 'llm_rate_limited' })).toBe(
      1,
    );
    expect(p.value('swe_llm_errors_total', { provider: 'gemini', code: 'unknown' })).toBe(1);
    expect(p.value('swe_llm_call_duration_seconds_count', { provider: 'gemini' })).toBe(3);
  });
});

describe('GET /metrics', () => {
  let dir: string;
  let origin: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swe-metrics-'));
    origin = await makeTestRepo(join(dir, 'origin'), { 'README.md': '# metrics\n' });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows requests by route pattern, sessions by status, leases, commits, events, model calls and commands', async () => {
    const model = scriptedModel({
      programmer: [{ name: 'run_command', args: { command: 'sleep 1; echo built' } }, FINISH],
    });
    const svc = await startInProcess({
      agent: { model, workspace: join(dir, 'ws') },
      leaseTtlMs: 600,
    });
    try {
      const created = await svc.call('POST', '/agent/sessions', {
        goal: 'measure me',
        repo_url: origin,
        mode: 'review',
      });
      expect(created.status).toBe(201);
      const id = created.body.session_id as string;
      const status = async (want: string) =>
        waitFor(
          `session ${want}`,
          async () =>
            (await svc.call('GET', `/agent/sessions/${id}`)).body.status === want
              ? true
              : undefined,
          30_000,
        );
      await status('WAITING_FOR_USER');
      expect((await svc.call('POST', `/agent/sessions/${id}/approve`)).status).toBe(202);
      await status('COMPLETED');
      // COMPLETED is committed before the ended session's cleanup (its sandbox) and the release that passivates it.
      await waitFor('the session to be passivated', () => svc.node.activeSessions === 0, 30_000);
      expect((await svc.call('GET', '/no/such/route')).status).toBe(404);
      expect((await svc.call('GET', `/agent/sessions/${id}/nothing-here`)).status).toBe(404);

      const res = await svc.app.request('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
      const p = parse(await res.text());

      // HTTP, by the matched pattern: bounded whatever the URL held.
      expect(
        p.value('swe_http_requests_total', {
          method: 'POST',
          route: '/agent/sessions',
          status: '201',
        }),
      ).toBe(1);
      expect(
        p.value('swe_http_requests_total', {
          method: 'POST',
          route: '/agent/sessions/:id/approve',
          status: '202',
        }),
      ).toBe(1);
      expect(
        p.value('swe_http_requests_total', {
          method: 'GET',
          route: '/agent/sessions/:id',
          status: '200',
        }),
      ).toBeGreaterThanOrEqual(2);
      expect(
        p.value('swe_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
      ).toBe(2);
      expect(p.samples.some((s) => s.labels['route']?.includes(id))).toBe(false);
      expect(
        p.value('swe_http_request_duration_seconds_count', {
          method: 'POST',
          route: '/agent/sessions',
        }),
      ).toBe(1);
      expect(p.type.get('swe_http_request_duration_seconds')).toBe('histogram');

      // The store, read at the scrape.
      expect(p.value('swe_sessions', { status: 'COMPLETED' })).toBe(1);
      expect(p.value('swe_sessions', { status: 'RUNNING' })).toBe(0);
      expect(p.value('swe_store_up')).toBe(1);
      expect(p.value('swe_store_fenced_writes_total')).toBe(0);

      // This node: claimed at creation and again after the approval; passivated now.
      expect(p.value('swe_lease_claims_total')).toBeGreaterThanOrEqual(2);
      expect(p.value('swe_lease_renewals_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(p.value('swe_lease_renewals_total', { result: 'failed' })).toBe(0);
      expect(p.value('swe_node_active_sessions')).toBe(0);
      expect(p.value('swe_node_concurrency')).toBe(10);
      expect(p.value('swe_fenced_writes_total')).toBe(0);
      const commits = p.value('swe_commits_total', { result: 'ok' })!;
      expect(commits).toBeGreaterThan(3);
      expect(p.value('swe_commit_duration_seconds_count')).toBe(commits);
      // The approval: delivered from the inbox, and committed.
      expect(p.value('swe_inbox_lag_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(p.value('swe_event_commit_latency_seconds_count')).toBe(
        p.value('swe_inbox_lag_seconds_count'),
      );

      // The agent's model calls and commands.
      expect(p.value('swe_llm_calls_total', { provider: 'openai-compatible' })).toBe(model.calls);
      expect(
        p.value('swe_llm_tokens_total', { provider: 'openai-compatible', type: 'input' }),
      ).toBe(model.calls * SCRIPTED_USAGE.inputTokens);
      expect(
        p.value('swe_llm_tokens_total', { provider: 'openai-compatible', type: 'output' }),
      ).toBe(model.calls * SCRIPTED_USAGE.outputTokens);
      expect(p.find('swe_llm_errors_total')).toEqual([]);
      expect(p.value('swe_sandbox_command_duration_seconds_count', { sandbox: 'local' })).toBe(1);
      expect(
        p.value('swe_sandbox_command_duration_seconds_bucket', { sandbox: 'local', le: '0.5' }),
      ).toBe(0);
      expect(
        p.value('swe_sandbox_command_duration_seconds_bucket', { sandbox: 'local', le: '2.5' }),
      ).toBe(1);
      expect(p.find('swe_sandbox_command_timeouts_total')).toEqual([]);

      // Counters move on: another scrape counts the first one.
      const again = parse(await (await svc.app.request('/metrics')).text());
      expect(
        again.value('swe_http_requests_total', { method: 'GET', route: '/metrics', status: '200' }),
      ).toBe(1);
    } finally {
      await svc.stop();
    }
  }, 60_000);

  it('needs an admin beyond loopback: 401 without a token, 403 for a user, 200 for an admin', async () => {
    const store = new MemoryStore();
    const logger = createLogger({ level: 'error', write: () => undefined });
    const adminToken = 'metrics-admin-token-0123456789';
    await bootstrapAdmin(store, { adminToken, needsToken: true, logger });
    await store.putUser({ id: 'u1', name: 'ada', role: 'user', createdAt: Date.now() });
    const userToken = 'swa_user-token-for-metrics-test-0000';
    await store.putToken({
      id: 't1',
      userId: 'u1',
      name: 't',
      hash: await hashToken(userToken),
      prefix: 'swa_user',
      createdAt: Date.now(),
    });
    const app = createApp({ store, logger, localAdmin: false });
    const get = (token?: string) =>
      app.request('/metrics', token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await get()).status).toBe(401);
    const forbidden = await get(userToken);
    expect(forbidden.status).toBe(403);
    expect((await forbidden.json()).error.message).toMatch(/admin/);
    const ok = await get(adminToken);
    expect(ok.status).toBe(200);
    const p = parse(await ok.text());
    expect(p.value('swe_sessions', { status: 'QUEUED' })).toBe(0);
    expect(
      p.value('swe_http_requests_total', { method: 'GET', route: '/metrics', status: '401' }),
    ).toBe(1);
    expect(
      p.value('swe_http_requests_total', { method: 'GET', route: '/metrics', status: '403' }),
    ).toBe(1);
  });

  it('still answers when the store does not, without stale session counts', async () => {
    const store = new MemoryStore();
    const app = createApp({
      store,
      logger: createLogger({ level: 'error', write: () => undefined }),
    });
    expect(
      parse(await (await app.request('/metrics')).text()).value('swe_sessions', {
        status: 'QUEUED',
      }),
    ).toBe(0);
    store.countByStatus = async () => {
      throw new Error('store down');
    };
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    const p = parse(await res.text());
    expect(p.value('swe_store_up')).toBe(0);
    expect(p.find('swe_sessions')).toEqual([]);
  });
});
