// URLs of the webapps of an instance (reference §1.1 `default_redirection`, §2.5 onboarded
// redirection, §2.3 settings app): each webapp lives on its own subdomain of the instance.
//
// - nested subdomains (the default): `<slug>.<instance domain>`, e.g. `home.alice.example.net`;
// - flat subdomains (`subdomains: flat`): the slug is glued to the first label of the instance
//   domain, `<first label>-<slug>.<rest>`, e.g. `alice-home.example.net`.
// The port of the instance domain, if any, is kept. Redirections are written `slug/path#fragment`
// (`drive/#/folder`, `home`, `settings/profile`).
import type { HearthConfig } from '../config/config.js';

export const HOME_SLUG = 'home';
export const SETTINGS_SLUG = 'settings';

/** A slug as the stack accepts it: lowercase letters, digits and dashes. */
const SLUG = /^[a-z0-9][a-z0-9-]*$/;

export function isValidSlug(slug: string): boolean {
  return SLUG.test(slug) && slug.length <= 256;
}

function splitPort(domain: string): { host: string; port: string } {
  const colon = domain.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(domain.slice(colon + 1))) return { host: domain.slice(0, colon), port: domain.slice(colon) };
  return { host: domain, port: '' };
}

/** The host (with the instance's port) where the webapp `slug` of the instance is served. */
export function appHost(config: Pick<HearthConfig, 'subdomains'>, instanceDomain: string, slug: string): string {
  const { host, port } = splitPort(instanceDomain);
  if (config.subdomains === 'flat') {
    const dot = host.indexOf('.');
    if (dot < 0) return `${host}-${slug}${port}`;
    return `${host.slice(0, dot)}-${slug}${host.slice(dot)}${port}`;
  }
  return `${slug}.${host}${port}`;
}

/**
 * The absolute URL of a webapp: `<scheme>://<app host><path>[#fragment]`. `path` defaults to `/`
 * and always starts with a slash.
 */
export function appUrl(
  config: Pick<HearthConfig, 'subdomains' | 'publicScheme'>,
  instanceDomain: string,
  slug: string,
  opts: { path?: string; fragment?: string | null } = {},
): string {
  const base = `${config.publicScheme}://${appHost(config, instanceDomain, slug)}`;
  let path = opts.path ?? '/';
  if (!path.startsWith('/')) path = `/${path}`;
  const fragment = opts.fragment !== undefined && opts.fragment !== null ? `#${opts.fragment}` : '';
  return `${base}${path}${fragment}`;
}

export interface Redirection {
  slug: string;
  /** Starts with `/`. */
  path: string;
  /** Without the `#`; null when there is none. */
  fragment: string | null;
}

/**
 * Parses `slug/path#fragment` (the format of `default_redirection`, `onboarded_redirection` and
 * the onboarding `redirection` field). Answers null when the slug is not valid.
 */
export function parseRedirection(value: string): Redirection | null {
  const hash = value.indexOf('#');
  const beforeHash = hash >= 0 ? value.slice(0, hash) : value;
  const fragment = hash >= 0 ? value.slice(hash + 1) : null;
  const slash = beforeHash.indexOf('/');
  const slug = slash >= 0 ? beforeHash.slice(0, slash) : beforeHash;
  const rest = slash >= 0 ? beforeHash.slice(slash + 1) : '';
  if (!isValidSlug(slug)) return null;
  if (/[\s\\]/.test(rest) || rest.startsWith('/')) return null;
  return { slug, path: `/${rest}`, fragment };
}

/** The absolute URL of a `slug/path#fragment` redirection, or null when it cannot be parsed. */
export function redirectionUrl(config: Pick<HearthConfig, 'subdomains' | 'publicScheme'>, instanceDomain: string, value: string): string | null {
  const r = parseRedirection(value);
  return r ? appUrl(config, instanceDomain, r.slug, { path: r.path, fragment: r.fragment }) : null;
}

/** `<scheme>://home.<domain>/` (nested) or `<scheme>://<label>-home.<rest>/` (flat). */
export function homeAppUrl(config: Pick<HearthConfig, 'subdomains' | 'publicScheme'>, instanceDomain: string): string {
  return appUrl(config, instanceDomain, HOME_SLUG);
}

/** `<scheme>://settings.<domain>/` (nested) or `<scheme>://<label>-settings.<rest>/` (flat). */
export function settingsAppUrl(config: Pick<HearthConfig, 'subdomains' | 'publicScheme'>, instanceDomain: string): string {
  return appUrl(config, instanceDomain, SETTINGS_SLUG);
}

/**
 * Where to go once the onboarding is done (reference `OnboardedRedirection`): the context's
 * `onboarded_redirection` (`slug/path#fragment`), or the home app.
 */
export function onboardedRedirectionUrl(
  config: Pick<HearthConfig, 'subdomains' | 'publicScheme'>,
  instanceDomain: string,
  onboardedRedirection: string | null | undefined,
): string {
  return (onboardedRedirection ? redirectionUrl(config, instanceDomain, onboardedRedirection) : null) ?? homeAppUrl(config, instanceDomain);
}

/**
 * Where the instance opens by default (reference `DefaultRedirection`): the settings document's
 * `default_redirection`, else the context's, else the home app.
 */
export function defaultRedirectionUrl(
  config: Pick<HearthConfig, 'subdomains' | 'publicScheme'>,
  instanceDomain: string,
  candidates: (string | null | undefined)[],
): string {
  for (const c of candidates) {
    if (typeof c === 'string' && c) {
      const url = redirectionUrl(config, instanceDomain, c);
      if (url) return url;
    }
  }
  return homeAppUrl(config, instanceDomain);
}
