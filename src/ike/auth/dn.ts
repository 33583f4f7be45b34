/**
 * X.501 Distinguished Names for ID_DER_ASN1_DN identities (RFC 7296 §3.5) and certificate subjects.
 *
 *   Name ::= SEQUENCE OF RelativeDistinguishedName            (RFC 5280 §4.1.2.4)
 *   RelativeDistinguishedName ::= SET OF AttributeTypeAndValue
 *   AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY (DirectoryString) }
 *
 * Text form is strongSwan's ("C=ZZ, O=tsipsec, CN=a.example"; ',' or '/' separate RDNs, '\' escapes).
 * Encoding follows strongSwan's `atodn`: PrintableString when the value allows it, else
 * UTF8String; emailAddress and DC as IA5String; C as PrintableString.
 * Comparison (`dnEqual`) is semantic like strongSwan's `compare_dn`: same attribute types in the same
 * order, values equal ignoring case and string type, so a configured DN matches the DER that
 * OpenSSL put in a certificate (which uses UTF8String for most attributes).
 * Decoding is total: malformed DER gives null.
 */
import { Asn1Tag, children, readTlv, tlvValue } from '../../crypto/asn1.js';

export interface DnAttribute {
  /** Dotted OID, e.g. "2.5.4.3". */
  readonly oid: string;
  readonly value: string;
}

const NAMES: ReadonlyArray<readonly [string, string]> = [
  ['C', '2.5.4.6'],
  ['ST', '2.5.4.8'],
  ['L', '2.5.4.7'],
  ['O', '2.5.4.10'],
  ['OU', '2.5.4.11'],
  ['CN', '2.5.4.3'],
  ['SN', '2.5.4.4'],
  ['serialNumber', '2.5.4.5'],
  ['T', '2.5.4.12'],
  ['G', '2.5.4.42'],
  ['E', '1.2.840.113549.1.9.1'],
  ['DC', '0.9.2342.19200300.100.1.25'],
  ['UID', '0.9.2342.19200300.100.1.1'],
];
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['emailaddress', '1.2.840.113549.1.9.1'],
  ['email', '1.2.840.113549.1.9.1'],
  ['s', '2.5.4.8'],
  ['title', '2.5.4.12'],
  ['gn', '2.5.4.42'],
  ['surname', '2.5.4.4'],
]);
const OID_BY_NAME: ReadonlyMap<string, string> = new Map([...NAMES.map(([n, o]) => [n.toLowerCase(), o] as const), ...ALIASES]);
const NAME_BY_OID: ReadonlyMap<string, string> = new Map(NAMES.map(([n, o]) => [o, n] as const));

const IA5_OIDS: ReadonlySet<string> = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);

const STRING_TAGS = {
  UTF8: 0x0c,
  PRINTABLE: 0x13,
  T61: 0x14,
  IA5: 0x16,
  UNIVERSAL: 0x1c,
  BMP: 0x1e,
} as const;

// ---- DER writing ----

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | bytes.length, ...bytes];
}

export function derTlv(tag: number, value: Uint8Array): Uint8Array {
  const head = [tag, ...derLength(value.length)];
  const out = new Uint8Array(head.length + value.length);
  out.set(head, 0);
  out.set(value, head.length);
  return out;
}

export function derConcat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Dotted OID → DER content octets (X.690 §8.19). Throws on a malformed OID string. */
export function encodeOidContent(oid: string): Uint8Array {
  const arcs = oid.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new Error(`bad OID '${oid}'`);
    return Number(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2) throw new Error(`bad OID '${oid}'`);
  const out: number[] = [];
  const push = (v: number): void => {
    const tmp: number[] = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift(0x80 | (v & 0x7f));
      v = Math.floor(v / 128);
    }
    out.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return Uint8Array.from(out);
}

/** DER OID content octets → dotted string; null if malformed. */
export function decodeOidContent(b: Uint8Array): string | null {
  if (b.length === 0) return null;
  const arcs: number[] = [];
  let v = 0;
  let started = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (!started && c === 0x80) return null; // non-minimal
    started = true;
    v = v * 128 + (c & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 256) return null;
    if ((c & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = v < 40 ? 0 : v < 80 ? 1 : 2;
        arcs.push(first, v - first * 40);
      } else {
        arcs.push(v);
      }
      v = 0;
      started = false;
    }
  }
  if (started) return null;
  return arcs.join('.');
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

function isPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

function isIa5(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

function splitRdns(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let cur = '';
  const parts: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += '\\' + text[i + 1]!;
      i++;
    } else if (c === ',' || c === '/') {
      parts.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  for (const raw of parts) {
    const p = raw.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`DN component '${p}' has no 'type=value' form`);
    const type = p.slice(0, eq).trim();
    const value = p
      .slice(eq + 1)
      .trim()
      .replace(/\\(.)/g, '$1');
    out.push([type, value]);
  }
  if (out.length === 0) throw new Error(`DN '${text}' has no components`);
  return out;
}

