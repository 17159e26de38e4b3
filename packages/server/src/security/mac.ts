/**
 * Authenticated messages (the reference implementation's `EncodeAuthMessage`).
 *
 * Wire format: base64url without padding of `[8-byte big-endian unix ts][value][32-byte MAC]`
 * with `MAC = HMAC-SHA256(key, name ‖ additionalData ‖ ts ‖ value)`. The name and the
 * additional data are MACed but not transmitted. Used by the session cookie (name = cookie
 * name, value = session id), the 2FA token (`totp`, value = 32-byte salt), the trusted-device
 * token (`trusted-device`, empty value, additional data = domain + OS + browser) and the
 * confirm-flagship token (`confirm-flagship`, value = 32-byte salt).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { nowSeconds, type Now } from './time.js';

export const MAC_LENGTH = 32;
const TS_LENGTH = 8;
/** Keys shorter than this are refused (same floor as the reference implementation). */
export const MIN_MAC_KEY_LENGTH = 16;
/** Default maximum length of an encoded message (cookies and tokens are far below). */
export const DEFAULT_MAC_MAX_LENGTH = 256;

export interface AuthMessage {
  /** The transmitted value (salt, session id bytes, …). */
  value: Buffer;
  /** The issue time embedded in the message, Unix seconds. */
  issuedAt: number;
}

function mac(key: Uint8Array, name: string, additionalData: Uint8Array | string | undefined, body: Buffer): Buffer {
  const h = createHmac('sha256', key);
  h.update(Buffer.from(name, 'utf8'));
  if (additionalData !== undefined) {
    h.update(typeof additionalData === 'string' ? Buffer.from(additionalData, 'utf8') : additionalData);
  }
  h.update(body);
  return h.digest();
}

/**
 * Encodes `value` with its issue time and MAC. Throws a TypeError when the key is
 * shorter than 16 bytes or the result would exceed `maxLength` (programming errors).
 */
export function encodeAuthMessage(
  key: Uint8Array,
  name: string,
  value: Uint8Array,
  options: { additionalData?: Uint8Array | string; now?: Now; maxLength?: number } = {},
): string {
  if (!(key instanceof Uint8Array) || key.byteLength < MIN_MAC_KEY_LENGTH) {
    throw new TypeError(`MAC key must be a Uint8Array of at least ${MIN_MAC_KEY_LENGTH} bytes`);
  }
  const ts = Buffer.alloc(TS_LENGTH);
  ts.writeBigInt64BE(BigInt(nowSeconds(options.now)));
  const body = Buffer.concat([ts, value]);
  const encoded = toBase64Url(Buffer.concat([body, mac(key, name, options.additionalData, body)]));
  if (encoded.length > (options.maxLength ?? DEFAULT_MAC_MAX_LENGTH)) {
    throw new TypeError('authenticated message is too long');
  }
  return encoded;
}

/**
 * Verifies and decodes a message produced by `encodeAuthMessage`. Returns null on any
 * problem (wrong type, too long, bad base64, truncated, bad MAC, expired); never throws.
 * The MAC comparison is constant-time. `maxAgeSeconds` (optional) rejects messages
 * issued more than that many seconds before `now`.
 */
export function decodeAuthMessage(
  key: Uint8Array,
  name: string,
  encoded: unknown,
  options: { additionalData?: Uint8Array | string; maxLength?: number; maxAgeSeconds?: number; now?: Now } = {},
): AuthMessage | null {
  try {
    if (typeof encoded !== 'string' || !(key instanceof Uint8Array) || key.byteLength < MIN_MAC_KEY_LENGTH) return null;
    if (encoded.length > (options.maxLength ?? DEFAULT_MAC_MAX_LENGTH)) return null;
    const raw = fromBase64Url(encoded);
    if (!raw || raw.length < TS_LENGTH + MAC_LENGTH) return null;
    const body = raw.subarray(0, raw.length - MAC_LENGTH);
    const given = raw.subarray(raw.length - MAC_LENGTH);
    const expected = mac(key, name, options.additionalData, body);
    if (!timingSafeEqual(given, expected)) return null;
    const issuedAt = Number(body.readBigInt64BE(0));
    if (options.maxAgeSeconds !== undefined && issuedAt < nowSeconds(options.now) - options.maxAgeSeconds) return null;
    return { value: Buffer.from(body.subarray(TS_LENGTH)), issuedAt };
  } catch {
    return null;
  }
}
