/**
 * A tiny bounds-checked DER walker: just enough of X.690 to pull the pieces IKE needs out of an
 * X.509 certificate (RFC 5280 §4.1) without trusting the bytes. Every function is total: malformed
 * input yields `null` (or an empty list), never a throw or an out-of-bounds read.
 *
 * DER TLV (X.690 §8.1):
 *   +--------+-----------------------------+----------------+
 *   | tag(1) | length (1, or 0x8N + N ≤ 4) | value (length) |
 *   +--------+-----------------------------+----------------+
 * Only low tag numbers (< 31, single identifier octet) are accepted; X.509 uses no others.
 * Indefinite length (0x80) is not DER and is rejected.
 *
 * Certificate (RFC 5280 §4.1):
 *   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
 *   TBSCertificate ::= SEQUENCE {
 *     version [0] EXPLICIT OPTIONAL, serialNumber, signature, issuer, validity, subject,
 *     subjectPublicKeyInfo, issuerUniqueID [1] OPTIONAL, subjectUniqueID [2] OPTIONAL,
 *     extensions [3] EXPLICIT SEQUENCE OF Extension OPTIONAL }
 *   Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 */
import { formatIp as formatIpLiteral } from '../wire/addr.js';

export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first value byte. */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly end: number;
}

export const Asn1Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;
export type Asn1Tag = (typeof Asn1Tag)[keyof typeof Asn1Tag];

/** Reads one TLV at `offset`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv | null {
  if (limit > buf.length || offset < 0 || offset + 2 > limit) return null;
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) return null;
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > limit) return null;
  return { tag, start: offset, valueStart: p, end: p + len };
}

/** The TLVs inside a constructed value; null if they do not tile it exactly. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  let p = parent.valueStart;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    if (!t) return null;
    out.push(t);
    p = t.end;
  }
  return out;
}

export function tlvBytes(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

export function tlvValue(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.valueStart, t.end);
}

/** The parts of a certificate's TBSCertificate, by name. */
export interface TbsParts {
  readonly serial: Tlv;
  readonly issuer: Tlv;
  readonly validity: Tlv;
  readonly subject: Tlv;
  readonly spki: Tlv;
  /** The [3] extensions wrapper, if present. */
  readonly extensions: Tlv | undefined;
}

/** Splits a DER certificate into its TBSCertificate fields; null if the structure is wrong. */
export function tbsParts(der: Uint8Array): TbsParts | null {
  const cert = readTlv(der, 0);
  if (!cert || cert.tag !== Asn1Tag.SEQUENCE || cert.end !== der.length) return null;
  const top = children(der, cert);
  if (!top || top.length !== 3 || top[0]!.tag !== Asn1Tag.SEQUENCE) return null;
  const tbs = children(der, top[0]!);
  if (!tbs) return null;
  let i = 0;
  if (tbs[0]?.tag === 0xa0) i = 1; // version [0] EXPLICIT
  if (tbs.length < i + 6) return null;
  const [serial, sigAlg, issuer, validity, subject, spki] = tbs.slice(i, i + 6) as [Tlv, Tlv, Tlv, Tlv, Tlv, Tlv];
  if (
    serial.tag !== Asn1Tag.INTEGER ||
    sigAlg.tag !== Asn1Tag.SEQUENCE ||
    issuer.tag !== Asn1Tag.SEQUENCE ||
    validity.tag !== Asn1Tag.SEQUENCE ||
    subject.tag !== Asn1Tag.SEQUENCE ||
    spki.tag !== Asn1Tag.SEQUENCE
  ) {
    return null;
  }
  const extensions = tbs.slice(i + 6).find((t) => t.tag === 0xa3);
  return { serial, issuer, validity, subject, spki, extensions };
}

/** DER of the subject Name (for ID_DER_ASN1_DN matching, RFC 7296 §3.5). */
export function certSubjectDer(der: Uint8Array): Uint8Array | null {
  const parts = tbsParts(der);
  return parts ? tlvBytes(der, parts.subject) : null;
}

/** DER of the issuer Name. */
export function certIssuerDer(der: Uint8Array): Uint8Array | null {
  const parts = tbsParts(der);
  return parts ? tlvBytes(der, parts.issuer) : null;
}

/** DER of the SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). */
export function certSpkiDer(der: Uint8Array): Uint8Array | null {
  const parts = tbsParts(der);
  return parts ? tlvBytes(der, parts.spki) : null;
}

