// The browser login flows (reference §3.6–§3.10, §3.19): passphrase login with two-factor
// authentication by mail and trusted devices, magic links, logout, passphrase reset and renew,
// the hint mail. The handlers in handlers/auth/login.ts only parse and shape the answers.
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { oidcConfig } from '../config/config.js';
import type { RequestContext } from '../http/context.js';
import { jsonApiError, negotiatedError, plainError } from '../http/errors.js';
import { CODE_TTL_MS, getCode, putCode } from '../repositories/codes.js';
import {
  setPassphraseResetTokenIfNone,
  updateInstance,
  updateInstanceIfResetToken,
  type Instance,
} from '../repositories/instances.js';
import { hitRateLimit, rateLimitState, RATE_LIMITS, resetRateLimit } from '../repositories/rate-limits.js';
import {
  createTrustedDeviceToken,
  DEFAULT_ITERATIONS,
  randomAlnum,
  randomHex,
  saltFor,
  sessionSecretKey,
  verifyTrustedDeviceToken,
} from '../security/index.js';
import { checkKdfIterations } from './account.js';
import { appUrl } from './apps-urls.js';
import {
  countFailedLogin,
  emailVerifiedCodeValid,
  passphraseMatches,
  publicNameOf,
  sendTwoFactorPasscode,
  twoFactorActive,
  twoFactorPairValid,
} from './flagship-auth.js';
import { checkLoginRedirect, isAuthorizeRedirect } from './login-redirect.js';
import { isClearTextFallback, preparePassphrase } from './passphrase.js';
import { browserOf, closeSession, openSession, osOf, SessionDuration } from './sessions.js';
import { defaultRedirection } from './settings-sessions.js';

type Lang = 'en' | 'fr';

const MESSAGES = {
  wrongPassphrase: {
    en: 'The password you entered is incorrect, please try again.',
    fr: 'Le mot de passe saisi est incorrect, veuillez réessayer.',
  },
  wrongPasscode: {
    en: 'The passcode you entered is incorrect, please try again.',
    fr: 'Le code saisi est incorrect, veuillez réessayer.',
  },
  newPasscodeSent: {
    en: 'You entered too many bad passcodes. A new one was sent, check your emails.',
    fr: 'Vous avez saisi trop de codes erronés. Un nouveau code vous a été envoyé, vérifiez vos e-mails.',
  },
  invalidMagicLink: {
    en: 'The magic link is invalid or has expired',
    fr: 'Le lien magique est invalide ou a expiré',
  },
  invalidResetLink: {
    en: 'The link to reset your password is invalid or has expired',
    fr: 'Le lien de réinitialisation du mot de passe est invalide ou a expiré',
  },
} as const satisfies Record<string, Record<Lang, string>>;

export type LoginMessage = keyof typeof MESSAGES;

/** A message of the login routes in the instance's language (English unless French). */
export function loginMessage(instance: Pick<Instance, 'locale'>, key: LoginMessage): string {
  const lang: Lang = instance.locale.toLowerCase().startsWith('fr') ? 'fr' : 'en';
  return MESSAGES[key][lang];
}

/** "wantsJSON" of the auth handlers (reference §0.1): the Accept header is exactly application/json. */
export function wantsJson(req: Request): boolean {
  return (req.headers.accept ?? '').trim() === 'application/json';
}

/** The PBKDF2 salt of the pages: `me@<domain without port>` (the old domain when there is one). */
export function saltOf(instance: Pick<Instance, 'domain' | 'oldDomain'>): string {
  return saltFor(instance.oldDomain ?? instance.domain);
}

/** Whether the instance went through its onboarding (a passphrase was chosen). */
export function isOnboarded(instance: Instance): boolean {
  return instance.onboardingFinished || (instance.passphraseHash !== null && instance.registerToken === null);
}

/** The default redirection of the instance (settings document, context, home app). */
export function defaultRedirect(ctx: RequestContext): Promise<string> {
  return defaultRedirection(ctx.services, ctx.instance, ctx.contextConfig.defaultRedirection);
}

