/**
 * Signature authentication: RFC 7296 §3.8 method 1 (RSA Digital Signature, PKCS#1 v1.5 with SHA-1)
 * and RFC 7427 method 14 (Digital Signature) with its SIGNATURE_HASH_ALGORITHMS notify (§4).
 *
 * Method 14 Authentication Data (RFC 7427 §3):
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | ASN.1 Length  | AlgorithmIdentifier ASN.1 object              |
 * +-+-+-+-+-+-+-+-+                                               +
 * ~        AlgorithmIdentifier ASN.1 object continuing            ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                         Signature Value                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * AlgorithmIdentifiers (RFC 7427 Appendix A; RFC 4055 for PSS; RFC 5758 for ECDSA; RFC 8420 for
 * Ed25519). We SEND the exact DER of Appendix A (PKCS#1 v1.5 with NULL parameters, ECDSA without
 * parameters, PSS with explicit SHA-2 hash + MGF1 + saltLength); we PARSE received ones, so a PSS
 * hash AlgorithmIdentifier with or without the NULL parameters is accepted.
 * ECDSA signature values are the DER Ecdsa-Sig-Value (RFC 7427 §3). SHA-1 in method 14 is refused
 * (RFC 8247 §3.2 / libreswan); SHA-1 is only reachable through method 1, and only when allowed.
 *
 * SIGNATURE_HASH_ALGORITHMS notify data (RFC 7427 §4): a list of 2-octet Hash Algorithm
 * Identifiers (IANA "IKEv2 Hash Algorithms", RFC 7427 §7, RFC 8420).
 */
import { Asn1Tag, children, readTlv, tlvValue, type Tlv } from '../../crypto/asn1.js';
import type { Certificate, CryptoProvider, HashName, SignatureScheme, SigningKey } from '../../crypto/types.js';
import { AuthMethod } from '../payloads/types.js';
import { decodeOidContent, derConcat, derTlv, encodeOidContent } from './dn.js';

/** IANA "IKEv2 Hash Algorithms" (RFC 7427 §7, RFC 8420 §2 for Identity). */
export const HashAlgorithmId = {
  SHA1: 1,
  SHA2_256: 2,
  SHA2_384: 3,
  SHA2_512: 4,
  IDENTITY: 5,
} as const;
export type HashAlgorithmId = (typeof HashAlgorithmId)[keyof typeof HashAlgorithmId];

/** IANA "IKEv2 Notify Message Types - Status Types": SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4). */
export const NOTIFY_SIGNATURE_HASH_ALGORITHMS = 16431;

/** What we announce by default: SHA2-256/384/512 and Identity (for Ed25519), like strongSwan. */
export const DEFAULT_SIGNATURE_HASH_ALGORITHMS: readonly number[] = [
  HashAlgorithmId.SHA2_256,
  HashAlgorithmId.SHA2_384,
  HashAlgorithmId.SHA2_512,
  HashAlgorithmId.IDENTITY,
];

export function encodeSignatureHashAlgorithms(ids: readonly number[]): Uint8Array {
  const out = new Uint8Array(ids.length * 2);
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new Error(`encodeSignatureHashAlgorithms: id ${id} out of range`);
    out[2 * i] = id >>> 8;
    out[2 * i + 1] = id & 0xff;
  });
  return out;
}

/** Decodes the notify data; undefined when the length is odd. Never throws. */
export function decodeSignatureHashAlgorithms(data: Uint8Array): number[] | undefined {
  if (data.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 2) out.push((data[i]! << 8) | data[i + 1]!);
  return out;
}

/** The RFC 7427 hash id a scheme needs the peer to have announced. */
export function schemeHashId(scheme: SignatureScheme): number {
  if (scheme.kind === 'ed25519') return HashAlgorithmId.IDENTITY;
  switch (scheme.hash) {
    case 'sha1':
      return HashAlgorithmId.SHA1;
    case 'sha256':
      return HashAlgorithmId.SHA2_256;
    case 'sha384':
      return HashAlgorithmId.SHA2_384;
    case 'sha512':
      return HashAlgorithmId.SHA2_512;
  }
}

// ---- AlgorithmIdentifier OIDs ----

const OID = {
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
} as const;

