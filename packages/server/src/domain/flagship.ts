// Flagship app routes (reference §3.3–§3.5, §3.10, §3.15, §3.17, §3.18): store attestation and
// manual certification, prelogin, the flagship logins, session codes, konnector tokens and the
// parameters to open a webapp in a webview.
import { oidcConfig } from '../config/config.js';
import { Auth } from '../http/auth.js';
import type { RequestContext } from '../http/context.js';
import { HttpError, jsonApiError, jsonBodyError, negotiatedError, plainError } from '../http/errors.js';
import { getApp } from '../repositories/apps.js';
import { CODE_TTL_MS, consumeCode, getCode, putCode } from '../repositories/codes.js';
import type { Instance } from '../repositories/instances.js';
import { getOAuthClient, updateOAuthClient, type OAuthClient } from '../repositories/oauth-clients.js';
import { hitRateLimit, rateLimitState, RATE_LIMITS } from '../repositories/rate-limits.js';
import { getSettings } from '../repositories/settings.js';
import { randomAlnum, sessionSecretKey, signJwt, verifyConfirmFlagship } from '../security/index.js';
import type { Services } from '../services.js';
import { verifyPlayIntegrity, verifySafetyNet } from './attestation/android.js';
import { AttestationError } from './attestation/errors.js';
import { verifyAppAttest } from './attestation/ios.js';
import { capabilitiesOf } from './capabilities.js';
import { computeFeatureFlags } from './flags.js';
import {
  authenticateClient,
  checkPassphraseCounted,
  emailVerifiedCodeValid,
  issueSessionCode,
  message,
  passphraseMatches,
  publicNameOf,
  sendTwoFactorPasscode,
  twoFactorActive,
  twoFactorPairValid,
} from './flagship-auth.js';
import { openSession, sessionCookieFor, SessionDuration } from './sessions.js';
import { issueTokens, type IssuedTokens } from './tokens.js';

const clientNotFound = () => plainError(404, 'Client not found');

async function requireClient(services: Services, instance: Instance, clientId: string): Promise<OAuthClient> {
  const client = await getOAuthClient(services.db, instance.id, clientId);
  if (!client) throw clientNotFound();
  return client;
}

// --- Store attestation ------------------------------------------------------------------

/**
 * POST /auth/clients/:id/challenge: checks the client, its registration token and the
 * `oauth-client` limit (404 Not found over it), then stores a 24-character nonce bound to the
 * client for 7 days.
 */
export async function createAttestationChallenge(ctx: RequestContext, clientId: string): Promise<string> {
  const { services, instance, now } = ctx;
  await requireClient(services, instance, clientId);
  let sub: string | undefined;
  try {
    sub = (await ctx.auth.verifiedClaims(['registration'])).sub;
  } catch {
    sub = undefined;
  }
  if (sub !== clientId) throw plainError(401, 'invalid_token');
  const { limit, windowMs } = RATE_LIMITS['oauth-client'];
  const count = await hitRateLimit(services.db, instance.id, 'oauth-client', windowMs, now);
  if (rateLimitState(count, limit) !== 'ok') throw negotiatedError(404, 'Not found');
  const nonce = randomAlnum(24);
  await putCode(services.db, instance.id, 'nonce', nonce, { clientId }, CODE_TTL_MS.nonce, now);
  return nonce;
}

export interface AttestationInput {
  platform: 'android' | 'ios';
  issuer?: string;
  challenge: string;
  attestation: string;
  keyId?: string;
}

/**
 * POST /auth/clients/:id/attestation: consumes the nonce first, then verifies the attestation.
 * Success → `flagship` and `certified_from_store` (`pending` unchanged). Failure → 400 {"error"}.
 */
