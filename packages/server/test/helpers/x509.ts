// A minimal DER encoder and X.509 certificate builder for tests (attestation chains): EC keys from
// node:crypto, ecdsa-with-SHA256 signatures, arbitrary extensions. Never used by the server.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([tag, len]);
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

export const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
export const octetString = (b: Buffer) => tlv(0x04, b);
export const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
export const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
export const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
export const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner);

export function integer(n: number | bigint | Buffer): Buffer {
  let bytes: Buffer;
  if (Buffer.isBuffer(n)) bytes = n;
  else {
    let hex = BigInt(n).toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    bytes = Buffer.from(hex, 'hex');
  }
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift((rest & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const y = d.getUTCFullYear();
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return y < 2050 ? tlv(0x17, Buffer.from(`${p(y % 100)}${body}`, 'ascii')) : tlv(0x18, Buffer.from(`${y}${body}`, 'ascii'));
}

const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), utf8(cn))));

export interface Extension {
  oid: string;
  critical?: boolean;
  /** The DER value put in the extnValue OCTET STRING. */
  value: Buffer;
}

export interface CertOptions {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  /** The key that signs the certificate (the issuer's private key). */
  signingKey: KeyObject;
  serial?: number;
  notBefore?: Date;
  notAfter?: Date;
  ca?: boolean;
  extensions?: Extension[];
}

/** A DER X.509 v3 certificate signed with ecdsa-with-SHA256. */
export function certificate(o: CertOptions): Buffer {
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const exts: Extension[] = [...(o.extensions ?? [])];
  if (o.ca) exts.unshift({ oid: '2.5.29.19', critical: true, value: seq(bool(true)) });
  const spki = o.publicKey.export({ type: 'spki', format: 'der' });
  const keyId = createHash('sha1').update(spki).digest();
  exts.push({ oid: '2.5.29.14', value: octetString(keyId) });
  const extensions = exts.map((e) => seq(oid(e.oid), ...(e.critical ? [bool(true)] : []), octetString(e.value)));
  const tbs = seq(
    explicit(0, integer(2)),
    integer(o.serial ?? Math.floor(Math.random() * 1e9) + 1),
    ecdsaSha256,
    name(o.issuer),
    seq(time(o.notBefore ?? new Date(Date.now() - 3600_000)), time(o.notAfter ?? new Date(Date.now() + 365 * 86400_000))),
    name(o.subject),
    spki,
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, o.signingKey);
  return seq(tbs, ecdsaSha256, bitString(signature));
}

export function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

export function ecKeyPair(curve: 'prime256v1' | 'secp384r1' = 'prime256v1') {
  return generateKeyPairSync('ec', { namedCurve: curve });
}

/** A CA: a self-signed root, or an intermediate signed by `parent`. */
export function makeCa(cn: string, parent?: { cn: string; privateKey: KeyObject }, curve: 'prime256v1' | 'secp384r1' = 'prime256v1') {
  const { publicKey, privateKey } = ecKeyPair(curve);
  const der = certificate({ subject: cn, issuer: parent?.cn ?? cn, publicKey, signingKey: parent?.privateKey ?? privateKey, ca: true });
  return { cn, publicKey, privateKey, der, pem: toPem(der) };
}
