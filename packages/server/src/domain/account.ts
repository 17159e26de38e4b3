// The owner's account settings (reference §2.4–§2.10): onboarding (the first passphrase, from the
// onboarding page or the flagship app), changing and checking the passphrase, the hint, and the
// vault initialisation. Hashing (PBKDF2, scrypt) always happens before any transaction; each
// passphrase change is ONE compare-and-set update of the instance row, which also rotates the
// session secret (reference §0.4).
import { timingSafeEqual } from 'node:crypto';
import { skipCertification } from '../config/config.js';
import { withTransaction, type DbExecutor } from '../db/util.js';
import { jsonApiError, plainError, type HttpError } from '../http/errors.js';
import type { Permission } from '../http/auth.js';
import type { RequestContext } from '../http/context.js';
import { enqueueJob } from '../jobs/queue.js';
import { getApp } from '../repositories/apps.js';
import { CODE_TTL_MS, putCode } from '../repositories/codes.js';
import { updateInstance, updateInstanceIf, type Instance } from '../repositories/instances.js';
import { getOAuthClient, updateOAuthClient, type OAuthClient } from '../repositories/oauth-clients.js';
import { deleteSession } from '../repositories/sessions.js';
import { getSettings } from '../repositories/settings.js';
import {
  createTwoFactorToken,
  deriveClientHash,
  hashPassphrase,
  MAX_ITERATIONS,
  MIN_ITERATIONS,
  randomAlnum,
  sessionSecretKey,
  signJwt,
  verifyPassphrase,
  verifyTwoFactor,
} from '../security/index.js';
import { onboardedRedirectionUrl, parseRedirection, appUrl } from './apps-urls.js';
import { isClearTextFallback, preparePassphrase, type PreparedPassphrase } from './passphrase.js';
import { durationOf, isMobileUserAgent, openSession, SessionDuration } from './sessions.js';

// ---------------------------------------------------------------------------------------------
// Shared checks

/** Reference §2.5: iterations must be in [50 000, 5 000 000]; 0 (clear text / legacy) where allowed. */
export function checkKdfIterations(iterations: number, opts: { allowZero: boolean }): void {
  if (iterations === 0 && opts.allowZero) return;
  if (iterations < MIN_ITERATIONS) throw invalidParameter('KdfIterations', 'The KdfIterations number is too low');
  if (iterations > MAX_ITERATIONS) throw invalidParameter('KdfIterations', 'The KdfIterations number is too high');
}

function invalidParameter(parameter: string, detail: string): HttpError {
  return jsonApiError(422, detail, { title: 'Invalid Parameter', parameter });
}

export const invalidPassphrase = (status: 400 | 403 = 400) => jsonApiError(status, 'Invalid passphrase');

function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // Compare equal-length buffers so that the length alone does not short-circuit the comparison.
  const same = timingSafeEqual(ab.length === bb.length ? ab : bb, bb);
  return same && ab.length === bb.length;
}

/** The display name of the instance: `public_name`, else the first label of the domain. */
export async function publicNameOf(db: DbExecutor, instance: Instance): Promise<string> {
  const doc = (await getSettings(db, instance.id))?.doc ?? {};
  if (typeof doc.public_name === 'string' && doc.public_name) return doc.public_name;
  return instance.domain.split(/[.:]/)[0] ?? instance.domain;
}

// ---------------------------------------------------------------------------------------------
// Onboarding (reference §2.5, §2.6)

export interface RegistrationInput {
  registerToken: string;
  passphrase: string;
  /** 0 when absent (clear text on the onboarding page route). */
  iterations: number;
  key?: string;
  publicKey?: string;
  privateKey?: string;
  hint?: string;
}

/**
 * Registers the first passphrase: checks the body against the instance (empty passphrase, no
 * register token any more, register token mismatch → 400 JSON:API), hashes (clear-text fallback
 * when iterations is 0 or the key is empty), then, in one transaction, stores the passphrase,
 * clears the register token, sets onboarding_finished (and the hint) in ONE compare-and-set
 * update, and runs `then` with the updated instance.
 */
