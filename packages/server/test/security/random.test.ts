import { describe, expect, it } from 'vitest';
import { newId, newSecret, randomAlnum, randomBase64Url, randomHex } from '../../src/security/random.js';

describe('random', () => {
  it('randomAlnum gives the requested length over [A-Za-z0-9]', () => {
    for (const n of [0, 1, 24, 32, 1000]) {
      const s = randomAlnum(n);
      expect(s).toHaveLength(n);
      expect(s).toMatch(/^[A-Za-z0-9]*$/);
    }
    expect(() => randomAlnum(-1)).toThrow(RangeError);
    expect(() => randomAlnum(2.5)).toThrow(RangeError);
  });

  it('randomAlnum is roughly uniform (no modulo bias towards the first characters)', () => {
    const counts = new Map<string, number>();
    const sample = randomAlnum(62 * 2000);
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Expected 2000 each; a biased `byte % 62` would give ~2230 for the first 8 characters.
    let firstEight = 0;
    for (const c of 'ABCDEFGH') firstEight += counts.get(c)!;
    expect(firstEight / 8).toBeLessThan(2150);
    for (const v of counts.values()) {
      expect(v).toBeGreaterThan(1700);
      expect(v).toBeLessThan(2300);
    }
  });

  it('hex, base64url, ids and secrets', () => {
    expect(randomHex(16)).toMatch(/^[0-9a-f]{32}$/);
    expect(randomBase64Url(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newId()).not.toBe(newId());
    expect(newSecret()).toHaveLength(64);
    expect(newSecret(32)).toHaveLength(32);
    expect(Buffer.isBuffer(newSecret())).toBe(true);
  });
});
