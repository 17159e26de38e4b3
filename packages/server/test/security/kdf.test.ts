import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ITERATIONS,
  MAX_ITERATIONS,
  MIN_ITERATIONS,
  deriveClientHash,
  deriveClientKeys,
  saltFor,
  validateIterations,
} from '../../src/security/kdf.js';

function reference(password: string, salt: string, iterations: number): { masterKey: Buffer; hash: string } {
  const masterKey = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), iterations, 32, 'sha256');
  const hash = pbkdf2Sync(masterKey, Buffer.from(password, 'utf8'), 1, 32, 'sha256').toString('base64');
  return { masterKey, hash };
}

describe('kdf', () => {
  it('exposes the documented constants', () => {
    expect(DEFAULT_ITERATIONS).toBe(650_000);
    expect(MIN_ITERATIONS).toBe(50_000);
    expect(MAX_ITERATIONS).toBe(5_000_000);
  });

  it('salt is me@ + domain without port', () => {
    expect(saltFor('alice.example.net')).toBe('me@alice.example.net');
    expect(saltFor('alice.cozy.localhost:8080')).toBe('me@alice.cozy.localhost');
  });

  it('matches an independent PBKDF2 computation (non-ASCII password, port stripped)', async () => {
    const password = 'c0rrect hörse ✓';
    const keys = await deriveClientKeys(password, 'alice.cozy.localhost:8080', 1000);
    const ref = reference(password, 'me@alice.cozy.localhost', 1000);
    expect(keys.masterKey.equals(ref.masterKey)).toBe(true);
    expect(keys.hash).toBe(ref.hash);
    expect(keys.hash).toHaveLength(44);
    expect(keys.hash.endsWith('=')).toBe(true);
  });

  it('defaults to 650 000 iterations', async () => {
    const hash = await deriveClientHash('password', 'bob.example.org');
    expect(hash).toBe(reference('password', 'me@bob.example.org', 650_000).hash);
  });

  it('refuses invalid iteration counts', async () => {
    await expect(deriveClientHash('p', 'd', 0)).rejects.toThrow(RangeError);
    await expect(deriveClientHash('p', 'd', 1.5)).rejects.toThrow(RangeError);
    await expect(deriveClientHash('p', 'd', MAX_ITERATIONS + 1)).rejects.toThrow(RangeError);
  });

  it('validateIterations', () => {
    expect(validateIterations(650_000)).toBe(true);
    expect(validateIterations(MIN_ITERATIONS)).toBe(true);
    expect(validateIterations(MAX_ITERATIONS)).toBe(true);
    expect(validateIterations(MIN_ITERATIONS - 1)).toBe(false);
    expect(validateIterations(MAX_ITERATIONS + 1)).toBe(false);
    expect(validateIterations(0)).toBe(false);
    expect(validateIterations(0, { allowZero: true })).toBe(true);
    expect(validateIterations(100_000.5)).toBe(false);
    expect(validateIterations('100000')).toBe(false);
    expect(validateIterations(null, { allowZero: true })).toBe(false);
    expect(validateIterations(-1, { allowZero: true })).toBe(false);
  });
});
