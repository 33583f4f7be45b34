/**
 * Certificate checks for IKE authentication (RFC 7296 §3.6-§3.7, §2.15; RFC 5280 §6 subset).
 *
 * - `validateChain`: leaf → intermediates → trust anchor, checking signatures and issuer names,
 *   validity at a wall-clock time passed in by the caller (the core reads no clock), the CA flag on
 *   every issuer, and a depth limit. No revocation, name constraints or policies (as strongSwan
 *   without the revocation plugin).
 * - `certMatchesId`: does the peer's ID belong to its certificate (strongSwan semantics: FQDN, IP
 *   and RFC822 IDs against subjectAltName entries only; DER_ASN1_DN against the subject).
 * - CERTREQ Certification Authority data (§3.7): concatenated SHA-1 hashes of each CA's
 *   SubjectPublicKeyInfo DER (encoding 4, X.509 Certificate - Signature).
 */
import { certIssuerDer, certSpkiDer } from '../../crypto/asn1.js';
import type { Certificate, CryptoProvider } from '../../crypto/types.js';
import { IdType } from '../payloads/types.js';
import { parseIpv4, parseIpv6 } from '../identity.js';
import { dnEqual } from './dn.js';

export type ChainResult = { readonly ok: true; readonly path: readonly Certificate[] } | { readonly ok: false; readonly reason: string };

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameCert(a: Certificate, b: Certificate): boolean {
  return bytesEqual(a.der, b.der);
}

function validAt(c: Certificate, nowMs: number): boolean {
  return c.notBeforeMs <= nowMs && nowMs <= c.notAfterMs;
}

/** True if `issuer`'s subject is `cert`'s issuer name and `issuer`'s key signed `cert`. */
function issuedBy(provider: CryptoProvider, cert: Certificate, issuer: Certificate): boolean {
  const issuerName = certIssuerDer(cert.der);
  if (!issuerName || !dnEqual(issuerName, issuer.subjectDer)) return false;
  return provider.verifyCertificateSignature(cert, issuer);
}

/**
 * Builds and checks a path from `leaf` to one of `trustAnchors`.
 * `maxDepth` bounds the number of issuer certificates above the leaf (intermediates + anchor), so
 * the default 4 allows up to 3 intermediates. `nowMs` is Unix wall-clock ms supplied by the caller.
 * Never throws; the reason names the first failing certificate.
 */
export function validateChain(
  provider: CryptoProvider,
  leaf: Certificate,
  intermediates: readonly Certificate[],
  trustAnchors: readonly Certificate[],
  nowMs: number,
  maxDepth = 4,
): ChainResult {
  try {
    if (!validAt(leaf, nowMs)) return { ok: false, reason: `certificate '${leaf.subject}' is not valid at this time` };
    // A directly trusted leaf (pinned end-entity certificate).
    if (trustAnchors.some((a) => sameCert(a, leaf))) return { ok: true, path: [leaf] };
    const path: Certificate[] = [leaf];
    let current = leaf;
    for (let depth = 1; depth <= maxDepth; depth++) {
      const anchor = trustAnchors.find((a) => issuedBy(provider, current, a));
      if (anchor) {
        if (!anchor.isCa) return { ok: false, reason: `trust anchor '${anchor.subject}' is not a CA` };
        if (!validAt(anchor, nowMs)) return { ok: false, reason: `trust anchor '${anchor.subject}' is not valid at this time` };
        path.push(anchor);
        return { ok: true, path };
      }
      const next = intermediates.find((c) => !path.some((p) => sameCert(p, c)) && issuedBy(provider, current, c));
      if (!next) return { ok: false, reason: `no trusted issuer found for '${current.subject}' (issuer '${current.issuer}')` };
      if (!next.isCa) return { ok: false, reason: `issuer '${next.subject}' is not a CA` };
      if (!validAt(next, nowMs)) return { ok: false, reason: `issuer '${next.subject}' is not valid at this time` };
      path.push(next);
      current = next;
    }
    return { ok: false, reason: `certificate path of '${leaf.subject}' is longer than ${maxDepth}` };
  } catch {
    return { ok: false, reason: 'certificate path validation failed' };
  }
}

const utf8Decoder = new TextDecoder();

function sanValues(cert: Certificate, prefix: string): string[] {
  return cert.subjectAltNames.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
}

/**
 * Does identity (`idType`, `idData`) belong to `cert`? FQDN ↔ SAN DNS (case-insensitive),
 * IPv4/IPv6 ↔ SAN IP (compared as bytes), RFC822 ↔ SAN email (case-insensitive),
 * DER_ASN1_DN ↔ subject (byte-equal or semantically equal). Never throws.
 */
export function certMatchesId(cert: Certificate, idType: number, idData: Uint8Array): boolean {
  switch (idType) {
    case IdType.FQDN: {
      const name = utf8Decoder.decode(idData).toLowerCase();
      return name !== '' && sanValues(cert, 'DNS:').some((d) => d.toLowerCase() === name);
    }
    case IdType.RFC822_ADDR: {
      const mail = utf8Decoder.decode(idData).toLowerCase();
      return mail !== '' && sanValues(cert, 'email:').some((d) => d.toLowerCase() === mail);
    }
    case IdType.IPV4_ADDR:
    case IdType.IPV6_ADDR: {
      if (idData.length !== (idType === IdType.IPV4_ADDR ? 4 : 16)) return false;
      return sanValues(cert, 'IP:').some((s) => {
        const b = parseIpv4(s) ?? parseIpv6(s);
        return b !== null && bytesEqual(b, idData);
      });
    }
    case IdType.DER_ASN1_DN:
      return dnEqual(cert.subjectDer, idData);
    default:
      return false;
  }
}

/** SHA-1 of the certificate's SubjectPublicKeyInfo DER (the CERTREQ / "hash and URL" key hash). */
export function spkiSha1(provider: CryptoProvider, cert: Certificate): Uint8Array {
  const spki = certSpkiDer(cert.der);
  if (!spki) throw new Error(`spkiSha1: certificate '${cert.subject}' has no parsable SubjectPublicKeyInfo`);
  return provider.hash('sha1', spki);
}

/** CERTREQ Certification Authority field (RFC 7296 §3.7): concatenated 20-byte SPKI SHA-1 hashes. */
export function certReqData(provider: CryptoProvider, cas: readonly Certificate[]): Uint8Array {
  const hashes = cas.map((c) => spkiSha1(provider, c));
  const out = new Uint8Array(hashes.length * 20);
  hashes.forEach((h, i) => out.set(h, i * 20));
  return out;
}

/** Splits CERTREQ data into 20-byte hashes; undefined if the length is not a multiple of 20. Never throws. */
export function parseCertReqData(data: Uint8Array): Uint8Array[] | undefined {
  if (data.length % 20 !== 0) return undefined;
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += 20) out.push(data.subarray(i, i + 20));
  return out;
}

/** The CAs among `cas` that a received CERTREQ asks for. Never throws (unparsable CAs are skipped). */
export function casRequested(provider: CryptoProvider, data: Uint8Array, cas: readonly Certificate[]): Certificate[] {
  const wanted = parseCertReqData(data);
  if (!wanted) return [];
  return cas.filter((c) => {
    const spki = certSpkiDer(c.der);
    if (!spki) return false;
    const h = provider.hash('sha1', spki);
    return wanted.some((w) => bytesEqual(w, h));
  });
}
