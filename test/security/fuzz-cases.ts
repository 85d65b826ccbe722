/**
 * The cases of the API fuzz test (`fuzz.test.ts`), generated from a route's
 * schemas: every field with values of every wrong type, odd strings and bytes
 * that are not UTF-8, malformed and oversized bodies, deep nesting, prototype
 * keys, odd content types, queries and headers; and a seeded random phase.
 * A case marked `reject` is invalid whoever sends it. Wire cases (framings
 * only a raw socket sends) are for the Node HTTP path alone.
 */
import { jsonSchemaOf, type ApiRoute } from '../../api/openapi/index.ts';
import type { Then } from '../support/node-http.ts';
import type { Prng } from '../support/prng.ts';
import { validBody, type JS } from '../support/route-table.ts';

// ----------------------------------------------------------------- JSON Schema walking

export interface Field {
  path: string[];
  /** The types it takes, `null` aside. */
  alts: JS[];
  nullable: boolean;
}

/** Every field of an object schema, nested objects' fields included. */
function fieldsOf(js: JS, prefix: string[] = []): Field[] {
  return Object.entries(js.properties ?? {}).flatMap(([name, s]) => {
    const path = [...prefix, name];
    const all = s.anyOf ?? [s];
    const alts = all.filter((a) => a.type !== 'null');
    return [
      { path, alts, nullable: alts.length < all.length },
      ...alts.filter((a) => a.type === 'object').flatMap((a) => fieldsOf(a, path)),
    ];
  });
}

// ----------------------------------------------------------------- cases

export interface Case {
  name: string;
  /** Raw body; `@@BYTES@@` in a string is replaced by `bytes`. */
  body?: string;
  bytes?: number[];
  /** Content-Type; undefined: JSON when there is a body; null: none. */
  type?: string | null;
  query?: string;
  headers?: Record<string, string>;
  /** Send the body as UTF-16LE. */
  utf16?: boolean;
  /** The request is invalid whoever sends it: anything but a 4xx is a problem. */
  reject?: boolean;
  /** The request is valid: the admin's must be accepted (or meet a 409 of the fixture's state). */
  valid?: boolean;
  /** Written to a socket as is (the Node path only): replaces `body`, `type` and the framing. */
  wire?: Wire;
}

/** A request's framing and body bytes as written to the socket, and what the client does next. */
export interface Wire {
  /** Header lines that frame the body (Content-Length, Transfer-Encoding), each ending in CRLF. */
  framing: string;
  payload: Uint8Array;
  then: Then;
  /**
   * The connection breaks while the app may still be reading the body: the
   * client hangs up, or Node's parser fails on the bytes after it.
   */
  aborts?: boolean;
}

const BYTES = '@@BYTES@@';

/** `base` as JSON with the values at the given paths replaced by raw JSON text. */
function withRaw(
  base: unknown,
  path: string[],
  raw: string,
  more: [string[], string][] = [],
): string {
  const copy = structuredClone(base) as Record<string, unknown>;
  const edits: [string[], string][] = [[path, raw], ...more];
  edits.forEach(([p], i) => {
    let o = copy;
    for (const k of p.slice(0, -1)) {
      const next = o[k];
      o = o[k] =
        next && typeof next === 'object' && !Array.isArray(next)
          ? (next as Record<string, unknown>)
          : {};
    }
    o[p.at(-1)!] = `@@FUZZ${i}@@`;
  });
  let text = JSON.stringify(copy);
  edits.forEach(([, r], i) => {
    text = text.replace(`"@@FUZZ${i}@@"`, () => r);
  });
  return text;
}

/** `base` as JSON with raw `"key": value` pairs spliced in first. */
function withPairs(base: unknown, pairs: string): string {
  const text = JSON.stringify(base);
  return text === '{}' ? `{${pairs}}` : `{${pairs},${text.slice(1)}`;
}

const nested = (open: string, close: string, depth: number, inner = '1') =>
  open.repeat(depth) + inner + close.repeat(depth);

