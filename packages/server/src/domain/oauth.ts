// The OAuth 2 server of an instance (reference §3.1, §3.2, §3.12–§3.14): dynamic client
// registration and its registration-token CRUD, the authorization (consent page, access codes,
// PKCE) and the token endpoint. Token issuing itself is `issueTokens` (shared with the flagship
// logins and the onboarding).
import type { Request } from 'express';
import { deprecatedApp, registriesFor, skipCertification, oidcConfig } from '../config/config.js';
import type { RequestContext } from '../http/context.js';
import { htmlError, jsonApiError, negotiatedError, plainError } from '../http/errors.js';
import { consumeAccessCode, createAccessCode, getAccessCode, type AccessCode } from '../repositories/access-codes.js';
import { getApp, installApp } from '../repositories/apps.js';
import { consumeCode } from '../repositories/codes.js';
import { ConflictError } from '../repositories/errors.js';
import { updateInstance, type Instance } from '../repositories/instances.js';
import {
  countConnectedOAuthClients,
  createOAuthClient,
  deleteOAuthClient,
  getOAuthClient,
  newClientSecret,
  updateOAuthClient,
  type OAuthClient,
  type OAuthClientPatch,
} from '../repositories/oauth-clients.js';
import { hitRateLimit, rateLimitState, RATE_LIMITS, type RateLimitCounter } from '../repositories/rate-limits.js';
import {
  createConfirmFlagship,
  parseScope,
  permissionsFromManifest,
  serializeScope,
  sessionSecretKey,
  signJwt,
  verifyJwt,
  verifyPkceS256,
} from '../security/index.js';
import type { Services } from '../services.js';
import { appUrl } from './apps-urls.js';
import { computeFeatureFlags } from './flags.js';
import { publicNameOf } from './flagship-auth.js';
import { openSession, osOf, SessionDuration } from './sessions.js';
import { issueTokens, type IssuedTokens } from './tokens.js';

export { issueTokens, type IssuedTokens };

const NOTIFICATION_PLATFORMS = ['', 'firebase', 'apns', 'huawei', 'android', 'ios'];
const GRANT_TYPES = ['authorization_code', 'refresh_token'];
const LINKED_APP_PREFIX = 'registry://';
/** The flag that caps the connected OAuth clients (reference §3.12 step 7). */
export const OAUTH_CLIENTS_MAX_FLAG = 'cozy.oauthclients.max';

// --- Helpers ------------------------------------------------------------------------------

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function iso(ms: number | null | undefined): string | undefined {
  return ms === null || ms === undefined ? undefined : new Date(ms).toISOString();
}

