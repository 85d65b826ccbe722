// @ts-check
/**
 * A small tokenizer for syntax colouring in diffs: keywords, strings,
 * comments and numbers of JS/TS, Python, Go, Rust, Java/C-like and shell-ish
 * files. It works a line at a time, carrying an open block comment or
 * triple-quoted string to the next line. It returns text pieces; the caller
 * builds DOM nodes from them, so nothing is ever parsed as HTML.
 */

/** @typedef {'keyword' | 'string' | 'comment' | 'number' | null} TokenType */
/** @typedef {{type: TokenType, text: string}} Token */
/** @typedef {{line: string[], block: [string, string] | null, quotes: string[], triple: boolean, keywords: Set<string>, rustChars?: boolean, shellComments?: boolean}} Lang */
/** Where a multi-line construct left off: its closing delimiter and kind, or null. @typedef {{close: string, type: TokenType} | null} LineState */

const words = (/** @type {string} */ s) => new Set(s.split(/\s+/).filter(Boolean));

const JS =
  words(`break case catch class const continue debugger default delete do else export extends false finally for function if import in
  instanceof let new null return super switch this throw true try typeof undefined var void while with yield async await of static get set
  as interface type enum implements private protected public readonly declare namespace abstract keyof satisfies from`);
const PY =
  words(`and as assert async await break class continue def del elif else except False finally for from global if import in is lambda
  None nonlocal not or pass raise return True try while with yield match case self`);
const GO =
  words(`break case chan const continue default defer else fallthrough for func go goto if import interface map package range return
  select struct switch type var nil true false iota`);
const RUST =
  words(`as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref
  return self Self static struct super trait true type unsafe use where while Some None Ok Err`);
const JAVA =
  words(`abstract assert boolean break byte case catch char class const continue default do double else enum extends final finally
  float for goto if implements import instanceof int interface long native new null package private protected public return short static
  super switch synchronized this throw throws transient true false try void volatile while var record sealed struct typedef sizeof unsigned
  signed namespace using template typename auto fun val when object`);
const SHELL =
  words(`if then else elif fi case esac for while until do done in function return local export readonly set unset echo exit
  source alias true false`);

/** @type {Record<string, Lang>} */
const LANGS = {
  js: { line: ['//'], block: ['/*', '*/'], quotes: ["'", '"', '`'], triple: false, keywords: JS },
  python: { line: ['#'], block: null, quotes: ["'", '"'], triple: true, keywords: PY },
  go: { line: ['//'], block: ['/*', '*/'], quotes: ['"', '`', "'"], triple: false, keywords: GO },
  rust: {
    line: ['//'],
    block: ['/*', '*/'],
    quotes: ['"'],
    triple: false,
    keywords: RUST,
    rustChars: true,
  },
  java: { line: ['//'], block: ['/*', '*/'], quotes: ['"', "'"], triple: false, keywords: JAVA },
  shell: {
    line: ['#'],
    block: null,
    quotes: ["'", '"'],
    triple: false,
    keywords: SHELL,
    shellComments: true,
  },
};

/** @type {Record<string, string>} */
const BY_EXTENSION = {
  js: 'js',
  mjs: 'js',
  cjs: 'js',
  jsx: 'js',
  ts: 'js',
  mts: 'js',
  cts: 'js',
  tsx: 'js',
  json: 'js',
  py: 'python',
  pyi: 'python',
  go: 'go',
  rs: 'rust',
  java: 'java',
  kt: 'java',
  kts: 'java',
  scala: 'java',
  c: 'java',
  h: 'java',
  cc: 'java',
  cpp: 'java',
  hpp: 'java',
  cs: 'java',
  swift: 'java',
  sh: 'shell',
  bash: 'shell',
  zsh: 'shell',
  yml: 'shell',
  yaml: 'shell',
  toml: 'shell',
  ini: 'shell',
  cfg: 'shell',
  conf: 'shell',
  env: 'shell',
  rb: 'shell',
  pl: 'shell',
  r: 'shell',
};

/** @type {Record<string, string>} */
const BY_NAME = {
  dockerfile: 'shell',
  makefile: 'shell',
  gemfile: 'shell',
  '.gitignore': 'shell',
  '.env': 'shell',
};

