/**
 * Two-factor authentication by mail, trusted devices, activation codes and the
 * confirm-flagship code (§0.7, §0.9, §0.10).
 *
 * Every `sessionSecret` parameter is the effective session key (`"2:"` + instance
 * `session_secret` bytes, see `sessionSecretKey`). Rotating the session secret (any
 * passphrase change) therefore invalidates all of these tokens.
 *
 * Tokens are authenticated messages (mac.ts): base64url without padding of
 * `[8-byte ts][value][HMAC-SHA256(name ‖ additional data ‖ ts ‖ value)]`. The MACs
 * themselves never expire; passcodes are TOTP (RFC 6238) whose secret is the raw
 * 32-byte HKDF output (the reference passes it base32-encoded to its TOTP library,
 * which decodes it back: same key bytes).
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { decodeAuthMessage, encodeAuthMessage } from './mac.js';
import { nowMs, type Now } from './time.js';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  /** Time step in seconds (default 30). */
  period?: number;
  /** Number of digits, 1–10 (default 6). */
  digits?: number;
  /** HMAC hash (default 'sha1', the RFC 4226 default). */
  algorithm?: TotpAlgorithm;
  /** The instant (Date or ms); default now. */
  at?: Now;
}

function checkTotpOptions(period: number, digits: number): void {
  if (!Number.isInteger(period) || period < 1) throw new RangeError('TOTP period must be a positive integer');
  if (!Number.isInteger(digits) || digits < 1 || digits > 10) throw new RangeError('TOTP digits must be in 1..10');
}

/** HOTP (RFC 4226) for an explicit counter. */
export function hotp(secret: Uint8Array, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('HOTP counter must be a non-negative integer');
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** TOTP (RFC 6238): HOTP over floor(unixSeconds / period). */
export function totp(secret: Uint8Array, options: TotpOptions = {}): string {
  const period = options.period ?? 30;
  const digits = options.digits ?? 6;
  checkTotpOptions(period, digits);
  const counter = Math.floor(Math.floor(nowMs(options.at) / 1000) / period);
  return hotp(secret, counter, digits, options.algorithm ?? 'sha1');
}

/**
 * Checks a TOTP code at `at` ± `skew` periods (both directions, like the reference's
 * TOTP library). Surrounding whitespace is ignored; the comparison is constant-time per
 * candidate. Never throws on a bad code (false).
 */
export function verifyTotp(secret: Uint8Array, code: unknown, options: TotpOptions & { skew?: number } = {}): boolean {
  const period = options.period ?? 30;
  const digits = options.digits ?? 6;
  const skew = options.skew ?? 0;
  checkTotpOptions(period, digits);
  if (!Number.isInteger(skew) || skew < 0 || skew > 1000) throw new RangeError('TOTP skew must be an integer in 0..1000');
  if (typeof code !== 'string') return false;
  const given = code.trim();
  if (given.length !== digits || !/^[0-9]+$/.test(given)) return false;
  const givenBuf = Buffer.from(given, 'ascii');
  const counter = Math.floor(Math.floor(nowMs(options.at) / 1000) / period);
  let ok = false;
  for (let i = -skew; i <= skew; i++) {
    const c = counter + i;
    if (c < 0) continue;
    const expected = Buffer.from(hotp(secret, c, digits, options.algorithm ?? 'sha1'), 'ascii');
    // No early exit: every candidate is computed and compared.
    if (timingSafeEqual(givenBuf, expected)) ok = true;
  }
  return ok;
}

function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  // An empty salt is equivalent to the RFC 5869 default (HashLen zero bytes).
  return Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info, 'utf8'), 32));
}

const SALT_LENGTH = 32;
const NO_SALT = Buffer.alloc(0);

// --- 2FA by mail -----------------------------------------------------------------

const TWO_FACTOR_MAC_NAME = 'totp';
/** 2FA passcode: SHA-256, 6 digits, 60 s period, ±14 periods (≈ 15 min). */
export const TWO_FACTOR_TOTP = Object.freeze({ period: 60, digits: 6, algorithm: 'sha256' as const, skew: 14 });

function twoFactorSecret(sessionSecret: Uint8Array, salt: Uint8Array): Buffer {
  return hkdf32(sessionSecret, salt, '');
}

/**
 * A fresh 2FA token (96 chars: [ts][32-byte salt][MAC 'totp']) and its 6-digit passcode.
 * The raw 96-char string is what `/auth/*` bodies carry; PUT /settings/passphrase carries
 * standard base64 of that string (the caller converts).
 */
export function createTwoFactorToken(sessionSecret: Uint8Array, now?: Now): { token: string; passcode: string } {
  const salt = randomBytes(SALT_LENGTH);
  const token = encodeAuthMessage(sessionSecret, TWO_FACTOR_MAC_NAME, salt, { now });
  const passcode = totp(twoFactorSecret(sessionSecret, salt), { ...TWO_FACTOR_TOTP, at: now });
  return { token, passcode };
}

