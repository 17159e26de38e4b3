// Client-side passphrase derivation, exactly as the official clients do it:
//   masterKey  = PBKDF2-SHA256(password, salt = "me@" + domain without port, iterations, 32 bytes)
//   passphrase = base64(PBKDF2-SHA256(masterKey, salt = password, 1 iteration, 32 bytes))   (44 characters)
// The server never sees the password; it stores a scrypt hash of `passphrase`.
// Uses WebCrypto, so it runs in browsers and in Node >= 20.

/** The default number of PBKDF2 iterations for a new passphrase. */
export const DEFAULT_KDF_ITERATIONS = 650_000;
/** The bounds the server accepts. */
export const MIN_KDF_ITERATIONS = 50_000;
export const MAX_KDF_ITERATIONS = 5_000_000;

const encoder = new TextEncoder();

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto (crypto.subtle) is not available in this environment');
  return s;
}

/** The KDF salt of an instance: `me@` + its domain, without the port. */
export function passphraseSalt(domain: string): string {
  const host = domain.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return `me@${host.replace(/:\d+$/, '')}`;
}

async function pbkdf2(secret: Uint8Array, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await subtle().importKey('raw', secret as BufferSource, 'PBKDF2', false, ['deriveBits']);
  const bits = await subtle().deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }, key, 256);
  return new Uint8Array(bits);
}

/** The master key: it encrypts the vault key and is the input of the login hash. */
export async function deriveMasterKey(password: string, domain: string, iterations: number = DEFAULT_KDF_ITERATIONS): Promise<Uint8Array> {
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('iterations must be a positive integer');
  return pbkdf2(encoder.encode(password), encoder.encode(passphraseSalt(domain)), iterations);
}

/** The value sent as `passphrase` to the login and passphrase routes (standard base64, 44 characters). */
export async function hashPassphrase(password: string, domain: string, iterations: number = DEFAULT_KDF_ITERATIONS): Promise<string> {
  const masterKey = await deriveMasterKey(password, domain, iterations);
  const hashed = await pbkdf2(masterKey, encoder.encode(password), 1);
  return toBase64(hashed);
}

export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
