// Server-rendered HTML pages: renderPage() and the headers they must be served with.
//
//   res.set(securityHeaders()).type('html').send(renderPage('login', data, { locale: instance.locale }));
//
// Static assets (ASSETS / findAsset / assetHeaders) are served under /assets/ with a long cache.

import { translator, pickLocale } from './i18n.js';
import { renderWith, type PageData, type PageName } from './templates.js';

export { ASSETS, ASSET_CACHE_CONTROL, assetHeaders, findAsset, PAGE_SCRIPTS, SHARED_SCRIPT, STYLESHEET } from './assets.js';
export type { StaticAsset } from './assets.js';
export { escapeHtml, html, raw, safeHref, SafeHtml } from './html.js';
export { pickLocale, type Locale } from './i18n.js';
export { PAGE_NAMES } from './templates.js';
export type * from './templates.js';

export interface RenderOptions {
  /** The instance locale (`en`, `fr`, `fr-FR`…); anything but French renders in English. */
  locale?: string | null;
}

/** Renders a page to a complete HTML document. Every value from `data` is escaped. */
export function renderPage<N extends PageName>(name: N, data: PageData[N], opts: RenderOptions = {}): string {
  const locale = pickLocale(opts.locale);
  return renderWith(name, data, translator(locale), locale);
}

export interface SecurityHeaderOptions {
  /**
   * Extra `form-action` sources. The page scripts post with fetch and navigate themselves, so
   * none are needed; a server that lets forms post natively to a route that redirects to another
   * origin (OAuth redirect_uri, app subdomains) must list those origins here, because browsers
   * apply form-action to the redirect too.
   */
  formAction?: string[];
}

/** The headers of every HTML page. */
export function securityHeaders(opts: SecurityHeaderOptions = {}): Record<string, string> {
  const formAction = ["'self'", ...(opts.formAction ?? [])].join(' ');
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      // The page scripts post their forms with fetch().
      "connect-src 'self'",
      `form-action ${formAction}`,
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  };
}