export async function registerFirstPassphrase<T>(
  ctx: RequestContext,
  input: RegistrationInput,
  then: (tx: DbExecutor, updated: Instance) => Promise<T>,
): Promise<{ instance: Instance; result: T }> {
  const instance = ctx.instance;
  if (!input.passphrase) throw jsonApiError(400, 'Missing new passphrase');
  if (!instance.registerToken) throw jsonApiError(400, 'Empty register token');
  if (!constantTimeEqual(input.registerToken.toLowerCase(), instance.registerToken.toLowerCase())) {
    throw jsonApiError(400, 'Invalid register token');
  }
  const prepared = await preparePassphrase(instance, {
    passphrase: input.passphrase,
    iterations: input.iterations,
    key: input.key || null,
    publicKey: input.publicKey || null,
    privateKey: input.privateKey || null,
    clearText: isClearTextFallback(input.iterations, input.key),
  });
  return withTransaction(ctx.services.db, async (tx) => {
    const updated = await updateInstanceIf(
      tx,
      instance.id,
      { registerToken: instance.registerToken },
      {
        ...prepared.patch,
        registerToken: null,
        onboardingFinished: true,
        ...(input.hint ? { passphraseHint: input.hint } : {}),
      },
      ctx.now,
    );
    // Another request used the register token meanwhile.
    if (!updated) throw jsonApiError(400, 'Empty register token');
    return { instance: updated, result: await then(tx, updated) };
  });
}

/** Where the browser goes after the onboarding (reference §2.5). */
export async function onboardingTarget(ctx: RequestContext, redirection: string | undefined): Promise<string> {
  const { config } = ctx.services;
  const domain = ctx.instance.domain;
  if (isMobileUserAgent(ctx.req.headers['user-agent'])) return `${ctx.baseUrl}/settings/install_flagship_app`;
  if (redirection) {
    const r = parseRedirection(redirection);
    if (r && (await getApp(ctx.services.db, ctx.instance.id, r.slug, 'webapp'))) {
      return appUrl(config, domain, r.slug, { path: r.path, fragment: r.fragment });
    }
  }
  return onboardedRedirectionUrl(config, domain, ctx.contextConfig.onboardedRedirection);
}

/** POST /settings/passphrase: registers, opens a long-run session (login entry "registration"). */
export async function onboard(ctx: RequestContext, input: RegistrationInput & { redirection?: string }) {
  checkKdfIterations(input.iterations, { allowZero: true });
  const { result } = await registerFirstPassphrase(ctx, input, (tx, updated) =>
    openSession(tx, ctx.services.config, updated, { duration: SessionDuration.LongRun, method: 'registration', req: ctx.req, now: ctx.now }),
  );
  return { cookie: result.cookie, redirect: await onboardingTarget(ctx, input.redirection) };
}

export type FlagshipOnboardingResult =
  | { kind: 'tokens'; accessToken: string; refreshToken: string }
  | { kind: 'session_code'; sessionCode: string };

/** POST /settings/passphrase/flagship (reference §2.6, in its validation order). */
export async function onboardFlagship(
  ctx: RequestContext,
  input: RegistrationInput & { clientId: string; clientSecret: string },
): Promise<FlagshipOnboardingResult> {
  checkKdfIterations(input.iterations, { allowZero: false });
  const client = await getOAuthClient(ctx.services.db, ctx.instance.id, input.clientId);
  if (!client) throw plainError(400, 'the client must be registered');
  if (!constantTimeEqual(input.clientSecret, client.clientSecret)) throw plainError(400, 'invalid client_secret');
  const certified = client.flagship || skipCertification(ctx.services.config, ctx.instance.context);
  const { instance, result } = await registerFirstPassphrase(ctx, input, async (tx, updated) => {
    if (certified) return null;
    // The app confirms itself later on /auth/authorize, with this code and a mailed 6-digit code.
    await updateOAuthClient(tx, updated.id, client.id, { createdAtOnboarding: true }, { now: ctx.now });
    const code = randomAlnum(32);
    await putCode(tx, updated.id, 'session_code', code, {}, CODE_TTL_MS.session_code, ctx.now);
    return code;
  });
  if (result !== null) return { kind: 'session_code', sessionCode: result };
  const tokens = await flagshipTokens(instance, client, ctx.now);
  return { kind: 'tokens', ...tokens };
}

