// @ts-check
/**
 * `#/settings/profiles`: the AI profiles sessions use. Create, edit, delete,
 * make one the default, test the connection. API keys are write-only: the
 * list shows the hint the server gives, the form never holds a stored key.
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
  messageOf,
  actionRunner,
} from '../dom.js';

const PROVIDERS = ['openai', 'azure', 'gemini', 'ollama', 'openai-compatible'];

/** What each provider needs, as the server checks it (its 400 is the judge). @type {Record<string, string>} */
const NEEDS = {
  openai: 'OpenAI needs an API key.',
  azure:
    'Azure OpenAI needs an API key, the endpoint as Base URL, an API version and a deployment.',
  gemini: 'Gemini needs an API key.',
  ollama: 'Ollama needs no key; Base URL is the Ollama server (default http://127.0.0.1:11434).',
  'openai-compatible':
    'An OpenAI-compatible server needs its Base URL (e.g. http://host:8080/v1); a key if it asks for one.',
};

/**
 * @typedef {{id: string, name: string, provider: string, model: string, base_url: string | null, api_version: string | null,
 *   deployment: string | null, is_default: boolean, prices: {input_per_mtok: number, output_per_mtok: number} | null,
 *   api_key_hint: string | null, owner_id: string | null, user_ids: string[]}} Profile
 */

