// @ts-check
/**
 * `#/sessions/<id>`: one session, live. Its status, plan, logs, usage,
 * result and diff; approve, steer and cancel it. Logs arrive from the event
 * stream; every `status`, `transition` or `end` event refreshes the rest.
 */
import { api, EventStream, idempotencyKey, isApiError } from '../api.js';
import {
  h,
  replace,
  setText,
  setStatusBadge,
  field,
  formError,
  clearErrors,
  showError,
  formatTime,
  formatInt,
  messageOf,
} from '../dom.js';
import { renderDiff } from '../diff.js';

const CANCELLABLE = ['QUEUED', 'RUNNING', 'WAITING_FOR_USER'];
/** Statuses whose session may be deleted (the API refuses the others with 409). */
const ENDED = ['COMPLETED', 'FAILED', 'CANCELLED'];
const REFRESH_DEBOUNCE_MS = 200;
/** A notice about an action goes after this long, or sooner when the status moves past what the action led to. */
const NOTICE_TTL_MS = 12_000;

/**
 * @typedef {{summary: string, steps: string[]}} Plan
 * @typedef {{calls: number, tokens: number, input_tokens: number, output_tokens: number, cost: number | null}} Usage
 * @typedef {{summary: string, diff: string, files_changed: string[], review?: {approved?: boolean, feedback?: string} | null}} Result
 * @typedef {{id: string, status: string, phase: string, reason: string | null, goal: string, repo_url: string, mode: string,
 *   owner: {node_id: string, epoch: number} | null, epoch: number, created_at: string, updated_at: string,
 *   plan: Plan | null, usage: Usage, result: Result | null, partial_diff?: string, logs: string[]}} SessionDetail
 */

