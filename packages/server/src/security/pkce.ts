/** PKCE (RFC 7636), S256 only, as sent by the real clients (32-byte verifier, base64url). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.1: 43–128 characters of [A-Za-z0-9-._~]. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** base64url(SHA-256(ascii(verifier))) without padding. */
export function pkceChallengeS256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/**
 * True when `challenge` = base64url(SHA-256(verifier)). The verifier must follow RFC 7636
 * (43–128 unreserved characters). Constant-time comparison; never throws.
 */
export function verifyPkceS256(verifier: unknown, challenge: unknown): boolean {
  if (typeof verifier !== 'string' || typeof challenge !== 'string' || !VERIFIER.test(verifier)) return false;
  const expected = Buffer.from(pkceChallengeS256(verifier), 'ascii');
  const given = Buffer.from(challenge, 'utf8');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

/** A fresh pair: 32 random bytes as a 43-char base64url verifier and its S256 challenge. */
export function createPkcePair(): { verifier: string; challenge: string; method: 'S256' } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallengeS256(verifier), method: 'S256' };
}
