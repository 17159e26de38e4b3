// POST /auth/clients/:id/challenge, POST /auth/clients/:id/attestation (Play Integrity, SafetyNet,
// App Attest) and POST /auth/clients/:id/flagship. Every key, certificate and attestation is
// generated here; the server is configured with them through its YAML file.
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, CompactSign } from 'jose';
import { Encoder } from 'cbor-x';
import { confirmFlagshipCode, createAttestationChallenge, submitAttestation } from '@hearth/client';
import { createConfirmFlagship, sessionSecretKey } from '../../../src/security/index.js';
import { startTestServer, testEngines, type TestServer } from '../../helpers/server.js';
import { certificate, ecKeyPair, explicit, makeCa, octetString, seq } from '../../helpers/x509.js';
import { makeClient, rawRequest, reloadClient } from './helpers.js';
import type { Instance } from '../../../src/repositories/instances.js';

const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();

// --- Android material ------------------------------------------------------------------------
const PACKAGE = 'io.cozy.flagship.mobile';
const decryptionKey = randomBytes(32);
const otherDecryptionKey = randomBytes(32);
const signingKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const otherSigningKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const apkDigest = sha256(Buffer.from('the APK signing certificate'));

async function playIntegrity(o: {
  nonce: string;
  packageName?: string;
  digest?: string;
  aesKey?: Buffer;
  signingKey?: KeyObject;
}): Promise<string> {
  const payload = {
    requestDetails: { requestPackageName: PACKAGE, nonce: o.nonce, timestampMillis: String(Date.now()) },
    appIntegrity: {
      appRecognitionVerdict: 'PLAY_RECOGNIZED',
      packageName: o.packageName ?? PACKAGE,
      certificateSha256Digest: [o.digest ?? apkDigest.toString('base64url')],
      versionCode: '42',
    },
    deviceIntegrity: { deviceRecognitionVerdict: ['MEETS_DEVICE_INTEGRITY'] },
  };
  const jws = await new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256' }).sign(o.signingKey ?? signingKeys.privateKey);
  return new CompactEncrypt(Buffer.from(jws)).setProtectedHeader({ alg: 'A256KW', enc: 'A256GCM' }).encrypt(o.aesKey ?? decryptionKey);
}

// --- iOS material ----------------------------------------------------------------------------
const APP_ID = 'ABCDE12345.io.cozy.flagship.mobile';
const root = makeCa('Test App Attestation Root CA', undefined, 'secp384r1');
const intermediate = makeCa('Test App Attestation CA 1', root);
const rogueRoot = makeCa('Rogue Root CA');
const rogueIntermediate = makeCa('Test App Attestation CA 1', rogueRoot);
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
const PROD_AAGUID = Buffer.concat([Buffer.from('appattest'), Buffer.alloc(7)]);