/** @type {import('../app.js').Page} */
export function sessionPage(root, { params, setTitle }) {
  const id = params[0] ?? '';
  const base = `/agent/sessions/${encodeURIComponent(id)}`;
  setTitle('Session');
  let left = false;
  const stream = new EventStream(`${base}/events`);

  const goal = h('p', { class: 'goal' });
  const status = h('span', { class: 'badge', 'data-testid': 'session-status' });
  const phase = h('span', { class: 'mono', 'data-testid': 'session-phase' });
  const reason = h('span', { 'data-testid': 'session-reason' });
  const owner = h('span', { 'data-testid': 'session-owner' });
  const repo = h('span', { class: 'mono break' });
  const mode = h('span');
  const created = h('span');
  const live = h('span', { class: 'live muted' }, 'connecting…');
  const notice = h('p', { class: 'form-error', 'aria-live': 'polite' });
  const done = h('p', { class: 'ok-note', 'aria-live': 'polite' });

  const approve = h('button', { type: 'button', hidden: true }, 'Approve plan');
  const cancel = h('button', { type: 'button', class: 'danger', hidden: true }, 'Cancel session');
  const remove = h('button', { type: 'button', class: 'danger', hidden: true }, 'Delete session');

  const plan = h(
    'section',
    { class: 'card', 'data-testid': 'plan', 'aria-labelledby': 'plan-heading' },
    h('h2', { id: 'plan-heading' }, 'Plan'),
  );
  const planBody = h('div', {}, h('p', { class: 'muted' }, 'No plan yet.'));
  plan.append(planBody);

  const message = h('textarea', { rows: 3 });
  const messageForm = h(
    'form',
    { 'aria-labelledby': 'steer-heading', class: 'card', novalidate: true },
    h('h2', { id: 'steer-heading' }, 'Steer the agent'),
    field('Message to the agent', message, {
      name: 'message',
      hint: 'Instructions or feedback, at any time: the agent adds them to its goal and replans (while coding, after the current step).',
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send')),
    formError(),
  );

  const logs = h('ol', {
    class: 'logs',
    'data-testid': 'logs',
    tabindex: 0,
    'aria-labelledby': 'logs-heading',
  });
  const usage = h('p', { 'data-testid': 'usage', class: 'usage' }, '—');
  const result = h('div', { class: 'result' });
  const chartRoot = h('div', { id: 'chart-root', 'data-testid': 'chart-root' });

  replace(
    root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/sessions' }, '← Sessions')),
    h('h1', { tabindex: -1 }, 'Session'),
    goal,
    h(
      'dl',
      { class: 'facts' },
      h('div', {}, h('dt', {}, 'Status'), h('dd', { 'aria-live': 'polite' }, status)),
      h('div', {}, h('dt', {}, 'Phase'), h('dd', {}, phase)),
      h('div', {}, h('dt', {}, 'Reason'), h('dd', { 'aria-live': 'polite' }, reason)),
      h('div', {}, h('dt', {}, 'Owner'), h('dd', {}, owner)),
      h('div', {}, h('dt', {}, 'Mode'), h('dd', {}, mode)),
      h('div', {}, h('dt', {}, 'Created'), h('dd', {}, created)),
      h('div', { class: 'wide' }, h('dt', {}, 'Repository'), h('dd', {}, repo)),
    ),
    h('div', { class: 'actions' }, approve, cancel, remove),
    notice,
    done,
    plan,
    messageForm,
    h(
      'section',
      { 'aria-labelledby': 'logs-heading' },
      h('div', { class: 'section-head' }, h('h2', { id: 'logs-heading' }, 'Logs'), live),
      logs,
    ),
    h(
      'section',
      { 'aria-labelledby': 'usage-heading' },
      h('h2', { id: 'usage-heading' }, 'Usage'),
      usage,
    ),
    result,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'chart-heading' },
      h('h2', { id: 'chart-heading' }, 'State chart'),
      chartRoot,
    ),
  );

  // ------------------------------------------------------------------ logs
  let shownLogs = 0;
  /** @type {Map<number, string>} */
  const pending = new Map();
  let frame = 0;
  const addLine = (/** @type {number} */ index, /** @type {string} */ line) => {
    if (index < shownLogs || pending.has(index)) return;
    pending.set(index, line);
    frame ||= requestAnimationFrame(flushLines);
  };
  // One layout read per frame, however many lines arrive (thousands on connect).
  function flushLines() {
    frame = 0;
    const atBottom = logs.scrollHeight - logs.scrollTop - logs.clientHeight < 24;
    const batch = document.createDocumentFragment();
    for (const index of [...pending.keys()].sort((a, b) => a - b)) {
      if (index >= shownLogs) {
        batch.append(h('li', {}, /** @type {string} */ (pending.get(index))));
        shownLogs = index + 1;
      }
    }
    pending.clear();
    logs.append(batch);
    if (atBottom) logs.scrollTop = logs.scrollHeight;
  }

  // --------------------------------------------------------------- notices
  let shownStatus = '';
  let loadFailed = false;
  /** @type {{ from: string, holds: readonly string[], timer: ReturnType<typeof setTimeout> } | null} */
  let said = null;
  const unsay = () => {
    if (said) clearTimeout(said.timer);
    said = null;
    setText(notice, '');
    setText(done, '');
  };
  /**
   * Shows a notice about an action. It stays while the session keeps its
   * status or moves to one of `holds` (what the action leads to: approving
   * leads to RUNNING), and goes at any other change or after a while; so
   * "Plan approved" never sits next to COMPLETED.
   * @param {HTMLElement} el `done` or `notice`
   * @param {string} text
   * @param {readonly string[]} holds
   */
  const say = (el, text, holds) => {
    unsay();
    setText(el, text);
    said = { from: shownStatus, holds, timer: setTimeout(unsay, NOTICE_TTL_MS) };
  };
  /** @param {string} next the status the page shows now */
  const statusMoved = (next) => {
    if (!said || next === said.from) return;
    if (said.holds.includes(next)) said.from = next;
    else unsay();
  };

  // --------------------------------------------------------------- refresh
  let shownResult = '';
  let gone = false;

  const refresh = async () => {
    try {
      /** @type {SessionDetail} */
      const s = await api.get(base);
      if (left) return;
      if (loadFailed) setText(notice, '');
      loadFailed = false;
      show(s);
    } catch (err) {
      if (left) return;
      if (isApiError(err) && err.status === 404) {
        gone = true;
        stream.close();
        replace(
          root,
          h('p', { class: 'crumbs' }, h('a', { href: '#/sessions' }, '← Sessions')),
          h('h1', { tabindex: -1 }, 'Session'),
          h(
            'p',
            { class: 'form-error', 'aria-live': 'polite' },
            `No session ${id}: ${messageOf(err)}`,
          ),
        );
        return;
      }
      loadFailed = true;
      setText(notice, `Could not load the session: ${messageOf(err)}`);
    }
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let debounce;
  const refreshSoon = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void refresh(), REFRESH_DEBOUNCE_MS);
  };

  /** @param {SessionDetail} s */
  function show(s) {
    setTitle(`Session: ${s.goal.slice(0, 60)}`);
    setText(goal, s.goal);
    setStatusBadge(status, s.status);
    statusMoved(s.status);
    shownStatus = s.status;
    setText(phase, s.phase);
    setText(reason, s.reason ?? '');
    setText(owner, s.owner ? `node ${s.owner.node_id} (epoch ${s.owner.epoch})` : 'none');
    setText(repo, s.repo_url);
    setText(mode, s.mode);
    setText(created, formatTime(s.created_at));
    approve.hidden = s.status !== 'WAITING_FOR_USER';
    cancel.hidden = !CANCELLABLE.includes(s.status);
    remove.hidden = !ENDED.includes(s.status);
    showPlan(s.plan);
    showUsage(s.usage);
    showResult(s);
    s.logs.forEach((line, i) => {
      addLine(i, line);
    });
  }

  /** @param {Plan | null} p */
  function showPlan(p) {
    const key = JSON.stringify(p);
    if (planBody.dataset['key'] === key) return;
    planBody.dataset['key'] = key;
    if (!p) replace(planBody, h('p', { class: 'muted' }, 'No plan yet.'));
    else
      replace(
        planBody,
        h('p', { class: 'plan-summary' }, p.summary),
        h('ol', { class: 'steps' }, ...p.steps.map((step) => h('li', {}, step))),
      );
  }

  /** @param {Usage} u */
  function showUsage(u) {
    const cost =
      u.cost === null || u.cost === undefined
        ? 'cost unknown (no prices for the model)'
        : `cost $${u.cost.toFixed(u.cost < 1 ? 4 : 2)} USD`;
    setText(
      usage,
      `${formatInt(u.calls)} call${u.calls === 1 ? '' : 's'} · ${formatInt(u.tokens)} tokens (${formatInt(u.input_tokens)} in, ${formatInt(u.output_tokens)} out) · ${cost}`,
    );
  }

  /** @param {SessionDetail} s */
  function showResult(s) {
    const key = JSON.stringify([
      s.result?.summary,
      s.result?.diff,
      s.result?.files_changed,
      s.result?.review,
      s.result ? null : s.partial_diff,
    ]);
    if (key === shownResult) return;
    shownResult = key;
    if (s.result) {
      const r = s.result;
      const review = r.review ?? null;
      replace(
        result,
        h(
          'section',
          { 'aria-labelledby': 'result-heading', 'data-testid': 'result' },
          h('h2', { id: 'result-heading' }, 'Result'),
          h('p', { class: 'result-summary', 'data-testid': 'result-summary' }, r.summary),
          h('h3', {}, 'Files changed'),
          r.files_changed.length
            ? h(
                'ul',
                { class: 'files', 'data-testid': 'files-changed' },
                ...r.files_changed.map((f) => h('li', { class: 'mono' }, f)),
              )
            : h('p', { class: 'muted' }, 'None.'),
          h('h3', {}, 'Review'),
          h(
            'div',
            { 'data-testid': 'review' },
            review
              ? h(
                  'p',
                  {},
                  h(
                    'span',
                    {
                      class: `badge ${review.approved ? 'status-completed' : 'status-waiting-for-user'}`,
                    },
                    review.approved ? 'approved' : 'changes requested',
                  ),
                )
              : h('p', { class: 'muted' }, 'No review.'),
            review?.feedback ? h('p', { class: 'feedback' }, review.feedback) : null,
          ),
          h('h3', {}, 'Diff'),
          renderDiff(r.diff ?? ''),
        ),
      );
    } else if (s.partial_diff) {
      replace(
        result,
        h(
          'section',
          { 'aria-labelledby': 'result-heading' },
          h('h2', { id: 'result-heading' }, 'Partial change'),
          renderDiff(s.partial_diff, { partial: true }),
        ),
      );
    } else {
      replace(result);
    }
  }

  // --------------------------------------------------------------- actions
  /**
   * @param {HTMLButtonElement} button
   * @param {string} path
   * @param {string} ok the notice once the API took it
   * @param {readonly string[]} leadsTo the statuses the action leads to, while its notice holds
   */
  const act = async (button, path, ok, leadsTo) => {
    unsay();
    button.disabled = true;
    try {
      await api.post(`${base}/${path}`, {}, { 'idempotency-key': idempotencyKey() });
      say(done, ok, leadsTo);
      refreshSoon();
    } catch (err) {
      // About the status it was tried in: it goes when that changes.
      say(notice, messageOf(err), []);
    } finally {
      button.disabled = false;
    }
  };
  approve.addEventListener(
    'click',
    () => void act(approve, 'approve', 'Plan approved: the agent goes on to code.', ['RUNNING']),
  );
  cancel.addEventListener(
    'click',
    () => void act(cancel, 'cancel', 'Cancel requested.', ['CANCELLED']),
  );

  // Deleting is for good (logs, history, transcripts, result): asked first, then back to the list.
  remove.addEventListener('click', async () => {
    if (
      !window.confirm(
        'Delete this session with its logs, history, transcripts and result? This cannot be undone.',
      )
    )
      return;
    unsay();
    remove.disabled = true;
    try {
      await api.del(base);
      location.hash = '#/sessions';
    } catch (err) {
      say(notice, messageOf(err), []);
      remove.disabled = false;
    }
  });

  messageForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(messageForm);
    unsay();
    const send = /** @type {HTMLButtonElement} */ (
      messageForm.querySelector('button[type=submit]')
    );
    send.disabled = true;
    try {
      await api.post(
        `${base}/input`,
        { message: message.value },
        { 'idempotency-key': idempotencyKey() },
      );
      message.value = '';
      say(done, 'Message sent: the agent will take it into account.', ['QUEUED', 'RUNNING']);
      refreshSoon();
    } catch (err) {
      showError(messageForm, err);
    } finally {
      send.disabled = false;
    }
  });
  message.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) messageForm.requestSubmit();
  });

  // ----------------------------------------------------------- live events
  stream.onState((state) => {
    setText(
      live,
      state === 'open' ? 'live' : state === 'closed' ? (gone ? '' : 'not live') : 'reconnecting…',
    );
  });
  stream.subscribe((ev) => {
    if (ev.event === 'log' && typeof ev.data?.index === 'number')
      addLine(ev.data.index, String(ev.data.line ?? ''));
    else if (ev.event === 'status' || ev.event === 'transition' || ev.event === 'end')
      refreshSoon();
  });
  void refresh();

  // ---------------------------------------------------------- state chart
  /** @type {(() => void) | undefined} */
  let unmountChart;
  const chartModule = new URL('../chart.js', import.meta.url).href;
  import(chartModule)
    .then((mod) => {
      if (left) return;
      if (typeof mod?.mountChart !== 'function')
        throw new Error('chart.js does not export mountChart');
      const cleanup = mod.mountChart(chartRoot, {
        sessionId: id,
        fetchJson: (/** @type {string} */ path) => api.get(path),
        onEvent: (/** @type {(ev: import('../api.js').StreamEvent) => void} */ handler) => {
          const off = stream.subscribe(handler);
          return () => void off();
        },
      });
      if (typeof cleanup === 'function') unmountChart = cleanup;
    })
    .catch((err) => {
      console.warn('state chart unavailable:', err);
      if (!left) replace(chartRoot, h('p', { class: 'muted' }, 'State chart unavailable'));
    });

  return () => {
    left = true;
    unsay();
    clearTimeout(debounce);
    if (frame) cancelAnimationFrame(frame);
    stream.close();
    try {
      unmountChart?.();
    } catch (e) {
      console.warn('state chart cleanup failed:', e);
    }
  };
}
