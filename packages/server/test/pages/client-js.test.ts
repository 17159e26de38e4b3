// The browser code of the pages, run in a VM context with Node's WebCrypto: its password hashing
// must produce exactly what cozy clients send (wire-compat.md), and the vault keys it makes must
// decrypt with the master key.
import { createDecipheriv, createHmac, createPrivateKey, createPublicKey, pbkdf2Sync, webcrypto } from 'node:crypto';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ASSETS, PAGE_SCRIPTS, SHARED_SCRIPT } from '../../src/pages/index.js';

interface HearthApi {
  hashPassphrase(pw: string, salt: string, iterations: number): Promise<{ masterKey: Uint8Array; hashed: string }>;
  pbkdf2Js(password: Uint8Array, salt: Uint8Array, iterations: number, slice?: number): Promise<Uint8Array>;
  sha256(bytes: Uint8Array): Uint8Array;
  makeEncKey(masterKey: Uint8Array): Promise<{ key: string; symKey: Uint8Array }>;
  makeKeyPair(symKey: Uint8Array): Promise<{ publicKey: string; privateKey: string }>;
  utf8(s: string): Uint8Array;
}

function load(withSubtle: boolean): HearthApi {
  const crypto = withSubtle ? webcrypto : { getRandomValues: webcrypto.getRandomValues.bind(webcrypto) };
  const sandbox: Record<string, unknown> = { TextEncoder, btoa, atob, setTimeout, Uint8Array, Int32Array, Promise, crypto };
  sandbox.self = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(SHARED_SCRIPT.body, sandbox);
  return sandbox.Hearth as HearthApi;
}

/** What wire-compat.md says a client sends. */
function expectedHash(password: string, domain: string, iterations: number): { masterKey: Buffer; hashed: string } {
  const masterKey = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(`me@${domain}`, 'utf8'), iterations, 32, 'sha256');
  const hashed = pbkdf2Sync(masterKey, Buffer.from(password, 'utf8'), 1, 32, 'sha256').toString('base64');
  return { masterKey, hashed };
}

describe('hearth.js', () => {
  it('every script asset is valid JavaScript', () => {
    for (const a of ASSETS.values()) {
      if (a.contentType.startsWith('text/javascript')) expect(() => new vm.Script(a.body, { filename: a.path })).not.toThrow();
    }
    expect(Object.keys(PAGE_SCRIPTS).sort()).toEqual(
      ['authorize', 'confirm_flagship', 'login', 'magic_link_twofactor', 'onboarding', 'passphrase_renew', 'twofactor'].sort(),
    );
  });

  it('hashes the passphrase with WebCrypto exactly as the cozy clients do', async () => {
    const H = load(true);
    for (const [pw, domain, it] of [
      ['cozy', 'alice.localhost', 100_000],
      ['correct horse battery staple ✓ é', 'bob.example.net', 650_000],
    ] as const) {
      const got = await H.hashPassphrase(pw, `me@${domain}`, it);
      const want = expectedHash(pw, domain, it);
      expect(got.hashed).toBe(want.hashed);
      expect(got.hashed).toHaveLength(44);
      expect(Buffer.from(got.masterKey).equals(want.masterKey)).toBe(true);
    }
  });

  it('falls back to a pure-JS PBKDF2 that gives the same bytes', async () => {
    const H = load(false);
    const got = await H.hashPassphrase('p@ss wörd', 'me@alice.localhost', 3_000);
    expect(got.hashed).toBe(expectedHash('p@ss wörd', 'alice.localhost', 3_000).hashed);
    // Keys longer than a block are hashed first; several slices.
    const longKey = new Uint8Array(100).fill(7);
    const salt = new Uint8Array(80).fill(3);
    const js = await H.pbkdf2Js(longKey, salt, 5_000, 1_234);
    expect(Buffer.from(js).equals(pbkdf2Sync(longKey, salt, 5_000, 32, 'sha256'))).toBe(true);
    expect(Buffer.from(H.sha256(H.utf8('abc'))).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('the pure-JS fallback does 650 000 iterations in reasonable time', async () => {
    const H = load(false);
    const t0 = Date.now();
    const got = await H.hashPassphrase('cozy', 'me@alice.localhost', 650_000);
    const ms = Date.now() - t0;
    expect(got.hashed).toBe(expectedHash('cozy', 'alice.localhost', 650_000).hashed);
    expect(ms).toBeLessThan(20_000);
  });

  it('makes a type-0 key that decrypts with the master key to 64 bytes', async () => {
    const H = load(true);
    const { masterKey } = await H.hashPassphrase('cozy', 'me@alice.localhost', 1_000);
    const { key, symKey } = await H.makeEncKey(masterKey);
    const m = /^0\.([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(key);
    expect(m).not.toBeNull();
    const iv = Buffer.from(m![1]!, 'base64');
    const ct = Buffer.from(m![2]!, 'base64');
    expect(iv).toHaveLength(16);
    const d = createDecipheriv('aes-256-cbc', Buffer.from(masterKey), iv);
    const plain = Buffer.concat([d.update(ct), d.final()]);
    expect(plain).toHaveLength(64);
    expect(plain.equals(Buffer.from(symKey))).toBe(true);
  });

  it('makes an RSA key pair whose private key is a valid type-2 EncString', async () => {
    const H = load(true);
    const symKey = new Uint8Array(64).map((_, i) => i);
    const { publicKey, privateKey } = await H.makeKeyPair(symKey);
    const pub = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    expect(pub.asymmetricKeyType).toBe('rsa');
    const m = /^2\.([^|]+)\|([^|]+)\|([^|]+)$/.exec(privateKey);
    expect(m).not.toBeNull();
    const [iv, ct, mac] = [m![1]!, m![2]!, m![3]!].map((s) => Buffer.from(s, 'base64')) as [Buffer, Buffer, Buffer];
    const wantMac = createHmac('sha256', Buffer.from(symKey.slice(32))).update(Buffer.concat([iv, ct])).digest();
    expect(mac.equals(wantMac)).toBe(true);
    const d = createDecipheriv('aes-256-cbc', Buffer.from(symKey.slice(0, 32)), iv);
    const pkcs8 = Buffer.concat([d.update(ct), d.final()]);
    const priv = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    expect(createPublicKey(priv).export({ format: 'der', type: 'spki' }).equals(pub.export({ format: 'der', type: 'spki' }))).toBe(true);
  });
});