/** Values of every JSON type, and the edges of numbers. */
const WRONG_TYPES = [
  '""',
  '" "',
  '"x"',
  '0',
  '-1',
  '1.5',
  '-0',
  '9007199254740993',
  '1e308',
  '-1e308',
  '1e400',
  '5e-324',
  'true',
  'false',
  'null',
  '[]',
  '[1]',
  '[null]',
  '{}',
  '{"a":1}',
  '"1"',
  '"true"',
  '"null"',
];

/** Control characters, odd Unicode and lone surrogates, as JSON string literals. */
const ODD_STRINGS = [
  '"\\u0000"',
  '"a\\u0001b"',
  '"\\u0007"',
  '"\\u001b[31mred\\u001b[0m"',
  '"\\u007f"',
  '"\\r\\n"',
  '"\\t"',
  '"\\u2028\\u2029"',
  '"\\u202eevil"',
  '"\\ufeff"',
  '"\\uffff"',
  '"\\ud800"',
  '"x\\udfffy"',
  '"\\udbff\\udbff"',
  '"\\ud83d\\ude00"',
  '"%00"',
  '"../../etc/passwd"',
  '"$(touch /tmp/x)"',
];

/** Bytes that are not UTF-8 (overlong forms, surrogates, truncated sequences, beyond U+10FFFF), and a raw NUL and newline inside a string. */
const BAD_BYTES: [string, number[]][] = [
  ['0xff', [0xff]],
  ['overlong /', [0xc0, 0xaf]],
  ['overlong 3-byte /', [0xe0, 0x80, 0xaf]],
  ['overlong NUL', [0xc0, 0x80]],
  ['CESU surrogate', [0xed, 0xa0, 0x80]],
  ['truncated', [0xc3]],
  ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['raw NUL', [0x00]],
  ['raw newline', [0x0a]],
];

