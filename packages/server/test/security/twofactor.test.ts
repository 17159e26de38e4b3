import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  activationCode,
  createConfirmFlagship,
  createTrustedDeviceToken,
  createTwoFactorToken,
  totp,
  verifyActivationCode,
  verifyConfirmFlagship,
  verifyTotp,
  verifyTrustedDeviceToken,
  verifyTwoFactor,
  type TotpAlgorithm,
} from '../../src/security/twofactor.js';

const SECRET = Buffer.concat([Buffer.from('2:'), Buffer.alloc(64, 0x42)]);
const OTHER = Buffer.concat([Buffer.from('2:'), Buffer.alloc(64, 0x43)]);
// A multiple of 60 s (and of 30 s): period boundaries are easy to reason about.
const T0 = Date.UTC(2024, 2, 10, 9, 0, 0);
const S = 1000;

// ---- independent reference implementations (node:crypto only) ----
function refHkdf(ikm: Buffer, salt: Buffer, info: Buffer): Buffer {
  const prk = createHmac('sha256', salt.length ? salt : Buffer.alloc(32)).update(ikm).digest();
  return createHmac('sha256', prk).update(Buffer.concat([info, Buffer.from([1])])).digest(); // 32 bytes = T(1)
}
function refHotp(key: Buffer, counter: number, digits: number, alg: string): string {
  const msg = Buffer.alloc(8);
  msg.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  msg.writeUInt32BE(counter % 2 ** 32, 4);
  const h = createHmac(alg, key).update(msg).digest();
  const o = h[h.length - 1]! & 15;
  const bin = ((h[o]! & 0x7f) << 24) | (h[o + 1]! << 16) | (h[o + 2]! << 8) | h[o + 3]!;
  return (bin % 10 ** digits).toString().padStart(digits, '0');
}
function unpack(token: string) {
  const raw = Buffer.from(token, 'base64url');
  return { raw, ts: Number(raw.readBigUInt64BE(0)), value: raw.subarray(8, raw.length - 32), mac: raw.subarray(raw.length - 32) };
}
function refMac(key: Buffer, name: string, additional: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(Buffer.concat([Buffer.from(name), Buffer.from(additional), body])).digest();
}
function flipChar(s: string, i: number): string {
  return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
}

