/**
 * The API reference as one HTML page, rendered on the server from the
 * OpenAPI document: inline CSS, no script, nothing loaded from the network.
 */

type Json = Record<string, unknown>;
interface Row {
  name: string;
  type: string;
  required: boolean;
  notes: string;
}

const METHODS = ['get', 'post', 'patch', 'delete'] as const;

const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );
/** Backticks in descriptions as code, the rest escaped. */
const prose = (s: unknown): string => esc(s ?? '').replace(/`([^`]+)`/g, '<code>$1</code>');
const anchor = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function renderDocsPage(doc: Json): string {
  const info = doc['info'] as Json;
  const tags = (doc['tags'] as { name: string; description: string }[]) ?? [];
  const paths = doc['paths'] as Record<string, Record<string, Json>>;
  const schemas = ((doc['components'] as Json)['schemas'] ?? {}) as Record<string, Json>;
  const resolve = (s: Json | undefined): Json | undefined => {
    const r = s?.['$ref'];
    return typeof r === 'string' ? schemas[r.replace('#/components/schemas/', '')] : s;
  };

  const ops = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m]! })),
  );
  const byTag = tags.map((t) => ({
    ...t,
    ops: ops.filter((o) => (o.op['tags'] as string[])[0] === t.name),
  }));

  const nav = byTag
    .map(
      (t) =>
        `<li><a href="#${anchor(t.name)}">${esc(t.name)}</a><ul>${t.ops.map((o) => `<li><a href="#${esc(o.op['operationId'])}">${o.method.toUpperCase()} ${esc(o.path)}</a></li>`).join('')}</ul></li>`,
    )
    .join('');
  const sections = byTag
    .map(
      (t) =>
        `<section aria-labelledby="${anchor(t.name)}"><h2 id="${anchor(t.name)}">${esc(t.name)}</h2><p>${prose(t.description)}</p>${t.ops.map((o) => operation(o.method, o.path, o.op, resolve)).join('')}</section>`,
    )
    .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info['title'])} ${esc(info['version'])}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(info['title'])} <small>${esc(info['version'])}</small></h1>
${String(info['description'] ?? '')
  .split('\n\n')
  .map((p) => `<p>${prose(p)}</p>`)
  .join('')}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc['openapi'])}).</p></header>
<nav aria-label="Contents"><h2>Contents</h2><ul>${nav}</ul></nav>
<main>${sections}</main>
</body>
</html>`;
}

function operation(
  method: string,
  path: string,
  op: Json,
  resolve: (s: Json | undefined) => Json | undefined,
): string {
  const id = esc(op['operationId']);
  const access = op['security']
    ? 'Public: no token needed.'
    : op['x-admin-only']
      ? 'Needs a token of an admin.'
      : 'Needs a token.';
  const params = ((op['parameters'] ?? []) as Json[]).map((p) => ({
    ...rowOf(String(p['name']), (p['schema'] ?? {}) as Json, p['required'] === true),
    in: String(p['in']),
    description: p['description'],
  }));
  const paramTable = params.length
    ? table(
        `Parameters of ${method.toUpperCase()} ${path}`,
        ['Name', 'In', 'Type', 'Required', 'Description'],
        params.map((p) => [
          `<code>${esc(p.name)}</code>`,
          esc(p.in),
          esc(p.type),
          p.required ? 'yes' : 'no',
          [prose(p.description), esc(p.notes)].filter(Boolean).join(' '),
        ]),
      )
    : '';
  const body = op['requestBody'] as Json | undefined;
  const bodySchema = resolve(
    ((body?.['content'] as Json | undefined)?.['application/json'] as Json | undefined)?.[
      'schema'
    ] as Json | undefined,
  );
  const bodyPart =
    body && bodySchema
      ? `<h4>Request body${body['required'] ? '' : ' (optional)'}</h4>${bodySchema['description'] ? `<p>${prose(bodySchema['description'])}</p>` : ''}${fieldsTable(`Request body of ${method.toUpperCase()} ${path}`, bodySchema)}`
      : '';
  const responses = Object.entries(op['responses'] as Record<string, Json>).map(([status, r]) => {
    const content = (r['content'] ?? {}) as Record<string, Json>;
    const [type, media] = Object.entries(content)[0] ?? [];
    const ref = media?.['schema'] as Json | undefined;
    const name = typeof ref?.['$ref'] === 'string' ? ref['$ref'].split('/').pop() : undefined;
    const schema = resolve(ref);
    const fields =
      schema && name !== 'ErrorBody' && schema['properties']
        ? `<details><summary>Fields of ${esc(name)}</summary>${fieldsTable(`${status} answer of ${method.toUpperCase()} ${path}`, schema)}</details>`
        : '';
    return `<li><strong>${esc(status)}</strong> ${prose(r['description'])}${type ? ` <span class="type">${esc(type)}${name ? `: ${esc(name)}` : ''}</span>` : ''}${fields}</li>`;
  });
  return `<article id="${id}" aria-labelledby="${id}-h">
<h3 id="${id}-h"><span class="m m-${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p class="summary">${esc(op['summary'])}. <span class="access">${access}</span></p>
${op['description'] ? `<p>${prose(op['description'])}</p>` : ''}${paramTable}${bodyPart}
<h4>Responses</h4><ul class="responses">${responses.join('')}</ul></article>`;
}

