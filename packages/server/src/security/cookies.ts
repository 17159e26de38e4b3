/**
 * Session cookie (§0.5) and Set-Cookie serialization.
 *
 * Cookie value: base64url without padding of
 *   [8-byte big-endian unix ts][session id: 32 hex chars as ASCII][HMAC-SHA256(name ‖ ts ‖ id)]
 * keyed with the session secret ("2:" + instance session_secret bytes, see `sessionSecretKey`).
 * That is 72 bytes, i.e. 96 characters; at most 256 are accepted on decode.
 */
import { decodeAuthMessage, encodeAuthMessage } from './mac.js';
import type { Now } from './time.js';

/** Name of the session cookie: `cozysessid` (nested subdomains) or `sess-<dbprefix>` (flat). */
export function sessionCookieName(flatSubdomains: boolean, dbPrefix: string): string {
  return flatSubdomains ? `sess-${dbPrefix}` : 'cozysessid';
}

/**
 * The effective session key: `"2:"` + the instance `session_secret` bytes (raw bytes,
 * or their standard base64 as stored in JSON). Used for cookies, app/konnector JWTs,
 * 2FA, trusted-device and confirm-flagship tokens.
 */
export function sessionSecretKey(sessionSecret: Uint8Array | string): Buffer {
  const raw = typeof sessionSecret === 'string' ? Buffer.from(sessionSecret, 'base64') : sessionSecret;
  return Buffer.concat([Buffer.from('2:', 'ascii'), raw]);
}

const SESSION_ID = /^[0-9a-fA-F]{32}$/;
export const SESSION_COOKIE_MAX_LENGTH = 256;

/** Encodes the cookie value. Throws a TypeError when `sessionId` is not 32 hex characters. */
export function encodeSessionCookie(name: string, sessionId: string, sessionSecret: Uint8Array, now?: Now): string {
  if (typeof sessionId !== 'string' || !SESSION_ID.test(sessionId)) {
    throw new TypeError('sessionId must be 32 hexadecimal characters');
  }
  return encodeAuthMessage(sessionSecret, name, Buffer.from(sessionId, 'ascii'), {
    now,
    maxLength: SESSION_COOKIE_MAX_LENGTH,
  });
}

/**
 * Verifies and decodes a cookie value: `{ sessionId, issuedAt }` (issuedAt in Unix seconds),
 * or null for anything wrong (length > 256, bad base64, bad MAC, id not 32 hex).
 * Constant-time MAC check; never throws. Session expiry (30 days since last_seen) is
 * the session store's job, not this function's.
 */
export function decodeSessionCookie(
  name: string,
  value: unknown,
  sessionSecret: Uint8Array,
): { sessionId: string; issuedAt: number } | null {
  const msg = decodeAuthMessage(sessionSecret, name, value, { maxLength: SESSION_COOKIE_MAX_LENGTH });
  if (!msg) return null;
  const sessionId = msg.value.toString('latin1');
  if (!SESSION_ID.test(sessionId)) return null;
  return { sessionId, issuedAt: msg.issuedAt };
}

/** Session durations and their cookie Max-Age. */
export const SessionDuration = {
  /** Max-Age=300 (sessions opened from a session_code / OAuth authorize flow). */
  ShortRun: 'ShortRun',
  /** No Max-Age: a browser-session cookie. */
  NormalRun: 'NormalRun',
  /** Max-Age=315360000 (10 years): "stay connected". */
  LongRun: 'LongRun',
} as const;
export type SessionDuration = (typeof SessionDuration)[keyof typeof SessionDuration];

export const SESSION_MAX_AGE: Readonly<Record<SessionDuration, number | undefined>> = Object.freeze({
  ShortRun: 300,
  NormalRun: undefined,
  LongRun: 315_360_000,
});

export function sessionMaxAge(duration: SessionDuration): number | undefined {
  return SESSION_MAX_AGE[duration];
}

/**
 * Cookie domain for an instance: `.` + domain without port. With flat subdomains
 * the cookie is set on the parent domain (`alice.example.net` → `.example.net`).
 */
export function cookieDomain(instanceDomain: string, options: { flatSubdomains?: boolean } = {}): string {
  const colon = instanceDomain.indexOf(':');
  let host = colon >= 0 ? instanceDomain.slice(0, colon) : instanceDomain;
  if (options.flatSubdomains) {
    const dot = host.indexOf('.');
    if (dot >= 0) host = host.slice(dot + 1);
  }
  return '.' + host;
}

// RFC 6265: cookie-name is an RFC 2616 token; cookie-value is cookie-octets.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const ATTR_VALUE = /^[\x20-\x3A\x3C-\x7E]+$/;

export interface SerializeCookieOptions {
  domain?: string;
  path?: string;
  /** Seconds; omitted → session cookie; negative values are written as 0. */
  maxAge?: number;
  httpOnly?: boolean;
  secure: boolean;
  sameSite: 'Lax' | 'Strict';
}

/**
 * A Set-Cookie header value: `name=value; Path=/; Domain=…; Max-Age=…; HttpOnly; Secure; SameSite=…`.
 * Throws a TypeError on an invalid name, value, domain or path (programming errors).
 */
export function serializeCookie(name: string, value: string, options: SerializeCookieOptions): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid cookie name: ${JSON.stringify(name)}`);
  if (!COOKIE_OCTETS.test(value)) throw new TypeError('invalid cookie value');
  const path = options.path ?? '/';
  if (!ATTR_VALUE.test(path)) throw new TypeError('invalid cookie path');
  let out = `${name}=${value}; Path=${path}`;
  if (options.domain !== undefined) {
    if (!ATTR_VALUE.test(options.domain)) throw new TypeError('invalid cookie domain');
    out += `; Domain=${options.domain}`;
  }
  if (options.maxAge !== undefined) {
    if (!Number.isFinite(options.maxAge)) throw new TypeError('invalid cookie Max-Age');
    out += `; Max-Age=${Math.max(0, Math.floor(options.maxAge))}`;
  }
  if (options.httpOnly ?? true) out += '; HttpOnly';
  if (options.secure) out += '; Secure';
  out += `; SameSite=${options.sameSite}`;
  return out;
}

/** The session cookie header: Path=/, HttpOnly, SameSite=Lax, Max-Age from the duration. */
export function serializeSessionCookie(
  name: string,
  value: string,
  options: { domain: string; secure: boolean; duration: SessionDuration },
): string {
  return serializeCookie(name, value, {
    domain: options.domain,
    path: '/',
    maxAge: sessionMaxAge(options.duration),
    httpOnly: true,
    secure: options.secure,
    sameSite: 'Lax',
  });
}

/** Deletion header: `name=; Path=/; Domain=…; Max-Age=0` (+ `; Secure` when asked). */
export function clearCookie(name: string, options: { domain?: string; path?: string; secure?: boolean } = {}): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid cookie name: ${JSON.stringify(name)}`);
  const path = options.path ?? '/';
  if (!ATTR_VALUE.test(path)) throw new TypeError('invalid cookie path');
  let out = `${name}=; Path=${path}`;
  if (options.domain !== undefined) {
    if (!ATTR_VALUE.test(options.domain)) throw new TypeError('invalid cookie domain');
    out += `; Domain=${options.domain}`;
  }
  out += '; Max-Age=0';
  if (options.secure) out += '; Secure';
  return out;
}
