/**
 * The web UI: `GET /` is the page, `GET /ui/{path}` its modules, stylesheet
 * and icon. The files of `api/ui/static/` are read once, when the routes are
 * built, and served from memory: a path that is not one of them is a 404,
 * so no request can reach another file. They hold no data, so they need no
 * token; everything the page shows comes from the `/agent` API.
 */
import { Hono, type Context } from 'hono';
import { readTextTree } from './static-files.ts';
import { sha256 } from '../../kernel/hash.ts';

/** The page may load and call only its own origin, run no inline code, and not be framed. */
export const UI_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

const extensionOf = (name: string): string =>
  /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/** One read per directory and process, however many apps are built. */
const loaded = new Map<string, Promise<Map<string, Asset>>>();

function assetsIn(dir: URL): Promise<Map<string, Asset>> {
  let assets = loaded.get(dir.href);
  if (!assets) {
    assets = load(dir);
    // Failing to read is reported by the first request that needs the files, not as an unhandled rejection.
    assets.catch(() => {});
    loaded.set(dir.href, assets);
  }
  return assets;
}

async function load(dir: URL): Promise<Map<string, Asset>> {
  const files = await readTextTree(dir, (name) => extensionOf(name) in CONTENT_TYPES);
  const assets = new Map<string, Asset>();
  for (const [path, text] of files) {
    const body = new TextEncoder().encode(text);
    const digest = await sha256(body);
    const etag = `"${btoa(String.fromCharCode(...digest.subarray(0, 16))).replace(/=+$/, '')}"`;
    assets.set(path, { body, type: CONTENT_TYPES[extensionOf(path)]!, etag });
  }
  return assets;
}

/** Whether `If-None-Match` names this ETag (weak or strong) or `*`. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

export interface UiRouteOptions {
  /** The directory served, a `file:` URL ending in `/`; `api/ui/static/` by default. */
  dir?: URL;
}

export function uiRoutes(opts: UiRouteOptions = {}): Hono {
  const assets = assetsIn(opts.dir ?? new URL('./static/', import.meta.url));
  const app = new Hono();

  const serve = async (c: Context, path: string): Promise<Response> => {
    const asset = (await assets).get(path);
    if (!asset) return c.notFound();
    c.header('ETag', asset.etag);
    // Revalidated on every load, so a new version shows at once; unchanged files cost a 304.
    c.header('Cache-Control', 'no-cache');
    c.header('Content-Security-Policy', UI_CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    if (matches(c.req.header('if-none-match'), asset.etag)) return c.body(null, 304);
    c.header('Content-Type', asset.type);
    c.header('Content-Length', String(asset.body.byteLength));
    return c.body(asset.body, 200);
  };

  app.get('/', (c) => serve(c, 'index.html'));
  app.get('/ui/:path{.+}', (c) => serve(c, c.req.param('path')));
  return app;
}
