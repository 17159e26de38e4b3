#!/usr/bin/env node
// Generates the keys of a test "Play Integrity" set-up, for examples/flagship-story.mjs:
//   - <out>/attestation-keys.json: what the app side needs to forge a Play Integrity token
//     (the AES-256 decryption key, the EC P-256 signing key, the package name, the APK digest);
//   - <out>/hearth-flagship.yaml: the matching `flagship:` section for the server's HEARTH_CONFIG
//     file (play_integrity_decryption_keys, play_integrity_verification_keys, package, digest).
// Google holds these keys for real apps; a test server is configured with our own instead.
//
// Usage: node examples/make-attestation-keys.mjs [--out <dir>] [--package io.cozy.flagship.mobile]
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '.' },
    package: { type: 'string', default: 'io.cozy.flagship.mobile' },
  },
});
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

const decryptionKey = randomBytes(32);
const signing = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
// The SHA-256 of the (imaginary) APK signing certificate, standard base64 as the config expects.
const certificateDigest = createHash('sha256').update(randomBytes(64)).digest('base64');
const keys = {
  packageName: values.package,
  certificateDigest,
  decryptionKey: decryptionKey.toString('base64'),
  signingKey: signing.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  verificationKey: signing.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
};
const yaml = `flagship:
  apk_package_names: ['${keys.packageName}']
  apk_certificate_digests: ['${keys.certificateDigest}']
  play_integrity_decryption_keys: ['${keys.decryptionKey}']
  play_integrity_verification_keys: ['${keys.verificationKey}']
`;
const keysFile = join(out, 'attestation-keys.json');
const yamlFile = join(out, 'hearth-flagship.yaml');
writeFileSync(keysFile, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
writeFileSync(yamlFile, yaml);
console.log(`wrote ${keysFile}`);
console.log(`wrote ${yamlFile} (use it as HEARTH_CONFIG, or merge its flagship: section into yours)`);
