// Creating and describing instances: used by the admin API, the `hearth` CLI and the demo instance.
import type { Services } from '../services.js';
import { withTransaction } from '../db/util.js';
import { plainError } from '../http/errors.js';
import { ConflictError } from '../repositories/errors.js';
import {
  createInstance as insertInstance,
  getInstanceByDomain,
  updateInstance as patchInstance,
  type AuthMode,
  type Instance,
  type InstancePatch,
} from '../repositories/instances.js';
import { resetRateLimit } from '../repositories/rate-limits.js';
import { getSettings, putSettings, updateSettings } from '../repositories/settings.js';
import { DEFAULT_ITERATIONS, randomHex } from '../security/index.js';
import { preparePassphrase, storePassphrase } from './passphrase.js';

export interface CreateInstanceInput {
  domain: string;
  email?: string | null;
  public_name?: string | null;
  locale?: string;
  timezone?: string | null;
  context?: string;
  /** Clear text: the server derives the client-side hash with `kdf_iterations`. */
  passphrase?: string;
  kdf_iterations?: number;
  auth_mode?: AuthMode;
  magic_link?: boolean;
  oidc_id?: string | null;
  franceconnect_id?: string | null;
  disk_quota?: number | null;
  feature_flags?: Record<string, unknown>;
  feature_sets?: string[];
  sponsorships?: string[];
  tos_latest?: string | null;
  uuid?: string | null;
}

export class InstanceExistsError extends Error {
  constructor(readonly domain: string) {
    super(`an instance already exists for ${domain}`);
  }
}

/** Creates an instance with its settings document; with a passphrase, it is onboarded. */
export async function createInstance(services: Services, input: CreateInstanceInput): Promise<Instance> {
  const domain = input.domain.toLowerCase();
  if (await getInstanceByDomain(services.db, domain)) throw new InstanceExistsError(domain);
  const iterations = input.kdf_iterations ?? DEFAULT_ITERATIONS;
  // The expensive hashing happens before the transaction, which then only writes.
  const prepared = input.passphrase
    ? await preparePassphrase({ domain, oldDomain: null, vaultPublicKey: null, vaultPrivateKey: null }, { passphrase: input.passphrase, iterations, clearText: true })
    : null;
  try {
    return await withTransaction(services.db, async (tx) => {
      let instance = await insertInstance(tx, {
        domain,
        locale: input.locale ?? 'en',
        context: input.context ?? 'default',
        authMode: input.auth_mode ?? 'basic',
        magicLink: input.magic_link ?? false,
        oidcId: input.oidc_id ?? null,
        franceconnectId: input.franceconnect_id ?? null,
        diskQuota: input.disk_quota ?? null,
        featureFlags: input.feature_flags ?? {},
        featureSets: input.feature_sets ?? [],
        sponsorships: input.sponsorships ?? [],
        tosLatest: input.tos_latest ?? null,
        uuid: input.uuid ?? null,
        passwordDefined: input.passphrase ? true : false,
      });
      const doc: Record<string, unknown> = {};
      if (input.email) doc.email = input.email;
      if (input.public_name) doc.public_name = input.public_name;
      if (input.timezone) doc.tz = input.timezone;
      await putSettings(tx, instance.id, doc, null);
      if (prepared) {
        instance = await storePassphrase(tx, instance, prepared, { registerToken: null, onboardingFinished: true });
      }
      return instance;
    });
  } catch (err) {
    if (err instanceof ConflictError) throw new InstanceExistsError(domain);
    throw err;
  }
}