/** The JSON type of a raw value as a schema names it; non-finite numbers have none. */
function jsonType(raw: string): string {
  const v: unknown = JSON.parse(raw);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number')
    return !Number.isFinite(v) ? 'none' : Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Whether a field (nullable or not) takes a value of this raw value's type at all. */
function typeFits(field: Pick<Field, 'alts' | 'nullable'>, raw: string): boolean {
  const t = jsonType(raw);
  if (t === 'null') return field.nullable;
  return field.alts.some((a) => a.type === t || (a.type === 'number' && t === 'integer'));
}

const CONTROL_OR_LONE =
  /\\u00(0[0-8bcef]|1[0-9a-f]|7f)|\\ud[89ab]..(?!\\ud[c-f])|(?<!\\ud[89ab]..)\\ud[c-f]/i;

function valuesFor(
  field: Field,
): { label: string; raw: string; bytes?: number[]; reject?: boolean }[] {
  const out: { label: string; raw: string; bytes?: number[]; reject?: boolean }[] = WRONG_TYPES.map(
    (raw) => ({ label: raw, raw, reject: !typeFits(field, raw) }),
  );
  for (const a of field.alts) {
    if (a.type === 'string') {
      out.push(
        ...ODD_STRINGS.map((raw) => ({ label: raw, raw, reject: CONTROL_OR_LONE.test(raw) })),
      );
      out.push(
        ...BAD_BYTES.map(([label, bytes]) => ({ label, raw: `"a${BYTES}b"`, bytes, reject: true })),
      );
      if (a.maxLength !== undefined && a.maxLength < 60_000) {
        out.push(
          { label: 'maxLength', raw: JSON.stringify('y'.repeat(a.maxLength)) },
          { label: 'maxLength+1', raw: JSON.stringify('y'.repeat(a.maxLength + 1)), reject: true },
        );
      }
      for (const e of a.enum ?? []) {
        const upper = String(e).toUpperCase();
        out.push(
          { label: `${e} in capitals`, raw: JSON.stringify(upper), reject: upper !== e },
          { label: `${e}+space`, raw: JSON.stringify(`${e} `), reject: true },
        );
      }
    }
    if (a.type === 'integer' || a.type === 'number') {
      for (const n of [a.minimum, a.maximum].filter((v): v is number => v !== undefined)) {
        out.push(
          { label: `edge ${n}`, raw: String(n) },
          { label: `edge ${n}±1`, raw: String(n === a.minimum ? n - 1 : n + 1), reject: true },
        );
      }
      out.push(
        { label: 'fraction', raw: '1.0000001', reject: a.type === 'integer' },
        { label: 'exponent', raw: '1e3' },
      );
    }
    if (a.type === 'array') {
      const items = { alts: a.items ? [a.items] : [], nullable: false };
      out.push(
        ...WRONG_TYPES.map((raw) => ({
          label: `[${raw}]`,
          raw: `[${raw}]`,
          reject: a.items !== undefined && !typeFits(items, raw),
        })),
      );
      out.push(
        ...ODD_STRINGS.map((raw) => ({
          label: `[${raw}]`,
          raw: `[${raw}]`,
          reject: CONTROL_OR_LONE.test(raw),
        })),
      );
      out.push({
        label: 'maxItems+1',
        raw: JSON.stringify(Array.from({ length: (a.maxItems ?? 1000) + 1 }, (_, i) => `u${i}`)),
        reject: a.maxItems !== undefined,
      });
    }
    if (a.type === 'object') {
      const strict = a.additionalProperties === false;
      out.push(
        { label: '__proto__', raw: '{"__proto__":{"polluted":"yes"}}', reject: strict },
        {
          label: 'constructor.prototype',
          raw: '{"constructor":{"prototype":{"polluted":"yes"}}}',
          reject: strict,
        },
        { label: 'prototype', raw: '{"prototype":{"polluted":"yes"}}', reject: strict },
        { label: 'unknown', raw: '{"unknown_field":1}', reject: strict },
      );
    }
  }
  // Deep nesting in every field: 10 000 levels of arrays and of objects (both under the size limit).
  out.push(
    { label: 'deep arrays', raw: nested('[', ']', 10_000), reject: true },
    { label: 'deep objects', raw: nested('{"a":', '}', 10_000), reject: true },
  );
  return out;
}

const MALFORMED = [
  '{',
  '}',
  '{"a":',
  '{"a" 1}',
  '{"a":1,}',
  "{'a':1}",
  '{a:1}',
  '[1,2',
  'nul',
  'NaN',
  '{"a":NaN}',
  '{"a":1}{"b":2}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '{"a":01}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":0x10}',
  '/* */ {}',
  '{"a":1} // c',
  nested('[', ']', 60_000, ''),
];
const NOT_OBJECTS = ['[]', '"a string"', '123', 'null', 'true', '[{"a":1}]'];
const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'text/json',
  'json',
  '',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/jsonx',
];

const ACCEPTED_TYPES = new Set([
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'application/json; charset=utf-16',
]);

