/**
 * Client-side password derivation (§0.6, kdf 0 = PBKDF2-SHA256), for the
 * server-side fallback where the client sent the clear password
 * (`iterations == 0` or an empty `key`):
 *
 *   salt      = "me@" + domain (the old domain when set; any ":port" stripped)
 *   masterKey = PBKDF2-SHA256(utf8(password), utf8(salt), iterations, 32)
 *   hash      = base64std(PBKDF2-SHA256(masterKey, utf8(password), 1, 32))   // 44 chars
 *
 * Both PBKDF2 runs are async and go through the shared hashing limiter.
 */
import { pbkdf2 } from 'node:crypto';
import { runHashing } from './hashing.js';

export const DEFAULT_ITERATIONS = 650_000;
export const MIN_ITERATIONS = 50_000;
export const MAX_ITERATIONS = 5_000_000;

/** The PBKDF2 salt for an instance domain: `me@` + domain without `:port`. */
export function saltFor(domain: string): string {
  const colon = domain.indexOf(':');
  return 'me@' + (colon >= 0 ? domain.slice(0, colon) : domain);
}

/**
 * True when `n` is an acceptable `passphrase_kdf_iterations` value: an integer in
 * [MIN_ITERATIONS, MAX_ITERATIONS], or 0 when `allowZero` (0 = clear text / legacy,
 * accepted only on POST/PUT /settings/passphrase).
 */
export function validateIterations(n: unknown, options: { allowZero?: boolean } = {}): n is number {
  if (typeof n !== 'number' || !Number.isInteger(n)) return false;
  if (n === 0) return options.allowZero === true;
  return n >= MIN_ITERATIONS && n <= MAX_ITERATIONS;
}

function pbkdf2Async(password: Uint8Array | string, salt: Uint8Array | string, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export interface ClientKeys {
  /** 32-byte master key (also encrypts the bitwarden `key`). */
  masterKey: Buffer;
  /** The value a client would send as `passphrase`: base64 (with padding) of the 32-byte hash, 44 chars. */
  hash: string;
}

/**
 * Derives the master key and the client hash exactly as a client would.
 * `iterations` must be an integer in [1, MAX_ITERATIONS] (RangeError otherwise).
 */
export async function deriveClientKeys(
  password: string,
  domain: string,
  iterations: number = DEFAULT_ITERATIONS,
): Promise<ClientKeys> {
  if (typeof password !== 'string' || typeof domain !== 'string') {
    throw new TypeError('password and domain must be strings');
  }
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new RangeError(`iterations must be an integer in [1, ${MAX_ITERATIONS}]`);
  }
  const pw = Buffer.from(password, 'utf8');
  const salt = Buffer.from(saltFor(domain), 'utf8');
  return runHashing(async () => {
    const masterKey = await pbkdf2Async(pw, salt, iterations);
    const hashed = await pbkdf2Async(masterKey, pw, 1);
    return { masterKey, hash: hashed.toString('base64') };
  });
}

/** The `passphrase` value a client would send for this password (base64, 44 chars). */
export async function deriveClientHash(
  password: string,
  domain: string,
  iterations: number = DEFAULT_ITERATIONS,
): Promise<string> {
  return (await deriveClientKeys(password, domain, iterations)).hash;
}
