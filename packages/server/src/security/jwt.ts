/**
 * JWTs (§0.4): always HS512, `aud` serialized as a one-element array, `iss` = the
 * instance domain, `iat` in Unix seconds and **no `exp`**: the lifetime is computed
 * server-side from `iat` and the audience.
 *
 * Which instance secret signs which audience (see `JWT_SIGNING_KEY` / `pickJwtKey`):
 *   - app, konn                            → session secret: `"2:"` + instance `session_secret`
 *                                            bytes (`sessionSecretKey()` in cookies.ts builds it),
 *                                            so a passphrase change (new session_secret) kills them;
 *   - cli                                  → instance `cli_secret`;
 *   - access, refresh, registration, share → instance `oauth_secret` (survive passphrase changes).
 *
 * Lifetimes (`tokenLifetimeSeconds`): app 24 h (30 min without `session_id`), konn 30 min,
 * cli 30 min, access 7 days, refresh / registration / share never expire. A token is
 * expired when now > iat + lifetime.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { nowMs, nowSeconds, type Now } from './time.js';

export const AUDIENCES = ['app', 'konn', 'cli', 'access', 'refresh', 'registration', 'share'] as const;
export type Audience = (typeof AUDIENCES)[number];

export function isAudience(value: unknown): value is Audience {
  return typeof value === 'string' && (AUDIENCES as readonly string[]).includes(value);
}

export type JwtKeyKind = 'session' | 'cli' | 'oauth';

/** The instance secret that signs (and verifies) each audience. */
export const JWT_SIGNING_KEY: Readonly<Record<Audience, JwtKeyKind>> = Object.freeze({
  app: 'session',
  konn: 'session',
  cli: 'cli',
  access: 'oauth',
  refresh: 'oauth',
  registration: 'oauth',
  share: 'oauth',
});

/** Picks the key for an audience among the instance secrets (session = the "2:"-prefixed key). */
export function pickJwtKey(
  audience: Audience,
  keys: { session: Uint8Array; cli: Uint8Array; oauth: Uint8Array },
): Uint8Array {
  return keys[JWT_SIGNING_KEY[audience]];
}

export interface JwtClaimsInput {
  aud: Audience;
  sub?: string;
  iss: string;
  scope?: string;
  session_id?: string;
  sid?: string;
}

