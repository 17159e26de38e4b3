import { scryptSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { configureHashing, hashingStats } from '../../src/security/hashing.js';
import { hashPassphrase, verifyPassphrase } from '../../src/security/passwords.js';

const CLIENT_HASH = 'cBJmONkX7pqzmPYAPRp+I2WuvwVbfqBfBWbQbxTvoW8='; // 44 chars, like a client sends

afterEach(() => configureHashing({ concurrency: 2 }));

describe('hashPassphrase', () => {
  it('produces scrypt$32768$8$1$<16-byte hex salt>$<32-byte hex key>, recomputable with node:crypto', async () => {
    const stored = await hashPassphrase(CLIENT_HASH);
    const m = /^scrypt\$32768\$8\$1\$([0-9a-f]{32})\$([0-9a-f]{64})$/.exec(stored);
    expect(m).not.toBeNull();
    const salt = Buffer.from(m![1]!, 'hex');
    const expected = scryptSync(Buffer.from(CLIENT_HASH, 'utf8'), salt, 32, {
      N: 32768,
      r: 8,
      p: 1,
      maxmem: 64 * 1024 * 1024,
    });
    expect(m![2]).toBe(expected.toString('hex'));
  });

  it('uses a fresh salt each time', async () => {
    const [a, b] = await Promise.all([hashPassphrase(CLIENT_HASH), hashPassphrase(CLIENT_HASH)]);
    expect(a).not.toBe(b);
  });

  it('rejects non-string input', async () => {
    await expect(hashPassphrase(undefined as unknown as string)).rejects.toThrow(TypeError);
  });
});

describe('verifyPassphrase', () => {
  it('accepts the right hash, rejects a wrong one', async () => {
    const stored = await hashPassphrase(CLIENT_HASH);
    expect(await verifyPassphrase(CLIENT_HASH, stored)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassphrase(CLIENT_HASH.replace('c', 'd'), stored)).toEqual({ ok: false, needsRehash: false });
    expect(await verifyPassphrase('', stored)).toEqual({ ok: false, needsRehash: false });
  });

  it('accepts the stored value as UTF-8 bytes (passphrase_hash is a byte array)', async () => {
    const stored = await hashPassphrase(CLIENT_HASH);
    expect((await verifyPassphrase(CLIENT_HASH, Buffer.from(stored, 'utf8'))).ok).toBe(true);
  });

  it('verifies an independently built hash with other parameters and asks for a rehash', async () => {
    const salt = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const key = scryptSync(Buffer.from(CLIENT_HASH, 'utf8'), salt, 32, { N: 16384, r: 8, p: 1 });
    const stored = `scrypt$16384$8$1$${salt.toString('hex')}$${key.toString('hex')}`;
    expect(await verifyPassphrase(CLIENT_HASH, stored)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassphrase('other', stored)).toEqual({ ok: false, needsRehash: false });
  });

  it.each([
    ['r', { N: 32768, r: 4, p: 1, saltLen: 16, keyLen: 32 }],
    ['p', { N: 1024, r: 8, p: 2, saltLen: 16, keyLen: 32 }],
    ['salt length', { N: 32768, r: 8, p: 1, saltLen: 8, keyLen: 32 }],
    ['key length', { N: 32768, r: 8, p: 1, saltLen: 16, keyLen: 64 }],
  ])('needsRehash when %s differs', async (_label, o) => {
    const salt = Buffer.alloc(o.saltLen, 7);
    const key = scryptSync(Buffer.from(CLIENT_HASH, 'utf8'), salt, o.keyLen, {
      N: o.N,
      r: o.r,
      p: o.p,
      maxmem: 128 * 1024 * 1024,
    });
    const stored = `scrypt$${o.N}$${o.r}$${o.p}$${salt.toString('hex')}$${key.toString('hex')}`;
    expect(await verifyPassphrase(CLIENT_HASH, stored)).toEqual({ ok: true, needsRehash: true });
  });

  it('accepts uppercase hex in stored values', async () => {
    const stored = await hashPassphrase(CLIENT_HASH);
    const parts = stored.split('$');
    const upper = [...parts.slice(0, 4), parts[4]!.toUpperCase(), parts[5]!.toUpperCase()].join('$');
    expect((await verifyPassphrase(CLIENT_HASH, upper)).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['null', null],
    ['undefined', undefined],
    ['garbage', 'not a hash'],
    ['bcrypt', '$2a$10$abcdefghijklmnopqrstuu5Q6w1Ck3sNq6K8F1YPpK1cGZ1cYrNda'],
    ['too few parts', 'scrypt$32768$8$1$00'],
    ['too many parts', 'scrypt$32768$8$1$00$00$00'],
    ['N not a power of two', 'scrypt$1000$8$1$00112233445566778899aabbccddeeff$' + '00'.repeat(32)],
    ['N = 1', 'scrypt$1$8$1$00112233445566778899aabbccddeeff$' + '00'.repeat(32)],
    ['negative r', 'scrypt$32768$-8$1$00112233445566778899aabbccddeeff$' + '00'.repeat(32)],
    ['zero p', 'scrypt$32768$8$0$00112233445566778899aabbccddeeff$' + '00'.repeat(32)],
    ['non numeric', 'scrypt$abc$8$1$00112233445566778899aabbccddeeff$' + '00'.repeat(32)],
    ['odd hex', 'scrypt$32768$8$1$001$' + '00'.repeat(32)],
    ['bad hex', 'scrypt$32768$8$1$zz112233445566778899aabbccddeeff$' + '00'.repeat(32)],
    ['empty key', 'scrypt$32768$8$1$00112233445566778899aabbccddeeff$'],
    ['absurd memory', 'scrypt$16777216$64$1$00112233445566778899aabbccddeeff$' + '00'.repeat(32)],
    ['wrong prefix', 'SCRYPT$32768$8$1$00112233445566778899aabbccddeeff$' + '00'.repeat(32)],
  ])('malformed stored value (%s) gives ok:false without throwing', async (_label, stored) => {
    await expect(verifyPassphrase(CLIENT_HASH, stored as string)).resolves.toEqual({ ok: false, needsRehash: false });
  });

  it('non-string client hash gives ok:false', async () => {
    const stored = await hashPassphrase(CLIENT_HASH);
    await expect(verifyPassphrase(42 as unknown as string, stored)).resolves.toEqual({ ok: false, needsRehash: false });
  });
});

describe('shared hashing limiter', () => {
  it('does not block the event loop while 4 hashes run, and bounds concurrency', async () => {
    let last = performance.now();
    let maxGap = 0;
    let ticks = 0;
    let peakActive = 0;
    const timer = setInterval(() => {
      const t = performance.now();
      maxGap = Math.max(maxGap, t - last);
      last = t;
      ticks++;
      peakActive = Math.max(peakActive, hashingStats().active);
    }, 5);
    try {
      const stored = await Promise.all([1, 2, 3, 4].map(() => hashPassphrase(CLIENT_HASH)));
      expect(stored).toHaveLength(4);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(2);
    expect(maxGap).toBeLessThan(100);
    expect(peakActive).toBeLessThanOrEqual(2);
    expect(peakActive).toBeGreaterThan(0);
  });

  it('queues beyond the configured concurrency', async () => {
    configureHashing({ concurrency: 1 });
    const work = [1, 2, 3].map(() => hashPassphrase(CLIENT_HASH));
    expect(hashingStats()).toMatchObject({ concurrency: 1, active: 1, pending: 2 });
    await Promise.all(work);
    expect(hashingStats()).toMatchObject({ active: 0, pending: 0 });
    expect(() => configureHashing({ concurrency: 0 })).toThrow(RangeError);
  });
});
