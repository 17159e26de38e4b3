// The credential checks shared by the flagship login routes (reference §0.7, §0.8, §3.5, §3.10,
// §3.11, §3.15): the passphrase with the `auth` counter (which blocks the instance), two-factor
// authentication by mail, email-verified codes, OAuth client credentials, session codes.
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { Logger } from '../log.js';
import type { Services } from '../services.js';
import { plainError } from '../http/errors.js';
import { CODE_TTL_MS, getCode, putCode } from '../repositories/codes.js';
import { updateInstance, type Instance } from '../repositories/instances.js';
import { getOAuthClient, type OAuthClient } from '../repositories/oauth-clients.js';
import { hitRateLimit, rateLimitState, RATE_LIMITS } from '../repositories/rate-limits.js';
import { getSettings } from '../repositories/settings.js';
import { createTwoFactorToken, hashPassphrase, randomAlnum, sessionSecretKey, verifyPassphrase, verifyTwoFactor } from '../security/index.js';

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
  invalidConfirmCode: {
    en: 'The code is invalid or has expired',
    fr: 'Le code est invalide ou a expiré',
  },
} as const satisfies Record<string, Record<Lang, string>>;

/** A message of the flagship routes in the instance's language (English unless French). */
export function message(instance: Pick<Instance, 'locale'>, key: keyof typeof MESSAGES): string {
  const lang: Lang = instance.locale.toLowerCase().startsWith('fr') ? 'fr' : 'en';
  return MESSAGES[key][lang];
}

/** The owner's public name, else the first label of the domain (reference §1.1). */
export async function publicNameOf(services: Services, instance: Instance): Promise<string> {
  const settings = await getSettings(services.db, instance.id);
  const name = settings?.doc.public_name;
  if (typeof name === 'string' && name.trim() !== '') return name;
  return instance.domain.split('.')[0]!.replace(/:\d+$/, '');
}

/**
 * Counts a failed passphrase check against the `auth` limit (1000 per hour). The hit that goes
 * over the limit blocks the instance (`LOGIN_FAILED`), so every later `/auth` request answers 503.
 */
export async function countFailedLogin(services: Services, instance: Instance, now: number): Promise<void> {
  const { limit, windowMs } = RATE_LIMITS.auth;
  const count = await hitRateLimit(services.db, instance.id, 'auth', windowMs, now);
  if (rateLimitState(count, limit) === 'reached') {
    await updateInstance(services.db, instance.id, { blocked: true, blockingReason: 'LOGIN_FAILED' }, now);
    services.logger.warn({ instance: instance.domain }, 'instance blocked: too many failed login attempts');
  }
}

/** Checks the hashed passphrase (never in a transaction: scrypt is slow). A stored hash with old
 * parameters is replaced after a success. Does not count failures. */
export async function passphraseMatches(services: Services, instance: Instance, passphrase: unknown): Promise<boolean> {
  if (typeof passphrase !== 'string' || passphrase === '' || !instance.passphraseHash) return false;
  const result = await verifyPassphrase(passphrase, instance.passphraseHash);
  if (result.ok && result.needsRehash) {
    const rehashed = await hashPassphrase(passphrase);
    await updateInstance(services.db, instance.id, { passphraseHash: rehashed });
  }
  return result.ok;
}

/** passphraseMatches, counting a failure against the `auth` limit. */
export async function checkPassphraseCounted(services: Services, instance: Instance, passphrase: unknown, now: number): Promise<boolean> {
  const ok = await passphraseMatches(services, instance, passphrase);
  if (!ok) await countFailedLogin(services, instance, now);
  return ok;
}

export function twoFactorActive(instance: Instance): boolean {
  return instance.authMode === 'two_factor_mail';
}

/** Creates a 2FA token and mails its passcode to the owner (template `two_factor`); answers the raw token. */
export async function sendTwoFactorPasscode(services: Services, instance: Instance, now: number): Promise<string> {
  const { token, passcode } = createTwoFactorToken(sessionSecretKey(instance.sessionSecret), now);
  await services.sendMail({
    instance,
    template: 'two_factor',
    values: { TwoFactorPasscode: passcode, PublicName: await publicNameOf(services, instance) },
    mode: 'noreply',
  });
  return token;
}

export function twoFactorPairValid(instance: Instance, token: unknown, passcode: unknown, now: number): boolean {
  return verifyTwoFactor(sessionSecretKey(instance.sessionSecret), token, passcode, now);
}

/** A valid (unexpired) email-verified code of the instance; it is not consumed (reference §0.7). */
export async function emailVerifiedCodeValid(services: Services, instance: Instance, code: unknown, now: number): Promise<boolean> {
  if (typeof code !== 'string' || code === '') return false;
  return (await getCode(services.db, instance.id, 'email_verified', code, now)) !== null;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The client with these credentials, else 400 `the client must be registered` / `invalid client_secret`. */
export async function authenticateClient(services: Services, instance: Instance, clientId: unknown, clientSecret: unknown): Promise<OAuthClient> {
  const client = typeof clientId === 'string' && clientId ? await getOAuthClient(services.db, instance.id, clientId) : null;
  if (!client) throw plainError(400, 'the client must be registered');
  if (typeof clientSecret !== 'string' || !sameSecret(clientSecret, client.clientSecret)) throw plainError(400, 'invalid client_secret');
  return client;
}

/** The client IP for the login audit (first X-Forwarded-For value, else the socket address). */
export function clientIp(req: Request): string | null {
  const forwarded = req.headers['x-forwarded-for'];
  const first = typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined;
  return first || req.socket.remoteAddress || null;
}

/**
 * A session code (32 alphanumerics, 7 days, single use: reference §0.9), logged in the
 * `loginaudit` namespace.
 */
export async function issueSessionCode(
  services: Services,
  instance: Instance,
  opts: { now: number; logger: Logger; req: Request; reason: string; clientId?: string },
): Promise<string> {
  const code = randomAlnum(32);
  await putCode(services.db, instance.id, 'session_code', code, { created_at: opts.now, client_id: opts.clientId ?? null }, CODE_TTL_MS.session_code, opts.now);
  opts.logger.info({ nspace: 'loginaudit', ip: clientIp(opts.req), reason: opts.reason, client_id: opts.clientId }, 'session code created');
  return code;
}
