// @ts-check
/**
 * A unified git diff, parsed and rendered readably: one section per file
 * (`data-testid="diff-file"`, `data-path`), its hunks with their headers, and
 * lines classed `add`/`del`/`ctx` with old and new line numbers and syntax
 * colouring by file extension. Built from DOM nodes only.
 */
import { h } from './dom.js';
import { languageOf, tokenizeLine, tokenNodes } from './highlight.js';

/** @typedef {{kind: 'add' | 'del' | 'ctx' | 'note', text: string, oldNo: number | null, newNo: number | null}} DiffLine */
/** @typedef {{header: string, lines: DiffLine[]}} Hunk */
/** @typedef {{path: string, oldPath: string | null, newPath: string | null, status: 'added' | 'deleted' | 'renamed' | 'modified', binary: boolean, hunks: Hunk[]}} DiffFile */

/** `a/x` → `x`; `/dev/null` → null. @param {string} raw */
function stripPrefix(raw) {
  const p = raw
    .replace(/\t.*$/, '')
    .trim()
    .replace(/^"(.*)"$/, '$1');
  if (p === '/dev/null') return null;
  return p.replace(/^[ab]\//, '');
}

/**
 * Parses a unified diff (`git diff` output, or plain `---`/`+++` files).
 * @param {string} text
 * @returns {DiffFile[]}
 */
export function parseDiff(text) {
  /** @type {DiffFile[]} */
  const files = [];
  /** @type {DiffFile | null} */
  let file = null;
  /** @type {Hunk | null} */
  let hunk = null;
  let oldNo = 0;
  let newNo = 0;
  const newFile = (/** @type {string} */ path) => {
    /** @type {DiffFile} */
    const f = { path, oldPath: path, newPath: path, status: 'modified', binary: false, hunks: [] };
    files.push(f);
    return f;
  };
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const git = /^diff --git (?:"?a\/(.+?)"?) (?:"?b\/(.+?)"?)$/.exec(line);
    if (git) {
      file = newFile(git[2] ?? git[1] ?? '');
      hunk = null;
      continue;
    }
    /** @type {DiffFile | null} */
    const f = file;
    if (line.startsWith('--- ') && (!hunk || isHeaderNext(hunk))) {
      const old = stripPrefix(line.slice(4));
      /** @type {DiffFile} */
      const target = f && !f.hunks.length ? f : newFile(old ?? '');
      file = target;
      target.oldPath = old;
      if (old === null) target.status = 'added';
      hunk = null;
      continue;
    }
    if (line.startsWith('+++ ') && f && !hunk) {
      const next = stripPrefix(line.slice(4));
      f.newPath = next;
      if (next === null) f.status = 'deleted';
      else f.path = next;
      if (next === null && f.oldPath) f.path = f.oldPath;
      continue;
    }
    const at = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (at) {
      /** @type {DiffFile} */
      const target = f ?? newFile('');
      file = target;
      hunk = { header: line, lines: [] };
      target.hunks.push(hunk);
      oldNo = Number(at[1]);
      newNo = Number(at[2]);
      continue;
    }
    if (f && !hunk) {
      if (line.startsWith('new file mode')) f.status = 'added';
      else if (line.startsWith('deleted file mode')) f.status = 'deleted';
      else if (line.startsWith('rename from ')) {
        f.oldPath = line.slice(12);
        f.status = 'renamed';
      } else if (line.startsWith('rename to ')) f.path = f.newPath = line.slice(10);
      else if (line.startsWith('Binary files') || line === 'GIT binary patch') f.binary = true;
      continue;
    }
    const hk = hunk;
    if (!hk) continue;
    const sign = line[0];
    if (sign === '+')
      hk.lines.push({ kind: 'add', text: line.slice(1), oldNo: null, newNo: newNo++ });
    else if (sign === '-')
      hk.lines.push({ kind: 'del', text: line.slice(1), oldNo: oldNo++, newNo: null });
    else if (sign === '\\') hk.lines.push({ kind: 'note', text: line, oldNo: null, newNo: null });
    else hk.lines.push({ kind: 'ctx', text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
  }
  return files;
}

/** A `--- ` line inside a hunk is a removed line starting with `-- `, unless the hunk is complete. @param {Hunk} hunk */
function isHeaderNext(hunk) {
  const counts = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(hunk.header);
  const oldLen = Number(counts?.[1] ?? 1);
  const newLen = Number(counts?.[2] ?? 1);
  const olds = hunk.lines.filter((l) => l.kind !== 'add' && l.kind !== 'note').length;
  const news = hunk.lines.filter((l) => l.kind !== 'del' && l.kind !== 'note').length;
  return olds >= oldLen && news >= newLen;
}

/** @param {DiffFile} f */
function fileTitle(f) {
  if (f.status === 'renamed' && f.oldPath && f.oldPath !== f.path)
    return `${f.oldPath} → ${f.path}`;
  return f.path || '(unnamed)';
}

/**
 * The diff as a DOM tree.
 * @param {string} text a unified diff
 * @param {{partial?: boolean}} [opts] partial: a checkpoint of an unfinished session, so marked
 */
export function renderDiff(text, opts = {}) {
  const files = parseDiff(text);
  const root = h('div', {
    class: opts.partial ? 'diff partial' : 'diff',
    'data-testid': 'diff',
    'data-partial': opts.partial ? 'true' : null,
  });
  if (opts.partial)
    root.append(
      h(
        'p',
        { class: 'notice' },
        'Partial: the last checkpointed change of a session without a result. It may be incomplete.',
      ),
    );
  if (!files.length) {
    root.append(
      h(
        'p',
        { class: 'muted' },
        text.trim() ? 'The change could not be read as a diff; shown as text.' : 'No changes.',
      ),
    );
    if (text.trim()) root.append(h('pre', { class: 'diff-raw' }, text));
    return root;
  }
  const adds = files.reduce(
    (n, f) => n + f.hunks.reduce((m, hk) => m + hk.lines.filter((l) => l.kind === 'add').length, 0),
    0,
  );
  const dels = files.reduce(
    (n, f) => n + f.hunks.reduce((m, hk) => m + hk.lines.filter((l) => l.kind === 'del').length, 0),
    0,
  );
  root.append(
    h(
      'p',
      { class: 'diff-stats' },
      `${files.length} file${files.length === 1 ? '' : 's'} changed, `,
      h('span', { class: 'stat-add' }, `${adds} addition${adds === 1 ? '' : 's'}`),
      ', ',
      h('span', { class: 'stat-del' }, `${dels} deletion${dels === 1 ? '' : 's'}`),
    ),
  );
  for (const f of files) root.append(renderFile(f));
  return root;
}

/** @param {DiffFile} f */
function renderFile(f) {
  const lang = languageOf(f.path);
  const section = h(
    'section',
    { class: 'diff-file', 'data-testid': 'diff-file', 'data-path': f.path },
    h(
      'h3',
      { class: 'diff-file-name' },
      h('span', { class: 'mono' }, fileTitle(f)),
      f.status !== 'modified' ? h('span', { class: `badge file-${f.status}` }, f.status) : null,
    ),
  );
  if (f.binary) section.append(h('p', { class: 'muted' }, 'Binary file: not shown.'));
  if (!f.hunks.length) {
    if (!f.binary)
      section.append(
        h(
          'p',
          { class: 'muted' },
          f.status === 'renamed' ? 'Renamed without changes.' : 'No line changes.',
        ),
      );
    return section;
  }
  const table = h('table', { class: 'diff-table' });
  table.append(h('caption', { class: 'visually-hidden' }, `Changes to ${f.path}`));
  for (const hk of f.hunks) {
    const body = h(
      'tbody',
      { class: 'hunk' },
      h(
        'tr',
        { class: 'hunk-header' },
        h('th', { colspan: 3, scope: 'colgroup', class: 'mono' }, hk.header),
      ),
    );
    // Colouring state follows each side of the file separately, as a block comment opened on one side is not open on the other.
    /** @type {{old: import('./highlight.js').LineState, new: import('./highlight.js').LineState}} */
    const state = { old: null, new: null };
    for (const line of hk.lines) {
      if (line.kind === 'note') {
        body.append(
          h(
            'tr',
            { class: 'note' },
            h('td', { class: 'ln' }),
            h('td', { class: 'ln' }),
            h('td', { class: 'code' }, line.text),
          ),
        );
        continue;
      }
      const side = line.kind === 'add' ? 'new' : 'old';
      const { tokens, state: next } = tokenizeLine(line.text, lang, state[side]);
      if (line.kind === 'ctx') state.old = state.new = next;
      else state[side] = next;
      const sign = line.kind === 'add' ? '+' : line.kind === 'del' ? '-' : ' ';
      const code = h(
        'td',
        { class: 'code' },
        h('span', { class: 'sign', 'aria-hidden': 'true' }, sign),
      );
      if (line.kind !== 'ctx')
        code.append(
          h('span', { class: 'visually-hidden' }, line.kind === 'add' ? 'added: ' : 'removed: '),
        );
      code.append(...tokenNodes(tokens));
      body.append(
        h(
          'tr',
          { class: line.kind },
          h(
            'td',
            { class: 'ln', 'data-line': line.oldNo ?? '' },
            line.oldNo === null ? '' : String(line.oldNo),
          ),
          h(
            'td',
            { class: 'ln', 'data-line': line.newNo ?? '' },
            line.newNo === null ? '' : String(line.newNo),
          ),
          code,
        ),
      );
    }
    table.append(body);
  }
  section.append(h('div', { class: 'diff-scroll' }, table));
  return section;
}
