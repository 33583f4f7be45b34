/**
 * Pure-TypeScript X.509 / PKCS#8 / SEC1 parsing for the noble provider (the node provider uses
 * OpenSSL's X509Certificate and only borrows `asn1.ts` for subjectDer, validity and SANs).
 * Every function is total: malformed bytes give `null`.
 *
 * Sources: RFC 5280 §4.1 (Certificate), §4.1.2.4 (Name), §4.2.1.9 (basicConstraints);
 * RFC 5480 §2 (EC SubjectPublicKeyInfo), RFC 8410 §3-§7 (Ed25519 keys), RFC 5915 §3 (SEC1
 * ECPrivateKey), RFC 5208 §5 (PKCS#8 PrivateKeyInfo), RFC 7468 (PEM text encoding).
 */
import { Asn1Tag, certExtension, children, readTlv, tbsParts, tlvBytes, tlvValue, type Tlv } from './asn1.js';

// ---- OIDs as DER content octets (X.690 §8.19)
const OID = {
  rsaEncryption: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
  rsassaPss: [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a],
  ecPublicKey: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
  prime256v1: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
  secp384r1: [0x2b, 0x81, 0x04, 0x00, 0x22],
  secp521r1: [0x2b, 0x81, 0x04, 0x00, 0x23],
  ed25519: [0x2b, 0x65, 0x70],
  ecdsaWithSha256: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
  ecdsaWithSha384: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
  ecdsaWithSha512: [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
  basicConstraints: [0x55, 0x1d, 0x13],
} as const;

export type EcCurveName = 'p256' | 'p384' | 'p521';

export type PublicKeyInfo =
  | { readonly type: 'ec'; readonly curve: EcCurveName; readonly point: Uint8Array }
  | { readonly type: 'ed25519'; readonly key: Uint8Array }
  | { readonly type: 'rsa' }
  | { readonly type: 'other' };

export type CertSignatureAlgorithm =
  | { readonly kind: 'ecdsa'; readonly hash: 'sha256' | 'sha384' | 'sha512' }
  | { readonly kind: 'ed25519' }
  | { readonly kind: 'unsupported' };

export type PrivateKeyInfo =
  | { readonly type: 'ec'; readonly curve: EcCurveName; readonly d: Uint8Array }
  | { readonly type: 'ed25519'; readonly seed: Uint8Array }
  | { readonly type: 'rsa' };

function oidIs(buf: Uint8Array, t: Tlv | undefined, oid: readonly number[]): boolean {
  if (!t || t.tag !== Asn1Tag.OID || t.end - t.valueStart !== oid.length) return false;
  for (let i = 0; i < oid.length; i++) if (buf[t.valueStart + i] !== oid[i]) return false;
  return true;
}

function curveOf(buf: Uint8Array, t: Tlv | undefined): EcCurveName | null {
  if (oidIs(buf, t, OID.prime256v1)) return 'p256';
  if (oidIs(buf, t, OID.secp384r1)) return 'p384';
  if (oidIs(buf, t, OID.secp521r1)) return 'p521';
  return null;
}

export const CURVE_SCALAR_LENGTH: Readonly<Record<EcCurveName, number>> = { p256: 32, p384: 48, p521: 66 };

// ---- PEM (RFC 7468)

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function base64Decode(s: string): Uint8Array | null {
  const clean = s.replace(/[\s]/g, '').replace(/=+$/, '');
  if (clean.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** First PEM block's label and DER bytes, or null. */
export function pemDecode(text: string): { label: string; der: Uint8Array } | null {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return null;
  const der = base64Decode(m[2]!);
  return der && der.length > 0 ? { label: m[1]!, der } : null;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** DER from PEM text, PEM bytes or DER bytes (DER recognised by its leading SEQUENCE tag). */
export function toDer(input: Uint8Array | string): Uint8Array | null {
  if (typeof input !== 'string' && input.length > 0 && input[0] === Asn1Tag.SEQUENCE) return input;
  const text = typeof input === 'string' ? input : latin1(input);
  return pemDecode(text)?.der ?? null;
}

// ---- Names (RFC 5280 §4.1.2.4), rendered like OpenSSL / node's X509Certificate.subject joined by ", "

const ATTR_NAMES: ReadonlyMap<string, string> = new Map([
  ['550403', 'CN'],
  ['550404', 'SN'],
  ['550405', 'serialNumber'],
  ['550406', 'C'],
  ['550407', 'L'],
  ['550408', 'ST'],
  ['550409', 'street'],
  ['55040a', 'O'],
  ['55040b', 'OU'],
  ['55040c', 'title'],
  ['55042a', 'GN'],
  ['2a864886f70d010901', 'emailAddress'],
  ['0992268993f22c640119', 'DC'],
  ['0992268993f22c640101', 'UID'],
]);

function hexOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

function decodeString(buf: Uint8Array, t: Tlv): string {
  const v = tlvValue(buf, t);
  if (t.tag === Asn1Tag.UTF8_STRING) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(v);
    } catch {
      return latin1(v);
    }
  }
  if (t.tag === 0x1e) {
    // BMPString: UTF-16BE
    let s = '';
    for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
    return s;
  }
  return latin1(v); // PrintableString, IA5String, TeletexString (approximate)
}

/** "C=ZZ, O=tsipsec, CN=a.ipx.test" (multi-valued RDNs joined with "+"); null if malformed. */
export function formatName(buf: Uint8Array, name: Tlv): string | null {
  const rdns = children(buf, name);
  if (!rdns) return null;
  const parts: string[] = [];
  for (const rdn of rdns) {
    if (rdn.tag !== Asn1Tag.SET) return null;
    const avas = children(buf, rdn);
    if (!avas) return null;
    const rendered: string[] = [];
    for (const ava of avas) {
      const f = children(buf, ava);
      if (!f || f.length !== 2 || f[0]!.tag !== Asn1Tag.OID) return null;
      const oidHex = hexOf(tlvValue(buf, f[0]!));
      rendered.push(`${ATTR_NAMES.get(oidHex) ?? oidHex}=${decodeString(buf, f[1]!)}`);
    }
    parts.push(rendered.join(' + '));
  }
  return parts.join(', ');
}

// ---- SubjectPublicKeyInfo (RFC 5480 §2, RFC 8410 §4)

export function parseSpki(buf: Uint8Array, spki: Tlv): PublicKeyInfo | null {
  const f = children(buf, spki);
  if (!f || f.length !== 2 || f[0]!.tag !== Asn1Tag.SEQUENCE || f[1]!.tag !== Asn1Tag.BIT_STRING) return null;
  const alg = children(buf, f[0]!);
  if (!alg || alg.length < 1) return null;
  const bits = tlvValue(buf, f[1]!);
  if (bits.length < 1 || bits[0] !== 0) return null; // unused-bits octet must be 0
  const key = bits.subarray(1);
  if (oidIs(buf, alg[0], OID.ecPublicKey)) {
    const curve = curveOf(buf, alg[1]);
    if (!curve) return { type: 'other' };
    return { type: 'ec', curve, point: key };
  }
  if (oidIs(buf, alg[0], OID.ed25519)) return key.length === 32 ? { type: 'ed25519', key } : null;
  if (oidIs(buf, alg[0], OID.rsaEncryption) || oidIs(buf, alg[0], OID.rsassaPss)) return { type: 'rsa' };
  return { type: 'other' };
}

// ---- Certificate

export interface ParsedCertificate {
  readonly tbs: Uint8Array;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly publicKey: PublicKeyInfo;
  readonly signatureAlgorithm: CertSignatureAlgorithm;
  /** signatureValue BIT STRING content without the unused-bits octet. */
  readonly signature: Uint8Array;
  readonly isCa: boolean;
}

function signatureAlgorithm(buf: Uint8Array, alg: Tlv): CertSignatureAlgorithm {
  const f = children(buf, alg);
  const oid = f?.[0];
  if (oidIs(buf, oid, OID.ecdsaWithSha256)) return { kind: 'ecdsa', hash: 'sha256' };
  if (oidIs(buf, oid, OID.ecdsaWithSha384)) return { kind: 'ecdsa', hash: 'sha384' };
  if (oidIs(buf, oid, OID.ecdsaWithSha512)) return { kind: 'ecdsa', hash: 'sha512' };
  if (oidIs(buf, oid, OID.ed25519)) return { kind: 'ed25519' };
  return { kind: 'unsupported' };
}

/** basicConstraints cA (RFC 5280 §4.2.1.9); false when absent. */
export function certIsCa(der: Uint8Array): boolean {
  const ext = certExtension(der, OID.basicConstraints);
  if (!ext) return false;
  const seq = readTlv(ext, 0);
  if (!seq || seq.tag !== Asn1Tag.SEQUENCE) return false;
  const f = children(ext, seq);
  const first = f?.[0];
  return !!first && first.tag === Asn1Tag.BOOLEAN && first.end - first.valueStart === 1 && ext[first.valueStart] !== 0;
}

export function parseCertificateDer(der: Uint8Array): ParsedCertificate | null {
  const parts = tbsParts(der);
  if (!parts) return null;
  const top = children(der, readTlv(der, 0)!);
  if (!top || top.length !== 3 || top[1]!.tag !== Asn1Tag.SEQUENCE || top[2]!.tag !== Asn1Tag.BIT_STRING) return null;
  const sigBits = tlvValue(der, top[2]!);
  if (sigBits.length < 1 || sigBits[0] !== 0) return null;
  const subject = formatName(der, parts.subject);
  const issuer = formatName(der, parts.issuer);
  const publicKey = parseSpki(der, parts.spki);
  if (subject === null || issuer === null || !publicKey) return null;
  return {
    tbs: tlvBytes(der, top[0]!),
    subject,
    issuer,
    subjectDer: tlvBytes(der, parts.subject),
    issuerDer: tlvBytes(der, parts.issuer),
    publicKey,
    signatureAlgorithm: signatureAlgorithm(der, top[1]!),
    signature: sigBits.subarray(1),
    isCa: certIsCa(der),
  };
}

// ---- Private keys: PKCS#8 (RFC 5208 §5, RFC 8410 §7) and SEC1 ECPrivateKey (RFC 5915 §3)

function parseSec1(buf: Uint8Array, seq: Tlv, curveFromAlg: EcCurveName | null): PrivateKeyInfo | null {
  const f = children(buf, seq);
  if (!f || f.length < 2 || f[0]!.tag !== Asn1Tag.INTEGER || f[1]!.tag !== Asn1Tag.OCTET_STRING) return null;
  let curve = curveFromAlg;
  for (const t of f.slice(2)) {
    if (t.tag === 0xa0) {
      const inner = readTlv(buf, t.valueStart, t.end);
      curve = curveOf(buf, inner ?? undefined) ?? curve;
    }
  }
  if (!curve) return null;
  const d = tlvValue(buf, f[1]!);
  const len = CURVE_SCALAR_LENGTH[curve];
  if (d.length === 0 || d.length > len) return null;
  const padded = new Uint8Array(len);
  padded.set(d, len - d.length);
  return { type: 'ec', curve, d: padded };
}

export function parsePrivateKeyDer(der: Uint8Array): PrivateKeyInfo | null {
  const seq = readTlv(der, 0);
  if (!seq || seq.tag !== Asn1Tag.SEQUENCE || seq.end !== der.length) return null;
  const f = children(der, seq);
  if (!f || f.length < 2 || f[0]!.tag !== Asn1Tag.INTEGER) return null;
  if (f[1]!.tag === Asn1Tag.OCTET_STRING) return parseSec1(der, seq, null); // bare SEC1
  if (f[1]!.tag === Asn1Tag.INTEGER && f.length >= 9) return { type: 'rsa' }; // PKCS#1 RSAPrivateKey
  // PKCS#8 PrivateKeyInfo: version, AlgorithmIdentifier, OCTET STRING privateKey, ...
  if (f.length < 3 || f[1]!.tag !== Asn1Tag.SEQUENCE || f[2]!.tag !== Asn1Tag.OCTET_STRING) return null;
  const alg = children(der, f[1]!);
  if (!alg || alg.length < 1) return null;
  const inner = tlvValue(der, f[2]!);
  if (oidIs(der, alg[0], OID.ecPublicKey)) {
    const s = readTlv(inner, 0);
    if (!s || s.tag !== Asn1Tag.SEQUENCE || s.end !== inner.length) return null;
    return parseSec1(inner, s, curveOf(der, alg[1]));
  }
  if (oidIs(der, alg[0], OID.ed25519)) {
    const s = readTlv(inner, 0);
    if (!s || s.tag !== Asn1Tag.OCTET_STRING || s.end - s.valueStart !== 32) return null;
    return { type: 'ed25519', seed: tlvValue(inner, s) };
  }
  if (oidIs(der, alg[0], OID.rsaEncryption) || oidIs(der, alg[0], OID.rsassaPss)) return { type: 'rsa' };
  return null;
}