function digits(buf: Uint8Array, from: number, count: number): number {
  let v = 0;
  for (let i = 0; i < count; i++) {
    const c = buf[from + i]! - 0x30;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/**
 * UTCTime "YYMMDDHHMMSSZ" (RFC 5280 §4.1.2.5.1: YY ≥ 50 → 19YY) or GeneralizedTime
 * "YYYYMMDDHHMMSSZ" (§4.1.2.5.2) to Unix ms; null if malformed.
 */
export function decodeTime(buf: Uint8Array, t: Tlv): number | null {
  const len = t.end - t.valueStart;
  let p = t.valueStart;
  let year: number;
  if (t.tag === Asn1Tag.UTC_TIME && len === 13) {
    const yy = digits(buf, p, 2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p += 2;
  } else if (t.tag === Asn1Tag.GENERALIZED_TIME && len === 15) {
    year = digits(buf, p, 4);
    p += 4;
  } else {
    return null;
  }
  if (buf[t.end - 1] !== 0x5a) return null; // 'Z'
  const month = digits(buf, p, 2);
  const day = digits(buf, p + 2, 2);
  const hour = digits(buf, p + 4, 2);
  const minute = digits(buf, p + 6, 2);
  const second = digits(buf, p + 8, 2);
  const all = [year, month, day, hour, minute, second];
  if (all.some((v) => Number.isNaN(v))) return null;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** notBefore / notAfter in Unix ms. */
export function certValidity(der: Uint8Array): { notBeforeMs: number; notAfterMs: number } | null {
  const parts = tbsParts(der);
  if (!parts) return null;
  const v = children(der, parts.validity);
  if (!v || v.length !== 2) return null;
  const notBeforeMs = decodeTime(der, v[0]!);
  const notAfterMs = decodeTime(der, v[1]!);
  if (notBeforeMs === null || notAfterMs === null) return null;
  return { notBeforeMs, notAfterMs };
}

function oidEquals(buf: Uint8Array, t: Tlv, oid: readonly number[]): boolean {
  if (t.tag !== Asn1Tag.OID || t.end - t.valueStart !== oid.length) return false;
  for (let i = 0; i < oid.length; i++) if (buf[t.valueStart + i] !== oid[i]) return false;
  return true;
}

/** id-ce-subjectAltName 2.5.29.17 (RFC 5280 §4.2.1.6), DER content octets. */
const OID_SUBJECT_ALT_NAME = [0x55, 0x1d, 0x11] as const;

/** extnValue content (the inner DER) of the extension with `oid`, or null. */
export function certExtension(der: Uint8Array, oid: readonly number[]): Uint8Array | null {
  const parts = tbsParts(der);
  if (!parts?.extensions) return null;
  const wrapper = children(der, parts.extensions);
  if (!wrapper || wrapper.length !== 1 || wrapper[0]!.tag !== Asn1Tag.SEQUENCE) return null;
  const exts = children(der, wrapper[0]!);
  if (!exts) return null;
  for (const ext of exts) {
    const f = children(der, ext);
    if (!f || f.length < 2 || !oidEquals(der, f[0]!, oid)) continue;
    const value = f[f.length - 1]!;
    if (value.tag !== Asn1Tag.OCTET_STRING) return null;
    return tlvValue(der, value);
  }
  return null;
}

function ascii(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** IPv4 dotted quad or RFC 5952 IPv6 text; null for any other length. */
export function formatIp(b: Uint8Array): string | null {
  return formatIpLiteral(b) ?? null;
}

/**
 * subjectAltName entries as "DNS:name", "IP:addr", "email:addr", "URI:uri" (other GeneralName
 * forms are skipped). Empty if absent or malformed.
 */
export function certSubjectAltNames(der: Uint8Array): string[] {
  const ext = certExtension(der, OID_SUBJECT_ALT_NAME);
  if (!ext) return [];
  const seq = readTlv(ext, 0);
  if (!seq || seq.tag !== Asn1Tag.SEQUENCE || seq.end !== ext.length) return [];
  const names = children(ext, seq);
  if (!names) return [];
  const out: string[] = [];
  for (const n of names) {
    const v = tlvValue(ext, n);
    switch (n.tag) {
      case 0x81: // [1] rfc822Name IA5String
        out.push(`email:${ascii(v)}`);
        break;
      case 0x82: // [2] dNSName IA5String
        out.push(`DNS:${ascii(v)}`);
        break;
      case 0x86: // [6] uniformResourceIdentifier IA5String
        out.push(`URI:${ascii(v)}`);
        break;
      case 0x87: {
        // [7] iPAddress OCTET STRING
        const ip = formatIp(v);
        if (ip !== null) out.push(`IP:${ip}`);
        break;
      }
      default:
        break;
    }
  }
  return out;
}
