// What the HTTP layer serves outside the contract: the API docs (`/docs`), the page assets
// (`/assets/*`), and the HTML error page with its security headers.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Express, Request } from 'express';
import { assetHeaders, findAsset, renderPage, securityHeaders } from '../pages/index.js';

const require = createRequire(import.meta.url);

export function htmlSecurityHeaders(): Record<string, string> {
  return securityHeaders();
}

/** The HTML error page, in English (the locale of the instance is not looked up for errors). */
export function errorPage(status: number, message: string, _req: Request): string {
  return renderPage('error', { message, status }, { locale: 'en' });
}

/** Serves the Redoc page of a document at /docs (built by `pnpm docs`; any host, no instance). */
export function serveDocs(app: Express, doc: 'openapi' | 'admin') {
  let cached: Buffer | null | undefined;
  app.get(['/docs', '/docs/'], (_req, res) => {
    if (cached === undefined) {
      try {
        const file = require.resolve(`@hearth/contract/docs/${doc}.html`);
        cached = existsSync(file) ? readFileSync(file) : null;
      } catch {
        cached = null;
      }
    }
    if (!cached) {
      res.status(404).type('text/plain').send('The API docs are not built: run `pnpm docs`.');
      return;
    }
    // Redoc needs inline styles and its own inline bundle: a CSP for this page only.
    res
      .status(200)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': "default-src 'none'; script-src 'self' 'unsafe-inline' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; worker-src blob:; connect-src 'self'",
        'X-Content-Type-Options': 'nosniff',
      })
      .send(cached);
  });
}

/** Serves the CSS and JavaScript of the pages, with a long cache (their names carry no hash, their content is fixed per build). */
export function serveAssets(app: Express) {
  app.get('/assets/{*file}', (req, res, next) => {
    const asset = findAsset(req.path);
    if (!asset) return next();
    res.status(200).set(assetHeaders(asset)).send(asset.body);
  });
}