/** Validates a `redirect` (empty → the default redirection); 400 `bad url: …` otherwise. */
export async function loginRedirect(ctx: RequestContext, value: string | undefined | null): Promise<string> {
  return checkLoginRedirect(ctx.services, ctx.instance, value, await defaultRedirect(ctx));
}

/** The `redirect` of a form, else of the query string (Echo's FormValue). */
export function formOrQuery(ctx: RequestContext, form: Record<string, unknown> | undefined, name: string): string | undefined {
  const fromForm = form?.[name];
  if (typeof fromForm === 'string' && fromForm !== '') return fromForm;
  const idx = ctx.req.originalUrl.indexOf('?');
  if (idx < 0) return typeof fromForm === 'string' ? fromForm : undefined;
  return new URLSearchParams(ctx.req.originalUrl.slice(idx + 1)).get(name) ?? (typeof fromForm === 'string' ? fromForm : undefined);
}

export function isTrue(value: unknown): boolean {
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

/** The duration of a new session: long-run when asked, short-run towards the OAuth authorize page, normal otherwise. */
export function sessionDurationFor(instance: Instance, redirect: string, longRun: boolean): { duration: SessionDuration; authorize: boolean } {
  const authorize = isAuthorizeRedirect(instance, redirect);
  if (longRun) return { duration: SessionDuration.LongRun, authorize };
  return { duration: authorize ? SessionDuration.ShortRun : SessionDuration.NormalRun, authorize };
}

/** Opens a session for a successful login and answers its Set-Cookie header. */
export async function openLoginSession(ctx: RequestContext, instance: Instance, redirect: string, longRun: boolean, method: string): Promise<string> {
  const { duration, authorize } = sessionDurationFor(instance, redirect, longRun);
  const opened = await openSession(ctx.services.db, ctx.services.config, instance, {
    duration,
    method,
    req: ctx.req,
    clientRegistration: authorize,
    now: ctx.now,
  });
  ctx.logger.info({ nspace: 'loginaudit', method, session_id: opened.session.id }, 'new session');
  return opened.cookie;
}

/**
 * A context whose password authentication is disabled and that has an OIDC configuration sends
 * the login page to `/oidc/start` (reference §3.6).
 */
export function forcedOidc(ctx: RequestContext): { logoutUrl: string | null } | null {
  const oidc = oidcConfig(ctx.services.config, ctx.instance.context);
  if (!oidc || !ctx.contextConfig.disablePasswordAuthentication) return null;
  return { logoutUrl: oidc.logoutUrl ?? null };
}

/** The `logout_url` of the context's OIDC configuration: a logout then sets the `logout=1` cookie. */
export function oidcLogoutUrl(ctx: RequestContext): string | null {
  return oidcConfig(ctx.services.config, ctx.instance.context)?.logoutUrl ?? null;
}

// ---------------------------------------------------------------------------------------------
// Passphrase login (§3.7)

export interface LoginForm {
  passphrase?: string;
  redirect?: string;
  'long-run-session'?: string;
  'trusted-device-token'?: string;
  email_verified_code?: string;
}

export type PasswordLoginOutcome =
  | { kind: 'loggedIn'; redirect: string; cookie: string | null }
  | { kind: 'twoFactor'; redirect: string }
  | { kind: 'wrongPassphrase' };

function uaParts(req: Request): { os: string; browser: string } {
  const ua = req.headers['user-agent'] ?? '';
  return { os: osOf(ua), browser: browserOf(ua) };
}

/** A trusted-device token for this browser (bound to the domain and the User-Agent's OS and browser). */
export function trustedDeviceToken(ctx: RequestContext, instance: Instance): string {
  const { os, browser } = uaParts(ctx.req);
  return createTrustedDeviceToken(sessionSecretKey(instance.sessionSecret), instance.domain, os, browser, ctx.now);
}

function trustedDeviceValid(ctx: RequestContext, token: unknown): boolean {
  if (typeof token !== 'string' || token === '') return false;
  const { os, browser } = uaParts(ctx.req);
  return verifyTrustedDeviceToken(sessionSecretKey(ctx.instance.sessionSecret), token, ctx.instance.domain, os, browser);
}

/**
 * A legacy instance (stored iterations 0: the passphrase was never hashed on the client side)
 * gets the client-side derivation, the vault keys and a new hash after a successful login, as the
 * reference's migration does. The session secret is kept (nobody is logged out).
 */
async function migrateLegacyPassphrase(ctx: RequestContext, instance: Instance, passphrase: string): Promise<Instance> {
  const prepared = await preparePassphrase(instance, { passphrase, iterations: DEFAULT_ITERATIONS, clearText: true });
  const { sessionSecret: _secret, securityStamp: _stamp, ...patch } = prepared.patch;
  return (await updateInstance(ctx.services.db, instance.id, patch, ctx.now)) ?? instance;
}

/** POST /auth/login once the CSRF token and the onboarding are checked. */
export async function passwordLogin(ctx: RequestContext, form: LoginForm, redirectValue: string | undefined): Promise<PasswordLoginOutcome> {
  const { services, now } = ctx;
  let instance = ctx.instance;
  const redirect = await loginRedirect(ctx, redirectValue);
  if (await ctx.auth.session()) return { kind: 'loggedIn', redirect, cookie: null };
  const passphrase = form.passphrase;
  if (typeof passphrase !== 'string' || !(await passphraseMatches(services, instance, passphrase))) {
    await countFailedLogin(services, instance, now);
    return { kind: 'wrongPassphrase' };
  }
  if (instance.passphraseKdfIterations === 0) instance = await migrateLegacyPassphrase(ctx, instance, passphrase);
  const longRun = isTrue(form['long-run-session']);
  if (
    twoFactorActive(instance) &&
    !trustedDeviceValid(ctx, form['trusted-device-token']) &&
    !(await emailVerifiedCodeValid(services, instance, form.email_verified_code, now))
  ) {
    const token = await sendTwoFactorPasscode(services, instance, now);
    const params = new URLSearchParams();
    params.set('long_run_session', String(longRun));
    if (redirectValue) params.set('redirect', redirectValue);
    params.set('two_factor_token', token);
    return { kind: 'twoFactor', redirect: `${ctx.baseUrl}/auth/twofactor?${params.toString()}` };
  }
  const cookie = await openLoginSession(ctx, instance, redirect, longRun, 'password');
  return { kind: 'loggedIn', redirect, cookie };
}

// ---------------------------------------------------------------------------------------------
// Two-factor step (§3.8)

export interface TwoFactorForm {
  'two-factor-token'?: string;
  'two-factor-passcode'?: string;
  'two-factor-generate-trusted-device-token'?: string;
  redirect?: string;
  confirm?: string;
  state?: string;
  client_id?: string;
}

export type TwoFactorOutcome =
  | { kind: 'ok'; redirect: string; cookie: string | null; trustedDeviceToken?: string; jsonOnly: boolean }
  | { kind: 'wrong'; message: string; token: string };

/**
 * Counts a failed passcode against the `two-factor` limit (10 per 5 minutes). Over it, the
 * `two-factor-generation` counter (20 per hour) is checked: over that one the instance is blocked
 * (`LOGIN_FAILED`); otherwise the `two-factor` counter is reset and a new passcode is mailed.
 * Answers the new token when one was mailed.
 */
async function countFailedPasscode(ctx: RequestContext): Promise<string | null> {
  const { services, instance, now } = ctx;
  const tf = RATE_LIMITS['two-factor'];
  const count = await hitRateLimit(services.db, instance.id, 'two-factor', tf.windowMs, now);
  if (rateLimitState(count, tf.limit) === 'ok') return null;
  const gen = RATE_LIMITS['two-factor-generation'];
  const generated = await hitRateLimit(services.db, instance.id, 'two-factor-generation', gen.windowMs, now);
  if (rateLimitState(generated, gen.limit) !== 'ok') {
    await updateInstance(services.db, instance.id, { blocked: true, blockingReason: 'LOGIN_FAILED' }, now);
    ctx.logger.warn({ nspace: 'loginaudit' }, 'instance blocked: too many two-factor passcodes generated');
    return null;
  }
  await resetRateLimit(services.db, instance.id, 'two-factor');
  return sendTwoFactorPasscode(services, instance, now);
}

export async function submitTwoFactor(ctx: RequestContext, form: TwoFactorForm, longRunQuery: unknown): Promise<TwoFactorOutcome> {
  const { instance, now } = ctx;
  if (!twoFactorActive(instance)) throw plainError(401, 'Two-factor authentication by mail is not enabled on this instance');
  const redirect = await loginRedirect(ctx, formOrQuery(ctx, form as Record<string, unknown>, 'redirect'));
  const token = form['two-factor-token'] ?? '';
  if (!twoFactorPairValid(instance, token, form['two-factor-passcode'], now)) {
    const fresh = await countFailedPasscode(ctx);
    return { kind: 'wrong', message: loginMessage(instance, fresh ? 'newPasscodeSent' : 'wrongPasscode'), token: fresh ?? token };
  }
  if (isTrue(form.confirm)) return { kind: 'ok', redirect, cookie: null, jsonOnly: false };
  if (form.client_id) return { kind: 'ok', redirect, cookie: null, jsonOnly: true };
  const cookie = await openLoginSession(ctx, instance, redirect, isTrue(longRunQuery), 'two_factor');
  const trusted = isTrue(form['two-factor-generate-trusted-device-token']) ? trustedDeviceToken(ctx, instance) : undefined;
  return { kind: 'ok', redirect, cookie, trustedDeviceToken: trusted, jsonOnly: false };
}

// ---------------------------------------------------------------------------------------------
// Magic links (§3.10)

/** Counts a magic-link request or an invalid magic code; 429 over the limit (30 per hour). */
async function countMagicLink(ctx: RequestContext): Promise<void> {
  const { limit, windowMs } = RATE_LIMITS['magic-link'];
  const count = await hitRateLimit(ctx.services.db, ctx.instance.id, 'magic-link', windowMs, ctx.now);
  if (rateLimitState(count, limit) !== 'ok') throw negotiatedError(429, 'Too many requests');
}

/** POST /auth/magic_link once the CSRF token is checked: creates a code and mails the link. */
export async function sendMagicLink(ctx: RequestContext, redirect: string | undefined): Promise<void> {
  const { services, instance, now } = ctx;
  await countMagicLink(ctx);
  if (!instance.magicLink) throw jsonApiError(403, 'magic link is not available for this instance');
  const code = randomAlnum(32);
  await putCode(services.db, instance.id, 'magic_link', code, {}, CODE_TTL_MS.magic_link, now);
  const params = new URLSearchParams({ code });
  if (redirect) params.set('redirect', redirect);
  await services.sendMail({
    instance,
    template: 'magic_link',
    values: { MagicLink: `${ctx.baseUrl}/auth/magic_link?${params.toString()}`, PublicName: await publicNameOf(services, instance), BaseURL: ctx.baseUrl },
    mode: 'noreply',
  });
}

/**
 * Checks a magic code (not consumed: it stays valid for its 15 minutes). An invalid one counts
 * against the `magic-link` limit (429 over it) and answers false.
 */
export async function magicCodeValid(ctx: RequestContext, code: string | undefined): Promise<boolean> {
  const ok = typeof code === 'string' && code !== '' && (await getCode(ctx.services.db, ctx.instance.id, 'magic_link', code, ctx.now)) !== null;
  if (!ok) await countMagicLink(ctx);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Passphrase reset, renew, hint (§3.19)

function resetValidAfter(ctx: RequestContext): number {
  return ctx.now - ctx.services.config.passwordResetIntervalMs;
}

/**
 * POST /auth/passphrase_reset once the CSRF token is checked: a new reset token and its mail,
 * unless the instance has no passphrase or a token is still valid (silently nothing). The current
 * session, if any, is logged out: answers the Set-Cookie header that clears it.
 */
export async function requestPassphraseReset(ctx: RequestContext, from: string | undefined): Promise<string | null> {
  const { services, instance, now } = ctx;
  if (instance.passphraseHash) {
    const token = randomHex(16);
    const updated = await setPassphraseResetTokenIfNone(services.db, instance.id, token, resetValidAfter(ctx), now);
    if (updated) {
      const params = new URLSearchParams({ token });
      if (from) params.set('from', from);
      await services.sendMail({
        instance: updated,
        template: 'passphrase_reset',
        values: { PassphraseResetLink: `${ctx.baseUrl}/auth/passphrase_renew?${params.toString()}`, PublicName: await publicNameOf(services, instance), BaseURL: ctx.baseUrl },
        mode: 'noreply',
      });
    }
  }
  const session = await ctx.auth.session();
  if (!session) return null;
  return closeSession(services.db, services.config, instance, session.id);
}

export type ResetTokenCheck = 'ok' | 'invalid' | 'mismatch';

/**
 * A reset token from a link or a form: `invalid` when it is not hexadecimal, when no reset was
 * requested or when it expired; `mismatch` when it is not the instance's one.
 */
export function checkResetToken(ctx: RequestContext, token: unknown): ResetTokenCheck {
  const { instance } = ctx;
  if (typeof token !== 'string' || token === '' || token.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(token)) return 'invalid';
  if (!instance.passphraseResetToken || instance.passphraseResetAt === null || instance.passphraseResetAt <= resetValidAfter(ctx)) return 'invalid';
  const given = Buffer.from(token, 'hex');
  const stored = Buffer.from(instance.passphraseResetToken, 'hex');
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return 'mismatch';
  return 'ok';
}

export interface RenewForm {
  passphrase_reset_token?: string;
  passphrase?: string;
  iterations?: string;
  key?: string;
  public_key?: string;
  private_key?: string;
  hint?: string;
  from?: string;
}

/** Where the browser goes after a renewal: the login page, or the settings app's email page. */
export function afterRenewUrl(ctx: RequestContext, from: string | undefined): string {
  if (from === 'settings') return appUrl(ctx.services.config, ctx.instance.domain, 'settings', { path: '/', fragment: '/profile/email' });
  return `${ctx.baseUrl}/auth/login`;
}

/**
 * POST /auth/passphrase_renew once the CSRF token and the reset token are checked: stores the new
 * passphrase (rotating the session secret), the vault keys and the hint, and clears the token.
 */
export async function renewPassphrase(ctx: RequestContext, form: RenewForm): Promise<void> {
  const { services, instance, now } = ctx;
  const passphrase = form.passphrase ?? '';
  if (passphrase === '') throw jsonApiError(400, 'Missing new passphrase');
  const rawIterations = (form.iterations ?? '').trim();
  let iterations = 0;
  if (rawIterations !== '') {
    if (!/^\d{1,9}$/.test(rawIterations)) throw jsonApiError(422, 'The KdfIterations number is invalid', { title: 'Invalid Parameter', parameter: 'KdfIterations' });
    iterations = Number(rawIterations);
  }
  checkKdfIterations(iterations, { allowZero: true });
  const key = form.key || null;
  const prepared = await preparePassphrase(instance, {
    passphrase,
    iterations,
    key,
    publicKey: form.public_key || null,
    privateKey: form.private_key || null,
    clearText: isClearTextFallback(iterations, key),
  });
  const updated = await updateInstanceIfResetToken(services.db, instance.id, instance.passphraseResetToken!, resetValidAfter(ctx), {
    ...prepared.patch,
    passphraseHint: form.hint ? form.hint : null,
    passphraseResetToken: null,
    passphraseResetAt: null,
  }, now);
  if (!updated) throw plainError(400, 'invalid_token');
  ctx.logger.info({ nspace: 'loginaudit' }, 'passphrase renewed after a reset');
}

/** POST /auth/hint: mails the hint when there is one, at most 2 per hour (silently skipped above). */
export async function sendHint(ctx: RequestContext): Promise<void> {
  const { services, instance, now } = ctx;
  const { limit, windowMs } = RATE_LIMITS['send-hint'];
  const count = await hitRateLimit(services.db, instance.id, 'send-hint', windowMs, now);
  if (rateLimitState(count, limit) !== 'ok') return;
  if (!instance.passphraseHash || !instance.passphraseHint) return;
  await services.sendMail({
    instance,
    template: 'passphrase_hint',
    values: {
      Hint: instance.passphraseHint,
      PublicName: await publicNameOf(services, instance),
      BaseURL: ctx.baseUrl,
      CozyPass: appUrl(services.config, instance.domain, 'passwords'),
    },
    mode: 'noreply',
  });
}