/** Cases every body route gets, whatever its schema. */
function commonBodyCases(base: unknown, firstField: string | undefined, optional: boolean): Case[] {
  const key = firstField ?? 'x';
  const ok = JSON.stringify(base);
  const reject = (cases: Case[]) => cases.map((c) => ({ ...c, reject: true }));
  return [
    ...reject(MALFORMED.map((body) => ({ name: `malformed ${body.slice(0, 20)}`, body }))),
    ...reject(NOT_OBJECTS.map((body) => ({ name: `not an object ${body}`, body }))),
    { name: 'empty body', body: '', reject: !optional },
    { name: 'empty body, no content type', body: '', type: null, reject: !optional },
    ...reject([
      { name: 'whitespace body', body: '   \n ' },
      { name: 'valid body, no content type', body: ok, type: null },
      { name: 'form body', body: `${key}=x`, type: 'application/x-www-form-urlencoded' },
      { name: '1 MB string', body: withRaw(base, [key], JSON.stringify('z'.repeat(1024 * 1024))) },
      {
        name: '1 MB unknown field',
        body: withPairs(base, `"pad":${JSON.stringify('z'.repeat(1024 * 1024))}`),
      },
      { name: 'body of 64 KiB + 1', body: ok + ' '.repeat(64 * 1024 + 1 - ok.length) },
      {
        name: 'declared length over the limit',
        body: ok,
        headers: { 'content-length': String(10 * 1024 * 1024) },
      },
      { name: 'deep arrays at the top', body: nested('[', ']', 10_000) },
      { name: 'deep objects at the top', body: nested('{"a":', '}', 10_000) },
      { name: 'deep arrays, 100 000 levels', body: nested('[', ']', 100_000) },
      { name: '__proto__ at the top', body: withPairs(base, '"__proto__":{"polluted":"yes"}') },
      { name: '__proto__ only', body: '{"__proto__":{"polluted":"yes"}}' },
      { name: '__proto__ as an array', body: '{"__proto__":[]}' },
      {
        name: 'constructor.prototype at the top',
        body: withPairs(base, '"constructor":{"prototype":{"polluted":"yes"}}'),
      },
      { name: 'prototype at the top', body: withPairs(base, '"prototype":{"polluted":"yes"}') },
      { name: 'unknown field', body: withPairs(base, '"unknown_field":1') },
      {
        name: 'field name in capitals',
        body: withPairs(base, `${JSON.stringify(key.toUpperCase())}:"x"`),
      },
      { name: 'empty field name', body: withPairs(base, '"":1') },
      { name: 'NUL in a field name', body: withPairs(base, '"a\\u0000b":1') },
      { name: 'lone surrogate in a field name', body: withPairs(base, '"\\ud800":1') },
      { name: 'long field name', body: withPairs(base, `${JSON.stringify('k'.repeat(30_000))}:1`) },
      {
        name: 'many fields',
        body: `{${Array.from({ length: 3000 }, (_, i) => `"f${i}":${i}`).join(',')}}`,
      },
      ...BAD_BYTES.map(
        ([label, bytes]): Case => ({
          name: `raw bytes in a field name: ${label}`,
          body: withPairs(base, `"k${BYTES}":1`),
          bytes,
        }),
      ),
      { name: 'UTF-16 body', body: ok, utf16: true },
    ]),
    ...CONTENT_TYPES.map((type) => ({
      name: `content type ${JSON.stringify(type)}`,
      body: ok,
      type,
      reject: !ACCEPTED_TYPES.has(type),
    })),
    { name: 'body of exactly 64 KiB', body: ok + ' '.repeat(64 * 1024 - ok.length) },
    { name: 'declared length garbage', body: ok, headers: { 'content-length': 'abc' } },
    // A leading byte order mark may be skipped (RFC 8259 §8.1), and the decoder does.
    { name: 'byte order mark', body: `\ufeff${ok}` },
    { name: 'duplicate key', body: withPairs(base, `${JSON.stringify(key)}:123`) },
  ];
}

export function bodyCases(route: ApiRoute): { base: unknown; cases: Case[]; fields: Field[] } {
  const js = jsonSchemaOf(route.body!, 'input') as JS;
  const base = validBody(route);
  const fields = fieldsOf(js);
  const cases = commonBodyCases(base, fields[0]?.path[0], route.bodyOptional === true);
  for (const f of fields) {
    for (const v of valuesFor(f)) {
      cases.push({
        name: `${f.path.join('.')} = ${v.label.slice(0, 40)}`,
        body: withRaw(base, f.path, v.raw),
        ...(v.bytes ? { bytes: v.bytes } : {}),
        reject: v.reject === true,
      });
    }
  }
  return { base, cases, fields };
}

const QUERY_VALUES = [
  '',
  ' ',
  'x',
  '-1',
  '0',
  '1',
  '1.5',
  '1e309',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '9007199254740993',
  '99999999999999999999999',
  '2026-13-45T99:99:99Z',
  '%00',
  '%FF',
  '%C0%AF',
  '%E0%80%AF',
  '%ED%A0%80',
  '%',
  '%G0',
  '%25',
  '%E2%80%AE',
  '%0D%0ASet-Cookie:%20x=1',
  '..%2F..%2Fetc%2Fpasswd',
  '%5B%5D',
  '{}',
  'null',
  'true',
  "'",
  '%22',
  '%3Cscript%3E',
  '1.2.3',
  '00.0',
  '1.',
  '.1',
  'a'.repeat(5000),
  'a'.repeat(1024 * 1024),
];
const QUERY_KEYS = [
  '__proto__=1',
  '__proto__[polluted]=1',
  '__proto__.polluted=1',
  'constructor=1',
  'constructor[prototype][polluted]=1',
  'prototype=1',
  'unknown=1',
  '%5F%5Fproto%5F%5F=1',
  '=x',
  '&&&',
  '%FF=1',
  `${'k'.repeat(10_000)}=1`,
  '%00=1',
];

