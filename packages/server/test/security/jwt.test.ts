import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  JWT_SIGNING_KEY,
  peekJwt,
  pickJwtKey,
  signJwt,
  tokenLifetimeSeconds,
  verifyJwt,
  type Audience,
} from '../../src/security/jwt.js';

const KEY = Buffer.from('2:' + 'k'.repeat(64));
const OTHER_KEY = Buffer.from('2:' + 'x'.repeat(64));
const ISS = 'alice.example.net';
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0); // ms
const T0s = T0 / 1000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An HS512 JWT built by hand with node:crypto (independent of jose and of signJwt). */
function handMade(header: object, payload: object, key: Uint8Array = KEY, alg = 'sha512'): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${createHmac(alg, key).update(input).digest('base64url')}`;
}

describe('signJwt', () => {
  it('emits HS512, aud as a one-element array, iat, iss, sub, extra claims and no exp', async () => {
    const token = await signJwt(KEY, { aud: 'app', sub: 'drive', iss: ISS, session_id: 'abc' }, T0);
    const [h, p, s] = token.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'HS512', typ: 'JWT' });
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    expect(payload).toEqual({ aud: ['app'], iss: ISS, sub: 'drive', iat: T0s, session_id: 'abc' });
    expect('exp' in payload).toBe(false);
    // Signature recomputed independently.
    expect(s).toBe(createHmac('sha512', KEY).update(`${h}.${p}`).digest('base64url'));
  });

  it('omits empty optional claims (cli token has no sub)', async () => {
    const token = await signJwt(KEY, { aud: 'cli', iss: ISS, scope: 'io.cozy.settings', sub: '' }, T0);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(payload).toEqual({ aud: ['cli'], iss: ISS, iat: T0s, scope: 'io.cozy.settings' });
  });

  it('refuses an unknown audience or a missing issuer', async () => {
    await expect(signJwt(KEY, { aud: 'nope' as Audience, iss: ISS })).rejects.toThrow(TypeError);
    await expect(signJwt(KEY, { aud: 'app', iss: '' })).rejects.toThrow(TypeError);
  });
});

describe('verifyJwt', () => {
  it('round-trips and returns the claims', async () => {
    const token = await signJwt(KEY, { aud: 'access', sub: 'client-1', iss: ISS, scope: 'io.cozy.files:GET' }, T0);
    expect(await verifyJwt(KEY, token, { audience: 'access', issuers: [ISS], now: T0 + DAY })).toEqual({
      ok: true,
      claims: { aud: 'access', sub: 'client-1', iss: ISS, scope: 'io.cozy.files:GET', iat: T0s },
    });
  });

  it('accepts a hand-made HS512 token (independent vector)', async () => {
    const token = handMade(
      { alg: 'HS512', typ: 'JWT' },
      { aud: ['konn'], iss: ISS, sub: 'konnector-x', iat: T0s },
    );
    const res = await verifyJwt(KEY, token, { audience: 'konn', issuers: [ISS], now: T0 });
    expect(res).toEqual({ ok: true, claims: { aud: 'konn', iss: ISS, sub: 'konnector-x', iat: T0s } });
  });

  it('accepts a string aud (as the reference JWT library does) and the old domain as issuer', async () => {
    const token = handMade({ alg: 'HS512', typ: 'JWT' }, { aud: 'refresh', iss: 'old.example.net', sub: 'c', iat: 1 });
    const res = await verifyJwt(KEY, token, { audience: 'refresh', issuers: [ISS, 'old.example.net'], now: T0 });
    expect(res.ok).toBe(true);
  });

  it('rejects a wrong key, a tampered payload or signature', async () => {
    const token = await signJwt(KEY, { aud: 'app', sub: 'drive', iss: ISS, session_id: 's' }, T0);
    const opts = { audience: 'app' as const, issuers: [ISS], now: T0 };
    expect(await verifyJwt(OTHER_KEY, token, opts)).toEqual({ ok: false, reason: 'invalid' });
    const [h, p, s] = token.split('.');
    const forged = b64url({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'settings' });
    expect(await verifyJwt(KEY, `${h}.${forged}.${s}`, opts)).toEqual({ ok: false, reason: 'invalid' });
    const badSig = s!.slice(0, -2) + (s!.endsWith('AA') ? 'BB' : 'AA');
    expect(await verifyJwt(KEY, `${h}.${p}.${badSig}`, opts)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('rejects other algorithms (HS256, none)', async () => {
    const payload = { aud: ['share'], iss: ISS, sub: 'perm', iat: T0s };
    const hs256 = handMade({ alg: 'HS256', typ: 'JWT' }, payload, KEY, 'sha256');
    const none = `${b64url({ alg: 'none' })}.${b64url(payload)}.`;
    for (const token of [hs256, none]) {
      expect(await verifyJwt(KEY, token, { audience: 'share', issuers: [ISS], now: T0 })).toEqual({
        ok: false,
        reason: 'invalid',
      });
    }
  });

  it('rejects a wrong audience (including an expected one in second position) or issuer', async () => {
    const token = await signJwt(KEY, { aud: 'konn', sub: 'k', iss: ISS }, T0);
    expect(await verifyJwt(KEY, token, { audience: 'app', issuers: [ISS], now: T0 })).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await verifyJwt(KEY, token, { audience: ['app', 'konn'], issuers: [ISS], now: T0 })).toMatchObject({ ok: true });
    expect(await verifyJwt(KEY, token, { audience: 'konn', issuers: ['bob.example.net'], now: T0 })).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await verifyJwt(KEY, token, { audience: 'konn', issuers: [], now: T0 })).toMatchObject({ ok: false, reason: 'invalid' });
    const twoAud = handMade({ alg: 'HS512', typ: 'JWT' }, { aud: ['access', 'app'], iss: ISS, iat: T0s });
    expect(await verifyJwt(KEY, twoAud, { audience: 'app', issuers: [ISS], now: T0 })).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('rejects garbage without throwing', async () => {
    for (const token of ['', 'a.b.c', 'not a jwt', '...', null, 42, 'x'.repeat(10_000)]) {
      expect(await verifyJwt(KEY, token as string, { audience: 'app', issuers: [ISS], now: T0 })).toEqual({
        ok: false,
        reason: 'invalid',
      });
    }
    expect(await verifyJwt(new Uint8Array(0), await signJwt(KEY, { aud: 'app', iss: ISS }, T0), { audience: 'app', issuers: [ISS] })).toMatchObject({ ok: false });
  });

  it('rejects claims of the wrong type and limited tokens without iat', async () => {
    const badSub = handMade({ alg: 'HS512' }, { aud: ['share'], iss: ISS, sub: 12 });
    expect(await verifyJwt(KEY, badSub, { audience: 'share', issuers: [ISS], now: T0 })).toMatchObject({ ok: false, reason: 'invalid' });
    const noIat = handMade({ alg: 'HS512' }, { aud: ['access'], iss: ISS, sub: 'c' });
    expect(await verifyJwt(KEY, noIat, { audience: 'access', issuers: [ISS], now: T0 })).toMatchObject({ ok: false, reason: 'invalid' });
    const noIatRefresh = handMade({ alg: 'HS512' }, { aud: ['refresh'], iss: ISS, sub: 'c' });
    expect(await verifyJwt(KEY, noIatRefresh, { audience: 'refresh', issuers: [ISS], now: T0 })).toMatchObject({ ok: true });
  });

  it('maps a foreign exp in the past to expired', async () => {
    const token = handMade({ alg: 'HS512' }, { aud: ['share'], iss: ISS, iat: T0s - 100, exp: T0s - 10 });
    expect(await verifyJwt(KEY, token, { audience: 'share', issuers: [ISS], now: T0 })).toEqual({ ok: false, reason: 'expired' });
  });

  const cases: Array<[string, Audience, Record<string, string>, number | null]> = [
    ['app with session_id', 'app', { session_id: 'sess' }, DAY],
    ['app without session_id', 'app', {}, 30 * MIN],
    ['konn', 'konn', {}, 30 * MIN],
    ['cli', 'cli', {}, 30 * MIN],
    ['access', 'access', {}, 7 * DAY],
    ['refresh', 'refresh', {}, null],
    ['registration', 'registration', {}, null],
    ['share', 'share', {}, null],
  ];

  it.each(cases)('lifetime of %s', async (_label, aud, extra, lifetime) => {
    const token = await signJwt(KEY, { aud, iss: ISS, sub: 's', ...extra }, T0);
    const opts = (now: number) => ({ audience: aud, issuers: [ISS], now });
    if (lifetime === null) {
      expect(await verifyJwt(KEY, token, opts(T0 + 10 * 365 * DAY))).toMatchObject({ ok: true });
      expect(tokenLifetimeSeconds(aud, extra)).toBeNull();
    } else {
      expect(tokenLifetimeSeconds(aud, extra)).toBe(lifetime / 1000);
      expect(await verifyJwt(KEY, token, opts(T0 + lifetime - 1000))).toMatchObject({ ok: true });
      expect(await verifyJwt(KEY, token, opts(T0 + lifetime))).toMatchObject({ ok: true });
      expect(await verifyJwt(KEY, token, opts(T0 + lifetime + 1000))).toEqual({ ok: false, reason: 'expired' });
    }
  });

  it('accepts Date as now', async () => {
    const token = await signJwt(KEY, { aud: 'cli', iss: ISS }, new Date(T0));
    expect(await verifyJwt(KEY, token, { audience: 'cli', issuers: [ISS], now: new Date(T0 + 31 * MIN) })).toEqual({
      ok: false,
      reason: 'expired',
    });
  });
});

describe('key routing', () => {
  it('documents which secret signs which audience', () => {
    expect(JWT_SIGNING_KEY).toEqual({
      app: 'session',
      konn: 'session',
      cli: 'cli',
      access: 'oauth',
      refresh: 'oauth',
      registration: 'oauth',
      share: 'oauth',
    });
    const keys = { session: Buffer.from('s'), cli: Buffer.from('c'), oauth: Buffer.from('o') };
    expect(pickJwtKey('konn', keys)).toBe(keys.session);
    expect(pickJwtKey('cli', keys)).toBe(keys.cli);
    expect(pickJwtKey('share', keys)).toBe(keys.oauth);
  });

  it('peekJwt decodes without verifying and never throws', async () => {
    const token = await signJwt(KEY, { aud: 'access', iss: ISS, sub: 'client' }, T0);
    expect(peekJwt(token)).toEqual({ aud: 'access', iss: ISS, sub: 'client' });
    expect(peekJwt(handMade({ alg: 'HS512' }, { aud: 'cli' }, OTHER_KEY))).toEqual({ aud: 'cli', iss: null, sub: null });
    for (const garbage of ['', 'abc', 'a.b.c', '..', `${b64url({ alg: 'HS512' })}.bm90IGpzb24.x`, null, undefined, 7, {}]) {
      expect(peekJwt(garbage)).toBeNull();
    }
  });
});
