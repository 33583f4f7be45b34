/**
 * IKE identities (RFC 7296 §3.5) from and to strongSwan's text forms (`local.id` / `remote.id`).
 *
 *   198.18.0.1            → ID_IPV4_ADDR (4 bytes)
 *   2001:db8::1           → ID_IPV6_ADDR (16 bytes)
 *   @a.example            → ID_FQDN "a.example" ('@' forces FQDN)
 *   a.example             → ID_FQDN
 *   user@example          → ID_RFC822_ADDR ('@@user@example' forces it too)
 *   C=ZZ, O=x, CN=y       → ID_DER_ASN1_DN (DER-encoded Name)
 *   @#0a0b0c              → ID_KEY_ID (hex bytes)
 *   %any                  → ID_ANY (type 0; matches any identity, never sent)
 *
 * Identification Data on the wire (§3.5): ID Type ‖ RESERVED(3) ‖ data; this module deals with the
 * ID type and data only.
 */
import { formatIp } from '../crypto/asn1.js';
import { parseIpv4 as parseIpv4Text, parseIpv6 as parseIpv6Text } from '../wire/addr.js';
import { decodeDn, dnEqual, encodeDn, formatDn } from './auth/dn.js';
import { IdType } from './payloads/types.js';

/** strongSwan's ID_ANY: a wildcard for configuration, never put on the wire. */
export const ID_ANY = 0;

export interface Identity {
  readonly idType: number;
  readonly data: Uint8Array;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Dotted quad → 4 bytes, or null. */
export function parseIpv4(s: string): Uint8Array | null {
  return parseIpv4Text(s) ?? null;
}

/** RFC 4291 §2.2 text (incl. '::' and an embedded IPv4 tail, any case) → 16 bytes, or null. */
export function parseIpv6(s: string): Uint8Array | null {
  return s.includes(':') ? parseIpv6Text(s) ?? null : null;
}

/** IPv4 dotted quad or RFC 5952 compressed IPv6; null for other lengths. */
export { formatIp };

function hexToBytes(h: string): Uint8Array | null {
  const clean = h.replace(/[:\s]/g, '');
  if (clean.length === 0 || clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) return null;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/**
 * Parses a strongSwan identity string. Throws (config error) on an empty string, bad hex after
 * '@#', or an unknown DN attribute type.
 */
export function parseIdentity(text: string): Identity {
  // Config identities are parsed again for every IKE_AUTH (bench/ike.ts): a bounded cache of the pure
  // result, which callers treat as read-only. Errors are not cached (they throw again).
  const hit = parsedIdentities.get(text);
  if (hit !== undefined) return hit;
  const id = parseIdentityUncached(text);
  if (parsedIdentities.size >= PARSED_IDENTITIES_MAX) parsedIdentities.clear();
  parsedIdentities.set(text, id);
  return id;
}

const parsedIdentities = new Map<string, Identity>();
const PARSED_IDENTITIES_MAX = 1024;

function parseIdentityUncached(text: string): Identity {
  const s = text.trim();
  if (s === '') throw new Error('identity is empty');
  if (s === '%any' || s === '%any6') return { idType: ID_ANY, data: new Uint8Array(0) };
  if (s.startsWith('@#')) {
    const b = hexToBytes(s.slice(2));
    if (!b) throw new Error(`identity '${text}': '@#' must be followed by hex bytes`);
    return { idType: IdType.KEY_ID, data: b };
  }
  if (s.startsWith('@@')) return { idType: IdType.RFC822_ADDR, data: utf8.encode(s.slice(2)) };
  if (s.startsWith('@')) return { idType: IdType.FQDN, data: utf8.encode(s.slice(1)) };
  const v4 = parseIpv4(s);
  if (v4) return { idType: IdType.IPV4_ADDR, data: v4 };
  const v6 = parseIpv6(s);
  if (v6) return { idType: IdType.IPV6_ADDR, data: v6 };
  if (s.includes('=')) return { idType: IdType.DER_ASN1_DN, data: encodeDn(s) };
  if (s.includes('@')) return { idType: IdType.RFC822_ADDR, data: utf8.encode(s) };
  return { idType: IdType.FQDN, data: utf8.encode(s) };
}

/** Text form of an identity (the inverse of `parseIdentity` for well-formed data). Never throws. */
export function formatIdentity(idType: number, data: Uint8Array): string {
  switch (idType) {
    case ID_ANY:
      return '%any';
    case IdType.IPV4_ADDR:
    case IdType.IPV6_ADDR:
      return formatIp(data) ?? `(invalid address ${bytesToHex(data)})`;
    case IdType.FQDN:
      return utf8Decoder.decode(data);
    case IdType.RFC822_ADDR: {
      const s = utf8Decoder.decode(data);
      return s.includes('@') ? s : `@@${s}`;
    }
    case IdType.DER_ASN1_DN:
      return formatDn(data) ?? `(invalid DN ${bytesToHex(data)})`;
    case IdType.KEY_ID:
      return `@#${bytesToHex(data)}`;
    default:
      return `(ID type ${idType}) ${bytesToHex(data)}`;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Identity equality as strongSwan compares them: FQDN and RFC822 case-insensitively, DNs
 * semantically (same RDN sequence, values equal ignoring case and string type), others byte-wise.
 * ID_ANY is not equal to anything but itself (use `identityMatches` for wildcards).
 */
export function identitiesEqual(a: Identity, b: Identity): boolean {
  if (a.idType !== b.idType) return false;
  switch (a.idType) {
    case IdType.FQDN:
    case IdType.RFC822_ADDR:
      return utf8Decoder.decode(a.data).toLowerCase() === utf8Decoder.decode(b.data).toLowerCase();
    case IdType.DER_ASN1_DN:
      return dnEqual(a.data, b.data);
    default:
      return bytesEqual(a.data, b.data);
  }
}

/** `configured` matches `received` if it is ID_ANY or equal to it. */
export function identityMatches(configured: Identity, received: Identity): boolean {
  return configured.idType === ID_ANY || identitiesEqual(configured, received);
}

/** True if a DER_ASN1_DN identity's data is a well-formed Name. */
export function isValidDn(data: Uint8Array): boolean {
  return decodeDn(data) !== null;
}