export async function submitAttestation(ctx: RequestContext, clientId: string, input: AttestationInput): Promise<void> {
  const { services, instance, now } = ctx;
  await requireClient(services, instance, clientId);
  const nonce = await consumeCode<{ clientId?: string }>(services.db, instance.id, 'nonce', input.challenge, now);
  if (!nonce || nonce.data?.clientId !== clientId) throw plainError(400, 'invalid challenge');
  const f = services.config.flagship;
  try {
    if (input.platform === 'ios') {
      verifyAppAttest(
        { attestation: input.attestation, keyId: input.keyId, challenge: input.challenge, now },
        { rootCaPem: f.appleAppAttestRootCa, appIds: f.appleAppIds, environment: f.appleAppAttestEnvironment },
      );
    } else {
      const android = {
        packageNames: f.apkPackageNames,
        certificateDigests: f.apkCertificateDigests,
        decryptionKeys: f.playIntegrityDecryptionKeys,
        verificationKeys: f.playIntegrityVerificationKeys,
      };
      if (input.issuer === 'playintegrity') await verifyPlayIntegrity(input.attestation, input.challenge, android);
      else verifySafetyNet(input.attestation, input.challenge, android, { now });
    }
  } catch (err) {
    if (err instanceof AttestationError) {
      ctx.logger.info({ client_id: clientId, platform: input.platform, reason: err.message }, 'store attestation refused');
      throw plainError(400, err.message);
    }
    throw err;
  }
  const updated = await updateOAuthClient(services.db, instance.id, clientId, { flagship: true, certifiedFromStore: true }, { now });
  if (!updated) throw clientNotFound();
}

/**
 * POST /auth/clients/:id/flagship: the 6-digit code of the confirm-flagship page. Each call counts
 * against `confirm-flagship`; over it, or with a wrong code, 401. Success → `flagship: true`.
 */
export async function confirmFlagshipCode(ctx: RequestContext, clientId: string, code: unknown, token: unknown): Promise<void> {
  const { services, instance, now } = ctx;
  await requireClient(services, instance, clientId);
  const invalid = () => plainError(401, message(instance, 'invalidConfirmCode'));
  const { limit, windowMs } = RATE_LIMITS['confirm-flagship'];
  const count = await hitRateLimit(services.db, instance.id, 'confirm-flagship', windowMs, now);
  if (rateLimitState(count, limit) !== 'ok') throw invalid();
  if (!verifyConfirmFlagship(sessionSecretKey(instance.sessionSecret), clientId, token, code, now)) throw invalid();
  const updated = await updateOAuthClient(services.db, instance.id, clientId, { flagship: true }, { now });
  if (!updated) throw clientNotFound();
}

// --- Prelogin and logins -----------------------------------------------------------------

export interface Prelogin {
  Kdf: 0;
  KdfIterations: number;
  OIDC: boolean;
  FranceConnect: boolean;
  magic_link: boolean;
  locale: string;
  name: string;
}

/** GET /public/prelogin; 412 for an instance that is not onboarded. */
export async function prelogin(services: Services, instance: Instance): Promise<Prelogin> {
  if (!instance.onboardingFinished) throw plainError(412, 'the instance has not been onboarded');
  return {
    Kdf: 0,
    KdfIterations: instance.passphraseKdfIterations,
    OIDC: oidcConfig(services.config, instance.context) !== null,
    FranceConnect: Boolean(instance.franceconnectId),
    magic_link: instance.magicLink,
    locale: instance.locale,
    name: await publicNameOf(services, instance),
  };
}

export type FlagshipLoginOutcome = { kind: 'tokens'; tokens: IssuedTokens } | { kind: 'session_code'; sessionCode: string };

/** The end of every flagship login: a session code for an uncertified client, else tokens `*`. */
async function finishFlagshipLogin(ctx: RequestContext, client: OAuthClient, reason: string): Promise<FlagshipLoginOutcome> {
  const { services, instance, now } = ctx;
  if (!client.flagship) {
    const sessionCode = await issueSessionCode(services, instance, { now, logger: ctx.logger, req: ctx.req, reason, clientId: client.id });
    return { kind: 'session_code', sessionCode };
  }
  if (client.pending) await updateOAuthClient(services.db, instance.id, client.id, { pending: false }, { now });
  return { kind: 'tokens', tokens: await issueTokens(services, instance, client, '*', { withRefresh: true, now }) };
}