const RSA_PKCS1_OID: Readonly<Record<HashName, string>> = {
  sha1: OID.sha1WithRSAEncryption,
  sha256: OID.sha256WithRSAEncryption,
  sha384: OID.sha384WithRSAEncryption,
  sha512: OID.sha512WithRSAEncryption,
};
const HASH_OID: Readonly<Record<HashName, string>> = { sha1: OID.sha1, sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };
const ECDSA_OID: Readonly<Record<Exclude<HashName, 'sha1'>, string>> = {
  sha256: OID.ecdsaWithSha256,
  sha384: OID.ecdsaWithSha384,
  sha512: OID.ecdsaWithSha512,
};

const NULL_DER = Uint8Array.of(0x05, 0x00);

function oidTlv(oid: string): Uint8Array {
  return derTlv(Asn1Tag.OID, encodeOidContent(oid));
}

function derInteger(n: number): Uint8Array {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return derTlv(Asn1Tag.INTEGER, Uint8Array.from(bytes));
}

/** Hash AlgorithmIdentifier with NULL parameters (RFC 4055 §2.1 / RFC 7427 A.4). */
function hashAlgId(hash: HashName): Uint8Array {
  return derTlv(Asn1Tag.SEQUENCE, derConcat([oidTlv(HASH_OID[hash]), NULL_DER]));
}

/** The DER AlgorithmIdentifier we send for `scheme` (RFC 7427 Appendix A). */
export function algorithmIdentifierFor(scheme: SignatureScheme): Uint8Array {
  switch (scheme.kind) {
    case 'rsa-pkcs1':
      return derTlv(Asn1Tag.SEQUENCE, derConcat([oidTlv(RSA_PKCS1_OID[scheme.hash]), NULL_DER]));
    case 'rsa-pss': {
      // RSASSA-PSS-params (RFC 4055 §3.1): [0] hashAlgorithm, [1] maskGenAlgorithm, [2] saltLength.
      const hash = hashAlgId(scheme.hash);
      const mgf = derTlv(Asn1Tag.SEQUENCE, derConcat([oidTlv(OID.mgf1), hash]));
      const params = derTlv(Asn1Tag.SEQUENCE, derConcat([derTlv(0xa0, hash), derTlv(0xa1, mgf), derTlv(0xa2, derInteger(scheme.saltLength))]));
      return derTlv(Asn1Tag.SEQUENCE, derConcat([oidTlv(OID.rsassaPss), params]));
    }
    case 'ecdsa':
      return derTlv(Asn1Tag.SEQUENCE, oidTlv(ECDSA_OID[scheme.hash]));
    case 'ed25519':
      return derTlv(Asn1Tag.SEQUENCE, oidTlv(OID.ed25519));
  }
}

function hashByOid(oid: string): HashName | undefined {
  for (const [name, o] of Object.entries(HASH_OID) as Array<[HashName, string]>) if (o === oid) return name;
  return undefined;
}

/** Reads an AlgorithmIdentifier TLV → [oid, params TLV | undefined]; null if malformed. */
function readAlgId(buf: Uint8Array, t: Tlv): [string, Tlv | undefined] | null {
  if (t.tag !== Asn1Tag.SEQUENCE) return null;
  const f = children(buf, t);
  if (!f || f.length < 1 || f.length > 2 || f[0]!.tag !== Asn1Tag.OID) return null;
  const oid = decodeOidContent(tlvValue(buf, f[0]!));
  if (oid === null) return null;
  return [oid, f[1]];
}

function isAbsentOrNull(buf: Uint8Array, p: Tlv | undefined): boolean {
  return p === undefined || (p.tag === 0x05 && p.end === p.valueStart);
}

/** Hash AlgorithmIdentifier (params absent or NULL) → hash name. */
function readHashAlgId(buf: Uint8Array, t: Tlv): HashName | undefined {
  const a = readAlgId(buf, t);
  if (!a || !isAbsentOrNull(buf, a[1])) return undefined;
  return hashByOid(a[0]);
}

function readSmallInteger(buf: Uint8Array, t: Tlv): number | undefined {
  if (t.tag !== Asn1Tag.INTEGER) return undefined;
  const v = tlvValue(buf, t);
  if (v.length === 0 || v.length > 4 || v[0]! & 0x80) return undefined;
  let n = 0;
  for (let i = 0; i < v.length; i++) n = n * 256 + v[i]!;
  return n;
}

