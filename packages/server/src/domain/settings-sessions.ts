// Sessions, OAuth clients, onboarding helpers and the avatar of the `/settings/*` routes
// (reference §2.13, §2.14).
import type { HearthConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { withTransaction } from '../db/util.js';
import { deleteAvatar as removeAvatar, putAvatar } from '../repositories/avatars.js';
import { updateInstance, type Instance } from '../repositories/instances.js';
import {
  countConnectedOAuthClients,
  DEFAULT_CLIENTS_PAGE,
  deleteOAuthClient,
  listOAuthClients,
  MAX_CLIENTS_PAGE,
  updateOAuthClient,
  type OAuthClient,
} from '../repositories/oauth-clients.js';
import { listSessions, purgeExpiredSessions, type Session } from '../repositories/sessions.js';
import { getSettings } from '../repositories/settings.js';
import type { Services } from '../services.js';
import { appUrl, defaultRedirectionUrl, onboardedRedirectionUrl, SETTINGS_SLUG } from './apps-urls.js';
import { computeFeatureFlags } from './flags.js';
import { oauthClientJson } from './oauth.js';

// ---------------------------------------------------------------------------------------------
// Sessions

/** A session as a JSON:API resource: `_id` and `_rev` stay inside the attributes (reference §0.3). */
export function sessionResource(session: Session) {
  const attributes: {
    _id: string;
    _rev: string;
    created_at: string;
    last_seen: string;
    long_run: boolean;
    short_run: boolean;
    sid?: string;
    oidc_provider_key?: string;
  } = {
    _id: session.id,
    _rev: session.rev,
    created_at: new Date(session.createdAt).toISOString(),
    last_seen: new Date(session.lastSeen).toISOString(),
    long_run: session.longRun,
    short_run: session.shortRun,
  };
  if (session.sid) attributes.sid = session.sid;
  if (session.oidcProviderKey) attributes.oidc_provider_key = session.oidcProviderKey;
  return { type: 'io.cozy.sessions' as const, id: session.id, attributes, meta: { rev: session.rev } };
}

/** The active sessions of the instance; the expired ones are deleted on the way. */
export async function activeSessions(services: Services, instance: Instance, now: number): Promise<Session[]> {
  await purgeExpiredSessions(services.db, { instanceId: instance.id, now });
  return listSessions(services.db, instance.id, now);
}

// ---------------------------------------------------------------------------------------------
// OAuth clients

/** The client document as `GET /settings/clients` shows it: that of the OAuth routes, without the secret. */
export function clientAttributes(client: OAuthClient): Record<string, unknown> {
  const { client_secret: _secret, ...attributes } = oauthClientJson(client);
  return attributes;
}

/** `page[limit]`: default 100; anything outside 1..1000 is read as 100 (reference §2.13). */
export function clientsPageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isInteger(limit) || limit < 1 || limit > MAX_CLIENTS_PAGE) return DEFAULT_CLIENTS_PAGE;
  return limit;
}

/** One page of clients, with the `links.next` of the following page when there is one. */
export async function clientsPage(services: Services, instance: Instance, opts: { limit?: number; cursor?: string }) {
  const limit = clientsPageLimit(opts.limit);
  const { clients, nextCursor } = await listOAuthClients(services.db, instance.id, { limit, cursor: opts.cursor || null });
  const links: { next?: string } = {};
  if (nextCursor !== null && clients.length === limit) {
    const q = new URLSearchParams({ 'page[cursor]': nextCursor });
    if (limit !== DEFAULT_CLIENTS_PAGE) q.set('page[limit]', String(limit));
    links.next = `/settings/clients?${q.toString()}`;
  }
  return {
    data: clients.map((c) => ({
      type: 'io.cozy.oauth.clients' as const,
      id: c.id,
      attributes: clientAttributes(c),
      meta: { rev: c.rev },
      links: { self: `/settings/clients/${c.id}` },
    })),
    meta: { count: clients.length },
    links,
  };
}

/**
 * Deletes a client (no OIDC end-session call, unlike `DELETE /auth/register/{id}`) and records the
 * time on the instance (`last_activity_from_deleted_oauth_clients`). False for an unknown client.
 */
export async function revokeClient(services: Services, instance: Instance, clientId: string, now: number): Promise<boolean> {
  return withTransaction(services.db, async (tx) => {
    if (!(await deleteOAuthClient(tx, instance.id, clientId))) return false;
    await updateInstance(tx, instance.id, { lastActivityFromDeletedOauthClients: now }, now);
    return true;
  });
}