/** The settings attributes the admin view shows. */
export async function instanceView(services: Services, instance: Instance) {
  const settings = await getSettings(services.db, instance.id);
  const doc = settings?.doc ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    domain: instance.domain,
    email: str(doc.email),
    public_name: str(doc.public_name) || defaultPublicName(instance.domain),
    locale: instance.locale,
    timezone: str(doc.tz ?? doc.timezone),
    context: instance.context ?? 'default',
    kdf_iterations: instance.passphraseKdfIterations,
    auth_mode: instance.authMode,
    magic_link: instance.magicLink,
    oidc_id: instance.oidcId,
    franceconnect_id: instance.franceconnectId,
    disk_quota: instance.diskQuota,
    feature_flags: instance.featureFlags,
    feature_sets: instance.featureSets,
    sponsorships: instance.sponsorships,
    tos: instance.tos,
    tos_latest: instance.tosLatest,
    uuid: instance.uuid,
    onboarding_finished: instance.onboardingFinished,
    password_defined: instance.passwordDefined,
    blocked: instance.blocked,
    blocking_reason: instance.blocked ? blockingReasonOf(instance) : null,
    old_domain: instance.oldDomain,
    created_at: new Date(instance.createdAt).toISOString(),
    ...(instance.registerToken && !instance.onboardingFinished ? { register_token: instance.registerToken } : {}),
  };
}

/** The public name shown when none was given: the first label of the domain. */
export function defaultPublicName(domain: string): string {
  return domain.replace(/:\d+$/, '').split('.')[0] ?? domain;
}

/** A 400 of the admin API naming the faulty body field. */
function invalid(field: string, message: string) {
  return plainError(400, message, { field });
}

/** The checks of `POST /instances` that span several fields (each field's own schema is checked before). */
export function checkCreateInstanceInput(input: CreateInstanceInput): void {
  if (input.kdf_iterations !== undefined && !input.passphrase) throw invalid('kdf_iterations', 'kdf_iterations requires passphrase');
  if (input.auth_mode === 'two_factor_mail' && !input.email) throw invalid('auth_mode', 'two_factor_mail requires an email');
}

export const BLOCKING_REASONS = ['LOGIN_FAILED', 'PAYMENT_FAILED', 'IMPORTING', 'MOVING', 'UNKNOWN'] as const;
export type BlockingReason = (typeof BLOCKING_REASONS)[number];

/** The body of `PATCH /instances/{domain}`: absent keys are left alone, `null` clears. */
export interface UpdateInstanceInput {
  email?: string | null;
  public_name?: string;
  locale?: string;
  timezone?: string | null;
  context?: string;
  passphrase?: string;
  kdf_iterations?: number;
  auth_mode?: 'basic' | 'two_factor_mail';
  magic_link?: boolean;
  oidc_id?: string | null;
  franceconnect_id?: string | null;
  disk_quota?: number | null;
  feature_flags?: Record<string, unknown>;
  feature_sets?: string[];
  sponsorships?: string[];
  tos_latest?: string | null;
  tos?: string | null;
  uuid?: string | null;
  blocked?: boolean;
  blocking_reason?: BlockingReason | null;
  password_defined?: boolean | null;
  onboarding_finished?: boolean;
  old_domain?: string | null;
}

/**
 * Changes an instance (admin API, `hearth instances modify`). Everything is checked before anything
 * is written; the passphrase is derived before the transaction, which then writes the instance
 * row and the settings document together. Unblocking resets the `auth` login-failure counter.
 */