/** An access token and a refresh token of scope `*` for the client (reference §0.4). */
export async function flagshipTokens(instance: Instance, client: OAuthClient, now: number) {
  const key = Buffer.from(instance.oauthSecret, 'base64');
  const claims = { iss: instance.domain, sub: client.id, scope: '*' };
  const [accessToken, refreshToken] = await Promise.all([signJwt(key, { ...claims, aud: 'access' }, now), signJwt(key, { ...claims, aud: 'refresh' }, now)]);
  return { accessToken, refreshToken };
}

// ---------------------------------------------------------------------------------------------
// Changing the passphrase (reference §2.7)

export interface PassphraseChangeInput {
  currentPassphrase?: string;
  newPassphrase?: string;
  iterations?: number;
  key?: string;
  /** Standard base64 of the raw 2FA token. */
  twoFactorToken?: string;
  twoFactorPasscode?: string;
  force?: boolean;
  publicKey?: string;
  privateKey?: string;
}

export type PassphraseChangeResult =
  | { kind: 'two_factor'; twoFactorToken: string }
  /** `cookie`: the Set-Cookie of the new session, or null (force path without a session). */
  | { kind: 'changed'; cookie: string | null };

/** Whether `force: true` is allowed (reference §2.7). */
export function canForcePassphrase(ctx: RequestContext, perm: Permission): boolean {
  const instance = ctx.instance;
  if (perm.kind === 'cli') return true;
  if (instance.passwordDefined === false) return true;
  const passwordAuthDisabled = ctx.contextConfig.disablePasswordAuthentication || instance.magicLink;
  return instance.passwordDefined === null && passwordAuthDisabled && !instance.vaultExtensionInstalled;
}

export async function changePassphrase(ctx: RequestContext, perm: Permission, input: PassphraseChangeInput): Promise<PassphraseChangeResult> {
  const instance = ctx.instance;
  const session = await ctx.auth.session();
  const iterations = input.iterations ?? 0;

  if (input.force) {
    if (!canForcePassphrase(ctx, perm)) {
      throw jsonApiError(400, 'Bitwarden extension has already been installed on this Cozy, cannot force update the passphrase.');
    }
    checkKdfIterations(iterations, { allowZero: true });
    if (!input.newPassphrase) throw jsonApiError(400, 'Missing new passphrase');
    const prepared = await preparePassphrase(instance, {
      passphrase: input.newPassphrase,
      iterations,
      key: input.key || instance.vaultKey,
      publicKey: input.publicKey || null,
      privateKey: input.privateKey || null,
      clearText: iterations === 0,
    });
    // Publishing the public key to the sharings: Hearth has no sharings, nothing to publish.
    const cookie = await storeChangedPassphrase(ctx, prepared, session ? durationOf(session) : null);
    return { kind: 'changed', cookie };
  }

  const twoFactor = instance.authMode === 'two_factor_mail';
  if (twoFactor && !input.twoFactorToken) {
    const ok = await verifyPassphrase(input.currentPassphrase ?? '', instance.passphraseHash);
    if (!ok.ok) throw invalidPassphrase();
    const { token, passcode } = createTwoFactorToken(sessionSecretKey(instance.sessionSecret), ctx.now);
    await ctx.services.sendMail({
      instance,
      template: 'two_factor',
      values: { TwoFactorPasscode: passcode, PublicName: await publicNameOf(ctx.services.db, instance), BaseURL: ctx.baseUrl },
      mode: 'noreply',
    });
    return { kind: 'two_factor', twoFactorToken: Buffer.from(token, 'utf8').toString('base64') };
  }

  checkKdfIterations(iterations, { allowZero: true });
  if (twoFactor) {
    const raw = Buffer.from(input.twoFactorToken ?? '', 'base64').toString('utf8');
    if (!verifyTwoFactor(sessionSecretKey(instance.sessionSecret), raw, input.twoFactorPasscode ?? '', ctx.now)) {
      throw jsonApiError(400, 'Invalid two-factor parameters');
    }
  } else {
    const ok = await verifyPassphrase(input.currentPassphrase ?? '', instance.passphraseHash);
    if (!ok.ok) throw invalidPassphrase();
  }
  if (!input.newPassphrase) throw jsonApiError(400, 'Missing new passphrase');
  const prepared = await preparePassphrase(instance, {
    passphrase: input.newPassphrase,
    iterations,
    key: input.key || instance.vaultKey,
  });
  const cookie = await storeChangedPassphrase(ctx, prepared, session ? durationOf(session) : SessionDuration.LongRun);
  return { kind: 'changed', cookie: cookie! };
}

