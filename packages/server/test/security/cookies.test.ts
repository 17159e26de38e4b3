import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SessionDuration,
  clearCookie,
  cookieDomain,
  decodeSessionCookie,
  encodeSessionCookie,
  serializeCookie,
  serializeSessionCookie,
  sessionCookieName,
  sessionMaxAge,
  sessionSecretKey,
} from '../../src/security/cookies.js';

const RAW_SECRET = Buffer.alloc(64, 0x5a);
const SECRET = Buffer.concat([Buffer.from('2:'), RAW_SECRET]);
const NAME = 'cozysessid';
const ID = '0123456789abcdef0123456789abcdef';
const T0 = Date.UTC(2024, 4, 1, 8, 30, 0);

/** Cookie value built by hand with node:crypto from the §0.5 description. */
function handMade(name: string, id: string, secret: Uint8Array, tsSeconds: number): string {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(tsSeconds));
  const mac = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(name), ts, Buffer.from(id)])).digest();
  return Buffer.concat([ts, Buffer.from(id), mac]).toString('base64url');
}

function flipChar(s: string, i: number): string {
  const c = s[i] === 'A' ? 'B' : 'A';
  return s.slice(0, i) + c + s.slice(i + 1);
}

describe('session cookie value', () => {
  it('matches the independent construction, is 96 chars, base64url without padding', () => {
    const value = encodeSessionCookie(NAME, ID, SECRET, T0);
    expect(value).toBe(handMade(NAME, ID, SECRET, T0 / 1000));
    expect(value).toHaveLength(96);
    expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('decodes a hand-made value', () => {
    expect(decodeSessionCookie(NAME, handMade(NAME, ID, SECRET, 1_700_000_000), SECRET)).toEqual({
      sessionId: ID,
      issuedAt: 1_700_000_000,
    });
  });

  it('round-trips', () => {
    const value = encodeSessionCookie(NAME, ID, SECRET, new Date(T0));
    expect(decodeSessionCookie(NAME, value, SECRET)).toEqual({ sessionId: ID, issuedAt: T0 / 1000 });
  });

  it('is bound to the cookie name and the secret', () => {
    const value = encodeSessionCookie(NAME, ID, SECRET, T0);
    expect(decodeSessionCookie('sess-alice', value, SECRET)).toBeNull();
    expect(decodeSessionCookie(NAME, value, sessionSecretKey(Buffer.alloc(64, 1)))).toBeNull();
  });

  it('rejects every single-character tampering', () => {
    const value = encodeSessionCookie(NAME, ID, SECRET, T0);
    for (let i = 0; i < value.length; i++) {
      expect(decodeSessionCookie(NAME, flipChar(value, i), SECRET)).toBeNull();
    }
  });

  it('rejects garbage without throwing', () => {
    const value = encodeSessionCookie(NAME, ID, SECRET, T0);
    for (const bad of [
      '',
      'abc',
      value + '=',
      value + 'A',
      value.slice(0, -1),
      value.replace(/[A-Za-z]/, '+'),
      'A'.repeat(257),
      null,
      undefined,
      12,
      {},
    ]) {
      expect(decodeSessionCookie(NAME, bad, SECRET)).toBeNull();
    }
    // A valid MAC over something that is not a 32-hex id is still refused.
    expect(decodeSessionCookie(NAME, handMade(NAME, 'z'.repeat(32), SECRET, 1), SECRET)).toBeNull();
    expect(decodeSessionCookie(NAME, handMade(NAME, ID.slice(0, 31), SECRET, 1), SECRET)).toBeNull();
    // A short key never validates.
    expect(decodeSessionCookie(NAME, value, Buffer.alloc(4))).toBeNull();
  });

  it('refuses a non-hex session id on encode', () => {
    expect(() => encodeSessionCookie(NAME, 'not-an-id', SECRET)).toThrow(TypeError);
  });
});

describe('names, domains and headers', () => {
  it('sessionSecretKey prefixes "2:" (bytes or base64)', () => {
    expect(sessionSecretKey(RAW_SECRET).equals(SECRET)).toBe(true);
    expect(sessionSecretKey(RAW_SECRET.toString('base64')).equals(SECRET)).toBe(true);
  });

  it('cookie names', () => {
    expect(sessionCookieName(false, 'whatever')).toBe('cozysessid');
    expect(sessionCookieName(true, 'cozyabc')).toBe('sess-cozyabc');
  });

  it('cookieDomain', () => {
    expect(cookieDomain('alice.example.net')).toBe('.alice.example.net');
    expect(cookieDomain('alice.cozy.localhost:8080')).toBe('.alice.cozy.localhost');
    expect(cookieDomain('alice.example.net', { flatSubdomains: true })).toBe('.example.net');
    expect(cookieDomain('alice.example.net:443', { flatSubdomains: true })).toBe('.example.net');
  });

  it('session durations', () => {
    expect(sessionMaxAge(SessionDuration.ShortRun)).toBe(300);
    expect(sessionMaxAge(SessionDuration.NormalRun)).toBeUndefined();
    expect(sessionMaxAge(SessionDuration.LongRun)).toBe(315_360_000);
  });

  it('serializeCookie', () => {
    expect(
      serializeCookie('cozysessid', 'abc', { domain: '.alice.example.net', secure: true, sameSite: 'Lax', maxAge: 300 }),
    ).toBe('cozysessid=abc; Path=/; Domain=.alice.example.net; Max-Age=300; HttpOnly; Secure; SameSite=Lax');
    expect(
      serializeCookie('_csrf', 'tok', { path: '/auth', maxAge: 3600, secure: false, sameSite: 'Strict', httpOnly: true }),
    ).toBe('_csrf=tok; Path=/auth; Max-Age=3600; HttpOnly; SameSite=Strict');
    expect(serializeCookie('a', 'b', { httpOnly: false, secure: false, sameSite: 'Lax' })).toBe('a=b; Path=/; SameSite=Lax');
    expect(() => serializeCookie('bad name', 'v', { secure: true, sameSite: 'Lax' })).toThrow(TypeError);
    expect(() => serializeCookie('n', 'v;x', { secure: true, sameSite: 'Lax' })).toThrow(TypeError);
    expect(() => serializeCookie('n', 'v', { domain: 'a;b', secure: true, sameSite: 'Lax' })).toThrow(TypeError);
  });

  it('serializeSessionCookie uses the duration', () => {
    const base = { domain: '.alice.example.net', secure: true };
    expect(serializeSessionCookie('cozysessid', 'v', { ...base, duration: SessionDuration.NormalRun })).toBe(
      'cozysessid=v; Path=/; Domain=.alice.example.net; HttpOnly; Secure; SameSite=Lax',
    );
    expect(serializeSessionCookie('cozysessid', 'v', { ...base, duration: SessionDuration.LongRun })).toContain(
      '; Max-Age=315360000;',
    );
  });

  it('clearCookie', () => {
    expect(clearCookie('cozysessid', { domain: '.alice.example.net', path: '/' })).toBe(
      'cozysessid=; Path=/; Domain=.alice.example.net; Max-Age=0',
    );
    expect(clearCookie('cozysessid', { domain: '.alice.example.net', secure: true })).toBe(
      'cozysessid=; Path=/; Domain=.alice.example.net; Max-Age=0; Secure',
    );
  });
});