describe('generic TOTP: RFC 6238 appendix B vectors (8 digits)', () => {
  const seeds: Record<TotpAlgorithm, Buffer> = {
    sha1: Buffer.from('12345678901234567890'),
    sha256: Buffer.from('12345678901234567890123456789012'),
    sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  const vectors: Array<[number, string, string, string]> = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it.each(vectors)('T=%i', (t, sha1, sha256, sha512) => {
    const at = t * 1000;
    expect(totp(seeds.sha1, { period: 30, digits: 8, algorithm: 'sha1', at })).toBe(sha1);
    expect(totp(seeds.sha256, { period: 30, digits: 8, algorithm: 'sha256', at })).toBe(sha256);
    expect(totp(seeds.sha512, { period: 30, digits: 8, algorithm: 'sha512', at })).toBe(sha512);
    expect(verifyTotp(seeds.sha256, sha256, { digits: 8, algorithm: 'sha256', at })).toBe(true);
  });

  it('verifyTotp honours skew in both directions and rejects malformed codes', () => {
    const key = seeds.sha256;
    const code = totp(key, { period: 60, algorithm: 'sha256', at: T0 });
    const o = { period: 60, algorithm: 'sha256' as const, skew: 2 };
    expect(verifyTotp(key, code, { ...o, at: T0 + 2 * 60 * S + 59 * S })).toBe(true);
    expect(verifyTotp(key, code, { ...o, at: T0 + 3 * 60 * S })).toBe(false);
    expect(verifyTotp(key, code, { ...o, at: T0 - 2 * 60 * S })).toBe(true);
    expect(verifyTotp(key, code, { ...o, at: T0 - 2 * 60 * S - 1 })).toBe(false);
    expect(verifyTotp(key, ` ${code} `, { ...o, at: T0 })).toBe(true);
    expect(() => verifyTotp(key, code, { ...o, skew: -1 })).toThrow(RangeError);
    for (const bad of ['', '12345', '1234567', 'abcdef', '12 456', null, 123456]) {
      expect(verifyTotp(key, bad, { ...o, at: T0 })).toBe(false);
    }
  });
});

describe('2FA by mail', () => {
  it('token layout, MAC and passcode match an independent computation', () => {
    const { token, passcode } = createTwoFactorToken(SECRET, T0);
    expect(token).toHaveLength(96);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const { ts, value: salt, mac, raw } = unpack(token);
    expect(ts).toBe(T0 / 1000);
    expect(salt).toHaveLength(32);
    expect(mac.equals(refMac(SECRET, 'totp', '', raw.subarray(0, 40)))).toBe(true);
    const key = refHkdf(SECRET, salt, Buffer.alloc(0));
    expect(passcode).toBe(refHotp(key, Math.floor(T0 / 1000 / 60), 6, 'sha256'));
    expect(passcode).toMatch(/^\d{6}$/);
  });

  it('verifies within ±14 periods of 60 s, not beyond', () => {
    const { token, passcode } = createTwoFactorToken(SECRET, T0);
    expect(verifyTwoFactor(SECRET, token, passcode, T0)).toBe(true);
    expect(verifyTwoFactor(SECRET, token, passcode, T0 + 14 * 60 * S + 59 * S)).toBe(true);
    expect(verifyTwoFactor(SECRET, token, passcode, T0 + 15 * 60 * S)).toBe(false);
    expect(verifyTwoFactor(SECRET, token, passcode, T0 - 14 * 60 * S)).toBe(true);
    expect(verifyTwoFactor(SECRET, token, passcode, T0 - 14 * 60 * S - 1)).toBe(false);
  });

  it('rejects wrong passcodes, tampered tokens, other secrets and garbage', () => {
    const { token, passcode } = createTwoFactorToken(SECRET, T0);
    const wrong = String((Number(passcode) + 1) % 1_000_000).padStart(6, '0');
    expect(verifyTwoFactor(SECRET, token, wrong, T0)).toBe(false);
    expect(verifyTwoFactor(OTHER, token, passcode, T0)).toBe(false);
    for (const i of [0, 7, 12, 50, 95]) expect(verifyTwoFactor(SECRET, flipChar(token, i), passcode, T0)).toBe(false);
    for (const bad of ['', 'x', token + 'A', null, undefined, 5]) expect(verifyTwoFactor(SECRET, bad, passcode, T0)).toBe(false);
    expect(verifyTwoFactor(SECRET, token, undefined, T0)).toBe(false);
  });

  it('a token from another MAC kind is refused', () => {
    const { token, code } = createConfirmFlagship(SECRET, 'client-1', T0);
    expect(verifyTwoFactor(SECRET, token, code, T0)).toBe(false);
  });
});

describe('trusted device token', () => {
  it('is 54 chars, empty value, MAC over name + domain + os + browser + ts', () => {
    const token = createTrustedDeviceToken(SECRET, 'alice.example.net', 'Linux', 'Firefox', T0);
    expect(token).toHaveLength(54);
    const { raw, value, mac } = unpack(token);
    expect(value).toHaveLength(0);
    expect(mac.equals(refMac(SECRET, 'trusted-device', 'alice.example.netLinuxFirefox', raw.subarray(0, 8)))).toBe(true);
  });

  it('verifies only for the same domain, OS, browser and secret', () => {
    const token = createTrustedDeviceToken(SECRET, 'alice.example.net', 'Linux', 'Firefox', T0);
    expect(verifyTrustedDeviceToken(SECRET, token, 'alice.example.net', 'Linux', 'Firefox')).toBe(true);
    expect(verifyTrustedDeviceToken(SECRET, token, 'alice.example.net', 'Linux', 'Chrome')).toBe(false);
    expect(verifyTrustedDeviceToken(SECRET, token, 'alice.example.net', 'Windows', 'Firefox')).toBe(false);
    expect(verifyTrustedDeviceToken(SECRET, token, 'bob.example.net', 'Linux', 'Firefox')).toBe(false);
    expect(verifyTrustedDeviceToken(OTHER, token, 'alice.example.net', 'Linux', 'Firefox')).toBe(false);
    expect(verifyTrustedDeviceToken(SECRET, flipChar(token, 20), 'alice.example.net', 'Linux', 'Firefox')).toBe(false);
    expect(verifyTrustedDeviceToken(SECRET, null, 'alice.example.net', 'Linux', 'Firefox')).toBe(false);
  });
});

describe('activation code', () => {
  it('matches HKDF(session secret, no salt, info = email) + TOTP SHA-256/60 s/6 digits', () => {
    const code = activationCode(SECRET, 'alice@example.net', T0);
    const key = refHkdf(SECRET, Buffer.alloc(0), Buffer.from('alice@example.net'));
    expect(code).toBe(refHotp(key, Math.floor(T0 / 1000 / 60), 6, 'sha256'));
  });

  it('verifies with the same email within ±14 periods only', () => {
    const code = activationCode(SECRET, 'alice@example.net', T0);
    expect(verifyActivationCode(SECRET, 'alice@example.net', code, T0 + 14 * 60 * S)).toBe(true);
    expect(verifyActivationCode(SECRET, 'alice@example.net', code, T0 + 15 * 60 * S)).toBe(false);
    expect(verifyActivationCode(SECRET, 'bob@example.net', code, T0)).toBe(false);
    expect(verifyActivationCode(OTHER, 'alice@example.net', code, T0)).toBe(false);
    expect(verifyActivationCode(SECRET, 'alice@example.net', 'abcdef', T0)).toBe(false);
  });
});

describe('confirm flagship', () => {
  it('token and code match an independent computation', () => {
    const { token, code } = createConfirmFlagship(SECRET, 'client-1', T0);
    expect(token).toHaveLength(96);
    const { raw, value: salt, mac } = unpack(token);
    expect(mac.equals(refMac(SECRET, 'confirm-flagship', '', raw.subarray(0, 40)))).toBe(true);
    const key = refHkdf(Buffer.concat([Buffer.from('client-1-'), SECRET]), salt, Buffer.alloc(0));
    expect(code).toBe(refHotp(key, Math.floor(T0 / 1000 / 30), 6, 'sha256'));
  });

  it('verifies within ±10 periods of 30 s, for the same client only', () => {
    const { token, code } = createConfirmFlagship(SECRET, 'client-1', T0);
    expect(verifyConfirmFlagship(SECRET, 'client-1', token, code, T0)).toBe(true);
    expect(verifyConfirmFlagship(SECRET, 'client-1', token, code, T0 + 10 * 30 * S + 29 * S)).toBe(true);
    expect(verifyConfirmFlagship(SECRET, 'client-1', token, code, T0 + 11 * 30 * S)).toBe(false);
    expect(verifyConfirmFlagship(SECRET, 'client-1', token, code, T0 - 10 * 30 * S)).toBe(true);
    expect(verifyConfirmFlagship(SECRET, 'client-1', token, code, T0 - 10 * 30 * S - 1)).toBe(false);
    expect(verifyConfirmFlagship(SECRET, 'client-2', token, code, T0)).toBe(false);
    expect(verifyConfirmFlagship(OTHER, 'client-1', token, code, T0)).toBe(false);
    expect(verifyConfirmFlagship(SECRET, 'client-1', flipChar(token, 30), code, T0)).toBe(false);
    const twoFactor = createTwoFactorToken(SECRET, T0);
    expect(verifyConfirmFlagship(SECRET, 'client-1', twoFactor.token, code, T0)).toBe(false);
  });

  it('refuses an empty client id', () => {
    expect(() => createConfirmFlagship(SECRET, '')).toThrow(TypeError);
    expect(verifyConfirmFlagship(SECRET, '', 'x', '123456')).toBe(false);
  });
});
