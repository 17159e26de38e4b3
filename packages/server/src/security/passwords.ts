/**
 * Server-side storage of the passphrase hash (§0.6).
 *
 * The server never sees the clear password in the normal flow: it receives the
 * client-side PBKDF2 hash (44 base64 characters) and stores
 * `scrypt$N$r$p$<hex salt>$<hex key>` computed over the UTF-8 bytes of that string,
 * with N=32768, r=8, p=1, a 16-byte random salt and a 32-byte key.
 *
 * scrypt runs on the libuv threadpool through node's async `crypto.scrypt` (never
 * `scryptSync`), under the shared hashing limiter (`configureHashing`).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { runHashing } from './hashing.js';

export const SCRYPT_N = 32768;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
export const SCRYPT_SALT_LENGTH = 16;
export const SCRYPT_KEY_LENGTH = 32;
/** maxmem for the default parameters: 128·N·r = 32 MiB is needed, 64 MiB leaves headroom. */
const DEFAULT_MAXMEM = 64 * 1024 * 1024;
/** Stored hashes needing more memory than this are refused (ok:false) rather than computed. */
const MAX_VERIFY_MAXMEM = 256 * 1024 * 1024;
const MAX_VERIFY_P = 16;
const MAX_BYTES = 1024;

export interface VerifyResult {
  /** The passphrase matches the stored hash. */
  ok: boolean;
  /** Only meaningful when ok: the stored hash uses other parameters and should be replaced by `hashPassphrase(clientHash)`. */
  needsRehash: boolean;
}

function scryptAsync(password: Buffer, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return runHashing(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
      }),
  );
}

/**
 * Hashes the received client-side hash for storage. Returns
 * `scrypt$32768$8$1$<32 hex salt>$<64 hex key>`. Throws a TypeError when `clientHash`
 * is not a string.
 */
export async function hashPassphrase(clientHash: string): Promise<string> {
  if (typeof clientHash !== 'string') throw new TypeError('clientHash must be a string');
  const salt = randomBytes(SCRYPT_SALT_LENGTH);
  const key = await scryptAsync(Buffer.from(clientHash, 'utf8'), salt, SCRYPT_KEY_LENGTH, {
    N: SCRYPT_N,
    r: SCRYPT_R,
    p: SCRYPT_P,
    maxmem: DEFAULT_MAXMEM,
  });
  return `scrypt$${SCRYPT_N}$${SCRYPT_R}$${SCRYPT_P}$${salt.toString('hex')}$${key.toString('hex')}`;
}

interface ParsedHash {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
  maxmem: number;
}

const INT = /^[0-9]{1,10}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Parses a stored hash; null when malformed or when its parameters are out of safe bounds. */
export function parseScryptHash(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, ns, rs, ps, saltHex, keyHex] = parts as [string, string, string, string, string, string];
  if (!INT.test(ns) || !INT.test(rs) || !INT.test(ps)) return null;
  const n = Number(ns);
  const r = Number(rs);
  const p = Number(ps);
  // N must be a power of two > 1.
  if (n < 2 || !Number.isSafeInteger(n) || (n & (n - 1)) !== 0 || n > 2 ** 24) return null;
  if (r < 1 || r > 64 || p < 1 || p > MAX_VERIFY_P) return null;
  if (!HEX.test(saltHex) || !HEX.test(keyHex)) return null;
  const salt = Buffer.from(saltHex, 'hex');
  const key = Buffer.from(keyHex, 'hex');
  if (salt.length > MAX_BYTES || key.length < 1 || key.length > MAX_BYTES) return null;
  // OpenSSL needs 128·r·(N+2) + 128·r·p bytes; add 1 MiB of headroom.
  const needed = 128 * r * (n + 2) + 128 * r * p + 1024 * 1024;
  if (needed > MAX_VERIFY_MAXMEM) return null;
  return { n, r, p, salt, key, maxmem: Math.max(DEFAULT_MAXMEM, needed) };
}

/**
 * Checks `clientHash` against a stored hash, recomputing scrypt with the stored
 * parameters and comparing with `timingSafeEqual`. Never throws: a malformed,
 * empty or out-of-bounds stored value (or a non-string input) gives
 * `{ ok: false, needsRehash: false }`. `stored` may be the string or its UTF-8
 * bytes (the instance doc keeps `passphrase_hash` as a byte array).
 */
export async function verifyPassphrase(
  clientHash: string,
  stored: string | Uint8Array | null | undefined,
): Promise<VerifyResult> {
  const fail: VerifyResult = { ok: false, needsRehash: false };
  try {
    if (typeof clientHash !== 'string' || stored == null) return fail;
    const text = typeof stored === 'string' ? stored : Buffer.from(stored).toString('utf8');
    const parsed = parseScryptHash(text);
    if (!parsed) return fail;
    const computed = await scryptAsync(Buffer.from(clientHash, 'utf8'), parsed.salt, parsed.key.length, {
      N: parsed.n,
      r: parsed.r,
      p: parsed.p,
      maxmem: parsed.maxmem,
    });
    if (!timingSafeEqual(computed, parsed.key)) return fail;
    const needsRehash =
      parsed.n !== SCRYPT_N ||
      parsed.r !== SCRYPT_R ||
      parsed.p !== SCRYPT_P ||
      parsed.salt.length !== SCRYPT_SALT_LENGTH ||
      parsed.key.length !== SCRYPT_KEY_LENGTH;
    return { ok: true, needsRehash };
  } catch {
    return fail;
  }
}
