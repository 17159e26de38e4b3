// Instances: one row per Cozy instance (the `io.cozy.instances` document of reference §1.1).

import type { Selectable, Updateable } from 'kysely';
import type { InstancesTable } from '../db/schema.js';
import {
  fromBool,
  fromNullableBool,
  isUniqueViolation,
  newId,
  newUuidV7,
  parseJson,
  randomSecret,
  toBool,
  toNullableBool,
  withTransaction,
  type DbExecutor,
} from '../db/util.js';
import { ConflictError } from './errors.js';

export type AuthMode = 'basic' | 'two_factor_mail' | 'two_factor_oidc';
export const AUTH_MODES: readonly AuthMode[] = ['basic', 'two_factor_mail', 'two_factor_oidc'];

/** Lengths in bytes of the instance secrets (as in the Cozy stack). */
export const SESSION_SECRET_BYTES = 64;
export const OAUTH_SECRET_BYTES = 128;
export const CLI_SECRET_BYTES = 64;
export const DEFAULT_KDF_ITERATIONS = 650_000;

export interface Instance {
  id: string;
  domain: string;
  oldDomain: string | null;
  locale: string;
  context: string | null;
  uuid: string | null;
  oidcId: string | null;
  franceconnectId: string | null;
  authMode: AuthMode;
  magicLink: boolean;
  blocked: boolean;
  blockingReason: string | null;
  deleting: boolean;
  onboardingFinished: boolean;
  /** true / false / null (legacy, unknown). */
  passwordDefined: boolean | null;
  noAutoUpdate: boolean;
  /** Bytes; null = no quota. */
  diskQuota: number | null;
  diskFilesBytes: number;
  diskVersionsBytes: number;
  diskTrashBytes: number;
  passphraseHash: string | null;
  passphraseKdf: number;
  passphraseKdfIterations: number;
  passphraseHint: string | null;
  passphraseResetToken: string | null;
  /** Epoch ms of the reset token's creation. */
  passphraseResetAt: number | null;
  /** 32 lowercase hex, present while the onboarding is not done. */
  registerToken: string | null;
  /** Standard base64 of random bytes. */
  sessionSecret: string;
  oauthSecret: string;
  cliSecret: string;
  featureFlags: Record<string, unknown>;
  featureSets: string[];
  tos: string | null;
  tosLatest: string | null;
  sponsorships: string[];
  orgDomain: string | null;
  orgId: string | null;
  securityStamp: string | null;
  vaultKey: string | null;
  vaultPublicKey: string | null;
  vaultPrivateKey: string | null;
  vaultExtensionInstalled: boolean;
  lastActivityFromDeletedOauthClients: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Every field may change except the id and the timestamps (updatedAt is set by the update). */
export type InstancePatch = Partial<Omit<Instance, 'id' | 'createdAt' | 'updatedAt'>>;

/**
 * A new instance: only the domain is required. Secrets, the security stamp and (unless a
 * passphrase hash is given) the register token are generated when not provided.
 */
export type NewInstance = InstancePatch & { domain: string; id?: string };

export function rowToInstance(r: Selectable<InstancesTable>): Instance {
  return {
    id: r.id,
    domain: r.domain,
    oldDomain: r.old_domain,
    locale: r.locale,
    context: r.context,
    uuid: r.uuid,
    oidcId: r.oidc_id,
    franceconnectId: r.franceconnect_id,
    authMode: r.auth_mode as AuthMode,
    magicLink: toBool(r.magic_link),
    blocked: toBool(r.blocked),
    blockingReason: r.blocking_reason,
    deleting: toBool(r.deleting),
    onboardingFinished: toBool(r.onboarding_finished),
    passwordDefined: toNullableBool(r.password_defined),
    noAutoUpdate: toBool(r.no_auto_update),
    diskQuota: r.disk_quota === null ? null : Number(r.disk_quota),
    diskFilesBytes: Number(r.disk_files_bytes),
    diskVersionsBytes: Number(r.disk_versions_bytes),
    diskTrashBytes: Number(r.disk_trash_bytes),
    passphraseHash: r.passphrase_hash,
    passphraseKdf: r.passphrase_kdf,
    passphraseKdfIterations: r.passphrase_kdf_iterations,
    passphraseHint: r.passphrase_hint,
    passphraseResetToken: r.passphrase_reset_token,
    passphraseResetAt: r.passphrase_reset_at === null ? null : Number(r.passphrase_reset_at),
    registerToken: r.register_token,
    sessionSecret: r.session_secret,
    oauthSecret: r.oauth_secret,
    cliSecret: r.cli_secret,
    featureFlags: parseJson<Record<string, unknown>>(r.feature_flags, {}),
    featureSets: parseJson<string[]>(r.feature_sets, []),
    tos: r.tos,
    tosLatest: r.tos_latest,
    sponsorships: parseJson<string[]>(r.sponsorships, []),
    orgDomain: r.org_domain,
    orgId: r.org_id,
    securityStamp: r.security_stamp,
    vaultKey: r.vault_key,
    vaultPublicKey: r.vault_public_key,
    vaultPrivateKey: r.vault_private_key,
    vaultExtensionInstalled: toBool(r.vault_extension_installed),
    lastActivityFromDeletedOauthClients:
      r.last_activity_from_deleted_oauth_clients === null ? null : Number(r.last_activity_from_deleted_oauth_clients),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The columns of a patch; keys left undefined are not touched. */
function patchToRow(p: InstancePatch): Updateable<InstancesTable> {
  const row: Updateable<InstancesTable> = {};
  if (p.domain !== undefined) row.domain = p.domain;
  if (p.oldDomain !== undefined) row.old_domain = p.oldDomain;
  if (p.locale !== undefined) row.locale = p.locale;
  if (p.context !== undefined) row.context = p.context;
  if (p.uuid !== undefined) row.uuid = p.uuid;
  if (p.oidcId !== undefined) row.oidc_id = p.oidcId;
  if (p.franceconnectId !== undefined) row.franceconnect_id = p.franceconnectId;
  if (p.authMode !== undefined) {
    if (!AUTH_MODES.includes(p.authMode)) throw new Error(`Unknown authentication mode: ${String(p.authMode)}`);
    row.auth_mode = p.authMode;
  }
  if (p.magicLink !== undefined) row.magic_link = fromBool(p.magicLink);
  if (p.blocked !== undefined) row.blocked = fromBool(p.blocked);
  if (p.blockingReason !== undefined) row.blocking_reason = p.blockingReason;
  if (p.deleting !== undefined) row.deleting = fromBool(p.deleting);
  if (p.onboardingFinished !== undefined) row.onboarding_finished = fromBool(p.onboardingFinished);
  if (p.passwordDefined !== undefined) row.password_defined = fromNullableBool(p.passwordDefined);
  if (p.noAutoUpdate !== undefined) row.no_auto_update = fromBool(p.noAutoUpdate);
  if (p.diskQuota !== undefined) row.disk_quota = p.diskQuota;
  if (p.diskFilesBytes !== undefined) row.disk_files_bytes = p.diskFilesBytes;
  if (p.diskVersionsBytes !== undefined) row.disk_versions_bytes = p.diskVersionsBytes;
  if (p.diskTrashBytes !== undefined) row.disk_trash_bytes = p.diskTrashBytes;
  if (p.passphraseHash !== undefined) row.passphrase_hash = p.passphraseHash;
  if (p.passphraseKdf !== undefined) row.passphrase_kdf = p.passphraseKdf;
  if (p.passphraseKdfIterations !== undefined) row.passphrase_kdf_iterations = p.passphraseKdfIterations;
  if (p.passphraseHint !== undefined) row.passphrase_hint = p.passphraseHint;
  if (p.passphraseResetToken !== undefined) row.passphrase_reset_token = p.passphraseResetToken;
  if (p.passphraseResetAt !== undefined) row.passphrase_reset_at = p.passphraseResetAt;
  if (p.registerToken !== undefined) row.register_token = p.registerToken;
  if (p.sessionSecret !== undefined) row.session_secret = p.sessionSecret;
  if (p.oauthSecret !== undefined) row.oauth_secret = p.oauthSecret;
  if (p.cliSecret !== undefined) row.cli_secret = p.cliSecret;
  if (p.featureFlags !== undefined) row.feature_flags = JSON.stringify(p.featureFlags);
  if (p.featureSets !== undefined) row.feature_sets = JSON.stringify(p.featureSets);
  if (p.tos !== undefined) row.tos = p.tos;
  if (p.tosLatest !== undefined) row.tos_latest = p.tosLatest;
  if (p.sponsorships !== undefined) row.sponsorships = JSON.stringify(p.sponsorships);
  if (p.orgDomain !== undefined) row.org_domain = p.orgDomain;
  if (p.orgId !== undefined) row.org_id = p.orgId;
  if (p.securityStamp !== undefined) row.security_stamp = p.securityStamp;
  if (p.vaultKey !== undefined) row.vault_key = p.vaultKey;
  if (p.vaultPublicKey !== undefined) row.vault_public_key = p.vaultPublicKey;
  if (p.vaultPrivateKey !== undefined) row.vault_private_key = p.vaultPrivateKey;
  if (p.vaultExtensionInstalled !== undefined) row.vault_extension_installed = fromBool(p.vaultExtensionInstalled);
  if (p.lastActivityFromDeletedOauthClients !== undefined)
    row.last_activity_from_deleted_oauth_clients = p.lastActivityFromDeletedOauthClients;
  return row;
}

/** Creates an instance. A taken domain (or id) → ConflictError. */
export async function createInstance(db: DbExecutor, input: NewInstance, now: number = Date.now()): Promise<Instance> {
  const { id: givenId, ...patch } = input;
  const row = {
    id: givenId ?? newId(),
    locale: 'en',
    auth_mode: 'basic',
    magic_link: 0,
    blocked: 0,
    deleting: 0,
    onboarding_finished: 0,
    no_auto_update: 0,
    disk_files_bytes: 0,
    disk_versions_bytes: 0,
    disk_trash_bytes: 0,
    passphrase_kdf: 0,
    passphrase_kdf_iterations: DEFAULT_KDF_ITERATIONS,
    register_token: input.passphraseHash ? null : newId(),
    session_secret: randomSecret(SESSION_SECRET_BYTES),
    oauth_secret: randomSecret(OAUTH_SECRET_BYTES),
    cli_secret: randomSecret(CLI_SECRET_BYTES),
    feature_flags: '{}',
    feature_sets: '[]',
    sponsorships: '[]',
    security_stamp: newUuidV7(now),
    vault_extension_installed: 0,
    ...patchToRow(patch),
    domain: input.domain,
    created_at: now,
    updated_at: now,
  };
  const inserted = await db
    .insertInto('instances')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!inserted) throw new ConflictError(`instance already exists: ${input.domain}`);
  return rowToInstance(inserted);
}

export async function getInstanceById(db: DbExecutor, id: string): Promise<Instance | null> {
  const row = await db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? rowToInstance(row) : null;
}

/**
 * Finds the instance serving `domain`: by its domain first, then by its old domain (the caller
 * then redirects, reference §0.1).
 */
export async function getInstanceByDomain(
  db: DbExecutor,
  domain: string,
): Promise<{ instance: Instance; viaOldDomain: boolean } | null> {
  const row = await db.selectFrom('instances').selectAll().where('domain', '=', domain).executeTakeFirst();
  if (row) return { instance: rowToInstance(row), viaOldDomain: false };
  const old = await db
    .selectFrom('instances')
    .selectAll()
    .where('old_domain', '=', domain)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return old ? { instance: rowToInstance(old), viaOldDomain: true } : null;
}

/** Instances ordered by domain; `after` is the last domain of the previous page. */
export async function listInstances(
  db: DbExecutor,
  opts: { limit?: number; after?: string } = {},
): Promise<Instance[]> {
  let q = db.selectFrom('instances').selectAll().orderBy('domain');
  if (opts.after !== undefined) q = q.where('domain', '>', opts.after);
  if (opts.limit !== undefined) q = q.limit(opts.limit);
  const rows = await q.execute();
  return rows.map(rowToInstance);
}

export async function countInstances(db: DbExecutor): Promise<number> {
  const r = await db.selectFrom('instances').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Applies a partial patch (undefined keys are left alone, null clears) and answers the updated
 * instance, or null when it does not exist. A domain taken by another instance → ConflictError.
 */
export async function updateInstance(
  db: DbExecutor,
  id: string,
  patch: InstancePatch,
  now: number = Date.now(),
): Promise<Instance | null> {
  try {
    const row = await db
      .updateTable('instances')
      .set({ ...patchToRow(patch), updated_at: now })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? rowToInstance(row) : null;
  } catch (err) {
    if (patch.domain !== undefined && isUniqueViolation(err)) {
      throw new ConflictError(`instance already exists: ${patch.domain}`);
    }
    throw err;
  }
}

/**
 * Deletes an instance and everything attached to it (the foreign keys cascade to settings,
 * sessions, clients, apps, mails…; codes and rate limits scoped to its id are removed here).
 */
export async function deleteInstance(db: DbExecutor, id: string): Promise<boolean> {
  return withTransaction(db, async (trx) => {
    await trx.deleteFrom('codes').where('scope', '=', id).execute();
    await trx.deleteFrom('rate_limits').where('scope', '=', id).execute();
    const r = await trx.deleteFrom('instances').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  });
}

/**
 * Compare-and-set: applies the patch only while the instance still has the `expected` values
 * (e.g. the register token or the passphrase hash that was just checked), in one UPDATE. Answers
 * the updated instance, or null when the instance is gone or one expected value changed meanwhile.
 */
export async function updateInstanceIf(
  db: DbExecutor,
  id: string,
  expected: Partial<Pick<Instance, 'registerToken' | 'passphraseHash' | 'sessionSecret'>>,
  patch: InstancePatch,
  now: number = Date.now(),
): Promise<Instance | null> {
  let q = db
    .updateTable('instances')
    .set({ ...patchToRow(patch), updated_at: now })
    .where('id', '=', id);
  const eq = (column: 'register_token' | 'passphrase_hash' | 'session_secret', value: string | null) =>
    (q = value === null ? q.where(column, 'is', null) : q.where(column, '=', value));
  if (expected.registerToken !== undefined) eq('register_token', expected.registerToken);
  if (expected.passphraseHash !== undefined) eq('passphrase_hash', expected.passphraseHash);
  if (expected.sessionSecret !== undefined) eq('session_secret', expected.sessionSecret);
  const row = await q.returningAll().executeTakeFirst();
  return row ? rowToInstance(row) : null;
}

/**
 * Creates a passphrase reset token (reference §3.19) unless one is still valid, i.e. created after
 * `validAfter` (epoch ms): one UPDATE, so of concurrent requests only one creates a token. Answers
 * the updated instance, or null when a valid token already exists (or the instance is gone).
 */
export async function setPassphraseResetTokenIfNone(
  db: DbExecutor,
  id: string,
  token: string,
  validAfter: number,
  now: number = Date.now(),
): Promise<Instance | null> {
  const row = await db
    .updateTable('instances')
    .set({ passphrase_reset_token: token, passphrase_reset_at: now, updated_at: now })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([eb('passphrase_reset_token', 'is', null), eb('passphrase_reset_at', 'is', null), eb('passphrase_reset_at', '<=', validAfter)]),
    )
    .returningAll()
    .executeTakeFirst();
  return row ? rowToInstance(row) : null;
}

/**
 * Compare-and-set on the passphrase reset token: applies the patch only while the instance still
 * has the reset token `token`, created after `validAfter` (epoch ms). Answers the updated instance,
 * or null when the token changed, expired or was used meanwhile.
 */
export async function updateInstanceIfResetToken(
  db: DbExecutor,
  id: string,
  token: string,
  validAfter: number,
  patch: InstancePatch,
  now: number = Date.now(),
): Promise<Instance | null> {
  const row = await db
    .updateTable('instances')
    .set({ ...patchToRow(patch), updated_at: now })
    .where('id', '=', id)
    .where('passphrase_reset_token', '=', token)
    .where('passphrase_reset_at', '>', validAfter)
    .returningAll()
    .executeTakeFirst();
  return row ? rowToInstance(row) : null;
}