function parsePssParams(buf: Uint8Array, p: Tlv | undefined): SignatureScheme | undefined {
  // Defaults (RFC 4055 §3.1) are SHA-1 / MGF1-SHA-1 / salt 20: SHA-1 is refused, so params are required.
  if (!p || p.tag !== Asn1Tag.SEQUENCE) return undefined;
  const f = children(buf, p);
  if (!f) return undefined;
  let hash: HashName = 'sha1';
  let mgfHash: HashName = 'sha1';
  let saltLength = 20;
  for (const item of f) {
    const inner = children(buf, item);
    if (!inner || inner.length !== 1) return undefined;
    const v = inner[0]!;
    if (item.tag === 0xa0) {
      const h = readHashAlgId(buf, v);
      if (!h) return undefined;
      hash = h;
    } else if (item.tag === 0xa1) {
      const m = readAlgId(buf, v);
      if (!m || m[0] !== OID.mgf1 || !m[1]) return undefined;
      const h = readHashAlgId(buf, m[1]);
      if (!h) return undefined;
      mgfHash = h;
    } else if (item.tag === 0xa2) {
      const s = readSmallInteger(buf, v);
      if (s === undefined) return undefined;
      saltLength = s;
    } else if (item.tag === 0xa3) {
      if (readSmallInteger(buf, v) !== 1) return undefined; // trailerField must be 1
    } else {
      return undefined;
    }
  }
  if (hash === 'sha1' || mgfHash !== hash) return undefined;
  return { kind: 'rsa-pss', hash, saltLength };
}

/** Parses a received AlgorithmIdentifier (whole DER) into a scheme; undefined if unsupported. Never throws. */
export function schemeFromAlgorithmIdentifier(der: Uint8Array): SignatureScheme | undefined {
  const t = readTlv(der, 0);
  if (!t || t.end !== der.length) return undefined;
  const a = readAlgId(der, t);
  if (!a) return undefined;
  const [oid, params] = a;
  switch (oid) {
    case OID.sha1WithRSAEncryption:
      return isAbsentOrNull(der, params) ? { kind: 'rsa-pkcs1', hash: 'sha1' } : undefined;
    case OID.sha256WithRSAEncryption:
      return isAbsentOrNull(der, params) ? { kind: 'rsa-pkcs1', hash: 'sha256' } : undefined;
    case OID.sha384WithRSAEncryption:
      return isAbsentOrNull(der, params) ? { kind: 'rsa-pkcs1', hash: 'sha384' } : undefined;
    case OID.sha512WithRSAEncryption:
      return isAbsentOrNull(der, params) ? { kind: 'rsa-pkcs1', hash: 'sha512' } : undefined;
    case OID.rsassaPss:
      return parsePssParams(der, params);
    case OID.ecdsaWithSha256:
      return params === undefined ? { kind: 'ecdsa', hash: 'sha256' } : undefined;
    case OID.ecdsaWithSha384:
      return params === undefined ? { kind: 'ecdsa', hash: 'sha384' } : undefined;
    case OID.ecdsaWithSha512:
      return params === undefined ? { kind: 'ecdsa', hash: 'sha512' } : undefined;
    case OID.ed25519:
      return params === undefined ? { kind: 'ed25519' } : undefined;
    default:
      return undefined;
  }
}

export interface DecodedSignatureAuth {
  readonly scheme: SignatureScheme;
  readonly algorithmIdentifier: Uint8Array;
  readonly signature: Uint8Array;
}

/** Splits method-14 AUTH data; undefined when malformed or the algorithm is unsupported. Never throws. */
export function decodeSignatureAuthData(data: Uint8Array): DecodedSignatureAuth | undefined {
  if (data.length < 1) return undefined;
  const len = data[0]!;
  if (len === 0 || 1 + len > data.length) return undefined;
  const algorithmIdentifier = data.subarray(1, 1 + len);
  const scheme = schemeFromAlgorithmIdentifier(algorithmIdentifier);
  if (!scheme) return undefined;
  const signature = data.subarray(1 + len);
  if (signature.length === 0) return undefined;
  return { scheme, algorithmIdentifier, signature };
}