export function queryCases(route: ApiRoute): Case[] {
  const js = jsonSchemaOf(route.query!, 'input') as JS;
  const names = Object.keys(js.properties ?? {});
  const strict = js.additionalProperties === false;
  const cases: Case[] = QUERY_KEYS.map((q) => ({
    name: `query ${q.slice(0, 30)}`,
    query: q,
    reject: strict && /^(__proto__|constructor|prototype|unknown)=1$/.test(q),
  }));
  for (const name of names) {
    const s = js.properties![name]!;
    for (const v of QUERY_VALUES)
      cases.push({ name: `${name}=${v.slice(0, 30)}`, query: `${name}=${v}` });
    for (const e of s.enum ?? [])
      cases.push({
        name: `${name}=${String(e).toLowerCase()}`,
        query: `${name}=${String(e).toLowerCase()}`,
        reject: String(e).toLowerCase() !== e,
      });
    cases.push(
      { name: `${name} twice`, query: `${name}=1&${name}=2` },
      { name: `${name}[]`, query: `${name}[]=1` },
      { name: `${name} without =`, query: name },
    );
  }
  return cases;
}

/** Header values, and whether each is malformed for the header. */
const HEADER_VALUES: Record<string, [string, boolean][]> = {
  'Idempotency-Key': [
    ['', true],
    [' ', true],
    ['a'.repeat(201), true],
    ['a b', true],
    ['\u00e9', true],
    ['x\ty', true],
    ['\u00ff\u00fe', true],
    ['a'.repeat(200), false],
    ['fuzz-key', false],
  ],
  'Last-Event-ID': [
    ['-1', true],
    ['1.2.3', true],
    ['1.-1', true],
    ['99999999999999999.1', true],
    ['x', true],
    ['\u00e9', true],
    ['1.2', true],
    ['0.0', false],
    ['', false],
    [' ', false],
  ],
};

export function headerCases(route: ApiRoute, body: string | undefined): Case[] {
  return (route.headers ?? []).flatMap((h) =>
    (HEADER_VALUES[h] ?? [['x', false]]).map(
      ([v, reject]): Case => ({
        name: `${h}: ${JSON.stringify(v.slice(0, 20))}`,
        ...(body !== undefined ? { body } : {}),
        headers: { [h]: v },
        reject,
      }),
    ),
  );
}

const CL = (n: number) => `Content-Length: ${n}\r\n`;
const CHUNKED = 'Transfer-Encoding: chunked\r\n';
const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
const chunked = (s: string, size: number) =>
  `${Array.from({ length: Math.ceil(s.length / size) }, (_, i) =>
    chunk(s.slice(i * size, (i + 1) * size)),
  ).join('')}0\r\n\r\n`;

/**
 * Framings no client library sends, which only reach the Node body reader:
 * Content-Lengths that lie, bodies cut short, malformed or oversized chunked
 * bodies, and UTF-8 split between chunks. (A chunked body over the limit on a
 * kept-alive connection is in test/api/body-node.test.ts.)
 */