export interface JwtClaims extends JwtClaimsInput {
  /** Issued-at, Unix seconds (absent only on foreign never-expiring tokens). */
  iat?: number;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Server-side lifetime in seconds for a token, or null when it never expires. */
export function tokenLifetimeSeconds(aud: Audience, claims: { session_id?: string | undefined } = {}): number | null {
  switch (aud) {
    case 'app':
      return claims.session_id ? DAY : 30 * MINUTE;
    case 'konn':
    case 'cli':
      return 30 * MINUTE;
    case 'access':
      return 7 * DAY;
    default:
      return null;
  }
}

/**
 * Signs a token. Empty optional claims are omitted (like the reference's `omitempty`).
 * `now` (Date or ms) sets `iat`.
 */
export async function signJwt(key: Uint8Array, claims: JwtClaimsInput, now?: Now): Promise<string> {
  if (!isAudience(claims.aud)) throw new TypeError(`unknown JWT audience: ${String(claims.aud)}`);
  if (typeof claims.iss !== 'string' || claims.iss === '') throw new TypeError('JWT issuer is required');
  const payload: Record<string, string> = {};
  if (claims.scope) payload.scope = claims.scope;
  if (claims.session_id) payload.session_id = claims.session_id;
  if (claims.sid) payload.sid = claims.sid;
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
    .setAudience([claims.aud])
    .setIssuer(claims.iss)
    .setIssuedAt(nowSeconds(now));
  if (claims.sub) jwt.setSubject(claims.sub);
  return jwt.sign(key);
}

export interface VerifyJwtOptions {
  /** Accepted audience(s); the token's first `aud` element must be one of them. */
  audience: Audience | readonly Audience[];
  /** Accepted issuers: the instance domain and, when set, its old domain. */
  issuers: readonly string[];
  now?: Now;
}

export type VerifyJwtResult = { ok: true; claims: JwtClaims } | { ok: false; reason: 'invalid' | 'expired' };

function firstAudience(aud: unknown): string | null {
  if (typeof aud === 'string') return aud;
  if (Array.isArray(aud) && typeof aud[0] === 'string') return aud[0];
  return null;
}

function optionalString(v: unknown): string | undefined | false {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : false;
}

/**
 * The signature check of an HS512 JWS in compact form, with node:crypto's synchronous HMAC: the
 * WebCrypto verification (jose's jwtVerify) runs as an asynchronous job whose scheduling costs
 * more than the HMAC itself, and every authenticated request verifies one token. The protected
 * header must say `alg: HS512` and nothing the verifier does not understand (`crit`, `b64`).
 * Answers the payload, or null.
 */
function verifyHs512(key: Uint8Array, token: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, sig] = parts as [string, string, string];
  if (!BASE64URL.test(h) || !BASE64URL.test(p) || !BASE64URL.test(sig)) return null;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) return null;
  const hdr = header as Record<string, unknown>;
  if (hdr.alg !== 'HS512' || 'crit' in hdr || 'b64' in hdr) return null;
  const expected = createHmac('sha512', key).update(`${h}.${p}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const payload = decodeJwt(token) as Record<string, unknown>;
  return payload;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Verifies signature (HS512 only), audience, issuer and server-side lifetime. Never
 * throws: every failure is `{ ok: false, reason: 'invalid' }`, except an elapsed
 * lifetime (or an elapsed `exp`, should a foreign token carry one) → 'expired'.
 */
export async function verifyJwt(key: Uint8Array, token: string, options: VerifyJwtOptions): Promise<VerifyJwtResult> {
  const invalid = { ok: false, reason: 'invalid' } as const;
  try {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) return invalid;
    const nowMillis = nowMs(options.now);
    const payload = verifyHs512(key, token);
    if (!payload) return invalid;
    // Registered time claims, should a foreign token carry them (Hearth emits neither).
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || nowMillis < payload.nbf * 1000)) return invalid;
    if (payload.exp !== undefined) {
      if (typeof payload.exp !== 'number') return invalid;
      if (nowMillis >= payload.exp * 1000) return { ok: false, reason: 'expired' };
    }
    const accepted: readonly Audience[] = typeof options.audience === 'string' ? [options.audience] : options.audience;
    const aud = firstAudience(payload.aud);
    if (!isAudience(aud) || !accepted.includes(aud)) return invalid;
    if (typeof payload.iss !== 'string' || !options.issuers.includes(payload.iss)) return invalid;
    const sub = optionalString(payload.sub);
    const scope = optionalString(payload.scope);
    const sessionId = optionalString(payload.session_id);
    const sid = optionalString(payload.sid);
    if (sub === false || scope === false || sessionId === false || sid === false) return invalid;
    const iat = payload.iat;
    if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) return invalid;
    const lifetime = tokenLifetimeSeconds(aud, { session_id: sessionId });
    if (lifetime !== null) {
      if (iat === undefined) return invalid;
      if (nowMillis > (iat + lifetime) * 1000) return { ok: false, reason: 'expired' };
    }
    const claims: JwtClaims = { aud, iss: payload.iss };
    if (sub !== undefined) claims.sub = sub;
    if (scope !== undefined) claims.scope = scope;
    if (sessionId !== undefined) claims.session_id = sessionId;
    if (sid !== undefined) claims.sid = sid;
    if (iat !== undefined) claims.iat = iat;
    return { ok: true, claims };
  } catch {
    return invalid;
  }
}

export interface PeekedJwt {
  /** First element of `aud` (not checked against the known audiences). */
  aud: string | null;
  iss: string | null;
  sub: string | null;
}

/**
 * UNVERIFIED decode of aud/iss/sub, only to route the right key before `verifyJwt`.
 * Returns null for anything that is not a structurally valid JWT; never throws.
 */
export function peekJwt(token: unknown): PeekedJwt | null {
  try {
    if (typeof token !== 'string' || token.length > 8192) return null;
    const payload = decodeJwt(token);
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return { aud: firstAudience(payload.aud), iss: str(payload.iss), sub: str(payload.sub) };
  } catch {
    return null;
  }
}
