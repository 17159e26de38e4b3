// Android attestations (reference §3.3): Play Integrity tokens and legacy SafetyNet JWS.
// Pure verification against a challenge and the configuration; no database, no HTTP.
import { createPublicKey, verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { compactDecrypt, compactVerify } from 'jose';
import { AttestationError, digestMatches } from './errors.js';

export interface AndroidConfig {
  packageNames: readonly string[];
  /** Standard base64 SHA-256 digests of the signing certificate. */
  certificateDigests: readonly string[];
  /** Base64 AES-256 keys (Play Integrity). */
  decryptionKeys: readonly string[];
  /** Base64 DER SPKI EC public keys (Play Integrity). */
  verificationKeys: readonly string[];
}

const PLAY_INTEGRITY_SIGNING_ALGORITHMS = ['ES256', 'ES384', 'ES512'];

function parseJson(bytes: Uint8Array | string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function verificationKey(b64: string): KeyObject | null {
  try {
    return createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

/**
 * Play Integrity: a compact JWE (A256KW + A256GCM) whose plaintext is an ES* JWS. Throws an
 * AttestationError whose message is the reason.
 */
export async function verifyPlayIntegrity(attestation: string, challenge: string, cfg: AndroidConfig): Promise<void> {
  if (attestation.split('.').length !== 5) throw new AttestationError('invalid attestation format');
  let jws: string | null = null;
  for (const key of cfg.decryptionKeys) {
    try {
      const { plaintext } = await compactDecrypt(attestation, Buffer.from(key, 'base64'), {
        keyManagementAlgorithms: ['A256KW'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      jws = Buffer.from(plaintext).toString('utf8');
      break;
    } catch {
      // try the next key
    }
  }
  if (jws === null) throw new AttestationError('cannot decrypt the attestation');

  let payload: Record<string, unknown> | null = null;
  for (const b64 of cfg.verificationKeys) {
    const key = verificationKey(b64);
    if (!key) continue;
    try {
      const verified = await compactVerify(jws, key, { algorithms: PLAY_INTEGRITY_SIGNING_ALGORITHMS });
      payload = parseJson(verified.payload);
      break;
    } catch {
      // try the next key
    }
  }
  if (!payload) throw new AttestationError('invalid attestation signature');

  if (obj(payload.requestDetails).nonce !== challenge) throw new AttestationError('invalid nonce');
  const app = obj(payload.appIntegrity);
  checkApp(app.packageName, app.certificateSha256Digest, cfg);
}

function checkApp(packageName: unknown, digests: unknown, cfg: AndroidConfig): void {
  if (typeof packageName !== 'string' || !cfg.packageNames.includes(packageName)) {
    throw new AttestationError(`invalid package name: ${typeof packageName === 'string' ? packageName : ''}`);
  }
  const first = Array.isArray(digests) ? digests[0] : undefined;
  if (!digestMatches(first, cfg.certificateDigests)) throw new AttestationError('invalid certificate digest');
}

let systemRoots: X509Certificate[] | null = null;
function defaultRoots(): X509Certificate[] {
  systemRoots ??= rootCertificates.flatMap((pem) => {
    try {
      return [new X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  return systemRoots;
}

const RSA_HASHES: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

/**
 * SafetyNet (any issuer other than `playintegrity`): an RSA-signed JWS whose x5c leaf, valid for
 * attest.android.com, chains to a system root. Throws an AttestationError whose message is the reason.
 */
export function verifySafetyNet(
  attestation: string,
  challenge: string,
  cfg: AndroidConfig,
  opts: { now: number; roots?: X509Certificate[] },
): void {
  const parts = attestation.split('.');
  if (parts.length !== 3) throw new AttestationError('invalid attestation format');
  const [h, p, s] = parts as [string, string, string];
  const header = parseJson(Buffer.from(h, 'base64url'));
  const payload = parseJson(Buffer.from(p, 'base64url'));
  if (!header || !payload) throw new AttestationError('invalid attestation format');
  const hash = typeof header.alg === 'string' ? RSA_HASHES[header.alg] : undefined;
  if (!hash) throw new AttestationError('invalid attestation algorithm');
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => typeof c === 'string')) throw new AttestationError('invalid certificate chain');
  let certs: X509Certificate[];
  try {
    certs = (x5c as string[]).map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    throw new AttestationError('invalid certificate chain');
  }
  const leaf = certs[0]!;
  const roots = opts.roots ?? defaultRoots();
  const validAt = (c: X509Certificate) => Date.parse(c.validFrom) <= opts.now && opts.now <= Date.parse(c.validTo);
  const chained = certs.every((cert, i) => {
    try {
      if (!validAt(cert)) return false;
      const next = certs[i + 1];
      if (next) return cert.checkIssued(next) && cert.verify(next.publicKey);
      return roots.some((root) => cert.checkIssued(root) && cert.verify(root.publicKey) && validAt(root));
    } catch {
      return false;
    }
  });
  if (!chained || leaf.checkHost('attest.android.com') === undefined) throw new AttestationError('invalid certificate chain');
  let signatureOk = false;
  try {
    signatureOk = verifySignature(hash, Buffer.from(`${h}.${p}`, 'ascii'), leaf.publicKey, Buffer.from(s, 'base64url'));
  } catch {
    signatureOk = false;
  }
  if (!signatureOk) throw new AttestationError('invalid attestation signature');
  const nonce = payload.nonce;
  const decodedNonce = typeof nonce === 'string' ? Buffer.from(nonce, 'base64').toString('utf8') : undefined;
  if (nonce !== challenge && decodedNonce !== challenge) throw new AttestationError('invalid nonce');
  checkApp(payload.apkPackageName, payload.apkCertificateDigestSha256, cfg);
}