function parseDate(v: unknown): number | null {
  if (typeof v !== 'string' || v === '') return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

/** Counts one hit of a counter of reference §0.8 for the instance and answers whether it went over. */
export async function overRateLimit(services: Services, instance: Instance, counter: RateLimitCounter, now: number): Promise<boolean> {
  const { limit, windowMs } = RATE_LIMITS[counter];
  const count = await hitRateLimit(services.db, instance.id, counter, windowMs, now);
  return rateLimitState(count, limit) !== 'ok';
}

/** The webapp slug of a client linked to a webapp (`software_id` `registry://<slug>`), or null. */
export function linkedAppSlug(client: Pick<OAuthClient, 'softwareId'>): string | null {
  if (!client.softwareId.startsWith(LINKED_APP_PREFIX)) return null;
  const slug = client.softwareId.slice(LINKED_APP_PREFIX.length);
  return slug || null;
}

// --- Client documents ---------------------------------------------------------------------

/**
 * The client as the OAuth routes answer it (RFC 7591 client information): no `_id`/`_rev`, false
 * flags and empty optional fields omitted. `registrationAccessToken` only for the registration.
 */
export function oauthClientJson(client: OAuthClient, opts: { registrationAccessToken?: string } = {}): Record<string, unknown> {
  const m = client.metadata;
  const out: Record<string, unknown> = {
    client_id: client.id,
    client_secret: client.clientSecret,
    client_secret_expires_at: 0,
  };
  if (opts.registrationAccessToken) out.registration_access_token = opts.registrationAccessToken;
  if (client.allowLoginScope) out.allow_login_scope = true;
  if (client.pending) out.pending = true;
  out.redirect_uris = Array.isArray(m.redirect_uris) ? m.redirect_uris.filter((u): u is string => typeof u === 'string') : [];
  out.grant_types = [...GRANT_TYPES];
  out.response_types = ['code'];
  out.client_name = client.clientName;
  if (client.clientKind) out.client_kind = client.clientKind;
  for (const key of ['client_uri', 'logo_uri', 'policy_uri'] as const) if (str(m[key])) out[key] = m[key];
  out.software_id = client.softwareId;
  for (const key of ['software_version', 'client_os'] as const) if (str(m[key])) out[key] = m[key];
  if (m.notifications && typeof m.notifications === 'object' && !Array.isArray(m.notifications) && Object.keys(m.notifications).length > 0) {
    out.notifications = m.notifications;
  }
  if (client.notificationPlatform && NOTIFICATION_PLATFORMS.includes(client.notificationPlatform)) out.notification_platform = client.notificationPlatform;
  if (client.notificationDeviceToken) out.notification_device_token = client.notificationDeviceToken;
  if (client.synchronizedAt !== null) out.synchronized_at = iso(client.synchronizedAt);
  if (client.lastRefreshedAt !== null) out.last_refreshed_at = iso(client.lastRefreshedAt);
  if (client.flagship) out.flagship = true;
  if (client.certifiedFromStore) out.certified_from_store = true;
  if (client.createdAtOnboarding) out.created_at_onboarding = true;
  if (client.oidcSessionId) out.oidc_session_id = client.oidcSessionId;
  if (m.cozyMetadata && typeof m.cozyMetadata === 'object') out.cozyMetadata = m.cozyMetadata;
  return out;
}

/** The registration access token of a client: aud `registration`, sub the client id, never expires. */
export function registrationToken(instance: Instance, clientId: string, now: number): Promise<string> {
  return signJwt(Buffer.from(instance.oauthSecret, 'base64'), { aud: 'registration', iss: instance.domain, sub: clientId }, now);
}

// --- Registration -------------------------------------------------------------------------

/** The registration fields as received (snake_case, unknown keys ignored). */
export interface ClientMetadataInput {
  redirect_uris?: string[];
  client_name?: string;
  software_id?: string;
  client_kind?: string;
  client_uri?: string;
  logo_uri?: string;
  policy_uri?: string;
  software_version?: string;
  notification_platform?: string;
  notification_device_token?: string;
  notifications?: Record<string, unknown>;
  allow_login_scope?: boolean;
}

interface ValidatedMetadata {
  redirectUris: string[];
  clientName: string;
  softwareId: string;
  notificationPlatform: string | null;
  /** The registry version of a linked webapp. */
  linkedApp: { slug: string; version: string | null } | null;
}

const registrationError = (error: string, description?: string) =>
  plainError(400, error, description === undefined ? {} : { error_description: description });

function hostOf(uri: string): string | null {
  try {
    return new URL(uri).host.toLowerCase();
  } catch {
    return null;
  }
}

/** Reference `checkMandatoryFields` plus the software_id check of the registration. */
async function validateClientMetadata(
  services: Services,
  instance: Instance,
  body: ClientMetadataInput,
  opts: { checkRegistry: boolean },
): Promise<ValidatedMetadata> {
  const redirectUris = body.redirect_uris ?? [];
  if (redirectUris.length === 0) throw registrationError('invalid_redirect_uri', 'redirect_uris is mandatory');
  for (const uri of redirectUris) {
    let fragment = '';
    try {
      fragment = new URL(uri).hash;
    } catch {
      throw registrationError('invalid_redirect_uri', `${uri} is invalid`);
    }
    if (hostOf(uri) === instance.domain.toLowerCase() || fragment !== '') throw registrationError('invalid_redirect_uri', `${uri} is invalid`);
  }
  const clientName = body.client_name ?? '';
  if (clientName === '') throw registrationError('invalid_client_metadata', 'client_name is mandatory');
  const softwareId = body.software_id ?? '';
  if (softwareId === '') throw registrationError('invalid_client_metadata', 'software_id is mandatory');
  const platform = (body.notification_platform ?? '').toLowerCase();
  if (!NOTIFICATION_PLATFORMS.includes(platform)) throw registrationError('invalid_client_metadata', 'Invalid notification platform');
  let linkedApp: ValidatedMetadata['linkedApp'] = null;
  if (softwareId.startsWith(LINKED_APP_PREFIX)) {
    const slug = softwareId.slice(LINKED_APP_PREFIX.length);
    if (slug === 'store' || slug === 'settings') throw registrationError('unapproved_software_id', 'Link with store/settings is forbidden');
    if (opts.checkRegistry) {
      const version = slug ? await latestStableVersion(services, instance, slug) : null;
      if (!version) throw registrationError('unapproved_software_id', 'Application was not found on instance registries');
      linkedApp = { slug, version: version.version };
    }
  }
  return { redirectUris, clientName, softwareId, notificationPlatform: platform || null, linkedApp };
}

function registeredMetadata(body: ClientMetadataInput & { client_os?: string }, redirectUris: string[]): Record<string, unknown> {
  const metadata: Record<string, unknown> = { redirect_uris: redirectUris };
  for (const key of ['client_uri', 'logo_uri', 'policy_uri', 'software_version', 'client_os'] as const) {
    const v = str(body[key]);
    if (v) metadata[key] = v;
  }
  if (body.notifications && Object.keys(body.notifications).length > 0) metadata.notifications = body.notifications;
  return metadata;
}

/**
 * POST /auth/register: rate limit (404), `allow_login_scope` only with a CLI token (401), the
 * field validation (400), then a `pending` client and its registration access token.
 */
export async function registerClient(ctx: RequestContext, body: ClientMetadataInput): Promise<Record<string, unknown>> {
  const { services, instance, now } = ctx;
  if (await overRateLimit(services, instance, 'oauth-client', now)) throw negotiatedError(404, 'Not found');
  if (body.allow_login_scope === true) {
    const perm = await ctx.auth.optionalPermission();
    if (perm?.kind !== 'cli') throw negotiatedError(401, 'Not authorized to create client with given parameters');
  }
  const valid = await validateClientMetadata(services, instance, body, { checkRegistry: true });
  const stamp = new Date(now).toISOString();
  const cozyMetadata: Record<string, unknown> = { doctypeVersion: '1', metadataVersion: 1, createdAt: stamp, updatedAt: stamp };
  if (valid.linkedApp) {
    cozyMetadata.createdByApp = valid.linkedApp.slug;
    if (valid.linkedApp.version) cozyMetadata.createdByAppVersion = valid.linkedApp.version;
  }
  let client: OAuthClient;
  try {
    client = await createOAuthClient(
      services.db,
      {
        instanceId: instance.id,
        clientName: valid.clientName,
        softwareId: valid.softwareId,
        clientKind: str(body.client_kind) ?? null,
        pending: true,
        allowLoginScope: body.allow_login_scope === true,
        notificationPlatform: valid.notificationPlatform,
        notificationDeviceToken: str(body.notification_device_token) ?? null,
        metadata: { ...registeredMetadata(body, valid.redirectUris), cozyMetadata },
      },
      now,
    );
  } catch (err) {
    ctx.logger.error({ err }, 'OAuth client registration failed');
    throw plainError(500, 'internal_server_error');
  }
  return oauthClientJson(client, { registrationAccessToken: await registrationToken(instance, client.id, now) });
}

const clientNotFound = () => plainError(404, 'Client not found');

/** The client of a `/auth/register/:id` route, with its registration token checked (404, then 401). */
export async function registeredClient(ctx: RequestContext, clientId: string): Promise<OAuthClient> {
  const client = await getOAuthClient(ctx.services.db, ctx.instance.id, clientId);
  if (!client) throw clientNotFound();
  await ctx.auth.requireRegistrationToken(clientId);
  return client;
}

export interface ClientUpdateInput extends ClientMetadataInput {
  client_id?: string;
  client_secret?: string;
  client_os?: string;
  pending?: boolean;
  created_at_onboarding?: boolean;
  synchronized_at?: string;
  last_refreshed_at?: string;
  oidc_session_id?: string;
}

/**
 * PUT /auth/register/:id: the stored client is replaced by the body, except the id, the flags
 * `allow_login_scope` / `flagship` / `certified_from_store` and the metadata; the secret is kept
 * (absent) or rotated (the current one sent).
 */
export async function updateClient(ctx: RequestContext, clientId: string, body: ClientUpdateInput): Promise<Record<string, unknown>> {
  const { services, instance, now } = ctx;
  const old = await registeredClient(ctx, clientId);
  if (await overRateLimit(services, instance, 'oauth-client', now)) throw negotiatedError(404, 'Not found');
  if (body.client_id !== old.id) throw registrationError('invalid_client_id', 'client_id is mandatory');
  const valid = await validateClientMetadata(services, instance, body, { checkRegistry: body.software_id !== old.softwareId });
  let clientSecret = old.clientSecret;
  if (body.client_secret) {
    if (body.client_secret !== old.clientSecret) throw registrationError('invalid_client_secret', 'client_secret is invalid');
    clientSecret = newClientSecret();
  }
  const oldCozyMetadata = (old.metadata.cozyMetadata as Record<string, unknown> | undefined) ?? { doctypeVersion: '1', metadataVersion: 1 };
  const patch: OAuthClientPatch = {
    clientName: valid.clientName,
    softwareId: valid.softwareId,
    clientKind: str(body.client_kind) ?? null,
    pending: body.pending === true,
    createdAtOnboarding: body.created_at_onboarding === true,
    notificationPlatform: valid.notificationPlatform,
    notificationDeviceToken: str(body.notification_device_token) ?? null,
    synchronizedAt: parseDate(body.synchronized_at),
    lastRefreshedAt: parseDate(body.last_refreshed_at),
    oidcSessionId: str(body.oidc_session_id) ?? null,
    clientSecret,
    metadata: {
      ...registeredMetadata(body, valid.redirectUris),
      cozyMetadata: { ...oldCozyMetadata, updatedAt: new Date(now).toISOString() },
    },
  };
  let updated: OAuthClient | null;
  try {
    updated = await updateOAuthClient(services.db, instance.id, old.id, patch, { expectedRev: old.rev, now });
  } catch (err) {
    if (err instanceof ConflictError) throw plainError(409, 'conflict');
    ctx.logger.error({ err }, 'OAuth client update failed');
    throw plainError(500, 'internal_server_error');
  }
  if (!updated) throw clientNotFound();
  return oauthClientJson(updated);
}

/**
 * DELETE /auth/register/:id: idempotent (unknown client → nothing, before the token), ends the
 * bound OIDC session (best effort) and records the date on the instance.
 */
export async function deleteClient(ctx: RequestContext, clientId: string): Promise<void> {
  const { services, instance, now } = ctx;
  const client = await getOAuthClient(services.db, instance.id, clientId);
  if (!client) return;
  await ctx.auth.requireRegistrationToken(clientId);
  if (client.oidcSessionId && instance.context) await endOidcSession(ctx, client.oidcSessionId);
  try {
    await updateInstance(services.db, instance.id, { lastActivityFromDeletedOauthClients: now }, now);
    await deleteOAuthClient(services.db, instance.id, clientId);
  } catch (err) {
    ctx.logger.error({ err }, 'OAuth client deletion failed');
    throw plainError(500, 'internal_server_error');
  }
}

async function endOidcSession(ctx: RequestContext, sessionId: string): Promise<void> {
  const endpoint = oidcConfig(ctx.services.config, ctx.instance.context)?.endSessionEndpoint;
  if (!endpoint) return;
  try {
    const url = new URL(endpoint);
    url.searchParams.set('sid', sessionId);
    await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    ctx.logger.warn({ reason: (err as Error).message }, 'the OIDC end_session_endpoint call failed');
  }
}

// --- Registries (linked webapps) ------------------------------------------------------------

export interface RegistryVersion {
  version: string | null;
  manifest: Record<string, unknown>;
}

/** The latest stable version of a webapp in the instance registries (in order), or null. */
export async function latestStableVersion(services: Services, instance: Instance, slug: string): Promise<RegistryVersion | null> {
  for (const base of registriesFor(services.config, instance.context)) {
    try {
      const url = new URL(`registry/${encodeURIComponent(slug)}/stable/latest`, base.endsWith('/') ? base : `${base}/`);
      const res = await fetch(url, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) continue;
      const body = (await res.json()) as { version?: unknown; manifest?: unknown };
      const manifest = body.manifest && typeof body.manifest === 'object' ? (body.manifest as Record<string, unknown>) : {};
      return { version: typeof body.version === 'string' ? body.version : null, manifest };
    } catch {
      continue;
    }
  }
  return null;
}

/** The scope of a linked webapp: the permissions of its manifest, serialized. */
function manifestScope(manifest: Record<string, unknown>): string {
  return serializeScope(permissionsFromManifest(manifest.permissions ?? {}));
}

// --- Authorization --------------------------------------------------------------------------

/** The parameters of GET and POST /auth/authorize, as strings (missing → undefined). */
export interface AuthorizeParams {
  client_id?: string;
  redirect_uri?: string;
  state?: string;
  response_type?: string;
  scope?: string;
  code_challenge?: string;
  code_challenge_method?: string;
}

export interface CheckedAuthorize {
  client: OAuthClient;
  clientId: string;
  redirectUri: string;
  state: string;
  /** The trimmed scope (for a linked webapp: its manifest permissions). */
  scope: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  /** Scope `*` for a client that is neither flagship nor covered by skip_certification. */
  needsFlagshipConfirmation: boolean;
  linkedSlug: string | null;
  linkedVersion: RegistryVersion | null;
}

/** Reference `checkAuthorizeParams` (§3.12 steps 2 and 3): each failure is the 400 HTML error page. */
export async function checkAuthorizeParams(services: Services, instance: Instance, p: AuthorizeParams): Promise<CheckedAuthorize> {
  const state = p.state ?? '';
  const clientId = p.client_id ?? '';
  const redirectUri = p.redirect_uri ?? '';
  const challenge = p.code_challenge ?? '';
  const method = p.code_challenge_method ?? '';
  if (!state) throw htmlError(400, 'The state parameter is missing');
  if (!clientId) throw htmlError(400, 'The client_id parameter is missing');
  if (!redirectUri) throw htmlError(400, 'The redirect_uri parameter is missing');
  if (p.response_type !== 'code') throw htmlError(400, 'Invalid response type: it must be code');
  if (challenge && method !== 'S256') throw htmlError(400, 'Invalid code challenge method: it must be S256');
  if (method === 'S256' && !challenge) throw htmlError(400, 'No challenge code');
  const client = await getOAuthClient(services.db, instance.id, clientId);
  if (!client) throw htmlError(400, 'The client must be registered');
  const registered = Array.isArray(client.metadata.redirect_uris) ? client.metadata.redirect_uris : [];
  if (!registered.includes(redirectUri)) throw htmlError(400, 'The redirect_uri parameter does not match the registered ones');
  let scope = (p.scope ?? '').trim();
  const base = { client, clientId, redirectUri, state, codeChallenge: challenge, codeChallengeMethod: method };
  if (scope === '*') {
    if (!challenge) throw htmlError(400, 'No challenge code');
    const needsFlagshipConfirmation = !client.flagship && !skipCertification(services.config, instance.context);
    return { ...base, scope, needsFlagshipConfirmation, linkedSlug: null, linkedVersion: null };
  }
  const slug = linkedAppSlug(client);
  let linkedVersion: RegistryVersion | null = null;
  if (slug) {
    linkedVersion = await latestStableVersion(services, instance, slug);
    if (!linkedVersion) throw htmlError(400, 'The application could not be found on the registries');
    try {
      scope = manifestScope(linkedVersion.manifest);
    } catch {
      throw htmlError(400, 'The permissions of the application are invalid');
    }
  }
  if (!scope) throw htmlError(400, 'The scope parameter is missing');
  if (scope === 'login' && !client.allowLoginScope) throw htmlError(400, 'The login scope is not allowed for this client');
  return { ...base, scope, needsFlagshipConfirmation: false, linkedSlug: slug, linkedVersion };
}

/** `<redirect_uri>?…&access_code=<c>&code=<c>&state=<s>#` (query keys sorted, as the reference). */
export function authorizeRedirect(redirectUri: string, code: string, state: string, extra: Record<string, string> = {}): string {
  const url = new URL(redirectUri);
  const params = new URLSearchParams(url.search);
  params.set('access_code', code);
  params.set('code', code);
  params.set('state', state);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  params.sort();
  url.search = params.toString();
  url.hash = '';
  return `${url.href}#`;
}

/**
 * Creates the access code of an authorization and clears the client's `pending` flag (and sets its
 * `client_os`, when given). Answers the code.
 */
export async function grantAccessCode(
  services: Services,
  instance: Instance,
  client: OAuthClient,
  input: { scope: string; codeChallenge?: string | null; clientOs?: string | null; now: number },
): Promise<AccessCode> {
  const code = await createAccessCode(services.db, {
    instanceId: instance.id,
    clientId: client.id,
    scope: input.scope,
    codeChallenge: input.codeChallenge || null,
    now: input.now,
  });
  const patch: OAuthClientPatch = {};
  if (client.pending) patch.pending = false;
  if (input.clientOs && client.metadata.client_os !== input.clientOs) patch.metadata = { ...client.metadata, client_os: input.clientOs };
  if (Object.keys(patch).length) await updateOAuthClient(services.db, instance.id, client.id, patch, { now: input.now });
  return code;
}

/**
 * GET /auth/authorize step 1: a `session_code` in the query is always consumed; when it is valid
 * and the browser is not logged in, a short-run session is opened. Answers the Set-Cookie header
 * of that session, or null.
 */
export async function useSessionCode(ctx: RequestContext, code: string): Promise<string | null> {
  const { services, instance, now } = ctx;
  const consumed = await consumeCode(services.db, instance.id, 'session_code', code, now);
  if (!consumed || (await ctx.auth.session())) return null;
  const opened = await openSession(services.db, services.config, instance, {
    duration: SessionDuration.ShortRun,
    method: 'session_code',
    req: ctx.req,
    now,
  });
  return opened.cookie;
}

/** The confirm-flagship token and code: the code is mailed (template confirm_flagship), the token goes in the page. */
export async function sendConfirmFlagshipCode(ctx: RequestContext, client: OAuthClient): Promise<{ token: string; publicName: string }> {
  const { services, instance, now } = ctx;
  if (await overRateLimit(services, instance, 'confirm-flagship', now)) throw htmlError(429, 'Too many requests, please retry later');
  const { token, code } = createConfirmFlagship(sessionSecretKey(instance.sessionSecret), client.id, now);
  const publicName = await publicNameOf(services, instance);
  await services.sendMail({ instance, template: 'confirm_flagship', values: { Code: code, PublicName: publicName }, mode: 'noreply' });
  return { token, publicName };
}

/** The limit of `cozy.oauthclients.max` when the connected clients reach it (reference §3.12 step 7), else null. */
export async function clientsLimitReached(ctx: RequestContext, client: OAuthClient): Promise<number | null> {
  if (client.flagship) return null;
  const { flags } = await computeFeatureFlags(ctx.services, ctx.instance, { now: ctx.now, logger: ctx.logger });
  const raw = flags[OAUTH_CLIENTS_MAX_FLAG];
  const limit = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(limit) || limit < 0) return null;
  const count = await countConnectedOAuthClients(ctx.services.db, ctx.instance.id, { cap: limit + 2 });
  return count >= limit ? limit : null;
}