/**
 * Stores a prepared passphrase with the rotation of the session secret in ONE compare-and-set
 * update (the passphrase hash and the session secret that were checked must still be there: a
 * 2FA token works once, and of two concurrent changes only one wins), and opens the new session
 * when `duration` is given. The current session, whose cookie died with the old secret, is
 * removed.
 */
async function storeChangedPassphrase(ctx: RequestContext, prepared: PreparedPassphrase, duration: SessionDuration | null): Promise<string | null> {
  const instance = ctx.instance;
  const session = await ctx.auth.session();
  return withTransaction(ctx.services.db, async (tx) => {
    const updated = await updateInstanceIf(
      tx,
      instance.id,
      { passphraseHash: instance.passphraseHash, sessionSecret: instance.sessionSecret },
      prepared.patch,
      ctx.now,
    );
    if (!updated) throw invalidPassphrase();
    if (duration === null) return null;
    if (session) await deleteSession(tx, instance.id, session.id);
    const opened = await openSession(tx, ctx.services.config, updated, { duration, method: null, now: ctx.now });
    return opened.cookie;
  });
}

// ---------------------------------------------------------------------------------------------
// Check, hint, vault (reference §2.8–§2.10)

/** True when the passphrase is right; an old-parameter hash is transparently re-hashed. */
export async function checkOwnerPassphrase(ctx: RequestContext, passphrase: string): Promise<boolean> {
  const instance = ctx.instance;
  const result = await verifyPassphrase(passphrase, instance.passphraseHash);
  if (!result.ok) return false;
  if (result.needsRehash) {
    const rehashed = await hashPassphrase(passphrase);
    // Only if nobody changed the passphrase meanwhile; losing this race is harmless.
    await updateInstanceIf(ctx.services.db, instance.id, { passphraseHash: instance.passphraseHash }, { passphraseHash: rehashed }, ctx.now);
  }
  return true;
}

/** Reference §2.9: the hint must not be the passphrase itself (hashed as a client would). */
export async function setHint(ctx: RequestContext, hint: string): Promise<void> {
  const instance = ctx.instance;
  if (hint && instance.passphraseHash) {
    const iterations = instance.passphraseKdfIterations;
    const candidate = iterations > 0 ? await deriveClientHash(hint, instance.oldDomain ?? instance.domain, iterations) : hint;
    if ((await verifyPassphrase(candidate, instance.passphraseHash)).ok) {
      throw invalidParameter('hint', 'The hint cannot be the same as the password');
    }
  }
  await updateInstance(ctx.services.db, instance.id, { passphraseHint: hint || null }, ctx.now);
}

export const MIGRATIONS_QUEUE = 'migrations';

/**
 * Reference §2.10: when the vault extension is not installed yet, queues the migration
 * `accounts-to-organization` and marks the extension installed, in one transaction. (Hearth has
 * no worker for the `migrations` queue: the job stays queued for a future one.)
 */
export async function initVault(ctx: RequestContext): Promise<void> {
  const instance = ctx.instance;
  if (instance.vaultExtensionInstalled) return;
  try {
    await withTransaction(ctx.services.db, async (tx) => {
      await enqueueJob(tx, { queue: MIGRATIONS_QUEUE, instanceId: instance.id, payload: { type: 'accounts-to-organization' }, now: ctx.now });
      await updateInstance(tx, instance.id, { vaultExtensionInstalled: true }, ctx.now);
    });
  } catch (err) {
    ctx.logger.error({ err }, 'the migrations job could not be queued');
    throw jsonApiError(500, 'the migrations job could not be queued');
  }
}
