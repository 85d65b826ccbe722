/**
 * The API's description, and the routes that serve it: `GET /openapi.json`
 * and `GET /docs` (a page that needs no network).
 */
import { Hono } from 'hono';
import { renderDocsPage } from '../docs-page.ts';
import { openApiDocument } from './document.ts';

export { jsonSchemaOf, openApiDocument } from './document.ts';
export { API_ROUTES, type Answer, type ApiRoute, type Method, type Tag } from './route-table.ts';

/** `GET /openapi.json` and `GET /docs`; public (mount them before the auth middleware). */
export function openApiRoutes(): Hono {
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  let page: string | undefined;
  app.get('/docs', (c) => {
    page ??= renderDocsPage(openApiDocument());
    // The page is self-contained: it may load nothing, run nothing, and not be framed.
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
    return c.html(page);
  });
  return app;
}
