/** Strict encoders/decoders used by the MAC-based tokens. Internal helpers. */

const B64URL = /^[A-Za-z0-9_-]*$/;

/** base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict base64url (no padding) decoding: returns null on any character outside
 * the alphabet, on an impossible length, or on a non-canonical encoding
 * (non-zero trailing bits), so one byte string has exactly one accepted text.
 */
export function fromBase64Url(text: string): Buffer | null {
  if (typeof text !== 'string' || !B64URL.test(text) || text.length % 4 === 1) return null;
  const buf = Buffer.from(text, 'base64url');
  if (buf.toString('base64url') !== text) return null;
  return buf;
}

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
