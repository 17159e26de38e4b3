// The instance settings and the routes around them (reference §2.1, §2.2, §2.11, §2.12): the
// settings document overlaid with the instance's own values, its update with revisions, the
// authentication mode, the terms of service, the warnings, the context and the usage counters.
import { contextConfig, instanceBaseUrl, oidcConfig, type HearthConfig } from '../config/config.js';
import { canonicalJson, withTransaction } from '../db/util.js';
import type { Permission } from '../http/auth.js';
import { jsonApiError, type JsonApiErrorObject } from '../http/errors.js';
import type { Logger } from '../log.js';
import { ConflictError } from '../repositories/errors.js';
import { AUTH_MODES, updateInstance, type AuthMode, type Instance, type InstancePatch } from '../repositories/instances.js';
import { countConnectedOAuthClients } from '../repositories/oauth-clients.js';
import { getSettings, putSettings, updateSettings, type SettingsDocument } from '../repositories/settings.js';
import { activationCode, sessionSecretKey, verifyActivationCode } from '../security/index.js';
import type { Services } from '../services.js';
import { computeFeatureFlags } from './flags.js';
import { managerTosPage, managerUrlOf, pushInstanceToManager, signTosAtManager } from './manager.js';

export const SETTINGS_INSTANCE_ID = 'io.cozy.settings.instance';

const REV_PATTERN = /^[0-9]+-[0-9a-f]+$/;

const str = (v: string | null | undefined) => v ?? '';

/** The first label of the domain, without the port: the public name when none is set. */
export function defaultPublicName(domain: string): string {
  return domain.replace(/:\d+$/, '').split('.')[0] ?? domain;
}

/**
 * The attributes of the settings resource: the settings document overlaid with the values kept on
 * the instance. `forGet` adds what only GET shows (password_defined, sponsorships) and replaces a
 * missing or absolute default_redirection by the context default.
 */
export function settingsAttributes(config: HearthConfig, instance: Instance, doc: SettingsDocument, forGet: boolean): Record<string, unknown> {
  const attrs: Record<string, unknown> = { ...doc };
  if (typeof attrs.public_name !== 'string' || attrs.public_name === '') attrs.public_name = defaultPublicName(instance.domain);
  attrs.locale = instance.locale;
  attrs.onboarding_finished = instance.onboardingFinished;
  if (forGet && instance.passwordDefined !== null) attrs.password_defined = instance.passwordDefined;
  else delete attrs.password_defined;
  attrs.auto_update = !instance.noAutoUpdate;
  attrs.auth_mode = instance.authMode;
  attrs.tos = str(instance.tos);
  attrs.tos_latest = str(instance.tosLatest);
  attrs.uuid = str(instance.uuid);
  attrs.oidc_id = str(instance.oidcId);
  attrs.org_domain = str(instance.orgDomain);
  attrs.org_id = str(instance.orgId);
  const logoutUrl = oidcConfig(config, instance.context)?.logoutUrl;
  if (logoutUrl) attrs.oidc_logout_url = logoutUrl;
  else delete attrs.oidc_logout_url;
  attrs.context = instance.context || 'default';
  delete attrs.sponsorships;
  delete attrs.legal_notice_url;
  if (forGet) {
    if (instance.sponsorships.length > 0) attrs.sponsorships = instance.sponsorships;
    const redirection = attrs.default_redirection;
    if (typeof redirection !== 'string' || redirection === '' || redirection.startsWith('http')) {
      attrs.default_redirection = contextConfig(config, instance.context).defaultRedirection ?? 'home/';
    }
  }
  return attrs;
}

export interface SettingsView {
  attributes: Record<string, unknown>;
  rev: string;
}

/** GET /settings/instance. A missing settings document is the database's 404 (`not_found`, `missing`). */
export async function readInstanceSettings(services: Services, instance: Instance): Promise<SettingsView> {
  const stored = await getSettings(services.db, instance.id);
  if (!stored) throw jsonApiError(404, 'missing', { title: 'not_found' });
  return { attributes: settingsAttributes(services.config, instance, stored.doc, true), rev: stored.rev };
}

