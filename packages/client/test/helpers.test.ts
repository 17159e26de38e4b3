import { createHash, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildAuthorizeUrl, parseAuthorizeRedirect } from '../src/helpers/authorize.js';
import { deriveMasterKey, hashPassphrase, passphraseSalt } from '../src/helpers/passphrase.js';
import { createPkce, pkceChallenge } from '../src/helpers/pkce.js';

// Reference values computed independently with node:crypto's synchronous PBKDF2.
function reference(password: string, salt: string, iterations: number) {
  const master = pbkdf2Sync(Buffer.from(password), Buffer.from(salt), iterations, 32, 'sha256');
  return { master, hash: pbkdf2Sync(master, Buffer.from(password), 1, 32, 'sha256').toString('base64') };
}

describe('passphrase hashing', () => {
  it('uses me@ + the domain without its port as salt', () => {
    expect(passphraseSalt('alice.localhost:8080')).toBe('me@alice.localhost');
    expect(passphraseSalt('https://alice.example.net/')).toBe('me@alice.example.net');
    expect(passphraseSalt('alice.example.net')).toBe('me@alice.example.net');
  });

  it.each([
    ['correct horse battery staple', 'alice.localhost:8080', 1000],
    ['pässwörd 🔑', 'bob.example.net', 5000],
    ['', 'x.y', 1],
  ])('matches node:crypto for %j on %s with %i iterations', async (password, domain, iterations) => {
    const ref = reference(password, `me@${domain.replace(/:\d+$/, '')}`, iterations);
    const hash = await hashPassphrase(password, domain, iterations);
    expect(hash).toBe(ref.hash);
    expect(hash).toHaveLength(44);
    expect(Buffer.from(await deriveMasterKey(password, domain, iterations))).toEqual(ref.master);
  });

  it('defaults to 650 000 iterations', async () => {
    const ref = reference('hunter2', 'me@alice.localhost', 650_000);
    expect(await hashPassphrase('hunter2', 'alice.localhost:8080')).toBe(ref.hash);
  });

  it('rejects a non-positive iteration count', async () => {
    await expect(hashPassphrase('x', 'a.b', 0)).rejects.toThrow(RangeError);
  });
});

describe('PKCE', () => {
  it('computes the S256 challenge as base64url without padding', async () => {
    // RFC 7636 appendix B.
    expect(await pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('creates a 43-character verifier whose challenge matches node:crypto', async () => {
    const p = await createPkce();
    expect(p.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.codeChallengeMethod).toBe('S256');
    expect(p.codeChallenge).toBe(createHash('sha256').update(p.codeVerifier).digest('base64url'));
    expect((await createPkce()).codeVerifier).not.toBe(p.codeVerifier);
  });
});

describe('authorize URL', () => {
  it('carries every parameter of the flagship request', () => {
    const url = new URL(
      buildAuthorizeUrl({
        instanceUrl: 'http://alice.localhost:8080',
        clientId: 'c1',
        redirectUri: 'cozy://flagship',
        state: 's t',
        scope: '*',
        codeChallenge: 'abc',
        sessionCode: 'code32',
      }),
    );
    expect(url.pathname).toBe('/auth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'c1',
      redirect_uri: 'cozy://flagship',
      state: 's t',
      response_type: 'code',
      scope: '*',
      code_challenge: 'abc',
      code_challenge_method: 'S256',
      session_code: 'code32',
    });
  });

  it('reads access_code first, then code', () => {
    expect(parseAuthorizeRedirect('cozy://flagship?state=x&access_code=A&code=A#')).toEqual({ code: 'A', state: 'x' });
    expect(parseAuthorizeRedirect('https://app.example/cb?code=B')).toEqual({ code: 'B', state: null });
    expect(() => parseAuthorizeRedirect('https://app.example/cb?state=1')).toThrow();
  });
});