export function wireCases(route: ApiRoute, base: unknown, fields: Field[]): Case[] {
  const ok = JSON.stringify(base);
  const len = Buffer.byteLength(ok);
  const half = ok.slice(0, ok.length >> 1);
  const pad = (n: number) => ok + ' '.repeat(n - len);
  const wire = (framing: string, payload: string, then: Then, aborts = false): Wire => ({
    framing,
    payload: Buffer.from(payload),
    then,
    ...(aborts ? { aborts } : {}),
  });
  const cases: Case[] = [
    // The bytes after the declared length are a malformed next request: Node answers 400 and closes.
    {
      name: 'wire: Content-Length one short',
      wire: wire(CL(len - 1), ok, 'wait', true),
      reject: true,
    },
    {
      name: 'wire: Content-Length 0 before a body',
      wire: wire(CL(0), ok, 'wait', true),
      reject: route.bodyOptional !== true,
    },
    {
      name: 'wire: Content-Length 10 over, half-closed',
      wire: wire(CL(len + 10), ok, 'half-close', true),
      reject: true,
    },
    {
      name: 'wire: Content-Length 10 MiB, half-closed',
      wire: wire(CL(10 * 1024 * 1024), ok, 'half-close'),
      reject: true,
    },
    {
      name: 'wire: two Content-Lengths',
      wire: wire(CL(len) + CL(len + 1), ok, 'wait'),
      reject: true,
    },
    {
      name: 'wire: Content-Length and chunked',
      wire: wire(CL(3) + CHUNKED, chunked(ok, 4096), 'wait'),
      reject: true,
    },
    {
      name: 'wire: cut short after the head',
      wire: wire(CL(len), '', 'hang up', true),
      reject: true,
    },
    { name: 'wire: cut short halfway', wire: wire(CL(len), half, 'hang up', true), reject: true },
    {
      name: 'wire: chunked, cut short in a chunk',
      wire: wire(CHUNKED, `${len.toString(16)}\r\n${half}`, 'hang up', true),
      reject: true,
    },
    {
      name: 'wire: chunked, no last chunk, half-closed',
      wire: wire(CHUNKED, chunk(ok), 'half-close', true),
      reject: true,
    },
    {
      name: 'wire: chunked, a size that is not hex',
      wire: wire(CHUNKED, `zz\r\n${ok}\r\n0\r\n\r\n`, 'wait', true),
      reject: true,
    },
    {
      name: 'wire: chunked, 64 KiB + 1 in 4 KiB chunks',
      wire: wire(CHUNKED, chunked(pad(64 * 1024 + 1), 4096), 'wait'),
      reject: true,
    },
    {
      name: 'wire: chunked, exactly 64 KiB in 4 KiB chunks',
      wire: wire(CHUNKED, chunked(pad(64 * 1024), 4096), 'wait'),
    },
  ];
  // Every multi-byte character split between two chunks: the reader must join bytes, not strings.
  const text = fields.find(
    (f) =>
      f.path.length === 1 &&
      f.alts.some((a) => a.type === 'string' && !a.enum && (a.maxLength ?? 100) >= 8),
  );
  if (text) {
    const bytes = [...Buffer.from(withRaw(base, text.path, '"é中😀"'))];
    const payload = Buffer.concat([
      ...bytes.map((b) => Buffer.from([0x31, 0x0d, 0x0a, b, 0x0d, 0x0a])),
      Buffer.from('0\r\n\r\n'),
    ]);
    cases.push({
      name: `wire: chunked, ${text.path[0]} in one-byte chunks`,
      // biome-ignore lint/suspicious/noThenProperty: Wire.then is what the client does after writing the bytes; a Wire is never awaited
      wire: { framing: CHUNKED, payload, then: 'wait' },
    });
  }
  return cases;
}

// ----------------------------------------------------------------- random phase

const ALPHABET = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '/',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u202e',
  '\ufeff',
  '\uffff',
  '😀',
  '\ud800',
  '\udc00',
  'é',
  '中',
  '\n',
  '\t',
  '{',
  '}',
  '%',
  '$',
  '`',
  "'",
  '<',
  '&',
];
const KEY_POOL = [
  '__proto__',
  'constructor',
  'prototype',
  '',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '0',
  'length',
];
const RAW_NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '2147483648',
  '9007199254740993',
  '1e308',
  '5e-324',
  '1e999',
  '-1e999',
  '1E2',
  '0.0',
  '123456789012345678901234567890',
];

function randomString(rnd: Prng): string {
  const length = rnd.chance(0.05) ? rnd.int(1000, 30_000) : rnd.int(0, 24);
  let s = '';
  for (let i = 0; i < length; i++) s += rnd.pick(ALPHABET);
  return s;
}

