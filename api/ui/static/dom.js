// @ts-check
/**
 * Small DOM helpers shared by the pages: an element builder that only ever
 * sets text (never HTML), form-field builders with their labels, error
 * display next to a field, and formatting of times, numbers and statuses.
 */
import { isApiError } from './api.js';

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attrs */

/**
 * An element with attributes, `on<event>` listeners and children; strings
 * become text nodes, so no value is ever parsed as HTML.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {(Child | Child[])[]} children */
export function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** Replaces an element's children. @param {Element} el @param {...(Child | Child[])} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Sets the text only when it changed, so screen readers and selections are not disturbed. @param {Element} el @param {string} text */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

let uid = 0;
/** A document-unique id. @param {string} prefix */
export const newId = (prefix) => `${prefix}-${++uid}`;

/**
 * A labelled field: `<div class="field"><label for>…</label>control<p class="hint">…<p class="field-error" aria-live>`.
 * @template {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} C
 * @param {string} label
 * @param {C} control
 * @param {{hint?: string, name?: string}} [opts] name: the API field whose errors show here
 */
export function field(label, control, opts = {}) {
  if (!control.id) control.id = newId('f');
  const error = h('p', { class: 'field-error', id: `${control.id}-error`, 'aria-live': 'polite' });
  const hint = opts.hint ? h('p', { class: 'hint', id: `${control.id}-hint` }, opts.hint) : null;
  if (hint) control.setAttribute('aria-describedby', hint.id);
  if (opts.name) control.dataset['field'] = opts.name;
  const wrap = h('div', {
    class:
      control instanceof HTMLInputElement && control.type === 'checkbox' ? 'field check' : 'field',
  });
  const labelEl = h('label', { for: control.id }, label);
  if (control instanceof HTMLInputElement && control.type === 'checkbox')
    append(wrap, [control, labelEl, hint, error]);
  else append(wrap, [labelEl, control, hint, error]);
  return wrap;
}

/** @param {string[]} values @param {string} [selected] @param {Record<string, string>} [labels] */
export function options(values, selected, labels = {}) {
  return values.map((v) => h('option', { value: v, selected: v === selected }, labels[v] ?? v));
}

/** Clears the errors shown in a form. @param {HTMLElement} form */
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    const hint = el.id ? form.querySelector(`#${CSS.escape(el.id)}-hint`) : null;
    if (hint) el.setAttribute('aria-describedby', hint.id);
    else el.removeAttribute('aria-describedby');
  }
}

/**
 * Shows an error in a form: next to the control whose `data-field` is the
 * error's field (or its closest parent, `prices` for `prices.input_per_mtok`),
 * else in the form's `.form-error`.
 * @param {HTMLElement} form
 * @param {unknown} err
 * @param {Record<string, string>} [aliases] API field → `data-field` of the control that shows it
 */
export function showError(form, err, aliases = {}) {
  const message = messageOf(err);
  const f = isApiError(err) ? err.field : undefined;
  if (f) {
    const names = [aliases[f], f, ...ancestors(f).flatMap((a) => [aliases[a], a])].filter(
      (n) => n !== undefined,
    );
    for (const name of names) {
      const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
      if (!(control instanceof HTMLElement)) continue;
      const slot = form.querySelector(`#${CSS.escape(control.id)}-error`);
      if (!slot) continue;
      slot.textContent = message;
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute(
        'aria-describedby',
        [slot.id, control.getAttribute('aria-describedby')].filter(Boolean).join(' '),
      );
      control.focus();
      return;
    }
  }
  const slot = form.querySelector('.form-error');
  if (slot) slot.textContent = message;
}

/** `a.b.c` → `a.b`, `a`. @param {string} f */
const ancestors = (f) =>
  f
    .split('.')
    .slice(0, -1)
    .map((_, i, parts) => parts.slice(0, parts.length - i).join('.'));

/** The words to show for an error. @param {unknown} err */
export function messageOf(err) {
  if (isApiError(err))
    return err.field && !err.message.includes(err.field)
      ? `${err.field}: ${err.message}`
      : err.message;
  return err instanceof Error ? err.message : String(err);
}

/** A `<p class="form-error">` announced politely. */
/**
 * A list page's action runner: clears both notices, runs the action, says
 * `what` in `done` and reloads the list, or shows the error in `notice`.
 * @param {{ notice: HTMLElement, done: HTMLElement, load: () => Promise<unknown> }} slots
 * @returns {(what: string, action: () => Promise<unknown>) => Promise<void>}
 */
export function actionRunner({ notice, done, load }) {
  return async (what, action) => {
    setText(notice, '');
    setText(done, '');
    try {
      await action();
      setText(done, what);
      await load();
    } catch (err) {
      setText(notice, messageOf(err));
    }
  };
}

export const formError = () => h('p', { class: 'form-error', 'aria-live': 'polite' });

/** A status badge: coloured by class and always texted. @param {string} status */
export function statusBadge(status) {
  return h('span', { class: `badge status-${status.toLowerCase().replace(/_/g, '-')}` }, status);
}

/** @param {HTMLElement} el @param {string} status */
export function setStatusBadge(el, status) {
  el.className = `badge status-${status.toLowerCase().replace(/_/g, '-')}`;
  setText(el, status);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
/** @param {string | number | null | undefined} t */
export const formatTime = (t) =>
  t === null || t === undefined || t === '' ? '—' : dateTime.format(new Date(t));

const integer = new Intl.NumberFormat();
/** @param {number} n */
export const formatInt = (n) => integer.format(n);

/** A link inside the app. @param {string} route e.g. `#/sessions` @param {...Child} children */
export const link = (route, ...children) => h('a', { href: route }, ...children);

/**
 * Runs `tick` now and every `ms` while the tab is visible, until the returned
 * function is called. Ticks never overlap.
 * @param {() => Promise<void> | void} tick
 * @param {number} ms
 * @returns {() => void}
 */
export function every(tick, ms) {
  let stopped = false;
  let running = false;
  const run = async () => {
    if (stopped || running || document.visibilityState !== 'visible') return;
    running = true;
    try {
      await tick();
    } finally {
      running = false;
    }
  };
  void run();
  const timer = setInterval(run, ms);
  const onVisible = () => void run();
  document.addEventListener('visibilitychange', onVisible);
  return () => {
    stopped = true;
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}

/**
 * Keeps `container`'s children in the order of `items`, reusing the node of
 * each key, so a refresh does not move focus or selection.
 * @template T
 * @param {Element} container
 * @param {T[]} items
 * @param {(item: T) => string} key
 * @param {(item: T, existing: HTMLElement | undefined) => HTMLElement} render returns the existing node updated, or a new one
 */
export function reconcile(container, items, key, render) {
  /** @type {Map<string, HTMLElement>} */
  const byKey = new Map();
  for (const child of container.children)
    if (child instanceof HTMLElement && child.dataset['key'] !== undefined)
      byKey.set(child.dataset['key'], child);
  const keep = new Set();
  items.forEach((item, i) => {
    const k = key(item);
    keep.add(k);
    const node = render(item, byKey.get(k));
    node.dataset['key'] = k;
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] ?? null);
  });
  for (const [k, node] of byKey) if (!keep.has(k)) node.remove();
}