/** Sets `synchronized_at` of a client; false when the client does not exist. */
export async function markSynchronized(services: Services, instance: Instance, clientId: string, now: number): Promise<boolean> {
  const updated = await updateOAuthClient(services.db, instance.id, clientId, { synchronizedAt: now }, { now });
  return updated !== null;
}

/** The number of connected user clients when it is above `limit`, else null. */
export async function clientsOverLimit(services: Services, instance: Instance, limit: number): Promise<number | null> {
  const count = await countConnectedOAuthClients(services.db, instance.id, { cap: limit + 1 });
  return count > limit ? count : null;
}

/** `cozy.oauthclients.max` as a limit (a finite number ≥ 0), else null. */
export function clientsLimitOf(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : null;
}

/** The premium offers of the manager (`<manager>/cozy/instances/<uuid>/premium`), when there is one. */
export function premiumUrl(managerUrl: string | null, instance: Instance): string | undefined {
  if (!managerUrl || !instance.uuid) return undefined;
  return `${managerUrl.replace(/\/+$/, '')}/cozy/instances/${encodeURIComponent(instance.uuid)}/premium`;
}

// ---------------------------------------------------------------------------------------------
// Redirections and app URLs (src/domain/apps-urls.ts)

/**
 * The default redirection (reference `DefaultRedirection`): the `default_redirection` of the
 * settings document, else that of the context, else the home app.
 */
export async function defaultRedirection(services: Services, instance: Instance, contextDefault: string | null): Promise<string> {
  const doc = (await getSettings(services.db, instance.id))?.doc ?? {};
  const own = typeof doc.default_redirection === 'string' ? doc.default_redirection : null;
  return defaultRedirectionUrl(services.config, instance.domain, [own, contextDefault]);
}

/** The onboarded redirection (reference `OnboardedRedirection`): the context's, else the home app. */
export function onboardedRedirection(services: Services, instance: Instance, contextOnboarded: string | null): string {
  return onboardedRedirectionUrl(services.config, instance.domain, contextOnboarded);
}

/** The connected-devices page of the settings app. */
export function connectedDevicesUrl(config: HearthConfig, instance: Instance): string {
  return appUrl(config, instance.domain, SETTINGS_SLUG, { fragment: '/connectedDevices' });
}

// ---------------------------------------------------------------------------------------------
// Onboarding

/** Sets `onboarding_finished` (once). */
export async function finishOnboarding(services: Services, instance: Instance, now: number): Promise<void> {
  if (instance.onboardingFinished) return;
  await updateInstance(services.db, instance.id, { onboardingFinished: true }, now);
}

export const DEFAULT_APPSTORE_ID = 'id1600636174';
export const DEFAULT_PLAYSTORE_ID = 'io.cozy.flagship.mobile';

/** The store link of the install-flagship-app page, chosen by User-Agent (reference §2.14). */
export function flagshipStoreUrl(userAgent: string | undefined, locale: string, flags: { appstoreId?: unknown; playstoreId?: unknown }): string {
  const ua = userAgent ?? '';
  const loc = encodeURIComponent(locale || 'en');
  if (/iPhone|iPad/.test(ua)) {
    const id = typeof flags.appstoreId === 'string' && flags.appstoreId ? flags.appstoreId : DEFAULT_APPSTORE_ID;
    return `https://apps.apple.com/${loc}/app/${encodeURIComponent(id)}`;
  }
  if (/Android/.test(ua)) {
    const id = typeof flags.playstoreId === 'string' && flags.playstoreId ? flags.playstoreId : DEFAULT_PLAYSTORE_ID;
    return `https://play.google.com/store/apps/details?id=${encodeURIComponent(id)}&hl=${loc}`;
  }
  return `https://cozy.io/${loc}/download`;
}

// ---------------------------------------------------------------------------------------------
// Avatar

/** Stores the avatar with its content type, replacing any previous one. */
export async function storeAvatar(services: Services, instance: Instance, contentType: string, data: Buffer, now: number): Promise<void> {
  await putAvatar(services.db, instance.id, contentType, data, now);
}

/** Deletes the avatar (a missing one is fine). */
export async function deleteAvatar(services: Services, instance: Instance): Promise<void> {
  await removeAvatar(services.db, instance.id);
}

// ---------------------------------------------------------------------------------------------
// Feature flags

/** The feature flags of the instance, from every source (src/domain/flags.ts). */
export async function featureFlagsOf(services: Services, instance: Instance, opts: { now: number; logger?: Logger }): Promise<Record<string, unknown>> {
  return (await computeFeatureFlags(services, instance, opts)).flags;
}