export interface FlagshipLoginInput {
  passphrase?: string;
  client_id?: string;
  client_secret?: string;
  two_factor_token?: string;
  two_factor_passcode?: string;
  email_verified_code?: string;
}

/** POST /auth/login/flagship, after the need-onboarding check (reference §3.5). */
export async function loginFlagship(ctx: RequestContext, input: FlagshipLoginInput): Promise<FlagshipLoginOutcome> {
  const { services, instance, now } = ctx;
  if (!(await checkPassphraseCounted(services, instance, input.passphrase, now))) {
    throw plainError(401, message(instance, 'wrongPassphrase'));
  }
  if (twoFactorActive(instance) && !(await emailVerifiedCodeValid(services, instance, input.email_verified_code, now))) {
    if (!input.two_factor_token) {
      const token = await sendTwoFactorPasscode(services, instance, now);
      throw jsonBodyError(401, { two_factor_token: token }, 'two factor needed');
    }
    if (!twoFactorPairValid(instance, input.two_factor_token, input.two_factor_passcode, now)) {
      throw plainError(403, message(instance, 'wrongPasscode'));
    }
  }
  const client = await authenticateClient(services, instance, input.client_id, input.client_secret);
  return finishFlagshipLogin(ctx, client, 'login_flagship');
}

export interface MagicLinkFlagshipInput {
  magic_code?: string;
  client_id?: string;
  client_secret?: string;
  passphrase?: string;
}

/** POST /auth/magic_link/flagship (reference §3.10). The magic code is not consumed. */
export async function loginMagicLinkFlagship(ctx: RequestContext, input: MagicLinkFlagshipInput): Promise<FlagshipLoginOutcome> {
  const { services, instance, now } = ctx;
  const code = input.magic_code;
  const valid = typeof code === 'string' && code !== '' && (await getCode(services.db, instance.id, 'magic_link', code, now)) !== null;
  if (!valid) {
    const { limit, windowMs } = RATE_LIMITS['magic-link'];
    const count = await hitRateLimit(services.db, instance.id, 'magic-link', windowMs, now);
    if (rateLimitState(count, limit) !== 'ok') throw negotiatedError(429, 'Too many requests');
    throw plainError(401, 'invalid magic code');
  }
  if (twoFactorActive(instance) && !(await checkPassphraseCounted(services, instance, input.passphrase, now))) {
    throw plainError(401, 'passphrase is required as second authentication factor');
  }
  const client = await authenticateClient(services, instance, input.client_id, input.client_secret);
  return finishFlagshipLogin(ctx, client, 'magic_link_flagship');
}

// --- Session codes, konnector tokens, apps -------------------------------------------------

export interface SessionCodeInput {
  passphrase?: string;
  two_factor_token?: string;
  two_factor_passcode?: string;
}

/**
 * POST /auth/session_code (reference §3.15): a maximal bearer token, or the passphrase (401
 * `Not authorized`) plus, with 2FA, a valid pair (else a new passcode is mailed: 403).
 * Nothing is rate-limited here.
 */
export async function createSessionCode(ctx: RequestContext, input: SessionCodeInput | null | undefined): Promise<string> {
  const { services, instance, now } = ctx;
  const perm = await ctx.auth.optionalPermission();
  const maximal = perm !== null && Auth.isMaximal(perm);
  if (!maximal) {
    const body = input ?? {};
    if (!(await passphraseMatches(services, instance, body.passphrase))) throw plainError(401, 'Not authorized');
    if (twoFactorActive(instance) && !twoFactorPairValid(instance, body.two_factor_token, body.two_factor_passcode, now)) {
      const token = await sendTwoFactorPasscode(services, instance, now);
      throw plainError(403, 'two factor needed', { two_factor_token: token });
    }
  }
  return issueSessionCode(services, instance, {
    now,
    logger: ctx.logger,
    req: ctx.req,
    reason: maximal ? 'session_code_token' : 'session_code_passphrase',
    clientId: perm?.client?.id,
  });
}