export async function updateInstance(services: Services, instance: Instance, input: UpdateInstanceInput): Promise<Instance> {
  const has = <K extends keyof UpdateInstanceInput>(k: K) => input[k] !== undefined;
  const settings = await getSettings(services.db, instance.id);
  const storedEmail = typeof settings?.doc.email === 'string' && settings.doc.email ? settings.doc.email : null;

  // Checks across fields, against the state the instance ends up in.
  if (has('kdf_iterations') && !has('passphrase')) throw invalid('kdf_iterations', 'kdf_iterations requires passphrase');
  const finalEmail = has('email') ? input.email : storedEmail;
  const finalAuthMode = input.auth_mode ?? instance.authMode;
  if (finalAuthMode === 'two_factor_mail' && !finalEmail) {
    throw invalid(has('auth_mode') ? 'auth_mode' : 'email', 'two_factor_mail requires an email');
  }
  const finalBlocked = input.blocked ?? instance.blocked;
  if (input.blocking_reason && !finalBlocked) throw invalid('blocking_reason', 'blocking_reason requires blocked');
  const finalOldDomain = has('old_domain') ? (input.old_domain ?? null) : instance.oldDomain;
  if (input.old_domain) {
    if (input.old_domain === instance.domain) throw invalid('old_domain', 'old_domain must differ from the domain');
    const other = await getInstanceByDomain(services.db, input.old_domain);
    if (other && !other.viaOldDomain && other.instance.id !== instance.id) {
      throw invalid('old_domain', 'old_domain is the domain of another instance');
    }
  }

  // The expensive hashing happens before the transaction, with the salt domain it will have.
  const prepared = input.passphrase
    ? await preparePassphrase(
        { domain: instance.domain, oldDomain: finalOldDomain, vaultPublicKey: instance.vaultPublicKey, vaultPrivateKey: instance.vaultPrivateKey },
        { passphrase: input.passphrase, iterations: input.kdf_iterations ?? DEFAULT_ITERATIONS, clearText: true },
      )
    : null;

  const patch: InstancePatch = { ...(prepared?.patch ?? {}) };
  if (has('locale')) patch.locale = input.locale;
  if (has('context')) patch.context = input.context;
  if (has('auth_mode')) patch.authMode = input.auth_mode;
  if (has('magic_link')) patch.magicLink = input.magic_link;
  if (has('oidc_id')) patch.oidcId = input.oidc_id;
  if (has('franceconnect_id')) patch.franceconnectId = input.franceconnect_id;
  if (has('disk_quota')) patch.diskQuota = input.disk_quota;
  if (has('feature_flags')) patch.featureFlags = input.feature_flags;
  if (has('feature_sets')) patch.featureSets = input.feature_sets;
  if (has('sponsorships')) patch.sponsorships = input.sponsorships;
  if (has('tos_latest')) patch.tosLatest = input.tos_latest;
  if (has('tos')) patch.tos = input.tos;
  if (has('uuid')) patch.uuid = input.uuid;
  if (has('old_domain')) patch.oldDomain = input.old_domain;
  if (has('password_defined')) patch.passwordDefined = input.password_defined;

  // Onboarding: a passphrase on an instance not onboarded finishes it, unless the body decides.
  let onboarded = instance.onboardingFinished;
  if (has('onboarding_finished')) onboarded = input.onboarding_finished!;
  else if (prepared && !instance.onboardingFinished) onboarded = true;
  if (onboarded !== instance.onboardingFinished) patch.onboardingFinished = onboarded;
  if (onboarded && instance.registerToken) patch.registerToken = null;
  // An instance that is not onboarded always has a register token for its onboarding.
  if (!onboarded && !instance.registerToken) patch.registerToken = randomHex(16);

  // Blocking.
  const unblocking = input.blocked === false;
  if (input.blocked === true) {
    patch.blocked = true;
    patch.blockingReason = input.blocking_reason ?? 'UNKNOWN';
  } else if (unblocking) {
    patch.blocked = false;
    patch.blockingReason = null;
  } else if (has('blocking_reason')) {
    patch.blockingReason = input.blocking_reason;
  }

  const settingsChange = has('email') || has('public_name') || has('timezone');
  return withTransaction(services.db, async (tx) => {
    let updated = instance;
    if (Object.keys(patch).length > 0) {
      const row = await patchInstance(tx, instance.id, patch, services.now());
      if (!row) throw plainError(404, 'instance not found');
      updated = row;
    }
    if (settingsChange) {
      await updateSettings(tx, instance.id, (doc) => {
        if (has('email')) {
          if (input.email) doc.email = input.email;
          else delete doc.email;
        }
        if (has('public_name')) doc.public_name = input.public_name;
        if (has('timezone')) {
          delete doc.timezone;
          if (input.timezone) doc.tz = input.timezone;
          else delete doc.tz;
        }
        return doc;
      });
    }
    if (unblocking) await resetRateLimit(tx, instance.id, 'auth');
    return updated;
  });
}

/** The blocking reason of a blocked instance, `UNKNOWN` when none (or an unknown one) is stored. */
export function blockingReasonOf(instance: Instance): BlockingReason {
  const reason = instance.blockingReason;
  return (BLOCKING_REASONS as readonly string[]).includes(reason ?? '') ? (reason as BlockingReason) : 'UNKNOWN';
}