/** Reference §3.12 step 8: the scope must parse, except `*` (already checked for flagship). */
export function checkScopeParses(scope: string): void {
  if (scope === '*' || scope === 'login') return;
  try {
    parseScope(scope);
  } catch {
    throw htmlError(400, 'Invalid scope');
  }
}

/** The operating system of a User-Agent, for `client_os` (null without a User-Agent). */
export function clientOsOf(req: Request): string | null {
  const ua = req.headers['user-agent'];
  return ua ? osOf(ua) : null;
}

/**
 * POST /auth/authorize for a linked webapp: the webapp is installed (in the background) when
 * missing, and the granted scope becomes `@io.cozy.apps/<slug>`.
 */
export function linkedAppGrant(ctx: RequestContext, checked: CheckedAuthorize): { scope: string; fallback: string | null } {
  const slug = checked.linkedSlug!;
  const { services, instance } = ctx;
  void (async () => {
    if (await getApp(services.db, instance.id, slug, 'webapp')) return;
    const manifest = checked.linkedVersion?.manifest ?? {};
    await installApp(services.db, {
      instanceId: instance.id,
      slug,
      type: 'webapp',
      name: typeof manifest.name === 'string' ? manifest.name : slug,
      editor: typeof manifest.editor === 'string' ? manifest.editor : null,
      version: checked.linkedVersion?.version ?? null,
      permissions: (manifest.permissions as Record<string, unknown> | undefined) ?? {},
      notifications: (manifest.notifications as Record<string, unknown> | undefined) ?? {},
    });
  })().catch((err: unknown) => {
    if (!(err instanceof ConflictError)) ctx.logger.error({ err, slug }, 'installing the linked webapp failed');
  });
  const isHttp = /^https?:\/\//i.test(checked.redirectUri);
  return { scope: `@io.cozy.apps/${slug}`, fallback: isHttp ? appUrl(services.config, instance.domain, slug) : null };
}

