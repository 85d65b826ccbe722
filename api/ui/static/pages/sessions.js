// @ts-check
/** `#/sessions`: start a session, and the list of sessions, refreshed every 2 s while visible. */
import { api, idempotencyKey } from '../api.js';
import {
  h,
  field,
  options,
  formError,
  clearErrors,
  showError,
  statusBadge,
  setStatusBadge,
  setText,
  formatTime,
  every,
  reconcile,
  messageOf,
  replace,
} from '../dom.js';

export const STATUSES = [
  'QUEUED',
  'RUNNING',
  'WAITING_FOR_USER',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
];

/** @typedef {{id: string, status: string, phase: string, reason: string | null, goal: string, created_at: string, owner: {node_id: string, epoch: number} | null}} SessionSummary */

/** @type {import('../app.js').Page} */
export function sessionsPage(root, { setTitle }) {
  setTitle('Sessions');
  const form = startForm();
  const filter = h(
    'select',
    { id: 'status-filter' },
    h('option', { value: '' }, 'All'),
    ...options(STATUSES),
  );
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted', hidden: true }, 'No sessions yet.');
  const listError = h('p', { class: 'form-error', 'aria-live': 'polite' });

  replace(
    root,
    h('h1', { tabindex: -1 }, 'Sessions'),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'start-heading' },
      h('h2', { id: 'start-heading' }, 'Start a session'),
      form,
    ),
    h(
      'section',
      { 'aria-labelledby': 'list-heading' },
      h(
        'div',
        { class: 'section-head' },
        h('h2', { id: 'list-heading' }, 'Session list'),
        h(
          'div',
          { class: 'field inline' },
          h('label', { for: 'status-filter' }, 'Status filter'),
          filter,
        ),
      ),
      listError,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'list' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Goal'),
              h('th', { scope: 'col' }, 'Status'),
              h('th', { scope: 'col' }, 'Phase'),
              h('th', { scope: 'col' }, 'Created'),
            ),
          ),
          tbody,
        ),
      ),
      empty,
    ),
  );

  const refresh = async () => {
    const status = filter.value;
    try {
      const { sessions } = await api.get(
        `/agent/sessions?limit=100${status ? `&status=${encodeURIComponent(status)}` : ''}`,
      );
      if (status !== filter.value) return;
      setText(listError, '');
      reconcile(tbody, /** @type {SessionSummary[]} */ (sessions), (s) => s.id, sessionRow);
      empty.hidden = sessions.length > 0;
    } catch (err) {
      setText(listError, `Could not load the sessions: ${messageOf(err)}`);
    }
  };
  filter.addEventListener('change', () => void refresh());
  return every(refresh, 2000);
}

/** @param {SessionSummary} s @param {HTMLElement | undefined} row */
function sessionRow(s, row) {
  if (!row) {
    row = h(
      'tr',
      { 'data-testid': 'session-row', 'data-session-id': s.id },
      h('td', { class: 'goal-cell' }, h('a', { href: `#/sessions/${encodeURIComponent(s.id)}` })),
      h('td', {}, statusBadge(s.status)),
      h('td', { class: 'mono' }),
      h('td', { class: 'nowrap' }),
    );
  }
  const [goal, status, phase, created] = /** @type {HTMLElement[]} */ ([...row.children]);
  setText(/** @type {HTMLElement} */ (goal?.firstElementChild), oneLine(s.goal));
  setStatusBadge(/** @type {HTMLElement} */ (status?.firstElementChild), s.status);
  if (phase) setText(phase, s.phase);
  if (created) setText(created, formatTime(s.created_at));
  return row;
}

/** @param {string} text */
const oneLine = (text) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 140 ? `${line.slice(0, 139)}…` : line;
};

function startForm() {
  const goal = h('textarea', { rows: 3, required: true });
  const repo = h('input', {
    type: 'text',
    inputmode: 'url',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    placeholder: 'https://github.com/example/my-repo.git',
  });
  const mode = h('select', {}, ...options(['auto', 'review']));
  const profile = h('select', {}, h('option', { value: '' }, 'Default'));
  const submit = h('button', { type: 'submit' }, 'Start session');
  const error = formError();
  const form = h(
    'form',
    { 'aria-label': 'Start a session', novalidate: true },
    field('Goal', goal, { name: 'goal', hint: 'What the agent should do, in plain words.' }),
    h(
      'div',
      { class: 'row' },
      field('Repository URL', repo, { name: 'repo_url' }),
      field('Mode', mode, {
        name: 'mode',
        hint: 'review: the agent waits for your approval of its plan.',
      }),
      field('AI profile', profile, { name: 'ai_profile_id' }),
    ),
    h('div', { class: 'actions' }, submit),
    error,
  );
  // Ctrl/Cmd+Enter submits from the goal, as Enter does from the other fields.
  goal.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });

  api.get('/agent/ai-profiles').then(
    ({ profiles }) => {
      for (const p of /** @type {{id: string, name: string, is_default: boolean}[]} */ (profiles))
        profile.append(h('option', { value: p.id }, p.name));
    },
    () => {},
  );

  let key = idempotencyKey();
  form.addEventListener('input', () => (key = idempotencyKey()));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      const body = {
        goal: goal.value,
        repo_url: repo.value.trim(),
        mode: mode.value,
        ...(profile.value ? { ai_profile_id: profile.value } : {}),
      };
      const created = await api.post('/agent/sessions', body, { 'idempotency-key': key });
      location.hash = `#/sessions/${encodeURIComponent(created.session_id)}`;
    } catch (err) {
      showError(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
