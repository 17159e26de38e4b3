// Calls to the manager (the "cloudery" web app of a context, `contexts.<ctx>.manager_url`) and to
// the cloudery admin API (`clouderies.<ctx>.api`). Reference §1.4, §2.11, §2.12.
//
// Every call has a 5 s timeout. A failure (unreachable, timeout, non-2xx status, unreadable body)
// is an UpstreamError; the handlers answer it as the contract says (502 mostly).
// The cloudery bearer token is only ever sent to the cloudery API origin: the manager calls carry it
// when the manager URL has that same origin, never to another host.
import { clouderyConfig, contextConfig, type HearthConfig } from '../config/config.js';
import type { Instance } from '../repositories/instances.js';

export const UPSTREAM_TIMEOUT_MS = 5_000;
/** How long the manager's answer for a context and a list of feature sets is kept (reference §1.4). */
export const MANAGER_FLAGS_TTL_MS = 12 * 3600 * 1000;

/** A call to the manager or the cloudery failed. `message` is safe to show (no secrets). */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** The manager URL of the instance context (no trailing slash), or null. */
export function managerUrlOf(config: HearthConfig, instance: Instance): string | null {
  const url = contextConfig(config, instance.context).managerUrl;
  return url ? url.replace(/\/+$/, '') : null;
}

/** `<manager>` + path; throws a TypeError when it does not make a valid URL. */
function managerEndpoint(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url;
}

/** The terms-of-service page of the manager for this instance (`<manager>/cozy/tos?domain=…`). */
export function managerTosPage(config: HearthConfig, instance: Instance): string | null {
  const base = managerUrlOf(config, instance);
  if (!base) return null;
  try {
    const url = managerEndpoint(base, '/cozy/tos');
    url.searchParams.set('domain', instance.domain);
    return url.toString();
  } catch {
    return null;
  }
}

/** The premium offers page: `<manager>/cozy/instances/<uuid>/premium`. Throws a TypeError for an invalid URL. */
export function managerPremiumPage(base: string, uuid: string): string {
  return managerEndpoint(base, `/cozy/instances/${encodeURIComponent(uuid)}/premium`).toString();
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** Headers of a manager API call: the cloudery token when the manager is the cloudery API's origin. */
function managerHeaders(config: HearthConfig, instance: Instance, base: string): Record<string, string> {
  const cloudery = clouderyConfig(config, instance.context);
  if (cloudery && cloudery.api.token && sameOrigin(cloudery.api.url, base)) return { Authorization: `Bearer ${cloudery.api.token}` };
  return {};
}

async function call(
  method: string,
  url: URL | string,
  opts: { headers?: Record<string, string>; body?: string; contentType?: string; what: string },
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { Accept: 'application/json', ...(opts.contentType ? { 'Content-Type': opts.contentType } : {}), ...opts.headers },
      body: opts.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
  } catch (err) {
    const timeout = (err as { name?: string }).name === 'TimeoutError';
    throw new UpstreamError(`${opts.what}: ${timeout ? 'no answer within 5 s' : 'could not be reached'}`);
  }
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status >= 300) throw new UpstreamError(`${opts.what}: answered ${res.status}`, res.status);
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// --- Feature flags (reference §1.4, source 2) -------------------------------------------------

const flagsCache = new Map<string, { flags: Record<string, unknown>; expires: number }>();

/**
 * The flags the manager gives for the instance's feature sets, or null when the instance has no
 * feature sets or its context no manager. Answers are cached 12 h per manager, context and sets.
 */
export async function managerFeatureFlags(
  config: HearthConfig,
  instance: Instance,
  now: number,
): Promise<{ sets: string[]; flags: Record<string, unknown> } | null> {
  const base = managerUrlOf(config, instance);
  const sets = instance.featureSets;
  if (!base || sets.length === 0) return null;
  const ctx = instance.context || 'default';
  const key = `${base}|${ctx}|${sets.join(',')}`;
  const cached = flagsCache.get(key);
  if (cached && cached.expires > now) return { sets, flags: cached.flags };
  const url = managerEndpoint(base, '/api/v1/features');
  url.searchParams.set('sets', sets.join(','));
  url.searchParams.set('context', ctx);
  const body = await call('GET', url, { headers: managerHeaders(config, instance, base), what: 'the manager flags request' });
  const flags = isObject(body) && isObject(body.flags) ? body.flags : null;
  if (!flags) throw new UpstreamError('the manager flags request: the answer has no `flags` object');
  flagsCache.set(key, { flags, expires: now + MANAGER_FLAGS_TTL_MS });
  return { sets, flags };
}