/** The language key for a path, or null when it is not coloured. @param {string} path */
export function languageOf(path) {
  const name = (path.split('/').pop() ?? '').toLowerCase();
  if (BY_NAME[name]) return BY_NAME[name];
  const ext = /\.([a-z0-9]+)$/.exec(name)?.[1];
  return (ext && BY_EXTENSION[ext]) || null;
}

const IDENT = /[A-Za-z_$][\w$]*/y;
const NUMBER =
  /(?:0[xX][\da-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*)(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)[a-zA-Z\d]*/y;
const RUST_CHAR = /'(?:\\.|[^\\'])'/y;

/**
 * The tokens of one line, and the state the next line starts in.
 * @param {string} text
 * @param {string | null} langKey from `languageOf`
 * @param {LineState} [state]
 * @returns {{tokens: Token[], state: LineState}}
 */
export function tokenizeLine(text, langKey, state = null) {
  const lang = langKey ? LANGS[langKey] : undefined;
  if (!lang) return { tokens: [{ type: null, text }], state: null };
  /** @type {Token[]} */
  const tokens = [];
  const push = (/** @type {TokenType} */ type, /** @type {string} */ t) => {
    if (!t) return;
    const last = tokens[tokens.length - 1];
    if (last && last.type === type) last.text += t;
    else tokens.push({ type, text: t });
  };
  let i = 0;
  if (state) {
    const end = text.indexOf(state.close);
    if (end === -1) return { tokens: [{ type: state.type, text }], state };
    push(state.type, text.slice(0, end + state.close.length));
    i = end + state.close.length;
  }
  while (i < text.length) {
    const ch = /** @type {string} */ (text[i]);
    const rest = text.slice(i);
    if (
      lang.line.some((m) => rest.startsWith(m)) &&
      (!lang.shellComments || i === 0 || /\s/.test(text[i - 1] ?? ''))
    ) {
      push('comment', rest);
      break;
    }
    if (lang.block && rest.startsWith(lang.block[0])) {
      const end = text.indexOf(lang.block[1], i + lang.block[0].length);
      if (end === -1) {
        push('comment', rest);
        return { tokens, state: { close: lang.block[1], type: 'comment' } };
      }
      push('comment', text.slice(i, end + lang.block[1].length));
      i = end + lang.block[1].length;
      continue;
    }
    if (lang.triple && (rest.startsWith('"""') || rest.startsWith("'''"))) {
      const q = rest.slice(0, 3);
      const end = text.indexOf(q, i + 3);
      if (end === -1) {
        push('string', rest);
        return { tokens, state: { close: q, type: 'string' } };
      }
      push('string', text.slice(i, end + 3));
      i = end + 3;
      continue;
    }
    if (lang.rustChars && ch === "'") {
      RUST_CHAR.lastIndex = i;
      const m = RUST_CHAR.exec(text);
      if (m) {
        push('string', m[0]);
        i += m[0].length;
      } else {
        push(null, ch); // a lifetime, not a char
        i += 1;
      }
      continue;
    }
    if (lang.quotes.includes(ch)) {
      let j = i + 1;
      while (j < text.length && text[j] !== ch) j += text[j] === '\\' && ch !== '`' ? 2 : 1;
      push('string', text.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (/\d/.test(ch) && !/[\w$]/.test(text[i - 1] ?? '')) {
      NUMBER.lastIndex = i;
      const m = /** @type {RegExpExecArray} */ (NUMBER.exec(text));
      push('number', m[0]);
      i += m[0].length;
      continue;
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(text);
    if (id) {
      push(lang.keywords.has(id[0]) ? 'keyword' : null, id[0]);
      i += id[0].length;
      continue;
    }
    push(null, ch);
    i += 1;
  }
  return { tokens, state: null };
}

/**
 * The line as DOM nodes: `<span class="tok-…">` for tokens, text nodes for the rest.
 * @param {Token[]} tokens
 * @returns {Node[]}
 */
export function tokenNodes(tokens) {
  return tokens.map((t) => {
    if (!t.type) return document.createTextNode(t.text);
    const span = document.createElement('span');
    span.className = `tok-${t.type}`;
    span.textContent = t.text;
    return span;
  });
}