/** Keys a non-CLI token may not touch (dropped from the body). */
const CLI_ONLY_KEYS = ['auth_mode', 'tos', 'tos_latest', 'uuid', 'context', 'sponsorships', 'oidc_id'] as const;
/** Values computed from the instance: shown by GET, never stored in the settings document. */
const COMPUTED_KEYS = ['password_defined', 'org_domain', 'org_id', 'oidc_logout_url', 'legal_notice_url'] as const;

function parseAuthMode(value: unknown): AuthMode {
  if (typeof value === 'string' && (AUTH_MODES as readonly string[]).includes(value)) return value as AuthMode;
  throw jsonApiError(400, 'Unknown authentication mode', { parameter: 'auth_mode' });
}

/**
 * PUT /settings/instance: the attributes replace the settings document, except the instance-level
 * keys (moved to the instance) and the keys the token may not change. The document is only written
 * when it changes, with the revision the client read.
 */
export async function writeInstanceSettings(
  services: Services,
  instance: Instance,
  perm: Permission,
  input: { attributes: Record<string, unknown>; rev: string | undefined; now: number; logger: Logger },
): Promise<SettingsView> {
  const { config } = services;
  const ctx = contextConfig(config, instance.context);
  const stored = await getSettings(services.db, instance.id);
  const storedDoc = stored?.doc ?? {};
  const doc: Record<string, unknown> = { ...input.attributes };
  const patch: InstancePatch = {};
  const isCli = perm.kind === 'cli';

  if (isCli) {
    const strOrNull = (k: string) => {
      const v = doc[k];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw jsonApiError(400, `${k} must be a string`, { parameter: k });
      return v === '' ? null : v;
    };
    if (doc.auth_mode !== undefined) patch.authMode = parseAuthMode(doc.auth_mode);
    const context = strOrNull('context');
    if (context !== undefined) patch.context = context ?? 'default';
    const uuid = strOrNull('uuid');
    if (uuid !== undefined) patch.uuid = uuid;
    const oidcId = strOrNull('oidc_id');
    if (oidcId !== undefined) patch.oidcId = oidcId;
    const tos = strOrNull('tos');
    if (tos !== undefined) patch.tos = tos;
    const tosLatest = strOrNull('tos_latest');
    if (tosLatest !== undefined) patch.tosLatest = tosLatest;
    for (const k of ['auth_mode', 'context', 'uuid', 'oidc_id', 'tos', 'tos_latest']) delete doc[k];
  } else {
    for (const k of CLI_ONLY_KEYS) delete doc[k];
    const kept = ['email', 'pending_email', ...(ctx.signupUrl ? ['phone', 'recovery_email'] : [])];
    for (const k of kept) {
      if (Object.prototype.hasOwnProperty.call(storedDoc, k)) doc[k] = storedDoc[k];
      else delete doc[k];
    }
  }
  if (typeof doc.locale === 'string') {
    if (doc.locale !== instance.locale) patch.locale = doc.locale;
  }
  delete doc.locale;
  if (typeof doc.onboarding_finished === 'boolean') {
    if (doc.onboarding_finished !== instance.onboardingFinished) patch.onboardingFinished = doc.onboarding_finished;
  }
  delete doc.onboarding_finished;
  if (doc.auto_update === 'true' || doc.auto_update === 'false') {
    const noAutoUpdate = doc.auto_update === 'false';
    if (noAutoUpdate !== instance.noAutoUpdate) patch.noAutoUpdate = noAutoUpdate;
  }
  delete doc.auto_update;
  for (const k of COMPUTED_KEYS) delete doc[k];

  const changed = !stored || canonicalJson(doc) !== canonicalJson(storedDoc);
  let rev: string;
  let updated = instance;
  const sentRev = input.rev !== undefined && input.rev !== '' ? input.rev : undefined;
  if (changed && stored && sentRev === undefined) throw jsonApiError(400, 'rev is missing');
  try {
    rev = await withTransaction(services.db, async (tx) => {
      let newRev = sentRev !== undefined && REV_PATTERN.test(sentRev) ? sentRev : (stored?.rev ?? '');
      if (changed) newRev = (await putSettings(tx, instance.id, doc, stored ? sentRev! : (sentRev ?? null))).rev;
      if (Object.keys(patch).length > 0) updated = (await updateInstance(tx, instance.id, patch, input.now)) ?? instance;
      return newRev;
    });
  } catch (err) {
    if (err instanceof ConflictError) throw jsonApiError(409, 'Document update conflict.', { title: 'conflict' });
    throw err;
  }

  const savedDoc = changed ? doc : storedDoc;
  if (changed && (savedDoc.email !== storedDoc.email || savedDoc.public_name !== storedDoc.public_name)) {
    // Best effort, in the background: the answer does not wait for the manager.
    pushInstanceToManager(config, updated, {
      email: savedDoc.email,
      public_name: savedDoc.public_name,
      locale: updated.locale,
      url: `${instanceBaseUrl(config, updated.domain)}/`,
    }).catch((err: Error) => input.logger.warn({ reason: err.message }, 'the settings change could not be pushed to the manager'));
  }
  return { attributes: settingsAttributes(config, updated, savedDoc, false), rev };
}