/** Key type a scheme needs. */
export function schemeKeyType(scheme: SignatureScheme): 'rsa' | 'ec' | 'ed25519' {
  switch (scheme.kind) {
    case 'rsa-pkcs1':
    case 'rsa-pss':
      return 'rsa';
    case 'ecdsa':
      return 'ec';
    case 'ed25519':
      return 'ed25519';
  }
}

/**
 * Signs `octets` (the signed octets of §2.15). `{kind: 'rsa-pkcs1', hash: 'sha1'}` produces method 1
 * (RSA_SIG, raw PKCS#1 v1.5 signature, RFC 7296 §3.8); every other scheme produces method 14
 * (RFC 7427 §3). Throws (config error) if the key type does not fit the scheme.
 */
export function signAuth(
  provider: CryptoProvider,
  key: SigningKey,
  scheme: SignatureScheme,
  octets: Uint8Array,
): { method: number; data: Uint8Array } {
  const need = schemeKeyType(scheme);
  if (key.type !== need) throw new Error(`signAuth: scheme ${scheme.kind} needs a ${need} key, got ${key.type}`);
  const signature = provider.sign(key, scheme, octets);
  if (scheme.kind === 'rsa-pkcs1' && scheme.hash === 'sha1') return { method: AuthMethod.RSA_SIG, data: signature };
  const algId = algorithmIdentifierFor(scheme);
  const data = new Uint8Array(1 + algId.length + signature.length);
  data[0] = algId.length;
  data.set(algId, 1);
  data.set(signature, 1 + algId.length);
  return { method: AuthMethod.DIGITAL_SIGNATURE, data };
}

/** Which weak variants the verifier accepts. */
export interface SignatureAuthPolicy {
  /** Accept Auth Method 1 (RSA PKCS#1 v1.5 with SHA-1, RFC 7296 §3.8). Off by default in configs. */
  readonly rsaSha1Method1: boolean;
  /**
   * If given, method 14 is accepted only with a hash we announced (RFC 7427 §4) — pass the ids we
   * sent in SIGNATURE_HASH_ALGORITHMS.
   */
  readonly hashIds?: readonly number[];
}

/**
 * Verifies an AUTH payload made with the key of `cert`. Returns false (never throws) for a bad
 * signature, a malformed AUTH, an unsupported or disallowed algorithm, or a key-type mismatch.
 */
export function verifyAuth(
  provider: CryptoProvider,
  cert: Certificate,
  method: number,
  data: Uint8Array,
  octets: Uint8Array,
  allowed: SignatureAuthPolicy,
): boolean {
  try {
    if (method === AuthMethod.RSA_SIG) {
      if (!allowed.rsaSha1Method1 || cert.publicKeyType !== 'rsa' || data.length === 0) return false;
      return provider.verify(cert, { kind: 'rsa-pkcs1', hash: 'sha1' }, octets, data);
    }
    if (method !== AuthMethod.DIGITAL_SIGNATURE) return false;
    const d = decodeSignatureAuthData(data);
    if (!d) return false;
    if (d.scheme.kind !== 'ed25519' && d.scheme.hash === 'sha1') return false; // RFC 8247 §3.2
    if (allowed.hashIds && !allowed.hashIds.includes(schemeHashId(d.scheme))) return false;
    if (cert.publicKeyType !== schemeKeyType(d.scheme)) return false;
    return provider.verify(cert, d.scheme, octets, d.signature);
  } catch {
    return false;
  }
}

/**
 * The default scheme for a key, as strongSwan 5.9 / libreswan 4 pick by default: RSA →
 * sha256WithRSAEncryption (PKCS#1 v1.5), EC → ECDSA with the curve's hash, Ed25519 → Ed25519.
 */
export function defaultSchemeFor(key: SigningKey): SignatureScheme {
  switch (key.type) {
    case 'rsa':
      return { kind: 'rsa-pkcs1', hash: 'sha256' };
    case 'ec':
      return { kind: 'ecdsa', hash: key.bits > 384 ? 'sha512' : key.bits > 256 ? 'sha384' : 'sha256' };
    case 'ed25519':
      return { kind: 'ed25519' };
  }
}