/** @type {import('../app.js').Page} */
export function profilesPage(root, { me, setTitle }) {
  setTitle('AI Profiles');
  const isAdmin = me.role === 'admin';
  const tbody = h('tbody');
  const empty = h(
    'p',
    { class: 'muted', hidden: true },
    'No profiles yet: sessions need one. Create one below.',
  );
  const notice = h('p', { class: 'form-error', 'aria-live': 'polite' });
  const done = h('p', { class: 'ok-note', 'aria-live': 'polite' });
  /** The one test result on the page, in the row of the profile tested. */
  const testResult = h('output', {
    'data-testid': 'profile-test-result',
    'aria-live': 'polite',
    class: 'test-result',
  });
  /** @type {string | null} */
  let testedId = null;

  // ------------------------------------------------------------------ form
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const provider = h('select', {}, ...options(PROVIDERS));
  const model = h('input', {
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'gpt-4o-mini',
  });
  const apiKey = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    spellcheck: 'false',
  });
  const baseUrl = h('input', {
    type: 'text',
    inputmode: 'url',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const apiVersion = h('input', { type: 'text', autocomplete: 'off', placeholder: '2024-10-21' });
  const deployment = h('input', { type: 'text', autocomplete: 'off' });
  const isDefault = h('input', { type: 'checkbox', disabled: !isAdmin });
  const priceIn = h('input', { type: 'number', min: 0, step: 'any', inputmode: 'decimal' });
  const priceOut = h('input', { type: 'number', min: 0, step: 'any', inputmode: 'decimal' });
  const formHeading = h('h2', { id: 'profile-form-heading' }, 'New profile');
  const cancelEdit = h(
    'button',
    { type: 'button', class: 'secondary', hidden: true },
    'Cancel edit',
  );
  // What the provider needs: its field's hint, updated as the choice changes.
  const providerField = field('Provider', provider, {
    name: 'provider',
    hint: NEEDS['openai'] ?? ' ',
  });
  const needs = /** @type {HTMLElement} */ (providerField.querySelector('.hint'));
  needs.classList.add('needs');
  needs.setAttribute('aria-live', 'polite');
  const keyField = field('API key', apiKey, {
    name: 'api_key',
    hint: 'Sealed on the server and never shown again.',
  });
  const versionField = field('API version', apiVersion, { name: 'api_version' });
  const deploymentField = field('Deployment', deployment, { name: 'deployment' });
  const form = h(
    'form',
    { 'aria-label': 'AI profile', novalidate: true },
    h(
      'div',
      { class: 'row' },
      field('Name', name, { name: 'name' }),
      providerField,
      field('Model', model, { name: 'model' }),
    ),
    h('div', { class: 'row' }, keyField, field('Base URL', baseUrl, { name: 'base_url' })),
    h('div', { class: 'row' }, versionField, deploymentField),
    h(
      'div',
      { class: 'row' },
      field('Input price (USD per million tokens)', priceIn, { name: 'prices.input_per_mtok' }),
      field('Output price (USD per million tokens)', priceOut, { name: 'prices.output_per_mtok' }),
    ),
    field('Default profile', isDefault, {
      name: 'is_default',
      hint: isAdmin
        ? 'Sessions that name no profile use the default.'
        : 'Only admins set the global default; yours is set in your user settings.',
    }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save profile'), cancelEdit),
    formError(),
  );
  const keyHint = /** @type {HTMLElement} */ (keyField.querySelector('.hint'));

  /** @type {Profile | null} */
  let editing = null;

  const showNeeds = () => {
    const azure = provider.value === 'azure';
    versionField.hidden = !azure;
    deploymentField.hidden = !azure;
    setText(needs, NEEDS[provider.value] ?? '');
  };
  provider.addEventListener('change', showNeeds);

  /** @param {Profile | null} p */
  const edit = (p) => {
    editing = p;
    clearErrors(form);
    setText(formHeading, p ? `Edit profile: ${p.name}` : 'New profile');
    cancelEdit.hidden = !p;
    name.value = p?.name ?? '';
    provider.value = p?.provider ?? 'openai';
    model.value = p?.model ?? '';
    apiKey.value = '';
    setText(
      keyHint,
      p
        ? `Blank keeps the stored key${p.api_key_hint ? ` (${p.api_key_hint})` : ''}. Sealed on the server and never shown again.`
        : 'Sealed on the server and never shown again.',
    );
    baseUrl.value = p?.base_url ?? '';
    apiVersion.value = p?.api_version ?? '';
    deployment.value = p?.deployment ?? '';
    isDefault.checked = p?.is_default ?? false;
    priceIn.value = p?.prices ? String(p.prices.input_per_mtok) : '';
    priceOut.value = p?.prices ? String(p.prices.output_per_mtok) : '';
    showNeeds();
  };
  cancelEdit.addEventListener('click', () => edit(null));

  /** The request body: on create, blank fields left out; on edit, blank optional fields cleared (`null`), a blank key kept. */
  const body = () => {
    const creating = editing === null;
    const azure = provider.value === 'azure';
    /** @param {string} v @param {boolean} [applies] */
    const opt = (v, applies = true) =>
      v.trim() && applies ? v.trim() : creating ? undefined : null;
    /** @type {Record<string, unknown>} */
    const b = { name: name.value, provider: provider.value, model: model.value.trim() };
    if (apiKey.value) b['api_key'] = apiKey.value;
    b['base_url'] = opt(baseUrl.value);
    b['api_version'] = opt(apiVersion.value, azure);
    b['deployment'] = opt(deployment.value, azure);
    if (isAdmin && isDefault.checked !== (editing?.is_default ?? false))
      b['is_default'] = isDefault.checked;
    if (priceIn.value !== '' || priceOut.value !== '') {
      /** @type {Record<string, number>} */
      const prices = {};
      if (priceIn.value !== '') prices['input_per_mtok'] = Number(priceIn.value);
      if (priceOut.value !== '') prices['output_per_mtok'] = Number(priceOut.value);
      b['prices'] = prices;
    } else if (editing?.prices) b['prices'] = null;
    return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined));
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    setText(done, '');
    const save = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
    save.disabled = true;
    try {
      /** @type {Profile} */
      const saved = editing
        ? await api.patch(`/agent/ai-profiles/${encodeURIComponent(editing.id)}`, body())
        : await api.post('/agent/ai-profiles', body());
      setText(done, `Saved profile ${saved.name}.`);
      edit(null);
      await load();
    } catch (err) {
      showError(form, err, { prices: 'prices.input_per_mtok' });
    } finally {
      save.disabled = false;
    }
  });

  // ------------------------------------------------------------------ list
  const run = actionRunner({ notice, done, load: () => load() });

  /** @param {Profile} p */
  const test = async (p) => {
    testedId = p.id;
    setText(testResult, `testing ${p.name}…`);
    placeTestResult();
    try {
      const r = await api.post(`/agent/ai-profiles/${encodeURIComponent(p.id)}/test`);
      if (testedId !== p.id) return;
      setText(
        testResult,
        r.ok ? `ok: ${r.model} in ${r.latency_ms} ms` : String(r.error?.message ?? 'failed'),
      );
      testResult.className = r.ok ? 'test-result ok' : 'test-result failed';
    } catch (err) {
      if (testedId !== p.id) return;
      setText(testResult, messageOf(err));
      testResult.className = 'test-result failed';
    }
  };

  const placeTestResult = () => {
    const row = testedId
      ? tbody.querySelector(`tr[data-profile-id="${CSS.escape(testedId)}"] .test-slot`)
      : null;
    if (row) row.append(testResult);
    else testResult.remove();
  };

  /** @param {Profile} p */
  const remove = (p) => {
    if (
      !window.confirm(
        `Delete the AI profile "${p.name}"? Sessions that use it will fall back to the default.`,
      )
    )
      return;
    void run(`Deleted profile ${p.name}.`, () =>
      api.del(`/agent/ai-profiles/${encodeURIComponent(p.id)}`),
    );
  };
  /** @param {Profile} p */
  const makeDefault = (p) =>
    void run(`${p.name} is now the default profile.`, () =>
      api.patch(`/agent/ai-profiles/${encodeURIComponent(p.id)}`, { is_default: true }),
    );

  /** @param {Profile} p */
  const row = (p) =>
    h(
      'tr',
      { 'data-testid': 'profile-row', 'data-profile-id': p.id },
      h('th', { scope: 'row', class: 'nowrap' }, p.name),
      h('td', { class: 'nowrap' }, p.provider),
      h('td', { class: 'mono' }, p.model),
      h('td', { class: 'mono' }, p.api_key_hint ?? '—'),
      h('td', {}, p.is_default ? h('span', { class: 'badge default' }, 'default') : ''),
      h(
        'td',
        { class: 'mono url-cell' },
        p.base_url ? h('span', { class: 'ellipsis', title: p.base_url }, p.base_url) : '',
      ),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'row-actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'secondary small',
              onclick: () => {
                edit(p);
                name.focus();
              },
            },
            'Edit',
          ),
          h(
            'button',
            { type: 'button', class: 'danger small', onclick: () => remove(p) },
            'Delete',
          ),
          p.is_default || !isAdmin
            ? null
            : h(
                'button',
                { type: 'button', class: 'secondary small', onclick: () => makeDefault(p) },
                'Set as default',
              ),
          h(
            'button',
            { type: 'button', class: 'secondary small', onclick: () => void test(p) },
            'Test connection',
          ),
          h('div', { class: 'test-slot' }),
        ),
      ),
    );

  const load = async () => {
    try {
      /** @type {{profiles: Profile[]}} */
      const { profiles } = await api.get('/agent/ai-profiles');
      if (left) return;
      replace(tbody, ...profiles.map(row));
      empty.hidden = profiles.length > 0;
      placeTestResult();
    } catch (err) {
      setText(notice, `Could not load the profiles: ${messageOf(err)}`);
    }
  };

  let left = false;
  replace(
    root,
    h('h1', { tabindex: -1 }, 'AI Profiles'),
    h(
      'p',
      { class: 'lead' },
      'Settings: which provider and model sessions use. A session uses the profile it names, else your default, else the global default.',
    ),
    notice,
    done,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'list' },
        h('caption', { class: 'visually-hidden' }, 'AI profiles'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Name', 'Provider', 'Model', 'API key', 'Default', 'Base URL', 'Actions'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        tbody,
      ),
    ),
    empty,
    h('section', { class: 'card', 'aria-labelledby': 'profile-form-heading' }, formHeading, form),
  );
  edit(null);
  void load();
  return () => {
    left = true;
  };
}
