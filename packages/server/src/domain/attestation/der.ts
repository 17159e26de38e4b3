// A minimal DER reader: enough to walk an X.509 certificate down to one extension.
// Pure functions; every malformed input gives null, never an exception.

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  /** The content octets. */
  value: Buffer;
  /** Offset just after this element in the buffer it was read from. */
  end: number;
}

/** Reads one element at `offset`, or null when it is truncated or uses a form DER forbids. */
export function readTlv(buf: Buffer, offset = 0): Tlv | null {
  if (offset + 2 > buf.length) return null;
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) return null; // high tag numbers never occur here
  let pos = offset + 1;
  let len = buf[pos++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + n > buf.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
  }
  if (pos + len > buf.length) return null;
  return { tag, value: buf.subarray(pos, pos + len), end: pos + len };
}

/** The children of a constructed element's content, or null when they do not fill it exactly. */
export function children(content: Buffer): Tlv[] | null {
  const out: Tlv[] = [];
  let offset = 0;
  while (offset < content.length) {
    const tlv = readTlv(content, offset);
    if (!tlv) return null;
    out.push(tlv);
    offset = tlv.end;
  }
  return out;
}

/** The DER content octets of an OBJECT IDENTIFIER in dotted form. */
export function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    let rest = Math.floor(arc / 128);
    while (rest > 0) {
      chunk.unshift((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    bytes.push(...chunk);
  }
  return Buffer.from(bytes);
}

const SEQUENCE = 0x30;
const OID = 0x06;
const BOOLEAN = 0x01;
const OCTET_STRING = 0x04;
const EXTENSIONS = 0xa3; // [3] EXPLICIT in TBSCertificate

/**
 * The extnValue (content of the OCTET STRING) of the extension `oid` of a DER certificate, or
 * null when the certificate has no such extension or cannot be read.
 */
export function certificateExtension(certDer: Buffer, oid: string): Buffer | null {
  const cert = readTlv(certDer);
  if (!cert || cert.tag !== SEQUENCE) return null;
  const tbs = children(cert.value)?.[0];
  if (!tbs || tbs.tag !== SEQUENCE) return null;
  const fields = children(tbs.value);
  const extsWrapper = fields?.find((f) => f.tag === EXTENSIONS);
  if (!extsWrapper) return null;
  const exts = readTlv(extsWrapper.value);
  if (!exts || exts.tag !== SEQUENCE) return null;
  const wanted = encodeOid(oid);
  for (const ext of children(exts.value) ?? []) {
    if (ext.tag !== SEQUENCE) continue;
    const parts = children(ext.value);
    if (!parts || parts.length < 2 || parts[0]!.tag !== OID || !parts[0]!.value.equals(wanted)) continue;
    const valuePart = parts[1]!.tag === BOOLEAN ? parts[2] : parts[1];
    if (!valuePart || valuePart.tag !== OCTET_STRING) return null;
    return Buffer.from(valuePart.value);
  }
  return null;
}