function randomRaw(rnd: Prng, depth: number, keys: readonly string[]): string {
  const kind = rnd.int(0, depth > 0 ? 7 : 5);
  switch (kind) {
    case 0:
      return rnd.pick(RAW_NUMBERS);
    case 1:
      return String(rnd.int(-1e6, 1e9) * (rnd.chance(0.2) ? 0.5 : 1));
    case 2:
    case 3:
      return JSON.stringify(randomString(rnd));
    case 4:
      return rnd.pick(['true', 'false', 'null']);
    case 5:
      return JSON.stringify(rnd.pick([...keys, 'auto', 'review', 'openai', 'admin', 'user']));
    case 6:
      return `[${Array.from({ length: rnd.int(0, 4) }, () => randomRaw(rnd, depth - 1, keys)).join(',')}]`;
    default:
      return `{${Array.from({ length: rnd.int(0, 4) }, () => `${JSON.stringify(rnd.pick([...keys, ...KEY_POOL, randomString(rnd)]))}:${randomRaw(rnd, depth - 1, keys)}`).join(',')}}`;
  }
}

export function randomBodyCase(rnd: Prng, i: number, base: unknown, fields: Field[]): Case {
  const keys = fields.map((f) => f.path.at(-1)!);
  const strategy = rnd.int(0, 9);
  if (strategy <= 4 && fields.length > 0) {
    const edits = Array.from({ length: rnd.int(1, 3) }, (): [string[], string] => [
      rnd.pick(fields).path,
      randomRaw(rnd, 3, keys),
    ]);
    let body = withRaw(base, edits[0]![0], edits[0]![1], edits.slice(1));
    if (rnd.chance(0.3))
      body = `{${JSON.stringify(rnd.pick([...KEY_POOL, randomString(rnd)]))}:${randomRaw(rnd, 2, keys)},${body.slice(1)}`;
    return { name: `random ${i}: fields`, body };
  }
  if (strategy <= 6)
    return {
      name: `random ${i}: object`,
      body: randomRaw(rnd, 4, keys).replace(/^[^{].*$/s, (v) => `{"v":${v}}`),
    };
  const ok = JSON.stringify(base);
  if (strategy === 7)
    return { name: `random ${i}: truncated`, body: ok.slice(0, rnd.int(0, ok.length - 1)) };
  if (strategy === 8) {
    const at = rnd.int(0, ok.length);
    return {
      name: `random ${i}: byte`,
      body: `${ok.slice(0, at)}${BYTES}${ok.slice(at)}`,
      bytes: [rnd.int(0, 255)],
    };
  }
  return { name: `random ${i}: any value`, body: randomRaw(rnd, 4, keys) };
}

export function randomQueryCase(rnd: Prng, i: number, route: ApiRoute): Case {
  const names = Object.keys((jsonSchemaOf(route.query!, 'input') as JS).properties ?? {});
  const parts = Array.from({ length: rnd.int(1, 4) }, () => {
    const key = rnd.chance(0.8) ? rnd.pick(names) : rnd.pick([...KEY_POOL, 'x', '%FF']);
    const value = rnd.chance(0.5)
      ? rnd.pick(QUERY_VALUES.filter((v) => v.length < 1000))
      : encodeURIComponent(randomString(rnd).replace(/[\ud800-\udfff]/g, ''));
    return `${key}=${value}`;
  });
  return { name: `random ${i}: query`, query: parts.join('&') };
}

/** The body as sent: UTF-16LE, or with raw bytes spliced in. */
export function encode(c: Case): Uint8Array<ArrayBuffer> | string | undefined {
  if (c.body === undefined) return undefined;
  if (c.utf16) return Uint8Array.from(Buffer.from(c.body, 'utf16le'));
  if (!c.bytes) return c.body;
  const parts = c.body.split(BYTES);
  return Uint8Array.from(
    Buffer.concat(
      parts.flatMap((p, i) =>
        i === 0 ? [Buffer.from(p)] : [Buffer.from(c.bytes!), Buffer.from(p)],
      ),
    ),
  );
}
