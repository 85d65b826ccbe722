/**
 * The service's metrics, one object made per process by `startService` and
 * handed down the wiring (node → session hosts, lease renewer, work; app →
 * HTTP middleware and `GET /metrics`). Children with fixed label values are
 * resolved here once, so instrumented hot paths only add to a number.
 */
import {
  MetricsRegistry,
  SLOW_BUCKETS,
  type CounterChild,
  type Counter,
  type Gauge,
  type Histogram,
  type HistogramChild,
} from './metrics.ts';

export interface ServiceMetrics {
  readonly registry: MetricsRegistry;
  // Sessions and the store (read at scrape time by GET /metrics).
  readonly sessions: Gauge;
  readonly storeUp: Gauge;
  readonly storeFencedWrites: Counter;
  // This node.
  readonly activeSessions: Gauge;
  readonly concurrency: Gauge;
  readonly claims: CounterChild;
  readonly renewals: { ok: CounterChild; failed: CounterChild };
  readonly leaseLosses: { lost: CounterChild };
  readonly suspensions: CounterChild;
  readonly fencedWrites: CounterChild;
  readonly inboxLag: HistogramChild;
  readonly eventCommitLatency: HistogramChild;
  readonly commits: {
    ok: CounterChild;
    fenced: CounterChild;
    not_found: CounterChild;
    error: CounterChild;
  };
  readonly commitDuration: HistogramChild;
  /** Ended sessions this node removed with everything they own. */
  readonly sessionsRemoved: { retention: CounterChild; request: CounterChild };
  // The agent's work.
  readonly llmCalls: Counter;
  readonly llmTokens: Counter;
  readonly llmErrors: Counter;
  readonly llmDuration: Histogram;
  readonly sandboxCommandDuration: Histogram;
  readonly sandboxTimeouts: Counter;
  // HTTP.
  readonly httpRequests: Counter;
  readonly httpDuration: Histogram;
}

export function createServiceMetrics(registry = new MetricsRegistry()): ServiceMetrics {
  const r = registry;
  const renewals = r.counter(
    'swe_lease_renewals_total',
    'Lease renewal round trips of this node (one per interval for all its leases), by whether the store answered.',
    ['result'],
  );
  const losses = r.counter(
    'swe_lease_losses_total',
    'Actors this node stopped because of their lease: `lost` (the store no longer confirms it: another node claimed the session).',
    ['reason'],
  );
  const commits = r.counter(
    'swe_commits_total',
    'Fenced snapshot commits of this node, by result (`error`: an attempt that failed and was retried).',
    ['result'],
  );
  const removed = r.counter(
    'swe_sessions_removed_total',
    'Ended sessions this node removed with everything they own, by what removed them: `retention` (the SESSION_RETENTION_DAYS sweep) or `request` (DELETE /agent/sessions/{id}).',
    ['by'],
  );
  return {
    registry,
    sessionsRemoved: { retention: removed.labels('retention'), request: removed.labels('request') },
    sessions: r.gauge(
      'swe_sessions',
      "Sessions by status, from the store's status indexes (cluster-wide).",
      ['status'],
    ),
    storeUp: r.gauge('swe_store_up', '1 when the store answered this scrape, 0 when it did not.'),
    storeFencedWrites: r.counter(
      'swe_store_fenced_writes_total',
      'Writes the store rejected for a stale lease epoch, all nodes together.',
    ),
    activeSessions: r.gauge('swe_node_active_sessions', 'Session actors hosted on this node now.'),
    concurrency: r.gauge(
      'swe_node_concurrency',
      'Most session actors this node hosts at once (NODE_CONCURRENCY).',
    ),
    claims: r
      .counter('swe_lease_claims_total', 'Sessions this node claimed (a new lease epoch each).')
      .labels(),
    renewals: { ok: renewals.labels('ok'), failed: renewals.labels('failed') },
    leaseLosses: { lost: losses.labels('lost') },
    suspensions: r
      .counter(
        'swe_lease_suspensions_total',
        'Actors this node paused because their lease was not confirmed in time (the store out of reach, or the process frozen); each resumes or stops at the next renewal.',
      )
      .labels(),
    fencedWrites: r
      .counter(
        'swe_fenced_writes_total',
        'Writes of this node the store rejected for a stale lease epoch (the actor is dropped).',
      )
      .labels(),
    inboxLag: r
      .histogram(
        'swe_inbox_lag_seconds',
        "From an event's append to the inbox (store time) to its delivery to the actor on the owner node (this node's clock).",
      )
      .labels(),
    eventCommitLatency: r
      .histogram(
        'swe_event_commit_latency_seconds',
        "From an event's append to the inbox (store time) to the commit that includes its effect (this node's clock).",
      )
      .labels(),
    commits: {
      ok: commits.labels('ok'),
      fenced: commits.labels('fenced'),
      not_found: commits.labels('not_found'),
      error: commits.labels('error'),
    },
    commitDuration: r
      .histogram(
        'swe_commit_duration_seconds',
        'Time a commit took until the store acknowledged it, retries included.',
      )
      .labels(),
    llmCalls: r.counter(
      'swe_llm_calls_total',
      'Model calls (each with its own retries), by provider.',
      ['provider'],
    ),
    llmTokens: r.counter(
      'swe_llm_tokens_total',
      'Tokens of answered model calls, by provider and type (`input`, `output`).',
      ['provider', 'type'],
    ),
    llmErrors: r.counter(
      'swe_llm_errors_total',
      'Model calls that failed after their retries, by provider and error code (e.g. `llm_rate_limited`).',
      ['provider', 'code'],
    ),
    llmDuration: r.histogram(
      'swe_llm_call_duration_seconds',
      'Duration of model calls, retries included, by provider.',
      ['provider'],
      SLOW_BUCKETS,
    ),
    sandboxCommandDuration: r.histogram(
      'swe_sandbox_command_duration_seconds',
      "Duration of the agent's commands in sandboxes, by sandbox type.",
      ['sandbox'],
      SLOW_BUCKETS,
    ),
    sandboxTimeouts: r.counter(
      'swe_sandbox_command_timeouts_total',
      'Agent commands killed at their timeout, by sandbox type.',
      ['sandbox'],
    ),
    httpRequests: r.counter(
      'swe_http_requests_total',
      'HTTP requests answered, by method, matched route pattern and status.',
      ['method', 'route', 'status'],
    ),
    httpDuration: r.histogram(
      'swe_http_request_duration_seconds',
      'Time to the response head (for event streams: until the stream starts), by method and route pattern.',
      ['method', 'route'],
    ),
  };
}
