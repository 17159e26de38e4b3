/** Random identifiers and secrets, all from node's CSPRNG. */
import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// Largest multiple of 62 not above 256: bytes >= 248 are rejected, so `byte % 62` is uniform.
const ALNUM_LIMIT = 256 - (256 % ALNUM.length);

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer`);
}

/** `length` characters drawn uniformly from [A-Za-z0-9] (rejection sampling, no modulo bias). */
export function randomAlnum(length: number): string {
  checkCount(length, 'length');
  let out = '';
  while (out.length < length) {
    // 25% headroom covers the ~3% rejection rate in one draw nearly always.
    const buf = randomBytes(Math.ceil((length - out.length) * 1.25) + 4);
    for (const byte of buf) {
      if (byte < ALNUM_LIMIT) {
        out += ALNUM[byte % ALNUM.length];
        if (out.length === length) break;
      }
    }
  }
  return out;
}

/** `bytes` random bytes as lowercase hex (2 × bytes characters). */
export function randomHex(bytes: number): string {
  checkCount(bytes, 'bytes');
  return randomBytes(bytes).toString('hex');
}

/** `bytes` random bytes as base64url without padding. */
export function randomBase64Url(bytes: number): string {
  checkCount(bytes, 'bytes');
  return randomBytes(bytes).toString('base64url');
}

/** A CouchDB-style document id: 16 random bytes as 32 lowercase hex characters. */
export function newId(): string {
  return randomHex(16);
}

/** A fresh secret of `bytes` random bytes (default 64, the size of `session_secret`). */
export function newSecret(bytes = 64): Buffer {
  checkCount(bytes, 'bytes');
  return randomBytes(bytes);
}
