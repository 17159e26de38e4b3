// Admin API: OAuth clients created on an instance (not pending, certification flags settable) and
// the certification flags of any client.
import type { AdminHandlers } from '../../generated/admin-operations.gen.js';
import type { components } from '../../generated/admin-api.gen.js';
import type { AdminContext } from '../../http/apps.js';
import { plainError } from '../../http/errors.js';
import type { Instance } from '../../repositories/instances.js';
import { createOAuthClient, getOAuthClient, updateOAuthClient, type OAuthClient, type OAuthClientPatch } from '../../repositories/oauth-clients.js';
import { instanceOr404, isoTime } from './common.js';
import { signInstanceToken } from './tokens.js';
import { fieldError } from './validation.js';

type AdminOAuthClient = components['schemas']['AdminOAuthClient'];
type AdminOAuthClientCreate = components['schemas']['AdminOAuthClientCreate'];

export const NOTIFICATION_PLATFORMS = ['', 'firebase', 'apns', 'huawei', 'android', 'ios'] as const;
type NotificationPlatform = (typeof NOTIFICATION_PLATFORMS)[number];

/** The checks of `POST /auth/register` on the metadata (reference §3.1). */
export function checkClientMetadata(instance: Instance, body: AdminOAuthClientCreate): { notificationPlatform: NotificationPlatform | undefined } {
  body.redirect_uris.forEach((uri, i) => {
    const field = `redirect_uris.${i}`;
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      // the echoed value is shortened: the error message is at most 4096 characters (contract)
      throw fieldError(field, `invalid_redirect_uri: ${uri.length > 200 ? `${uri.slice(0, 200)}…` : uri} is not a valid URI`);
    }
    if (url.host === instance.domain) throw fieldError(field, 'invalid_redirect_uri: a redirect URI must not have the instance domain as host');
    if (url.hash !== '' || uri.includes('#')) throw fieldError(field, 'invalid_redirect_uri: a redirect URI must not have a fragment');
  });
  if (!body.client_name.trim()) throw fieldError('client_name', 'invalid_client_metadata: client_name is mandatory');
  if (!body.software_id.trim()) throw fieldError('software_id', 'invalid_client_metadata: software_id is mandatory');
  let notificationPlatform: NotificationPlatform | undefined;
  if (body.notification_platform !== undefined) {
    const platform = body.notification_platform.toLowerCase();
    if (!(NOTIFICATION_PLATFORMS as readonly string[]).includes(platform)) {
      throw fieldError('notification_platform', 'invalid_client_metadata: invalid notification platform');
    }
    notificationPlatform = platform as NotificationPlatform;
  }
  return { notificationPlatform };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The stored client as the admin API shows it (secret included). */
export function oauthClientView(client: OAuthClient): AdminOAuthClient {
  const m = client.metadata;
  const redirectUris = Array.isArray(m.redirect_uris) ? m.redirect_uris.filter((u): u is string => typeof u === 'string') : [];
  const view: AdminOAuthClient = {
    client_id: client.id,
    client_secret: client.clientSecret,
    client_secret_expires_at: 0,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: client.clientName,
    software_id: client.softwareId,
    flagship: client.flagship,
    certified_from_store: client.certifiedFromStore,
    allow_login_scope: client.allowLoginScope,
    pending: client.pending,
  };
  if (client.clientKind) view.client_kind = client.clientKind;
  for (const key of ['client_uri', 'logo_uri', 'policy_uri', 'software_version'] as const) {
    const v = str(m[key]);
    if (v !== undefined) view[key] = v;
  }
  const platform = client.notificationPlatform?.toLowerCase();
  if (platform !== undefined && (NOTIFICATION_PLATFORMS as readonly string[]).includes(platform)) {
    view.notification_platform = platform as NotificationPlatform;
  }
  if (client.notificationDeviceToken) view.notification_device_token = client.notificationDeviceToken;
  if (m.notifications && typeof m.notifications === 'object' && !Array.isArray(m.notifications)) {
    view.notifications = m.notifications as AdminOAuthClient['notifications'];
  }
  return view;
}

export const adminClientHandlers: Pick<AdminHandlers<AdminContext>, 'createOAuthClient' | 'updateOAuthClientFlags'> = {
  async createOAuthClient(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const body = request.body.value;
    const { notificationPlatform } = checkClientMetadata(instance, body);
    const now = ctx.now;
    const metadata: Record<string, unknown> = {
      redirect_uris: body.redirect_uris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      cozyMetadata: { doctypeVersion: '1', metadataVersion: 1, createdAt: isoTime(now), updatedAt: isoTime(now) },
    };
    for (const key of ['client_uri', 'logo_uri', 'policy_uri', 'software_version', 'notifications'] as const) {
      if (body[key] !== undefined) metadata[key] = body[key];
    }
    const client = await createOAuthClient(
      ctx.services.db,
      {
        instanceId: instance.id,
        clientName: body.client_name,
        softwareId: body.software_id,
        clientKind: body.client_kind ?? null,
        pending: false,
        flagship: body.flagship ?? false,
        certifiedFromStore: body.certified_from_store ?? false,
        allowLoginScope: body.allow_login_scope ?? false,
        notificationPlatform: notificationPlatform ?? null,
        notificationDeviceToken: body.notification_device_token ?? null,
        metadata,
      },
      now,
    );
    const registrationAccessToken = await signInstanceToken(instance, 'registration', { sub: client.id }, now);
    ctx.services.logger.info({ instance: instance.domain, client_id: client.id }, 'admin: OAuth client created');
    return {
      status: 201,
      type: 'application/json',
      body: { ...oauthClientView(client), registration_access_token: registrationAccessToken },
    };
  },

  async updateOAuthClientFlags(request, ctx) {
    const instance = await instanceOr404(ctx, request.path.domain);
    const clientId = request.path.clientId;
    const flags = request.body.value;
    const patch: OAuthClientPatch = {};
    if (flags.flagship !== undefined) patch.flagship = flags.flagship;
    if (flags.certified_from_store !== undefined) patch.certifiedFromStore = flags.certified_from_store;
    if (flags.allow_login_scope !== undefined) patch.allowLoginScope = flags.allow_login_scope;
    const client =
      Object.keys(patch).length > 0
        ? await updateOAuthClient(ctx.services.db, instance.id, clientId, patch, { now: ctx.now })
        : await getOAuthClient(ctx.services.db, instance.id, clientId);
    if (!client) throw plainError(404, 'client not found');
    return { status: 200, type: 'application/json', body: oauthClientView(client) };
  },
};
