import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPkcePair, verifyPkceS256 } from '../../src/security/pkce.js';

describe('PKCE S256', () => {
  it('RFC 7636 appendix B vector', () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    expect(verifyPkceS256(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true);
    expect(verifyPkceS256(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN')).toBe(false);
    expect(verifyPkceS256(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=')).toBe(false);
    expect(verifyPkceS256(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM')).toBe(false);
  });

  it('createPkcePair matches an independent computation', () => {
    const { verifier, challenge, method } = createPkcePair();
    expect(method).toBe('S256');
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
    expect(verifyPkceS256(verifier, challenge)).toBe(true);
    expect(createPkcePair().verifier).not.toBe(verifier);
  });

  it('rejects verifiers outside RFC 7636 and non-strings', () => {
    const short = 'abc';
    expect(verifyPkceS256(short, createHash('sha256').update(short).digest('base64url'))).toBe(false);
    const long = 'a'.repeat(129);
    expect(verifyPkceS256(long, createHash('sha256').update(long).digest('base64url'))).toBe(false);
    const bad = 'a'.repeat(42) + '/';
    expect(verifyPkceS256(bad, createHash('sha256').update(bad).digest('base64url'))).toBe(false);
    expect(verifyPkceS256(undefined, 'x')).toBe(false);
    expect(verifyPkceS256('a'.repeat(43), null)).toBe(false);
    expect(verifyPkceS256('a'.repeat(43), '')).toBe(false);
  });
});