/**
 * PUT /settings/instance/auth_mode. `two_factor_mail` needs the activation code sent by mail to the
 * current email address: without a code, the code is mailed and nothing changes.
 */
export async function changeAuthMode(services: Services, instance: Instance, mode: AuthMode, code: string | undefined, now: number): Promise<void> {
  if (instance.authMode === mode) return;
  if (mode === 'two_factor_mail') {
    const settings = await getSettings(services.db, instance.id);
    const email = typeof settings?.doc.email === 'string' ? settings.doc.email : '';
    const key = sessionSecretKey(instance.sessionSecret);
    if (code === undefined || code === '') {
      await services.sendMail({
        instance,
        template: 'two_factor_mail_confirmation',
        values: { TwoFactorActivationPasscode: activationCode(key, email, now), PublicName: publicNameOf(instance, settings?.doc), BaseURL: instanceBaseUrl(services.config, instance.domain) },
      });
      return;
    }
    if (!email || !verifyActivationCode(key, email, code, now)) {
      throw jsonApiError(422, 'Invalid activation code', { title: 'Invalid Parameter', parameter: 'two_factor_activation_code' });
    }
  }
  await updateInstance(services.db, instance.id, { authMode: mode }, now);
}

function publicNameOf(instance: Instance, doc: SettingsDocument | undefined): string {
  const name = doc?.public_name;
  return typeof name === 'string' && name ? name : defaultPublicName(instance.domain);
}

/** The version part of a terms-of-service version (`1.2.0-20250101` → `1.2.0`). */
export function tosVersion(v: string): string {
  return v.split('-')[0] ?? v;
}

/** The date part of a terms-of-service version (`1.2.0-20250101` → 2025-01-01 UTC), or null. */
function tosDate(v: string): number | null {
  const m = /^[^-]*-(\d{4})(\d{2})(\d{2})$/.exec(v);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(t) ? null : t;
}

/** The TOS warning shows from 15 days before the date of the latest version. */
export const TOS_WARNING_BEFORE_MS = 15 * 24 * 3600 * 1000;

/**
 * Whether the owner must sign new terms: a latest version is set, its version part differs from the
 * signed one, and (when the latest version carries a `-YYYYMMDD` date) that date is at most 15 days
 * away or past.
 */
export function tosToSign(instance: Instance, now: number): boolean {
  const latest = instance.tosLatest;
  if (!latest) return false;
  if (instance.tos && tosVersion(instance.tos) === tosVersion(latest)) return false;
  const date = tosDate(latest);
  return date === null || now >= date - TOS_WARNING_BEFORE_MS;
}

/**
 * PUT /settings/instance/sign_tos. With a manager (and an instance it knows), the manager is told
 * the version; in every case the instance records the latest terms as signed.
 */
export async function signTos(services: Services, instance: Instance, now: number): Promise<void> {
  const latest = instance.tosLatest;
  if (!latest) return;
  const base = managerUrlOf(services.config, instance);
  if (base && instance.uuid) await signTosAtManager(services.config, instance, base, instance.uuid, tosVersion(latest));
  await updateInstance(services.db, instance.id, { tos: latest }, now);
}