/**
 * "C=ZZ, O=x, CN=y" → DER Name (one attribute per RDN, in the given order). Attribute types are
 * the names above or dotted OIDs. Throws on an unknown attribute type (naming it).
 */
export function encodeDn(text: string): Uint8Array {
  const rdns: Uint8Array[] = [];
  for (const [type, value] of splitRdns(text)) {
    const oid = /^\d+(\.\d+)+$/.test(type) ? type : OID_BY_NAME.get(type.toLowerCase());
    if (!oid) throw new Error(`unknown DN attribute type '${type}' in '${text}'`);
    let tag: number;
    if (IA5_OIDS.has(oid)) {
      if (!isIa5(value)) throw new Error(`DN attribute ${type} value '${value}' is not ASCII`);
      tag = STRING_TAGS.IA5;
    } else {
      tag = isPrintable(value) ? STRING_TAGS.PRINTABLE : STRING_TAGS.UTF8;
    }
    const atv = derTlv(Asn1Tag.SEQUENCE, derConcat([derTlv(Asn1Tag.OID, encodeOidContent(oid)), derTlv(tag, utf8.encode(value))]));
    rdns.push(derTlv(Asn1Tag.SET, atv));
  }
  return derTlv(Asn1Tag.SEQUENCE, derConcat(rdns));
}

function decodeString(tag: number, b: Uint8Array): string | null {
  switch (tag) {
    case STRING_TAGS.UTF8:
      return utf8Decoder.decode(b);
    case STRING_TAGS.PRINTABLE:
    case STRING_TAGS.IA5:
    case STRING_TAGS.T61: {
      let s = '';
      for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
      return s;
    }
    case STRING_TAGS.BMP: {
      if (b.length % 2 !== 0) return null;
      let s = '';
      for (let i = 0; i < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      return s;
    }
    case STRING_TAGS.UNIVERSAL: {
      if (b.length % 4 !== 0) return null;
      let s = '';
      for (let i = 0; i < b.length; i += 4) {
        const cp = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
        if (cp > 0x10ffff) return null;
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return null;
  }
}

/** DER Name → list of RDNs (each a list of attributes); null if malformed. Never throws. */
export function decodeDn(der: Uint8Array): DnAttribute[][] | null {
  const name = readTlv(der, 0);
  if (!name || name.tag !== Asn1Tag.SEQUENCE || name.end !== der.length) return null;
  const rdns = children(der, name);
  if (!rdns) return null;
  const out: DnAttribute[][] = [];
  for (const rdn of rdns) {
    if (rdn.tag !== Asn1Tag.SET) return null;
    const atvs = children(der, rdn);
    if (!atvs || atvs.length === 0) return null;
    const attrs: DnAttribute[] = [];
    for (const atv of atvs) {
      if (atv.tag !== Asn1Tag.SEQUENCE) return null;
      const f = children(der, atv);
      if (!f || f.length !== 2 || f[0]!.tag !== Asn1Tag.OID) return null;
      const oid = decodeOidContent(tlvValue(der, f[0]!));
      const value = decodeString(f[1]!.tag, tlvValue(der, f[1]!));
      if (oid === null || value === null) return null;
      attrs.push({ oid, value });
    }
    out.push(attrs);
  }
  return out;
}

function escapeValue(v: string): string {
  return v.replace(/([,/\\])/g, '\\$1');
}

/** DER Name → "C=ZZ, O=x, CN=y" (multi-valued RDNs joined with '+'); null if malformed. */
export function formatDn(der: Uint8Array): string | null {
  const rdns = decodeDn(der);
  if (!rdns) return null;
  return rdns.map((rdn) => rdn.map((a) => `${NAME_BY_OID.get(a.oid) ?? a.oid}=${escapeValue(a.value)}`).join('+')).join(', ');
}

/** Semantic DN equality (strongSwan `compare_dn` without wildcards). Never throws. */
export function dnEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length === b.length && a.every((x, i) => x === b[i])) return true;
  const da = decodeDn(a);
  const db = decodeDn(b);
  if (!da || !db || da.length !== db.length) return false;
  for (let i = 0; i < da.length; i++) {
    const ra = da[i]!;
    const rb = db[i]!;
    if (ra.length !== rb.length) return false;
    for (let j = 0; j < ra.length; j++) {
      if (ra[j]!.oid !== rb[j]!.oid) return false;
      if (ra[j]!.value.toLowerCase() !== rb[j]!.value.toLowerCase()) return false;
    }
  }
  return true;
}
