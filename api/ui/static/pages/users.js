// @ts-check
/**
 * `#/users` (admins): create users, give them API tokens (each shown once),
 * revoke tokens, delete users. Other users see a short note.
 */
import { api } from '../api.js';
import {
  h,
  replace,
  setText,
  field,
  options,
  formError,
  clearErrors,
  showError,
  formatTime,
  messageOf,
  newId,
  actionRunner,
} from '../dom.js';

const BUILT_IN_ADMIN = 'admin';

/**
 * @typedef {{id: string, name: string, role: 'admin' | 'user', max_running_sessions: number | null, effective_max_running_sessions: number, created_at: string}} User
 * @typedef {{id: string, name: string, prefix: string, created_at: string}} Token
 */

/** @type {import('../app.js').Page} */
export function usersPage(root, { me, setTitle }) {
  setTitle('Users');
  if (me.role !== 'admin') {
    replace(
      root,
      h('h1', { tabindex: -1 }, 'Users'),
      h(
        'p',
        { class: 'notice' },
        `Only admins manage users. You are signed in as ${me.name} (${me.role}).`,
      ),
    );
    return;
  }
  const list = h('ul', { class: 'cards' });
  const notice = h('p', { class: 'form-error', 'aria-live': 'polite' });
  const done = h('p', { class: 'ok-note', 'aria-live': 'polite' });

  // The one freshly created token on the page, in the card of its user.
  const tokenValue = h('code', { 'data-testid': 'new-token', class: 'secret' });
  const copied = h('span', { class: 'ok-note', 'aria-live': 'polite' });
  const copy = h('button', { type: 'button', class: 'secondary small' }, 'Copy');
  const tokenPanel = h(
    'div',
    { class: 'new-token', role: 'status' },
    h(
      'p',
      { class: 'warning' },
      h('strong', {}, 'Copy this token now: '),
      'it will not be shown again. The server keeps only its hash.',
    ),
    h('p', {}, tokenValue, ' ', copy, ' ', copied),
  );
  /** @type {string | null} */
  let tokenUserId = null;
  copy.addEventListener('click', async () => {
    const text = tokenValue.textContent ?? '';
    try {
      await navigator.clipboard.writeText(text);
      setText(copied, 'Copied.');
    } catch {
      // No clipboard API outside secure contexts: select the token so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(tokenValue);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      setText(copied, 'Selected: press Ctrl+C (⌘C) to copy.');
    }
  });
  const placeToken = () => {
    const slot = tokenUserId
      ? list.querySelector(`li[data-user-id="${CSS.escape(tokenUserId)}"] .token-slot`)
      : null;
    if (slot) slot.append(tokenPanel);
    else tokenPanel.remove();
  };

  const run = actionRunner({ notice, done, load: () => load() });

  // ------------------------------------------------------------ new user
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const role = h('select', {}, ...options(['user', 'admin']));
  const limit = h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric' });
  const form = h(
    'form',
    { 'aria-label': 'New user', novalidate: true },
    h(
      'div',
      { class: 'row' },
      field('Name', name, { name: 'name' }),
      field('Role', role, { name: 'role' }),
      field('Max running sessions', limit, {
        name: 'max_running_sessions',
        hint: 'Blank: the server default. 0: no limit.',
      }),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create user')),
    formError(),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    setText(done, '');
    try {
      /** @type {User} */
      const u = await api.post('/agent/users', {
        name: name.value,
        role: role.value,
        ...(limit.value !== '' ? { max_running_sessions: Number(limit.value) } : {}),
      });
      name.value = '';
      limit.value = '';
      role.value = 'user';
      setText(done, `Created user ${u.name}.`);
      await load();
    } catch (err) {
      showError(form, err);
    }
  });

  // ---------------------------------------------------------------- list
  /** @param {User} u @param {Token[] | null} tokens */
  const card = (u, tokens) => {
    const tokenName = h('input', { type: 'text', autocomplete: 'off', id: newId('token-name') });
    const tokenForm = h(
      'form',
      { class: 'inline-form', 'aria-label': `New token for ${u.name}` },
      h(
        'div',
        { class: 'field inline' },
        h('label', { for: tokenName.id }, 'Token purpose (optional)'),
        tokenName,
      ),
      h('button', { type: 'submit', class: 'secondary small' }, 'New token'),
    );
    tokenForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      setText(notice, '');
      try {
        const t = await api.post(
          `/agent/users/${encodeURIComponent(u.id)}/tokens`,
          tokenName.value.trim() ? { name: tokenName.value.trim() } : {},
        );
        setText(tokenValue, t.token);
        setText(copied, '');
        tokenUserId = u.id;
        setText(done, `Created a token for ${u.name}.`);
        await load();
        tokenValue.focus();
      } catch (err) {
        setText(notice, messageOf(err));
      }
    });
    const limitText =
      u.max_running_sessions === null
        ? `${u.effective_max_running_sessions || 'no limit'} (server default)`
        : String(u.max_running_sessions || 'no limit');
    return h(
      'li',
      { class: 'card user', 'data-testid': 'user-row', 'data-user-id': u.id },
      h(
        'div',
        { class: 'card-head' },
        h('h3', {}, u.name),
        h('span', { class: 'badge role' }, u.role),
        // The built-in admin's id is its name: said once.
        u.id === u.name
          ? null
          : h('span', { class: 'muted user-id' }, 'id ', h('code', { class: 'mono' }, u.id)),
      ),
      h(
        'p',
        { class: 'muted' },
        `Max running sessions: ${limitText} · created ${formatTime(u.created_at)}`,
      ),
      h(
        'div',
        { class: 'actions' },
        tokenForm,
        u.id === BUILT_IN_ADMIN
          ? null
          : h(
              'button',
              {
                type: 'button',
                class: 'danger small',
                onclick: () =>
                  void run(`Deleted user ${u.name}.`, () =>
                    api.del(`/agent/users/${encodeURIComponent(u.id)}`),
                  ),
              },
              'Delete user',
            ),
      ),
      h('div', { class: 'token-slot' }),
      tokens === null
        ? h('p', { class: 'muted' }, 'Tokens could not be loaded.')
        : tokens.length === 0
          ? h('p', { class: 'muted' }, 'No tokens.')
          : h(
              'table',
              { class: 'list compact' },
              h('caption', { class: 'visually-hidden' }, `Tokens of ${u.name}`),
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ...['Name', 'Prefix', 'Created', ''].map((c) => h('th', { scope: 'col' }, c)),
                ),
              ),
              h(
                'tbody',
                {},
                ...tokens.map((t) =>
                  h(
                    'tr',
                    { 'data-testid': 'token-row', 'data-token-id': t.id },
                    h('td', {}, t.name || '—'),
                    h('td', { class: 'mono' }, `${t.prefix}…`),
                    h('td', {}, formatTime(t.created_at)),
                    h(
                      'td',
                      {},
                      h(
                        'button',
                        {
                          type: 'button',
                          class: 'danger small',
                          onclick: () =>
                            void run(`Revoked token ${t.name || t.prefix}.`, () =>
                              api.del(
                                `/agent/users/${encodeURIComponent(u.id)}/tokens/${encodeURIComponent(t.id)}`,
                              ),
                            ),
                        },
                        'Revoke',
                      ),
                    ),
                  ),
                ),
              ),
            ),
    );
  };

  let left = false;
  const load = async () => {
    try {
      /** @type {{users: User[]}} */
      const { users } = await api.get('/agent/users');
      const tokens = await Promise.all(
        users.map((u) =>
          api.get(`/agent/users/${encodeURIComponent(u.id)}/tokens`).then(
            (r) => /** @type {Token[]} */ (r.tokens),
            () => null,
          ),
        ),
      );
      if (left) return;
      replace(list, ...users.map((u, i) => card(u, tokens[i] ?? null)));
      placeToken();
    } catch (err) {
      setText(notice, `Could not load the users: ${messageOf(err)}`);
    }
  };

  replace(
    root,
    h('h1', { tabindex: -1 }, 'Users'),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'new-user-heading' },
      h('h2', { id: 'new-user-heading' }, 'New user'),
      form,
    ),
    notice,
    done,
    h(
      'section',
      { 'aria-labelledby': 'user-list-heading' },
      h('h2', { id: 'user-list-heading' }, 'All users'),
      list,
    ),
  );
  void load();
  return () => {
    left = true;
  };
}