// --- External ties (reference §2.11) ------------------------------------------------------------

export interface ExternalTies {
  has_blocking_subscription: boolean;
  blocking_subscription?: { vendor: string };
}

/**
 * Asks the manager about the instance (`GET <manager>/api/v1/instances/<uuid>`). Without a
 * manager, or for an instance the manager does not know (no uuid), nothing can tie it: no blocking
 * subscription.
 */
export async function externalTies(config: HearthConfig, instance: Instance): Promise<ExternalTies> {
  const base = managerUrlOf(config, instance);
  if (!base || !instance.uuid) return { has_blocking_subscription: false };
  const body = await call('GET', managerEndpoint(base, `/api/v1/instances/${encodeURIComponent(instance.uuid)}`), {
    headers: managerHeaders(config, instance, base),
    what: 'the manager instance request',
  });
  if (!isObject(body)) throw new UpstreamError('the manager instance request: the answer is not a JSON object');
  if (body.has_blocking_subscription !== true) return { has_blocking_subscription: false };
  const vendor = body.blocking_subscription_vendor;
  if (typeof vendor !== 'string' || vendor === '' || vendor.length > 255) {
    throw new UpstreamError('the manager instance request: a blocking subscription without a vendor');
  }
  return { has_blocking_subscription: true, blocking_subscription: { vendor } };
}

// --- Terms of service (reference §2.12 sign_tos) -------------------------------------------------

/** `PUT <manager>/api/v1/instances/<uuid>/tos` with the form `version=<version>`. */
export async function signTosAtManager(config: HearthConfig, instance: Instance, base: string, uuid: string, version: string): Promise<void> {
  await call('PUT', managerEndpoint(base, `/api/v1/instances/${encodeURIComponent(uuid)}/tos`), {
    headers: managerHeaders(config, instance, base),
    contentType: 'application/x-www-form-urlencoded',
    body: new URLSearchParams({ version }).toString(),
    what: 'the manager terms-of-service request',
  });
}

// --- Settings changes (reference §2.12 PUT side effects) -----------------------------------------

/**
 * Tells the manager the new email / public name of the instance
 * (`PUT <manager>/api/v1/instances/<uuid>` with a JSON body). Only when the context has a manager and
 * the instance a uuid; answers false when there is nothing to call.
 */
export async function pushInstanceToManager(
  config: HearthConfig,
  instance: Instance,
  values: { email?: unknown; public_name?: unknown; locale: string; url: string },
): Promise<boolean> {
  const base = managerUrlOf(config, instance);
  if (!base || !instance.uuid) return false;
  await call('PUT', managerEndpoint(base, `/api/v1/instances/${encodeURIComponent(instance.uuid)}`), {
    headers: managerHeaders(config, instance, base),
    contentType: 'application/json',
    body: JSON.stringify(values),
    what: 'the manager instance update',
  });
  return true;
}

// --- Deletion (reference §2.12 POST /settings/instance/deletion) --------------------------------

/** `DELETE <cloudery api>/api/admin/instances/<uuid>` with the cloudery bearer token. */
export async function requestDeletionAtCloudery(config: HearthConfig, instance: Instance): Promise<void> {
  const cloudery = clouderyConfig(config, instance.context);
  if (!cloudery) throw new UpstreamError('no cloudery is configured for the context of the instance');
  if (!instance.uuid) throw new UpstreamError('the instance has no uuid at the cloudery');
  let url: URL;
  try {
    url = managerEndpoint(cloudery.api.url.replace(/\/+$/, ''), `/api/admin/instances/${encodeURIComponent(instance.uuid)}`);
  } catch {
    throw new UpstreamError('the cloudery API URL is not valid');
  }
  await call('DELETE', url, { headers: { Authorization: `Bearer ${cloudery.api.token}` }, what: 'the cloudery deletion request' });
}