/**
 * POST /auth/tokens/konnectors/:slug (reference §3.17): every authentication failure is a 403
 * `{"message"}`; an unknown konnector a 404 `{}`; else a konnector JWT (30 minutes).
 */
export async function createKonnectorToken(ctx: RequestContext, slug: string): Promise<string> {
  const { services, instance, now } = ctx;
  try {
    await ctx.auth.requireMaximal();
  } catch (err) {
    if (err instanceof HttpError) throw jsonBodyError(403, { message: err.message }, err.message);
    throw err;
  }
  const konnector = await getApp(services.db, instance.id, slug, 'konnector');
  if (!konnector) throw jsonBodyError(404, {}, 'Not found');
  return signJwt(sessionSecretKey(instance.sessionSecret), { aud: 'konn', iss: instance.domain, sub: slug }, now);
}

export interface AppOpenParameters {
  Cookie: string;
  Token: string;
  Domain: string;
  SubDomain: 'flat' | 'nested';
  Tracking: 'true' | 'false';
  Locale: string;
  AppEditor: string;
  AppName: string;
  AppNamePrefix: string;
  AppSlug: string;
  IconPath: string;
  Flags: string;
  Capabilities: string;
  CozyBar: string;
  CozyFonts: string;
  CozyClientJS: string;
  ThemeCSS: string;
  Favicon: string;
  DefaultWallpaper: string;
  Warnings: string;
}

/** The feature flags given to the app (every source of reference §1.4). */
async function flagsOf(ctx: RequestContext): Promise<Record<string, unknown>> {
  return (await computeFeatureFlags(ctx.services, ctx.instance, { now: ctx.now, logger: ctx.logger })).flags;
}

/**
 * GET /apps/:slug/open (reference §3.18): the request's session when it has one, else a new
 * NormalRun session without a login history entry; an app token bound to it.
 */
export async function appOpenParameters(ctx: RequestContext, slug: string): Promise<AppOpenParameters> {
  const { services, instance, now } = ctx;
  const { config } = services;
  await ctx.auth.requireMaximal();
  const app = await getApp(services.db, instance.id, slug, 'webapp');
  if (!app) throw jsonApiError(404, 'Not found');
  let session = await ctx.auth.session();
  if (!session) session = (await openSession(services.db, config, instance, { duration: SessionDuration.NormalRun, method: null, now })).session;
  const { cookie } = sessionCookieFor(config, instance, session, SessionDuration.NormalRun, now);
  const token = await signJwt(sessionSecretKey(instance.sessionSecret), { aud: 'app', iss: instance.domain, sub: slug, session_id: session.id }, now);
  const settings = await getSettings(services.db, instance.id);
  const tracking = settings?.doc.tracking;
  const assets = `//${instance.domain}/assets`;
  return {
    Cookie: cookie,
    Token: token,
    Domain: instance.domain,
    SubDomain: config.subdomains,
    Tracking: tracking === true || tracking === 'true' ? 'true' : 'false',
    Locale: instance.locale,
    AppEditor: app.editor ?? '',
    AppName: app.name,
    AppNamePrefix: '',
    AppSlug: app.slug,
    IconPath: '',
    Flags: JSON.stringify(await flagsOf(ctx)),
    Capabilities: JSON.stringify(capabilitiesOf(config, instance)),
    CozyBar: `<link rel="stylesheet" type="text/css" href="${assets}/css/cozy-bar.min.css"><script src="${assets}/js/cozy-bar.min.js"></script>`,
    CozyFonts: `<link rel="stylesheet" type="text/css" href="${assets}/fonts/fonts.css">`,
    CozyClientJS: `<script src="${assets}/js/cozy-client.min.js"></script>`,
    ThemeCSS: `<link rel="stylesheet" type="text/css" href="${assets}/styles/theme.css">`,
    Favicon: `<link rel="icon" href="${assets}/favicon.ico">`,
    DefaultWallpaper: `${assets}/images/default-wallpaper.jpg`,
    Warnings: '',
  };
}