function fieldsTable(caption: string, schema: Json): string {
  const rows = fields(schema, '', 0);
  if (!rows.length) return '<p>No fields.</p>';
  return table(
    caption,
    ['Field', 'Type', 'Required', 'Description'],
    rows.map((r) => [
      `<code>${esc(r.name)}</code>`,
      esc(r.type),
      r.required ? 'yes' : 'no',
      esc(r.notes).replace(/`([^`]+)`/g, '<code>$1</code>'),
    ]),
  );
}

/** An object's properties as rows, nested objects flattened as `parent.child` (`items[].child` for arrays). */
function fields(schema: Json, prefix: string, depth: number): Row[] {
  const props = (schema['properties'] ?? {}) as Record<string, Json>;
  const required = (schema['required'] ?? []) as string[];
  return Object.entries(props).flatMap(([key, raw]) => {
    const name = prefix + key;
    const inner = nonNull(raw);
    const nested =
      inner['type'] === 'object'
        ? inner
        : inner['type'] === 'array' && (inner['items'] as Json | undefined)?.['type'] === 'object'
          ? (inner['items'] as Json)
          : undefined;
    const children =
      nested && depth < 3
        ? fields(nested, `${name}${nested === inner ? '.' : '[].'}`, depth + 1)
        : [];
    return [rowOf(name, raw, required.includes(key)), ...children];
  });
}

function nonNull(s: Json): Json {
  const any = s['anyOf'] as Json[] | undefined;
  return any?.find((x) => x['type'] !== 'null') ?? s;
}

function rowOf(name: string, s: Json, required: boolean): Row {
  const inner = nonNull(s);
  const nullable = inner !== s || (Array.isArray(s['type']) && s['type'].includes('null'));
  const base = Array.isArray(inner['type'])
    ? inner['type'].filter((t) => t !== 'null').join(' | ')
    : String(
        inner['type'] ?? (inner['const'] !== undefined ? JSON.stringify(inner['const']) : 'any'),
      );
  const type =
    inner['type'] === 'array'
      ? `array of ${String((inner['items'] as Json | undefined)?.['type'] ?? 'any')}`
      : base;
  const notes: string[] = [];
  const description = s['description'] ?? inner['description'];
  if (description) notes.push(String(description));
  if (inner['enum']) notes.push(`One of: ${(inner['enum'] as unknown[]).join(', ')}.`);
  // zod gives every integer the safe-integer range: not worth a note.
  const min = inner['minimum'] === -Number.MAX_SAFE_INTEGER ? undefined : inner['minimum'];
  const max = inner['maximum'] === Number.MAX_SAFE_INTEGER ? undefined : inner['maximum'];
  if (min !== undefined && max !== undefined) notes.push(`From ${min} to ${max}.`);
  else if (min !== undefined) notes.push(`At least ${min}.`);
  else if (max !== undefined) notes.push(`At most ${max}.`);
  if (inner['maxLength'] !== undefined)
    notes.push(`At most ${inner['maxLength']} characters, not blank.`);
  if (inner['maxItems'] !== undefined) notes.push(`At most ${inner['maxItems']} items.`);
  const dflt = s['default'] ?? inner['default'];
  if (dflt !== undefined) notes.push(`Default: ${JSON.stringify(dflt)}.`);
  if (s['deprecated']) notes.push('Deprecated.');
  const ex = (s['examples'] ?? inner['examples']) as unknown[] | undefined;
  if (ex?.length && typeof ex[0] !== 'object') notes.push(`Example: ${JSON.stringify(ex[0])}.`);
  return { name, type: nullable ? `${type} | null` : type, required, notes: notes.join(' ') };
}

function table(caption: string, head: string[], rows: string[][]): string {
  return `<table><caption class="vh">${esc(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const CSS = `
body{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;max-width:60rem;padding:1rem 1.5rem}
h1 small{font-size:.6em;color:#555}
h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}
h3{font-size:1.1rem;margin:0 0 .3rem}
h4{font-size:1rem;margin:.8rem 0 .3rem}
article{border:1px solid #ccc;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
code{font-family:ui-monospace,monospace;background:#f2f2f2;padding:0 .2em;border-radius:3px}
.m{display:inline-block;min-width:4.2em;text-align:center;color:#fff;border-radius:4px;font-size:.85em;padding:.05em .3em}
.m-get{background:#185a9d}.m-post{background:#1d6b35}.m-patch{background:#7a4b00}.m-delete{background:#a3231a}
.access,.type{color:#444;font-size:.9em}
table{border-collapse:collapse;width:100%;font-size:.92em;margin:.3rem 0}
th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}
nav ul ul{font-size:.9em}
a{color:#0b4f8a}
a:focus,summary:focus{outline:3px solid #0b4f8a;outline-offset:2px}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
`;
