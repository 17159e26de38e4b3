// PKCE (RFC 7636) with the S256 method, as the flagship app uses it: a 32-byte random verifier,
// base64url without padding, and its SHA-256 challenge.
import { toBase64Url } from './passphrase.js';

export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

/** The S256 challenge of a verifier. */
export async function pkceChallenge(codeVerifier: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier));
  return toBase64Url(new Uint8Array(digest));
}

/** A fresh verifier and its challenge. */
export async function createPkce(): Promise<PkcePair> {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  const codeVerifier = toBase64Url(bytes);
  return { codeVerifier, codeChallenge: await pkceChallenge(codeVerifier), codeChallengeMethod: 'S256' };
}

/** A random `state` for the authorize request. */
export function randomState(bytes = 16): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  return toBase64Url(b);
}