// --- Token endpoint -------------------------------------------------------------------------

export interface TokenRequest {
  grant_type?: string;
  client_id?: string;
  client_secret?: string;
  code?: string;
  code_verifier?: string;
  refresh_token?: string;
}

/** Polling for a linked webapp being installed (reference: every 3 s, 10 times). */
export const LINKED_APP_WAIT = { intervalMs: 3000, attempts: 10 };

async function waitForLinkedApp(services: Services, instance: Instance, slug: string): Promise<void> {
  for (let i = 0; ; i++) {
    if (await getApp(services.db, instance.id, slug, 'webapp')) return;
    if (i >= LINKED_APP_WAIT.attempts) break;
    await new Promise((r) => setTimeout(r, LINKED_APP_WAIT.intervalMs));
  }
  throw jsonApiError(500, `${slug} is not installed`, { title: 'Internal Server Error' });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** POST /auth/access_token (reference §3.14): every failure is a 400 with its exact message. */
export async function exchangeToken(ctx: RequestContext, form: TokenRequest): Promise<IssuedTokens> {
  const { services, instance, now } = ctx;
  const fail = (message: string) => plainError(400, message);
  for (const field of ['grant_type', 'client_id', 'client_secret'] as const) {
    if (!form[field]) throw fail(`the ${field} parameter is mandatory`);
  }
  const client = await getOAuthClient(services.db, instance.id, form.client_id!);
  if (!client) throw fail('the client must be registered');
  if (!sameSecret(form.client_secret!, client.clientSecret)) throw fail('invalid client_secret');
  const slug = linkedAppSlug(client);
  if (slug) await waitForLinkedApp(services, instance, slug);

  let tokens: IssuedTokens;
  switch (form.grant_type) {
    case 'authorization_code': {
      if (!form.code) throw fail('the code parameter is mandatory');
      const stored = await getAccessCode(services.db, instance.id, form.code);
      // The code must have been issued to this client (RFC 6749 §4.1.3; the reference does not check it).
      if (!stored || stored.clientId !== client.id) throw fail('invalid code');
      if (stored.codeChallenge && !verifyPkceS256(form.code_verifier, stored.codeChallenge)) throw fail('invalid code_verifier');
      if (!(await consumeAccessCode(services.db, instance.id, form.code))) throw fail('invalid code');
      tokens = await issueTokens(services, instance, client, stored.scope, { withRefresh: true, now });
      break;
    }
    case 'refresh_token': {
      const issuers = [instance.domain, ...(instance.oldDomain ? [instance.oldDomain] : [])];
      const verified = form.refresh_token
        ? await verifyJwt(Buffer.from(instance.oauthSecret, 'base64'), form.refresh_token, { audience: 'refresh', issuers, now })
        : null;
      if (!verified?.ok || verified.claims.sub !== client.id) throw fail('invalid refresh token');
      const scope = slug ? `@io.cozy.apps/${slug}` : (verified.claims.scope ?? '');
      // A token issued under the previous domain is replaced; otherwise the client keeps its own.
      tokens = await issueTokens(services, instance, client, scope, { withRefresh: verified.claims.iss !== instance.domain, now });
      break;
    }
    default:
      throw fail('invalid grant type');
  }
  await updateOAuthClient(services.db, instance.id, client.id, { lastRefreshedAt: now }, { now });
  return tokens;
}
