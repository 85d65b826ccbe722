import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UI_CSP, uiRoutes } from '../../../api/ui/routes.ts';
import { startApp } from '../../support/service/app.ts';

const STATIC_DIR = new URL('../../../api/ui/static/', import.meta.url);
const { app } = await startApp();

const TYPES: Record<string, RegExp> = {
  html: /^text\/html; charset=utf-8$/,
  js: /^text\/javascript; charset=utf-8$/,
  css: /^text\/css; charset=utf-8$/,
  svg: /^image\/svg\+xml/,
};

/** Every file of the static directory, as `/ui/` paths. */
async function staticFiles(dir = STATIC_DIR, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory())
      out.push(...(await staticFiles(new URL(`${e.name}/`, dir), `${prefix}${e.name}/`)));
    else if (e.isFile() && !e.name.startsWith('.')) out.push(`${prefix}${e.name}`);
  }
  return out;
}

function expectUiHeaders(res: Response, where: string) {
  expect(res.headers.get('content-security-policy'), where).toBe(UI_CSP);
  expect(res.headers.get('x-content-type-options'), where).toBe('nosniff');
  expect(res.headers.get('cache-control'), where).toBe('no-cache');
  expect(res.headers.get('etag'), where).toMatch(/^"[A-Za-z0-9+/]{16,}"$/);
}

async function expectNotFound(path: string, method = 'GET') {
  const res = await app.request(path, { method });
  expect(res.status, path).toBe(404);
  if (method !== 'HEAD') {
    expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
    expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('not_found');
  }
}

describe('GET /', () => {
  it('serves the page, referencing only /ui/ assets, with no inline script or style', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(TYPES['html']!);
    expectUiHeaders(res, '/');
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<html lang="en">');
    const assets = [...html.matchAll(/<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]*)"/gi)].map(
      (m) => m[1]!,
    );
    expect(assets).toEqual(expect.arrayContaining(['/ui/app.js', '/ui/style.css']));
    for (const a of assets) expect(a, a).toMatch(/^\/ui\/[\w./-]+$/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
  });

  it('needs no token, even where the API does', async () => {
    const strict = (await startApp({ localAdmin: false })).app;
    expect((await strict.request('/agent/me')).status).toBe(401);
    expect((await strict.request('/')).status).toBe(200);
    expect((await strict.request('/ui/app.js')).status).toBe(200);
  });
});

describe('GET /ui/{path}', () => {
  it('serves every asset the page loads, module imports included, with its type and the CSP', async () => {
    const seen = new Set<string>();
    const queue = ['/ui/app.js', '/ui/style.css', '/ui/favicon.svg'];
    while (queue.length) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(TYPES[path.split('.').pop()!]!);
      expectUiHeaders(res, path);
      const text = await res.text();
      expect(Number(res.headers.get('content-length')), path).toBe(
        new TextEncoder().encode(text).byteLength,
      );
      if (path.endsWith('.js')) {
        expect(text.startsWith('// @ts-check'), `${path} is type-checked`).toBe(true);
        expect(text, `${path} sets no HTML`).not.toMatch(
          /\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/,
        );
        for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)) {
          const spec = m[1]!;
          expect(spec, `${path} imports ${spec}`).toMatch(/^\.\.?\/.*\.js$/);
          queue.push(new URL(spec, `http://x${path}`).pathname);
        }
      }
      if (path.endsWith('.css'))
        expect(text, 'no remote fonts or images').not.toMatch(/url\(|@import/);
    }
    expect([...seen]).toEqual(
      expect.arrayContaining([
        '/ui/api.js',
        '/ui/diff.js',
        '/ui/pages/sessions.js',
        '/ui/pages/session.js',
        '/ui/pages/profiles.js',
        '/ui/pages/users.js',
        '/ui/pages/cluster.js',
      ]),
    );
  });

  it('serves every file of the static directory', async () => {
    for (const file of await staticFiles()) {
      const res = await app.request(`/ui/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toMatch(TYPES[file.split('.').pop()!]!);
    }
  });

  it('answers 404 for unknown files, like other unknown routes', async () => {
    await expectNotFound('/ui/nope.js');
    await expectNotFound('/ui/pages/nope.js');
    await expectNotFound('/ui/');
    await expectNotFound('/ui');
    await expectNotFound('/ui/nope.js', 'HEAD');
  });

  it.each([
    '/ui/../package.json',
    '/ui/../../package.json',
    '/ui/%2e%2e/package.json',
    '/ui/%2E%2E/%2E%2E/package.json',
    '/ui/..%2fpackage.json',
    '/ui/..%2Froutes.ts',
    '/ui/%2e%2e%2froutes.ts',
    '/ui/pages/..%2f..%2froutes.ts',
    '/ui/..%5croutes.ts',
    '/ui/..%252froutes.ts',
    '/ui/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
    '/ui//etc/passwd',
    '/ui/%2fetc%2fpasswd',
    '/ui/app.js%00.css',
    '/ui/./../routes.ts',
    '/ui/routes.ts',
    '/ui/static-files.ts',
  ])('does not serve %s', async (path) => {
    await expectNotFound(path);
  });

  it('answers HEAD like GET without a body', async () => {
    const get = await app.request('/ui/app.js');
    const head = await app.request('/ui/app.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    for (const h of [
      'content-type',
      'content-length',
      'etag',
      'content-security-policy',
      'cache-control',
    ])
      expect(head.headers.get(h), h).toBe(get.headers.get(h));
    expect((await app.request('/', { method: 'HEAD' })).status).toBe(200);
  });

  it('answers 304 to a matching If-None-Match, and the file to any other', async () => {
    const first = await app.request('/ui/style.css');
    const etag = first.headers.get('etag')!;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await app.request('/ui/style.css', { headers: { 'if-none-match': inm } });
      expect(res.status, inm).toBe(304);
      expect(await res.text()).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
    const changed = await app.request('/ui/style.css', { headers: { 'if-none-match': '"stale"' } });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toBe(await first.text());
    const page = await app.request('/');
    expect(
      (await app.request('/', { headers: { 'if-none-match': page.headers.get('etag')! } })).status,
    ).toBe(304);
    expect(page.headers.get('etag')).not.toBe(etag);
    expect(
      (await app.request('/ui/style.css', { method: 'HEAD', headers: { 'if-none-match': etag } }))
        .status,
    ).toBe(304);
  });
});

describe('uiRoutes over a directory', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('serves only the regular, visible files of known types inside it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'swe-ui-'));
    dirs.push(root);
    await mkdir(join(root, 'static', 'sub'), { recursive: true });
    await writeFile(join(root, 'secret.js'), 'secret');
    await writeFile(join(root, 'static', 'index.html'), '<!doctype html><p>hi</p>');
    await writeFile(join(root, 'static', 'sub', 'a b.js'), 'export {};');
    await writeFile(join(root, 'static', '.env.js'), 'hidden');
    await writeFile(join(root, 'static', 'notes.md'), '# not served');
    await symlink(join(root, 'secret.js'), join(root, 'static', 'link.js'));
    await symlink(root, join(root, 'static', 'up'));
    const sub = uiRoutes({ dir: pathToFileURL(`${join(root, 'static')}/`) });
    expect((await sub.request('/')).status).toBe(200);
    expect(await (await sub.request('/ui/sub/a%20b.js')).text()).toBe('export {};');
    for (const path of [
      '/ui/.env.js',
      '/ui/notes.md',
      '/ui/link.js',
      '/ui/up/secret.js',
      '/ui/../secret.js',
      '/ui/..%2fsecret.js',
    ]) {
      expect((await sub.request(path)).status, path).toBe(404);
    }
  });
});
