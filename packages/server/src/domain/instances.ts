// Creating and describing instances: used by the admin API, the `hearth` CLI and the demo instance.
import type { Services } from '../services.js';
import { withTransaction } from '../db/util.js';
import { ConflictError } from '../repositories/errors.js';
import { createInstance as insertInstance, getInstanceByDomain, type AuthMode, type Instance } from '../repositories/instances.js';
import { getSettings, putSettings } from '../repositories/settings.js';
import { DEFAULT_ITERATIONS } from '../security/index.js';
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
    public_name: str(doc.public_name),
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
    blocking_reason: instance.blocked ? (instance.blockingReason ?? 'UNKNOWN') : null,
    old_domain: instance.oldDomain,
    created_at: new Date(instance.createdAt).toISOString(),
    ...(instance.registerToken && !instance.onboardingFinished ? { register_token: instance.registerToken } : {}),
  };
}