function saltFromToken(sessionSecret: Uint8Array, name: string, token: unknown): Buffer | null {
  const msg = decodeAuthMessage(sessionSecret, name, token);
  if (!msg || msg.value.length !== SALT_LENGTH) return null;
  return msg.value;
}

/** True when the token's MAC is valid AND the passcode matches at `now` ± 14 minutes. Never throws. */
export function verifyTwoFactor(sessionSecret: Uint8Array, token: unknown, passcode: unknown, now?: Now): boolean {
  try {
    const salt = saltFromToken(sessionSecret, TWO_FACTOR_MAC_NAME, token);
    if (!salt) return false;
    return verifyTotp(twoFactorSecret(sessionSecret, salt), passcode, { ...TWO_FACTOR_TOTP, at: now });
  } catch {
    return false;
  }
}

// --- Trusted device --------------------------------------------------------------

const TRUSTED_DEVICE_MAC_NAME = 'trusted-device';

/**
 * A trusted-device token (54 chars, empty value, never expires by itself) bound to the
 * instance domain and the User-Agent's OS and browser names (additional data =
 * domain + os + browser, concatenated without separator).
 */
export function createTrustedDeviceToken(
  sessionSecret: Uint8Array,
  domain: string,
  os: string,
  browser: string,
  now?: Now,
): string {
  return encodeAuthMessage(sessionSecret, TRUSTED_DEVICE_MAC_NAME, Buffer.alloc(0), {
    additionalData: domain + os + browser,
    now,
  });
}

/** Never throws. */
export function verifyTrustedDeviceToken(
  sessionSecret: Uint8Array,
  token: unknown,
  domain: string,
  os: string,
  browser: string,
): boolean {
  if (typeof domain !== 'string' || typeof os !== 'string' || typeof browser !== 'string') return false;
  const msg = decodeAuthMessage(sessionSecret, TRUSTED_DEVICE_MAC_NAME, token, {
    additionalData: domain + os + browser,
  });
  return msg !== null && msg.value.length === 0;
}

// --- 2FA activation code -----------------------------------------------------------

function activationSecret(sessionSecret: Uint8Array, email: string): Buffer {
  return hkdf32(sessionSecret, NO_SALT, email);
}

/** 6-digit activation code (mail `two_factor_mail_confirmation`), same TOTP options as 2FA. */
export function activationCode(sessionSecret: Uint8Array, email: string, now?: Now): string {
  return totp(activationSecret(sessionSecret, email), { ...TWO_FACTOR_TOTP, at: now });
}

/** Never throws. `email` is the current settings email (the code is bound to it). */
export function verifyActivationCode(sessionSecret: Uint8Array, email: string, code: unknown, now?: Now): boolean {
  try {
    if (typeof email !== 'string') return false;
    return verifyTotp(activationSecret(sessionSecret, email), code, { ...TWO_FACTOR_TOTP, at: now });
  } catch {
    return false;
  }
}

// --- Confirm flagship ---------------------------------------------------------------

const CONFIRM_FLAGSHIP_MAC_NAME = 'confirm-flagship';
/** Confirm-flagship code: SHA-256, 6 digits, 30 s period, ±10 periods (≈ 5 min). */
export const CONFIRM_FLAGSHIP_TOTP = Object.freeze({ period: 30, digits: 6, algorithm: 'sha256' as const, skew: 10 });

function confirmFlagshipSecret(sessionSecret: Uint8Array, clientId: string, salt: Uint8Array): Buffer {
  const ikm = Buffer.concat([Buffer.from(clientId + '-', 'utf8'), sessionSecret]);
  return hkdf32(ikm, salt, '');
}

/** Token (96 chars, MAC 'confirm-flagship') + 6-digit code, bound to the OAuth client id. */
export function createConfirmFlagship(
  sessionSecret: Uint8Array,
  clientId: string,
  now?: Now,
): { token: string; code: string } {
  if (typeof clientId !== 'string' || clientId === '') throw new TypeError('clientId is required');
  const salt = randomBytes(SALT_LENGTH);
  const token = encodeAuthMessage(sessionSecret, CONFIRM_FLAGSHIP_MAC_NAME, salt, { now });
  const code = totp(confirmFlagshipSecret(sessionSecret, clientId, salt), { ...CONFIRM_FLAGSHIP_TOTP, at: now });
  return { token, code };
}

/** Never throws. */
export function verifyConfirmFlagship(
  sessionSecret: Uint8Array,
  clientId: string,
  token: unknown,
  code: unknown,
  now?: Now,
): boolean {
  try {
    if (typeof clientId !== 'string' || clientId === '') return false;
    const salt = saltFromToken(sessionSecret, CONFIRM_FLAGSHIP_MAC_NAME, token);
    if (!salt) return false;
    return verifyTotp(confirmFlagshipSecret(sessionSecret, clientId, salt), code, { ...CONFIRM_FLAGSHIP_TOTP, at: now });
  } catch {
    return false;
  }
}