/** DELETE /settings/instance/moved_from. */
export async function clearMovedFrom(services: Services, instance: Instance): Promise<void> {
  const stored = await getSettings(services.db, instance.id);
  if (!stored || !Object.prototype.hasOwnProperty.call(stored.doc, 'moved_from')) return;
  await updateSettings(services.db, instance.id, (doc) => {
    delete doc.moved_from;
    return doc;
  });
}

/** GET /settings/warnings: the moved warning, then the terms-of-service one. */
export async function warningsOf(services: Services, instance: Instance, now: number): Promise<JsonApiErrorObject[]> {
  const warnings: JsonApiErrorObject[] = [];
  const stored = await getSettings(services.db, instance.id);
  const movedTo = stored?.doc.moved_to;
  if (typeof movedTo === 'string' && movedTo !== '') {
    warnings.push({
      status: '410',
      title: 'Cozy has been moved',
      code: 'moved',
      detail: 'The Cozy has been moved to a new address',
      source: {},
      links: { related: /^[a-z][a-z0-9+.-]*:\/\//i.test(movedTo) ? movedTo : `https://${movedTo}` },
    });
  }
  if (tosToSign(instance, now)) {
    const page = managerTosPage(services.config, instance);
    warnings.push({
      status: '402',
      title: 'TOS Updated',
      code: 'tos-updated',
      detail: 'Terms of services have been updated',
      source: {},
      ...(page ? { links: { self: page } } : {}),
    });
  }
  return warnings;
}

/** GET /settings/context: the context configuration, sponsors' home logos merged, plus manager_url and antivirus. */
export function contextAttributes(config: HearthConfig, instance: Instance): Record<string, unknown> {
  const ctx = contextConfig(config, instance.context);
  const attrs = structuredClone({ ...ctx.raw }) as Record<string, unknown>;
  if (instance.sponsorships.length > 0) {
    const logos = isPlainObject(attrs.logos) ? attrs.logos : {};
    const home = isPlainObject(logos.home) ? logos.home : {};
    let merged = false;
    for (const sponsor of instance.sponsorships) {
      const sponsorLogos = config.contexts[sponsor]?.logos;
      const sponsorHome = isPlainObject(sponsorLogos) ? sponsorLogos.home : undefined;
      if (!isPlainObject(sponsorHome)) continue;
      for (const [k, v] of Object.entries(structuredClone(sponsorHome))) {
        const current = home[k];
        if (Array.isArray(current) && Array.isArray(v)) home[k] = [...(current as unknown[]), ...(v as unknown[])];
        else if (current === undefined) home[k] = v;
        merged = true;
      }
    }
    if (merged) attrs.logos = { ...logos, home };
  }
  const manager = managerUrlOf(config, instance);
  if (manager) attrs.manager_url = manager;
  else delete attrs.manager_url;
  attrs.antivirus = ctx.antivirus ? structuredClone({ ...ctx.antivirus }) : { enabled: false };
  return attrs;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** GET /settings/disk-usage: sizes as strings; no quota (null or 0) → no `quota`. */
export function diskUsageOf(instance: Instance, includeTrash: boolean) {
  const files = instance.diskFilesBytes;
  const versions = instance.diskVersionsBytes;
  return {
    used: String(files + versions),
    ...(instance.diskQuota ? { quota: String(instance.diskQuota) } : {}),
    files: String(files),
    versions: String(versions),
    ...(includeTrash ? { trash: String(instance.diskTrashBytes) } : {}),
  };
}

export const CLIENTS_USAGE_CAP = 100;

/** GET /settings/clients-usage: the connected clients against the flag `cozy.oauthclients.max`. */
export async function clientsUsageOf(services: Services, instance: Instance, opts: { now: number; logger: Logger }) {
  const { flags } = await computeFeatureFlags(services, instance, opts);
  const max = flags['cozy.oauthclients.max'];
  const limit = typeof max === 'number' && Number.isFinite(max) && max >= 0 ? Math.min(Math.floor(max), Number.MAX_SAFE_INTEGER) : undefined;
  const count = await countConnectedOAuthClients(services.db, instance.id, { cap: CLIENTS_USAGE_CAP });
  return {
    ...(limit !== undefined ? { limit } : {}),
    count,
    limitReached: limit !== undefined && count >= limit,
    limitExceeded: limit !== undefined && count > limit,
  };
}
