// @ts-check
/**
 * The web UI's entry point: hash routing to the pages, the header (who is
 * signed in, sign out), and the sign-in view shown whenever the API answers
 * 401. A page is a function that renders into `<main>` and returns its
 * cleanup (timers, streams); see `ROUTES` to add one.
 */
import { api, auth, getToken, setToken, isApiError } from './api.js';
import { h, replace, messageOf, formError, field } from './dom.js';
import { sessionsPage } from './pages/sessions.js';
import { sessionPage } from './pages/session.js';
import { profilesPage } from './pages/profiles.js';
import { usersPage } from './pages/users.js';
import { clusterPage } from './pages/cluster.js';

/** @typedef {{id: string, name: string, role: 'admin' | 'user', auth: 'local' | 'token', default_profile_id: string | null}} Me */

/**
 * What a page gets: the route's parameters and the signed-in user.
 * @typedef {{params: string[], me: Me, setTitle: (title: string) => void}} PageContext
 */

/** @typedef {(root: HTMLElement, ctx: PageContext) => (void | (() => void))} Page */

/** @type {{path: RegExp, page: Page, nav: string}[]} */
const ROUTES = [
  { path: /^\/sessions\/?$/, page: sessionsPage, nav: 'sessions' },
  { path: /^\/sessions\/([^/]+)$/, page: sessionPage, nav: 'sessions' },
  { path: /^\/settings\/profiles\/?$/, page: profilesPage, nav: 'profiles' },
  { path: /^\/users\/?$/, page: usersPage, nav: 'users' },
  { path: /^\/cluster\/?$/, page: clusterPage, nav: 'cluster' },
];
const DEFAULT_ROUTE = '#/sessions';

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));

/** @type {Me | null} */
let me = null;
/** @type {(() => void) | void} */
let cleanup;
/** Why the sign-in view is shown; null while signed in. @type {string | null} */
let signInReason = null;

function setTitle(/** @type {string} */ title) {
  document.title = `${title} · SWE Agent`;
}

/** The route of the current hash, or undefined for an unknown one. */
function currentRoute() {
  const path = decodeURI(location.hash.replace(/^#/, '')) || '/';
  for (const r of ROUTES) {
    const m = r.path.exec(path);
    if (m) return { ...r, params: m.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return undefined;
}

/** @param {{focus?: boolean}} [opts] */
async function render(opts = {}) {
  if (!location.hash.startsWith('#/')) {
    history.replaceState(null, '', DEFAULT_ROUTE);
  }
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  renderHeader();
  if (signInReason !== null || !me) return renderSignIn();

  const route = currentRoute();
  markNav(route?.nav);
  main.replaceChildren();
  if (!route) {
    setTitle('Not found');
    replace(
      main,
      h('h1', { tabindex: -1 }, 'Not found'),
      h('p', {}, 'No page here. ', h('a', { href: DEFAULT_ROUTE }, 'Go to the sessions.')),
    );
  } else {
    cleanup = route.page(main, { params: route.params, me, setTitle });
  }
  if (opts.focus) main.querySelector('h1')?.focus();
}

function markNav(/** @type {string | undefined} */ active) {
  for (const a of document.querySelectorAll('nav.site-nav a')) {
    if (a instanceof HTMLElement && a.dataset['nav'] === active)
      a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function renderHeader() {
  const signOut = getToken()
    ? h(
        'button',
        {
          type: 'button',
          class: 'secondary small',
          onclick: () => {
            setToken(null);
            void start();
          },
        },
        'Sign out',
      )
    : null;
  if (me && signInReason === null) {
    replace(
      who,
      h('span', { class: 'who-name' }, me.name),
      ' ',
      h('span', { class: 'badge role' }, me.role),
      ' ',
      h(
        'span',
        {
          class: 'muted',
          title:
            me.auth === 'local'
              ? 'No token: this server listens on loopback only, so you act as the built-in admin'
              : 'Signed in with an API token',
        },
        me.auth === 'local' ? 'local' : 'token',
      ),
      signOut ? ' ' : null,
      signOut,
    );
  } else {
    replace(who, signOut);
  }
}

function renderSignIn() {
  markNav(undefined);
  setTitle('Sign in');
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'current-password',
    spellcheck: 'false',
    required: true,
  });
  const error = formError();
  const form = h(
    'form',
    { 'aria-label': 'Sign in', class: 'card narrow' },
    field('API token', input, {
      hint: 'A token from POST /agent/users/{id}/tokens, or the admin token the first node printed. It is kept in this browser only.',
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
    error,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    setToken(input.value.trim());
    try {
      me = await api.get('/agent/me');
      signInReason = null;
      await render({ focus: true });
    } catch (err) {
      setToken(null);
      error.textContent =
        isApiError(err) && err.status === 401
          ? `That token was refused: ${err.message}`
          : messageOf(err);
      input.focus();
    }
  });
  replace(
    main,
    h('h1', { tabindex: -1 }, 'Sign in'),
    signInReason ? h('p', { class: 'notice', 'aria-live': 'polite' }, signInReason) : null,
    form,
  );
  renderHeader();
  input.focus();
}

/** Loads who is signed in, then renders the route (or the sign-in view). */
/** Shows the notice when the store keeps nothing (`/ready` names the store; it needs no token). */
async function showStoreNotice() {
  const notice = document.getElementById('store-notice');
  if (!notice) return;
  try {
    const res = await fetch('/ready');
    const body = /** @type {{store?: string}} */ (await res.json());
    notice.hidden = body.store !== 'memory';
  } catch {
    // Not ready or unreachable: the page says so on its own.
  }
}

async function start() {
  void showStoreNotice();
  try {
    me = await api.get('/agent/me');
    signInReason = null;
  } catch (err) {
    me = null;
    if (isApiError(err) && err.status === 401)
      signInReason = getToken()
        ? `Your token was refused: ${err.message}`
        : 'This server needs an API token.';
    else {
      signInReason = null;
      replace(
        main,
        h('h1', { tabindex: -1 }, 'SWE Agent'),
        h(
          'p',
          { class: 'form-error', 'aria-live': 'polite' },
          `The API cannot be reached: ${messageOf(err)}`,
        ),
        h('button', { type: 'button', onclick: () => void start() }, 'Retry'),
      );
      return;
    }
  }
  await render();
}

auth.addEventListener('unauthorized', (e) => {
  if (signInReason !== null) return;
  const detail = e instanceof CustomEvent ? e.detail : undefined;
  signInReason = getToken()
    ? `Your token was refused${detail ? `: ${messageOf(detail)}` : '.'}`
    : 'This server needs an API token.';
  void render();
});
window.addEventListener('hashchange', () => void render({ focus: true }));

document.getElementById('skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

void start();
