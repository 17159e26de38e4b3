// iOS App Attest (reference §3.3): pure verification of an attestation object against a challenge.
//
// The attestation is the standard base64 of a CBOR map {fmt: "apple-appattest", attStmt: {x5c,
// receipt}, authData}. Checks, in order: the format and the attested-credential flag; the x5c chain
// up to the configured App Attest root (issuer names, signatures, validity dates); the nonce
// SHA256(authData ‖ SHA256(challenge)) in the leaf's extension 1.2.840.113635.100.8.2; SHA256 of
// the leaf's uncompressed EC public key = keyId; the RP ID hash = SHA256 of an allowed app id; the
// counter = 0; the aaguid (`appattest` + 7 zero bytes, or `appattestdevelop`); credentialId = keyId.
import { createHash, X509Certificate } from 'node:crypto';
import { decode } from 'cbor-x';
import { certificateExtension, children, readTlv } from './der.js';
import { AttestationError } from './errors.js';

export const APP_ATTEST_NONCE_OID = '1.2.840.113635.100.8.2';

export interface AppAttestConfig {
  /** PEM of the root CA the chain must lead to. */
  rootCaPem: string;
  /** `<team id>.<bundle id>` values. */
  appIds: readonly string[];
  environment: 'production' | 'development';
}

export interface AppAttestInput {
  /** Standard base64 of the CBOR attestation object. */
  attestation: string;
  /** Standard base64 of the key id (SHA256 of the public key). */
  keyId: string | undefined;
  challenge: string;
  /** The instant the certificates must be valid at (epoch ms). */
  now: number;
}

const AT_FLAG = 0x40;
const PRODUCTION_AAGUID = Buffer.concat([Buffer.from('appattest', 'ascii'), Buffer.alloc(7)]);
const DEVELOPMENT_AAGUID = Buffer.from('appattestdevelop', 'ascii');

const sha256 = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

function decodeBase64(value: string): Buffer | null {
  const std = value.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std)) return null;
  return Buffer.from(std, 'base64');
}

interface AttestationObject {
  x5c: Buffer[];
  authData: Buffer;
}

function parseObject(attestation: string): AttestationObject {
  const raw = decodeBase64(attestation);
  if (!raw || raw.length === 0) throw new AttestationError('invalid attestation format');
  let obj: unknown;
  try {
    obj = decode(raw);
  } catch {
    throw new AttestationError('invalid attestation format');
  }
  const o = obj as { fmt?: unknown; attStmt?: { x5c?: unknown }; authData?: unknown } | null;
  if (!o || typeof o !== 'object' || o.fmt !== 'apple-appattest') throw new AttestationError('invalid attestation format');
  const x5c = o.attStmt && typeof o.attStmt === 'object' ? o.attStmt.x5c : undefined;
  if (!Array.isArray(x5c) || x5c.length === 0 || !x5c.every((c) => c instanceof Uint8Array)) {
    throw new AttestationError('invalid attestation format');
  }
  if (!(o.authData instanceof Uint8Array)) throw new AttestationError('invalid attestation format');
  return { x5c: x5c.map((c: Uint8Array) => Buffer.from(c)), authData: Buffer.from(o.authData) };
}

function validAt(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

/** Verifies that x5c[0] ← x5c[1] ← … ← root; throws 'invalid certificate chain'. */
export function verifyChain(x5c: Buffer[], rootCaPem: string, now: number): X509Certificate {
  const fail = () => new AttestationError('invalid certificate chain');
  let certs: X509Certificate[];
  let root: X509Certificate;
  try {
    certs = x5c.map((der) => new X509Certificate(der));
    root = new X509Certificate(rootCaPem);
  } catch {
    throw fail();
  }
  // A chain that includes the root itself is accepted: its last element is then the root.
  if (certs.length > 1 && certs[certs.length - 1]!.fingerprint256 === root.fingerprint256) certs = certs.slice(0, -1);
  if (!validAt(root, now)) throw fail();
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i]!;
    const issuer = i + 1 < certs.length ? certs[i + 1]! : root;
    let ok = false;
    try {
      ok = cert.checkIssued(issuer) && cert.verify(issuer.publicKey) && validAt(cert, now);
    } catch {
      ok = false;
    }
    if (!ok) throw fail();
  }
  return certs[0]!;
}

/** The nonce of extension 1.2.840.113635.100.8.2: SEQUENCE { [1] { OCTET STRING nonce } }. */
export function appAttestNonce(leafDer: Buffer): Buffer | null {
  const ext = certificateExtension(leafDer, APP_ATTEST_NONCE_OID);
  if (!ext) return null;
  const seq = readTlv(ext);
  if (!seq || seq.tag !== 0x30) return null;
  for (const child of children(seq.value) ?? []) {
    if (child.tag !== 0xa1) continue;
    const inner = readTlv(child.value);
    return inner && inner.tag === 0x04 ? Buffer.from(inner.value) : null;
  }
  return null;
}

/** SHA256 of the uncompressed point 0x04 ‖ x ‖ y of an EC public key certificate. */
function publicKeyHash(cert: X509Certificate): Buffer | null {
  try {
    const jwk = cert.publicKey.export({ format: 'jwk' });
    if (jwk.kty !== 'EC' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return null;
    return sha256(Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url'));
  } catch {
    return null;
  }
}

/** Throws an AttestationError whose message is the reason; returns normally when the attestation is valid. */
export function verifyAppAttest(input: AppAttestInput, cfg: AppAttestConfig): void {
  const keyId = input.keyId ? decodeBase64(input.keyId) : null;
  if (!keyId || keyId.length === 0) throw new AttestationError('missing keyId');
  const { x5c, authData } = parseObject(input.attestation);
  // rpIdHash (32) | flags (1) | counter (4) | aaguid (16) | credentialId length (2) | credentialId | key
  if (authData.length < 55 || (authData[32]! & AT_FLAG) === 0) throw new AttestationError('invalid authenticator data');

  const leaf = verifyChain(x5c, cfg.rootCaPem, input.now);

  const expectedNonce = sha256(authData, sha256(Buffer.from(input.challenge, 'utf8')));
  const nonce = appAttestNonce(Buffer.from(leaf.raw));
  if (!nonce || !nonce.equals(expectedNonce)) throw new AttestationError('invalid nonce');

  const keyHash = publicKeyHash(leaf);
  if (!keyHash || !keyHash.equals(keyId)) throw new AttestationError('invalid keyId');

  const rpIdHash = authData.subarray(0, 32);
  if (!cfg.appIds.some((id) => sha256(Buffer.from(id, 'utf8')).equals(rpIdHash))) throw new AttestationError('invalid RP ID');

  if (authData.readUInt32BE(33) !== 0) throw new AttestationError('invalid counter');

  const aaguid = authData.subarray(37, 53);
  const expectedAaguid = cfg.environment === 'development' ? DEVELOPMENT_AAGUID : PRODUCTION_AAGUID;
  if (!aaguid.equals(expectedAaguid)) throw new AttestationError('invalid aaguid');

  const credLength = authData.readUInt16BE(53);
  const credentialId = authData.subarray(55, 55 + credLength);
  if (credentialId.length !== credLength || !credentialId.equals(keyId)) throw new AttestationError('invalid credential id');
}
