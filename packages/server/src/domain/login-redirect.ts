// The `redirect` of the login, two-factor and magic-link routes (reference §3.6 "Redirect rules").
//
// - The value comes from the form or the query; empty → the default redirection of the instance.
// - When the settings document says `import_vault: true`, the redirect is forced to `/move/vault`.
// - A value without a scheme is read as `slug/path#fragment` for an installed webapp.
// - The scheme must be http or https, the host the instance domain or one of its app hosts
//   (nested `<slug>.<domain>` or flat `<label>-<slug>.<rest>`, see apps-urls.ts).
// - On the instance domain itself the fragment is replaced by `=` (the URL ends with `#=`), so that
//   a fragment cannot survive the redirection; app URLs keep theirs.
// Failures are the negotiated 400 errors `bad url: could not parse` / `bad scheme` /
// `should be subdomain`.
import type { HearthConfig } from '../config/config.js';
import { negotiatedError } from '../http/errors.js';
import { getApp } from '../repositories/apps.js';
import type { Instance } from '../repositories/instances.js';
import { getSettings } from '../repositories/settings.js';
import type { Services } from '../services.js';
import { appUrl, isValidSlug, parseRedirection } from './apps-urls.js';

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

export const badUrl = {
  parse: () => negotiatedError(400, 'bad url: could not parse'),
  scheme: () => negotiatedError(400, 'bad url: bad scheme'),
  subdomain: () => negotiatedError(400, 'bad url: should be subdomain'),
};

function splitHost(host: string): { first: string; rest: string } {
  const dot = host.indexOf('.');
  return dot < 0 ? { first: host, rest: '' } : { first: host.slice(0, dot), rest: host.slice(dot) };
}

/** The app slug when `host` (with its port) is an app host of the instance, else null. */
export function appSlugOfHost(config: Pick<HearthConfig, 'subdomains'>, instanceDomain: string, host: string): string | null {
  const h = host.toLowerCase();
  const domain = instanceDomain.toLowerCase();
  if (config.subdomains === 'flat') {
    const mine = splitHost(domain);
    const theirs = splitHost(h);
    if (theirs.rest !== mine.rest || !theirs.first.startsWith(`${mine.first}-`)) return null;
    const slug = theirs.first.slice(mine.first.length + 1);
    return isValidSlug(slug) ? slug : null;
  }
  if (!h.endsWith(`.${domain}`)) return null;
  const slug = h.slice(0, h.length - domain.length - 1);
  return !slug.includes('.') && isValidSlug(slug) ? slug : null;
}

/**
 * Validates a redirect of the login routes and answers the absolute URL to send the browser to.
 * `fallback` is used when the value is empty (the default redirection).
 */
export async function checkLoginRedirect(services: Services, instance: Instance, value: string | null | undefined, fallback: string): Promise<string> {
  const { config } = services;
  let raw = typeof value === 'string' ? value : '';
  if (raw === '') raw = fallback;
  const doc = (await getSettings(services.db, instance.id))?.doc ?? {};
  if (doc.import_vault === true) return `${config.publicScheme}://${instance.domain}/move/vault`;

  if (!SCHEME.test(raw)) {
    const r = parseRedirection(raw);
    if (!r) throw badUrl.scheme();
    const app = await getApp(services.db, instance.id, r.slug, 'webapp');
    if (!app) throw badUrl.scheme();
    return appUrl(config, instance.domain, r.slug, { path: r.path, fragment: r.fragment });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badUrl.parse();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badUrl.scheme();
  if (url.username || url.password) throw badUrl.subdomain();
  const host = url.host.toLowerCase();
  if (host === instance.domain.toLowerCase()) {
    url.hash = '=';
    return url.href;
  }
  if (!appSlugOfHost(config, instance.domain, host)) throw badUrl.subdomain();
  return url.href;
}

/**
 * Whether a (validated) redirect is the instance's own OAuth authorize page, other than for the
 * `login` scope: the session opened for it is short-run (5 minutes), reference §3.7.
 */
export function isAuthorizeRedirect(instance: Pick<Instance, 'domain'>, redirect: string): boolean {
  try {
    const url = new URL(redirect);
    return url.host.toLowerCase() === instance.domain.toLowerCase() && url.pathname === '/auth/authorize' && url.searchParams.get('scope') !== 'login';
  } catch {
    return false;
  }
}