function appAttest(o: {
  challenge: string;
  appId?: string;
  counter?: number;
  aaguid?: Buffer;
  credentialId?: Buffer;
  keyId?: Buffer;
  ca?: { cn: string; privateKey: KeyObject; der: Buffer };
  nonceChallenge?: string;
  leafNotAfter?: Date;
}): { attestation: string; keyId: string } {
  const credential = ecKeyPair();
  const jwk = credential.publicKey.export({ format: 'jwk' });
  const keyId = sha256(Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url'));
  const credentialId = o.credentialId ?? keyId;
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(o.counter ?? 0);
  const credLength = Buffer.alloc(2);
  credLength.writeUInt16BE(credentialId.length);
  const coseKey = cbor.encode({ 1: 2, 3: -7, '-2': Buffer.from(jwk.x!, 'base64url'), '-3': Buffer.from(jwk.y!, 'base64url') });
  const authData = Buffer.concat([sha256(Buffer.from(o.appId ?? APP_ID)), Buffer.from([0x40]), counter, o.aaguid ?? PROD_AAGUID, credLength, credentialId, coseKey]);
  const nonce = sha256(authData, sha256(Buffer.from(o.nonceChallenge ?? o.challenge)));
  const ca = o.ca ?? intermediate;
  const leaf = certificate({
    subject: 'App Attest credential',
    issuer: ca.cn,
    publicKey: credential.publicKey,
    signingKey: ca.privateKey,
    notAfter: o.leafNotAfter,
    notBefore: o.leafNotAfter ? new Date(o.leafNotAfter.getTime() - 86400_000) : undefined,
    extensions: [{ oid: '1.2.840.113635.100.8.2', value: seq(explicit(1, octetString(nonce))) }],
  });
  const object = { fmt: 'apple-appattest', attStmt: { x5c: [leaf, ca.der], receipt: Buffer.from('receipt') }, authData };
  return { attestation: cbor.encode(object).toString('base64'), keyId: (o.keyId ?? keyId).toString('base64') };
}

const indent = (text: string, n: number) => text.trimEnd().split('\n').map((l) => ' '.repeat(n) + l).join('\n');

const configYaml = `
flagship:
  apk_package_names: [${PACKAGE}]
  apk_certificate_digests: ['${apkDigest.toString('base64')}']
  play_integrity_decryption_keys: ['${decryptionKey.toString('base64')}']
  play_integrity_verification_keys: ['${signingKeys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}']
  apple_app_ids: [${APP_ID}]
  apple_app_attest_root_ca: |
${indent(root.pem, 4)}
`;

describe.each(testEngines)('flagship certification (%s)', (engine) => {
  let server: TestServer;
  let alice: Instance;
  let domain: string;

  beforeAll(async () => {
    server = await startTestServer({ engine, configYaml });
    alice = await server.createInstance('alice');
    domain = alice.domain;
  });
  afterAll(() => server.stop());

  async function challengeFor(clientId: string, instance = alice): Promise<string> {
    const token = await server.token(instance, 'registration', { sub: clientId });
    const res = await createAttestationChallenge({ client: server.client(instance.domain, { token }), path: { clientId } });
    expect(res.response.status).toBe(201);
    return res.data!.nonce;
  }

  async function attest(clientId: string, body: Parameters<typeof submitAttestation>[0]['body'], instance = alice) {
    return submitAttestation({ client: server.client(instance.domain), path: { clientId }, body });
  }

  describe('POST /auth/clients/:id/challenge', () => {
    it('answers a 24-character nonce to the literal body null sent by cozy-client', async () => {
      const client = await makeClient(server, alice);
      const token = await server.token(alice, 'registration', { sub: client.id });
      const res = await rawRequest(domain, `/auth/clients/${client.id}/challenge`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: 'null',
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toBe('application/json');
      const body = (await res.json()) as { nonce: string };
      expect(body.nonce).toMatch(/^[A-Za-z0-9]{24}$/);
      // The nonce works once for this client.
      const ok = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: body.nonce, attestation: await playIntegrity({ nonce: body.nonce }) });
      expect(ok.response.status).toBe(204);
    });

    it('answers a different nonce each time', async () => {
      const client = await makeClient(server, alice);
      const a = await challengeFor(client.id);
      const b = await challengeFor(client.id);
      expect(a).not.toBe(b);
    });

    it('refuses a request without a registration token (401 invalid_token)', async () => {
      const client = await makeClient(server, alice);
      const res = await createAttestationChallenge({ client: server.client(domain), path: { clientId: client.id } });
      expect(res.response.status).toBe(401);
      expect(res.error).toEqual({ error: 'invalid_token' });
    });

    it('refuses the registration token of another client, an access token, and a token of another instance', async () => {
      const client = await makeClient(server, alice);
      const other = await makeClient(server, alice);
      const bob = await server.createInstance('bob-challenge');
      const tokens = [
        await server.token(alice, 'registration', { sub: other.id }),
        await server.token(alice, 'access', { sub: client.id, scope: '*' }),
        await server.token(bob, 'registration', { sub: client.id }),
        'not-a-jwt',
      ];
      for (const token of tokens) {
        const res = await createAttestationChallenge({ client: server.client(domain, { token }), path: { clientId: client.id } });
        expect(res.response.status).toBe(401);
        expect(res.error).toEqual({ error: 'invalid_token' });
      }
    });

    it('answers 404 Client not found for an unknown client', async () => {
      const token = await server.token(alice, 'registration', { sub: 'f'.repeat(32) });
      const res = await createAttestationChallenge({ client: server.client(domain, { token }), path: { clientId: 'f'.repeat(32) } });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Client not found' });
    });

    it('answers 404 for an unknown host', async () => {
      const res = await createAttestationChallenge({ client: server.client(`nobody.test:${server.port}`), path: { clientId: 'a'.repeat(32) } });
      expect(res.response.status).toBe(404);
    });

    it('answers 404 Not found once the oauth-client limit (50 per hour) is exceeded', async () => {
      const carol = await server.createInstance('carol-challenge');
      const client = await makeClient(server, carol);
      const token = await server.token(carol, 'registration', { sub: client.id });
      for (let i = 0; i < 50; i++) {
        const res = await createAttestationChallenge({ client: server.client(carol.domain, { token }), path: { clientId: client.id } });
        expect(res.response.status).toBe(201);
      }
      const res = await createAttestationChallenge({ client: server.client(carol.domain, { token }), path: { clientId: client.id } });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Not found' });
      const plain = await rawRequest(carol.domain, `/auth/clients/${client.id}/challenge`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, Accept: 'text/plain' } });
      expect(plain.status).toBe(404);
      expect(await plain.text()).toBe('Not found');
    });
  });

  describe('POST /auth/clients/:id/attestation, Android Play Integrity', () => {
    it('certifies the client (flagship and certified_from_store, pending kept)', async () => {
      const client = await makeClient(server, alice);
      const nonce = await challengeFor(client.id);
      const res = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation: await playIntegrity({ nonce }) });
      expect(res.response.status).toBe(204);
      const after = await reloadClient(server, alice, client.id);
      expect(after.flagship).toBe(true);
      expect(after.certifiedFromStore).toBe(true);
      expect(after.pending).toBe(true);
    });

    it('accepts the digest as configured (standard base64)', async () => {
      const client = await makeClient(server, alice);
      const nonce = await challengeFor(client.id);
      const res = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation: await playIntegrity({ nonce, digest: apkDigest.toString('base64') }) });
      expect(res.response.status).toBe(204);
    });

    const failures: [string, (nonce: string) => Promise<string>, string][] = [
      ['a token for another nonce', () => playIntegrity({ nonce: 'AAAAAAAAAAAAAAAAAAAAAAAA' }), 'invalid nonce'],
      ['another package', (nonce) => playIntegrity({ nonce, packageName: 'com.example.fake' }), 'invalid package name: com.example.fake'],
      ['another signing certificate', (nonce) => playIntegrity({ nonce, digest: sha256(Buffer.from('other')).toString('base64url') }), 'invalid certificate digest'],
      ['a token encrypted with another key', (nonce) => playIntegrity({ nonce, aesKey: otherDecryptionKey }), 'cannot decrypt the attestation'],
      ['a token signed with another key', (nonce) => playIntegrity({ nonce, signingKey: otherSigningKeys.privateKey }), 'invalid attestation signature'],
      ['a JWS instead of a JWE', async (nonce) => (await playIntegrity({ nonce })).split('.').slice(0, 3).join('.'), 'invalid attestation format'],
    ];
    for (const [what, make, reason] of failures) {
      it(`refuses ${what} (400 ${reason}) and leaves the client uncertified`, async () => {
        const client = await makeClient(server, alice);
        const nonce = await challengeFor(client.id);
        const res = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation: await make(nonce) });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual({ error: reason });
        const after = await reloadClient(server, alice, client.id);
        expect(after.flagship).toBe(false);
        expect(after.certifiedFromStore).toBe(false);
      });
    }

    it('consumes the nonce even when the attestation fails', async () => {
      const client = await makeClient(server, alice);
      const nonce = await challengeFor(client.id);
      const bad = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation: await playIntegrity({ nonce, packageName: 'com.example.fake' }) });
      expect(bad.response.status).toBe(400);
      const retry = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation: await playIntegrity({ nonce }) });
      expect(retry.response.status).toBe(400);
      expect(retry.error).toEqual({ error: 'invalid challenge' });
    });

    it('refuses a reused nonce (400 invalid challenge)', async () => {
      const client = await makeClient(server, alice);
      const nonce = await challengeFor(client.id);
      const attestation = await playIntegrity({ nonce });
      expect((await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation })).response.status).toBe(204);
      const again = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation });
      expect(again.response.status).toBe(400);
      expect(again.error).toEqual({ error: 'invalid challenge' });
    });

    it('refuses an unknown nonce, and the nonce of another client', async () => {
      const client = await makeClient(server, alice);
      const other = await makeClient(server, alice);
      const unknown = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: 'x'.repeat(24), attestation: await playIntegrity({ nonce: 'x'.repeat(24) }) });
      expect(unknown.response.status).toBe(400);
      expect(unknown.error).toEqual({ error: 'invalid challenge' });
      const nonce = await challengeFor(other.id);
      const stolen = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation: await playIntegrity({ nonce }) });
      expect(stolen.response.status).toBe(400);
      expect(stolen.error).toEqual({ error: 'invalid challenge' });
      expect((await reloadClient(server, alice, client.id)).flagship).toBe(false);
    });

    it('refuses the nonce of the same client id on another instance', async () => {
      const dave = await server.createInstance('dave-attest');
      const client = await makeClient(server, alice);
      const nonce = await challengeFor(client.id);
      const res = await attest(client.id, { platform: 'android', issuer: 'playintegrity', challenge: nonce, attestation: await playIntegrity({ nonce }) }, dave);
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Client not found' });
    });

    it('refuses a SafetyNet JWS whose chain does not lead to a system root', async () => {
      const client = await makeClient(server, alice);
      const nonce = await challengeFor(client.id);
      const leafKeys = ecKeyPair();
      const leaf = certificate({ subject: 'attest.android.com', issuer: intermediate.cn, publicKey: leafKeys.publicKey, signingKey: intermediate.privateKey });
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', x5c: [leaf.toString('base64'), intermediate.der.toString('base64')] })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ nonce, apkPackageName: PACKAGE, apkCertificateDigestSha256: [apkDigest.toString('base64')] })).toString('base64url');
      const res = await attest(client.id, { platform: 'android', challenge: nonce, attestation: `${header}.${payload}.c2lnbmF0dXJl` });
      expect(res.response.status).toBe(400);
      expect(res.error).toEqual({ error: 'invalid certificate chain' });
    });

    it('answers 404 for an unknown client', async () => {
      const res = await attest('e'.repeat(32), { platform: 'android', issuer: 'playintegrity', challenge: 'x'.repeat(24), attestation: 'a.b.c.d.e' });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Client not found' });
    });

    it('answers 400 for a body that is not JSON', async () => {
      const client = await makeClient(server, alice);
      const res = await rawRequest(domain, `/auth/clients/${client.id}/attestation`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: '{"platform":',
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/JSON/);
    });
  });

  describe('POST /auth/clients/:id/attestation, iOS App Attest', () => {
    it('certifies the client', async () => {
      const client = await makeClient(server, alice);
      const nonce = await challengeFor(client.id);
      const res = await attest(client.id, { platform: 'ios', challenge: nonce, ...appAttest({ challenge: nonce }) });
      expect(res.response.status).toBe(204);
      const after = await reloadClient(server, alice, client.id);
      expect(after.flagship).toBe(true);
      expect(after.certifiedFromStore).toBe(true);
    });

    const otherKeyId = sha256(Buffer.from('another key'));
    const failures: [string, (nonce: string) => { attestation: string; keyId: string }, string][] = [
      ['an attestation for another challenge', (nonce) => appAttest({ challenge: nonce, nonceChallenge: 'B'.repeat(24) }), 'invalid nonce'],
      ['a chain from another root', (nonce) => appAttest({ challenge: nonce, ca: rogueIntermediate }), 'invalid certificate chain'],
      ['an expired credential certificate', (nonce) => appAttest({ challenge: nonce, leafNotAfter: new Date(Date.now() - 86400_000) }), 'invalid certificate chain'],
      ['another app id (RP ID)', (nonce) => appAttest({ challenge: nonce, appId: 'ABCDE12345.com.example.fake' }), 'invalid RP ID'],
      ['a counter that is not zero', (nonce) => appAttest({ challenge: nonce, counter: 1 }), 'invalid counter'],
      ['a development aaguid in production', (nonce) => appAttest({ challenge: nonce, aaguid: Buffer.from('appattestdevelop') }), 'invalid aaguid'],
      ['a key id that is not the key hash', (nonce) => appAttest({ challenge: nonce, keyId: otherKeyId }), 'invalid keyId'],
      ['another credential id', (nonce) => appAttest({ challenge: nonce, credentialId: otherKeyId }), 'invalid credential id'],
      ['garbage', () => ({ attestation: Buffer.from('not cbor at all').toString('base64'), keyId: otherKeyId.toString('base64') }), 'invalid attestation format'],
      ['no keyId', (nonce) => ({ attestation: appAttest({ challenge: nonce }).attestation, keyId: '' }), 'missing keyId'],
    ];
    for (const [what, make, reason] of failures) {
      it(`refuses ${what} (400 ${reason})`, async () => {
        const client = await makeClient(server, alice);
        const nonce = await challengeFor(client.id);
        const res = await attest(client.id, { platform: 'ios', challenge: nonce, ...make(nonce) });
        expect(res.response.status).toBe(400);
        expect(res.error).toEqual({ error: reason });
        expect((await reloadClient(server, alice, client.id)).flagship).toBe(false);
      });
    }

    it('refuses a reused nonce', async () => {
      const client = await makeClient(server, alice);
      const nonce = await challengeFor(client.id);
      const body = { platform: 'ios' as const, challenge: nonce, ...appAttest({ challenge: nonce }) };
      expect((await attest(client.id, body)).response.status).toBe(204);
      const again = await attest(client.id, body);
      expect(again.response.status).toBe(400);
      expect(again.error).toEqual({ error: 'invalid challenge' });
    });
  });

  describe('iOS App Attest in the development environment', () => {
    let dev: TestServer;
    let devInstance: Instance;
    beforeAll(async () => {
      dev = await startTestServer({ engine, configYaml: `${configYaml}  apple_app_attest_environment: development\n` });
      devInstance = await dev.createInstance('devalice');
    });
    afterAll(() => dev.stop());

    it('expects the appattestdevelop aaguid', async () => {
      for (const [aaguid, status] of [[Buffer.from('appattestdevelop'), 204], [PROD_AAGUID, 400]] as const) {
        const client = await makeClient(dev, devInstance);
        const regToken = await dev.token(devInstance, 'registration', { sub: client.id });
        const challenge = await createAttestationChallenge({ client: dev.client(devInstance.domain, { token: regToken }), path: { clientId: client.id } });
        const nonce = challenge.data!.nonce;
        const res = await submitAttestation({ client: dev.client(devInstance.domain), path: { clientId: client.id }, body: { platform: 'ios', challenge: nonce, ...appAttest({ challenge: nonce, aaguid }) } });
        expect(res.response.status).toBe(status);
        if (status === 400) expect(res.error).toEqual({ error: 'invalid aaguid' });
      }
    });
  });

  describe('POST /auth/clients/:id/flagship', () => {
    const form = { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };

    it('certifies the client with the mailed code (flagship, not certified_from_store)', async () => {
      const client = await makeClient(server, alice);
      const fresh = await server.instance(domain);
      const { token, code } = createConfirmFlagship(sessionSecretKey(fresh.sessionSecret), client.id);
      const res = await confirmFlagshipCode({ client: server.client(domain), path: { clientId: client.id }, body: { code, token }, ...form });
      expect(res.response.status).toBe(204);
      const after = await reloadClient(server, alice, client.id);
      expect(after.flagship).toBe(true);
      expect(after.certifiedFromStore).toBe(false);
    });

    it('refuses a wrong code, a token of another client and a missing code (401)', async () => {
      const client = await makeClient(server, alice);
      const other = await makeClient(server, alice);
      const fresh = await server.instance(domain);
      const mine = createConfirmFlagship(sessionSecretKey(fresh.sessionSecret), client.id);
      const theirs = createConfirmFlagship(sessionSecretKey(fresh.sessionSecret), other.id);
      const wrongCode = String((Number(mine.code) + 1) % 1_000_000).padStart(6, '0');
      for (const body of [{ code: wrongCode, token: mine.token }, { code: theirs.code, token: theirs.token }, { token: mine.token }]) {
        const res = await confirmFlagshipCode({ client: server.client(domain), path: { clientId: client.id }, body, ...form });
        expect(res.response.status).toBe(401);
        expect(res.error).toEqual({ error: 'The code is invalid or has expired' });
      }
      expect((await reloadClient(server, alice, client.id)).flagship).toBe(false);
    });

    it('refuses a code made with the secret of another instance', async () => {
      const erin = await server.createInstance('erin-confirm');
      const client = await makeClient(server, alice);
      const { token, code } = createConfirmFlagship(sessionSecretKey(erin.sessionSecret), client.id);
      const res = await confirmFlagshipCode({ client: server.client(domain), path: { clientId: client.id }, body: { code, token }, ...form });
      expect(res.response.status).toBe(401);
    });

    it('answers 404 for an unknown client', async () => {
      const res = await confirmFlagshipCode({ client: server.client(domain), path: { clientId: 'd'.repeat(32) }, body: { code: '123456', token: 'x' }, ...form });
      expect(res.response.status).toBe(404);
      expect(res.error).toEqual({ error: 'Client not found' });
    });

    it('answers 400 for a field that is too long', async () => {
      const client = await makeClient(server, alice);
      const res = await confirmFlagshipCode({ client: server.client(domain), path: { clientId: client.id }, body: { code: '1'.repeat(300), token: 'x' }, ...form });
      expect(res.response.status).toBe(400);
    });

    it('answers 401 even to the right code once the confirm-flagship limit (30 per hour) is exceeded', async () => {
      const frank = await server.createInstance('frank-confirm');
      const client = await makeClient(server, frank);
      const { token, code } = createConfirmFlagship(sessionSecretKey(frank.sessionSecret), client.id);
      const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      for (let i = 0; i < 30; i++) {
        const res = await confirmFlagshipCode({ client: server.client(frank.domain), path: { clientId: client.id }, body: { code: wrongCode, token }, ...form });
        expect(res.response.status).toBe(401);
      }
      const res = await confirmFlagshipCode({ client: server.client(frank.domain), path: { clientId: client.id }, body: { code, token }, ...form });
      expect(res.response.status).toBe(401);
      expect((await reloadClient(server, frank, client.id)).flagship).toBe(false);
    });
  });
});
