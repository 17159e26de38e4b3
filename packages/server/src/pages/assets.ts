// The static assets of the pages: one stylesheet, the shared script and one script per page with
// a form. Pages link them as `/assets/<name>?v=<hash prefix>`, so the server can serve them with
// a one-year immutable cache (ASSET_CACHE_CONTROL): new content means a new URL.

import { createHash } from 'node:crypto';
import { HEARTH_CSS } from './assets/hearth-css.js';
import { HEARTH_JS, PAGE_JS, type ScriptedPage } from './assets/hearth-js.js';

export interface StaticAsset {
  /** `/assets/hearth.css`, `/assets/login.js`, … (without the `?v=` query). */
  path: string;
  contentType: string;
  body: string;
  /** Lowercase hex SHA-256 of the UTF-8 body. */
  sha256: string;
  /** Subresource-integrity value: `sha256-<base64>`. */
  integrity: string;
  /** A strong ETag (quoted). */
  etag: string;
  /** The URL pages use: path + `?v=` + the first 16 hex characters of the hash. */
  url: string;
}

export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';

function asset(path: string, contentType: string, body: string): StaticAsset {
  const digest = createHash('sha256').update(body, 'utf8').digest();
  const hex = digest.toString('hex');
  return {
    path,
    contentType,
    body,
    sha256: hex,
    integrity: `sha256-${digest.toString('base64')}`,
    etag: `"${hex.slice(0, 32)}"`,
    url: `${path}?v=${hex.slice(0, 16)}`,
  };
}

const JS = 'text/javascript; charset=utf-8';

export const STYLESHEET = asset('/assets/hearth.css', 'text/css; charset=utf-8', HEARTH_CSS);
export const SHARED_SCRIPT = asset('/assets/hearth.js', JS, HEARTH_JS);
export const PAGE_SCRIPTS: Record<ScriptedPage, StaticAsset> = Object.fromEntries(
  Object.entries(PAGE_JS).map(([page, body]) => [page, asset(`/assets/${page}.js`, JS, body)]),
) as Record<ScriptedPage, StaticAsset>;

/** Every asset by path. */
export const ASSETS: ReadonlyMap<string, StaticAsset> = new Map(
  [STYLESHEET, SHARED_SCRIPT, ...Object.values(PAGE_SCRIPTS)].map((a) => [a.path, a]),
);

/** The asset for a request path (a `?v=…` query is ignored), or undefined. */
export function findAsset(pathname: string): StaticAsset | undefined {
  const q = pathname.indexOf('?');
  return ASSETS.get(q === -1 ? pathname : pathname.slice(0, q));
}

/** Headers to serve an asset with: type, length, long cache, ETag, nosniff. */
export function assetHeaders(a: StaticAsset): Record<string, string> {
  return {
    'Content-Type': a.contentType,
    'Content-Length': String(Buffer.byteLength(a.body, 'utf8')),
    'Cache-Control': ASSET_CACHE_CONTROL,
    ETag: a.etag,
    'X-Content-Type-Options': 'nosniff',
  };
}

export type { ScriptedPage };
