/**
 * `tsipsec decode`: a capture (pcap/pcapng) → one record per packet, with IKE messages and ESP
 * packets decrypted when keys (Wireshark key tables, see keylog.ts) are given. Total: never throws
 * on capture bytes; what cannot be decoded is reported in the record's `error`.
 *
 * IKE (RFC 7296 §3.1 header, §3.2 payload chain): exchange, Message ID, flags, SPIs, payload names.
 * SK (RFC 7296 §3.14) is opened with the IKE SA's SK_e/SK_a for the sender's direction (the I flag
 * says who sent it: the original initiator uses SK_ei/SK_ai):
 *
 *   AEAD (RFC 5282 §5, RFC 7634 §3): nonce = salt ‖ IV(8), AAD = IKE header ‖ SK payload header
 *     (‖ Fragment Number ‖ Total Fragments for SKF, RFC 7383 §2.5), tag = last 16 bytes.
 *   AES-CBC (RFC 7296 §3.14): ICV = HMAC over the message up to the ICV, then CBC with the 16-byte IV.
 *   Plaintext = inner payloads ‖ padding ‖ Pad Length.
 *
 * SKF (RFC 7383): each fragment is verified and decrypted on its own; once all fragments of a
 * message have been seen, their plaintexts are concatenated and the inner payload chain (type from
 * fragment 1) is listed on the record of the fragment that completed it.
 *
 * ESP (RFC 4303): SPI and sequence number always; with a matching `esp_sa` row (SPI, and the
 * addresses unless "*") the packet is verified and decrypted with `openEspPacket` (one-shot, no
 * replay state: a capture may legitimately hold duplicates). Without ESN information in the key
 * table, a packet whose ICV fails is retried as an ESN SA with high bits 0 (RFC 4303 §2.2.1).
 *
 * IP fragments are not reassembled (link.ts).
 */
import type { CryptoProvider, IntegName } from '../crypto/types.js';
import { aeadName, encrIsAead, integIcvLength, integName } from '../crypto/algorithms.js';
import { openEspPacket } from '../esp/packet.js';
import type { EspAlgorithm } from '../esp/sa.js';
import { exchangeName, HeaderFlag, describePayload } from '../ike/constants.js';
import { decodeHeader } from '../ike/header.js';
import { formatIdentity } from '../ike/identity.js';
import { decodeMessage, decodePayloadChain } from '../ike/message.js';
import { PayloadType, type Payload } from '../ike/payloads/types.js';
import { classifyFrame } from './link.js';
import type { EspKeylogEntry, IkeKeylogEntry, ParsedKeylog } from './keylog.js';
import { readCapture, type CaptureFormat, type CaptureReadLimits } from './pcap-reader.js';

export interface DecodeDeps {
  /** Crypto for SK and ESP decryption (e.g. `nodeCrypto` from src/crypto/node.ts). */
  readonly provider: CryptoProvider;
  readonly limits?: CaptureReadLimits;
}

interface DecodedBase {
  /** 1-based frame number (as Wireshark counts). */
  readonly index: number;
  readonly tsMs: number;
  readonly src?: string;
  readonly dst?: string;
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** How the IPsec payload travelled: 'udp-500', 'udp-4500' (RFC 3948) or 'ip-50'. */
  readonly transport?: 'udp-500' | 'udp-4500' | 'ip-50';
  /** The packet is an IP fragment (not reassembled). */
  readonly ipFragment?: boolean;
}

export interface DecodedIke extends DecodedBase {
  readonly kind: 'ike';
  /** RFC name ("IKE_SA_INIT", …) or "EXCHANGE(n)". */
  readonly exchange: string;
  readonly exchangeType: number;
  readonly messageId: number;
  readonly response: boolean;
  /** The I flag: sent by the original initiator of the IKE SA. */
  readonly initiator: boolean;
  /** 16 hex digits each. */
  readonly spiI: string;
  readonly spiR: string;
  /**
   * Payload names in order ("SA", "KE", "No", "N(NAT_DETECTION_SOURCE_IP)", "SK", "SKF(1/3)", …),
   * followed by the inner payloads once SK (or the last SKF fragment) is decrypted.
   */
  readonly payloads: string[];
  /** Identities from IDi/IDr ("a.ipx.test", "198.18.10.1", "C=ZZ, O=tsipsec, CN=a"), in order. */
  readonly ids: string[];
  /** Whether the SK/SKF payload was verified and decrypted. */
  readonly decrypted: boolean;
  /** SKF: this fragment's number and the total. */
  readonly fragment?: { readonly number: number; readonly total: number };
  /** Why the message (or its SK payload) could not be decoded or decrypted. */
  readonly error?: string;
}

export interface DecodedEsp extends DecodedBase {
  readonly kind: 'esp';
  /** "0x" + 8 hex digits. */
  readonly spi: string;
  /** The 32-bit sequence number on the wire. */
  readonly seq: number;
  /** The ICV verified and the packet decrypted. */
  readonly ok: boolean;
  /** Decrypted with ESN (high bits 0) after the plain attempt failed. */
  readonly esn?: boolean;
  readonly nextHeader?: number;
  /** Decrypted payload (the inner packet in tunnel mode) without padding, as hex. */
  readonly innerHex?: string;
  /** Inner IP addresses when the payload is an IPv4/IPv6 packet. */
  readonly inner?: { readonly src: string; readonly dst: string; readonly protocol: number };
  readonly error?: string;
}

export interface DecodedKeepalive extends DecodedBase {
  readonly kind: 'keepalive';
}

export interface DecodedOther extends DecodedBase {
  readonly kind: 'other';
  readonly reason: string;
}

export type DecodedPacket = DecodedIke | DecodedEsp | DecodedKeepalive | DecodedOther;

export interface DecodedCapture {
  readonly format: CaptureFormat | undefined;
  readonly packets: DecodedPacket[];
  /** Why reading the capture stopped early (garbage, truncation), if it did. */
  readonly error: string | undefined;
}

/** Decodes every packet of a capture. Never throws on capture or key bytes. */
export function decodeCapture(bytes: Uint8Array, keys: ParsedKeylog | undefined, deps: DecodeDeps): DecodedPacket[] {
  return decodeCaptureFile(bytes, keys, deps).packets;
}

/** Like `decodeCapture`, plus the capture format and the read error. */
export function decodeCaptureFile(bytes: Uint8Array, keys: ParsedKeylog | undefined, deps: DecodeDeps): DecodedCapture {
  const cap = readCapture(bytes, deps.limits);
  const ctx = new DecodeContext(keys, deps.provider);
  const packets = cap.records.map((rec, i) => ctx.decodeFrame(i + 1, rec.tsMs, rec.linkType, rec.data));
  return { format: cap.format, packets, error: cap.error };
}

const MAX_PENDING_FRAGMENT_SETS = 64;
const MAX_FRAGMENTS = 128;

interface FragmentSet {
  readonly total: number;
  innerType: number;
  readonly parts: Map<number, Uint8Array>;
}

/** Per-capture state: keys by SPI and SKF reassembly. Exported for streaming use. */
export class DecodeContext {
  private readonly ikeKeys = new Map<string, IkeKeylogEntry>();
  private readonly espKeys = new Map<number, EspKeylogEntry[]>();
  private readonly fragments = new Map<string, FragmentSet>();

  constructor(
    keys: ParsedKeylog | undefined,
    private readonly provider: CryptoProvider,
  ) {
    for (const k of keys?.ike ?? []) this.ikeKeys.set(`${k.spiI}/${k.spiR}`, k);
    for (const k of keys?.esp ?? []) {
      const list = this.espKeys.get(k.spi) ?? [];
      list.push(k);
      this.espKeys.set(k.spi, list);
    }
  }

  /** Decodes one link-layer frame. Never throws on frame bytes. */
  decodeFrame(index: number, tsMs: number, linkType: number, frame: Uint8Array): DecodedPacket {
    const f = classifyFrame(linkType, frame);
    const base: DecodedBase = {
      index,
      tsMs,
      ...(f.ip ? { src: f.ip.src, dst: f.ip.dst } : {}),
      ...(f.udp ? { srcPort: f.udp.srcPort, dstPort: f.udp.dstPort } : {}),
      ...(f.ip?.fragment ? { ipFragment: true } : {}),
    };
    const p = f.payload;
    try {
      switch (p.kind) {
        case 'keepalive':
          return { ...base, kind: 'keepalive', transport: 'udp-4500' };
        case 'other':
          return { ...base, kind: 'other', reason: p.reason };
        case 'ike':
          return this.decodeIke({ ...base, transport: p.transport }, p.message);
        case 'esp':
          return this.decodeEsp({ ...base, transport: p.transport }, p.packet, f.ip?.src, f.ip?.dst);
      }
    } catch (e) {
      // Defensive: a bug below must not take the whole decode down (DESIGN.md rule 3).
      return { ...base, kind: 'other', reason: `internal decoder error: ${(e as Error).message}` };
    }
  }

  private decodeIke(base: DecodedBase, raw: Uint8Array): DecodedPacket {
    const h = decodeHeader(raw);
    if (!h.ok) return { ...base, kind: 'other', reason: `IKE: ${h.error.message}` };
    const hdr = h.value;
    const spiI = hex(hdr.spiI);
    const spiR = hex(hdr.spiR);
    const initiator = (hdr.flags & HeaderFlag.INITIATOR) !== 0;
    const rec = {
      ...base,
      kind: 'ike' as const,
      exchange: exchangeName(hdr.exchangeType),
      exchangeType: hdr.exchangeType,
      messageId: hdr.messageId,
      response: (hdr.flags & HeaderFlag.RESPONSE) !== 0,
      initiator,
      spiI,
      spiR,
    };
    const m = decodeMessage(raw);
    if (!m.ok) return { ...rec, payloads: [], ids: [], decrypted: false, error: m.error.message };
    const outer = m.value.payloads;
    const payloads = outer.map(describePayload);
    const ids = collectIds(outer);
    const tail = outer[outer.length - 1];
    const last = tail !== undefined && !('unknown' in tail) && (tail.type === PayloadType.SK || tail.type === PayloadType.SKF) ? tail : undefined;
    if (last === undefined) return { ...rec, payloads, ids, decrypted: false };

    const fragment = last.type === PayloadType.SKF ? { number: last.fragmentNumber, total: last.totalFragments } : undefined;
    const withFrag = fragment ? { ...rec, fragment } : rec;
    const keys = this.ikeKeys.get(`${spiI}/${spiR}`);
    if (keys === undefined) return { ...withFrag, payloads, ids, decrypted: false, error: `no keys for IKE SA ${spiI}/${spiR}` };
    const body = last.body;
    const ivStart = raw.length - body.length;
    const opened = openSk(this.provider, keys, initiator, raw, ivStart);
    if (typeof opened === 'string') return { ...withFrag, payloads, ids, decrypted: false, error: opened };

    let whole = { innerType: last.innerType, plaintext: opened };
    if (last.type === PayloadType.SKF) {
      const r = this.addFragment(`${spiI}/${spiR}/${hdr.messageId}/${rec.response ? 'r' : 'q'}`, last.fragmentNumber, last.totalFragments, last.innerType, opened);
      if (typeof r === 'string') return { ...withFrag, payloads, ids, decrypted: true, error: r };
      if (r === undefined) return { ...withFrag, payloads, ids, decrypted: true };
      whole = r;
    }
    const inner = decodePayloadChain(whole.innerType, whole.plaintext);
    if (!inner.ok) return { ...withFrag, payloads, ids, decrypted: true, error: `inner payloads: ${inner.error.message}` };
    return { ...withFrag, payloads: [...payloads, ...inner.value.map(describePayload)], ids: [...ids, ...collectIds(inner.value)], decrypted: true };
  }

  /** Stores a decrypted fragment; returns the reassembled message when complete, or an error string. */
  private addFragment(key: string, n: number, total: number, innerType: number, plaintext: Uint8Array): { innerType: number; plaintext: Uint8Array } | string | undefined {
    if (total < 1 || total > MAX_FRAGMENTS || n < 1 || n > total) return `SKF fragment ${n}/${total} out of range`;
    let set = this.fragments.get(key);
    if (set === undefined || set.total !== total) {
      if (this.fragments.size >= MAX_PENDING_FRAGMENT_SETS) this.fragments.delete(this.fragments.keys().next().value!);
      set = { total, innerType: 0, parts: new Map() };
      this.fragments.set(key, set);
    }
    if (n === 1) set.innerType = innerType;
    set.parts.set(n, plaintext);
    if (set.parts.size < total) return undefined;
    this.fragments.delete(key);
    const parts: Uint8Array[] = [];
    for (let i = 1; i <= total; i++) parts.push(set.parts.get(i)!);
    return { innerType: set.innerType, plaintext: concat(parts) };
  }

  private decodeEsp(base: DecodedBase, pkt: Uint8Array, src: string | undefined, dst: string | undefined): DecodedEsp {
    const spiNum = ((pkt[0]! << 24) | (pkt[1]! << 16) | (pkt[2]! << 8) | pkt[3]!) >>> 0;
    const seq = ((pkt[4]! << 24) | (pkt[5]! << 16) | (pkt[6]! << 8) | pkt[7]!) >>> 0;
    const rec = { ...base, kind: 'esp' as const, spi: `0x${spiNum.toString(16).padStart(8, '0')}`, seq };
    const candidates = (this.espKeys.get(spiNum) ?? []).filter((k) => addrMatches(k.src, src) && addrMatches(k.dst, dst));
    if (candidates.length === 0) return { ...rec, ok: false, error: `no keys for ESP SPI ${rec.spi}` };
    let lastError = '';
    for (const k of candidates) {
      const alg = espAlgorithm(k);
      if (typeof alg === 'string') {
        lastError = alg;
        continue;
      }
      for (const esn of [false, true]) {
        let r;
        try {
          r = openEspPacket({ algorithm: alg, encKey: k.encrKey, integKey: alg.integ ? k.integKey : undefined, spi: spiNum, provider: this.provider, esn, seqHi: esn ? 0 : undefined, packet: pkt });
        } catch (e) {
          lastError = `esp_sa row for ${rec.spi}: ${(e as Error).message}`;
          break; // bad key length etc.: ESN will not help
        }
        if (r.payload !== null) {
          const innerIp = innerAddresses(r.nextHeader, r.payload);
          return { ...rec, ok: true, ...(esn ? { esn: true } : {}), nextHeader: r.nextHeader, innerHex: hex(r.payload), ...(innerIp ? { inner: innerIp } : {}) };
        }
        if (!esn) lastError = espError(r.dropName, seq); // report the plain attempt
        if (r.dropName !== 'icv') break;
      }
    }
    return { ...rec, ok: false, error: lastError };
  }
}

/**
 * Verifies and decrypts an SK or SKF payload whose IV starts at `ivStart` (the payload is the last
 * one, so its data runs to the end of `raw`). Returns the inner plaintext (padding removed) or an
 * error message.
 */
function openSk(provider: CryptoProvider, keys: IkeKeylogEntry, sentByInitiator: boolean, raw: Uint8Array, ivStart: number): Uint8Array | string {
  const skE = sentByInitiator ? keys.skEi : keys.skEr;
  const skA = sentByInitiator ? keys.skAi : keys.skAr;
  const dir = sentByInitiator ? 'i' : 'r';
  let plain: Uint8Array;
  if (encrIsAead(keys.encr.id)) {
    if (skE.length <= 4) return `SK_e${dir} too short for ${keys.encrName}`;
    const ivLen = 8;
    const tagLen = 16;
    if (raw.length - ivStart < ivLen + tagLen) return 'SK payload too short';
    let aead;
    try {
      aead = provider.aead(aeadName(keys.encr.id), skE.subarray(0, skE.length - 4));
    } catch (e) {
      return `SK_e${dir}: ${(e as Error).message}`;
    }
    const nonce = concat([skE.subarray(skE.length - 4), raw.subarray(ivStart, ivStart + ivLen)]);
    const ct = raw.subarray(ivStart + ivLen, raw.length - tagLen);
    plain = new Uint8Array(ct.length);
    if (!aead.open(nonce, raw.subarray(0, ivStart), ct, raw.subarray(raw.length - tagLen), plain)) return `SK integrity check failed (wrong SK_e${dir}?)`;
  } else {
    let icvLen: number;
    let integ: IntegName;
    try {
      icvLen = integIcvLength(keys.integ);
      integ = integName(keys.integ);
    } catch (e) {
      return (e as Error).message;
    }
    const ivLen = 16;
    const ctLen = raw.length - ivStart - ivLen - icvLen;
    if (ctLen < 16 || ctLen % 16 !== 0) return 'SK payload length is not IV + whole cipher blocks + ICV';
    try {
      const mac = provider.mac(integ, skA);
      if (!mac.verify([raw.subarray(0, raw.length - icvLen)], raw.subarray(raw.length - icvLen))) return `SK integrity check failed (wrong SK_a${dir}?)`;
      const cbc = provider.cbc(skE);
      plain = new Uint8Array(ctLen);
      if (!cbc.decrypt(raw.subarray(ivStart, ivStart + ivLen), raw.subarray(ivStart + ivLen, ivStart + ivLen + ctLen), plain)) return 'SK decryption failed';
    } catch (e) {
      return `SK keys: ${(e as Error).message}`;
    }
  }
  if (plain.length < 1) return 'SK plaintext empty';
  const padLength = plain[plain.length - 1]!;
  if (padLength + 1 > plain.length) return `SK Pad Length ${padLength} exceeds the plaintext`;
  return plain.subarray(0, plain.length - 1 - padLength);
}

function espAlgorithm(k: EspKeylogEntry): EspAlgorithm | string {
  switch (k.encr.id) {
    case 20:
      return { encr: 'aes-gcm-16', keyBits: (k.encrKey.length - 4) * 8 };
    case 28:
      return { encr: 'chacha20-poly1305' };
    case 12: {
      if (k.integ === 0) return `esp_sa row for SPI 0x${k.spi.toString(16)}: AES-CBC without integrity is not supported`;
      return { encr: 'aes-cbc', keyBits: k.encrKey.length * 8, integ: integName(k.integ) };
    }
    default:
      return `esp_sa row for SPI 0x${k.spi.toString(16)}: unsupported encryption ${k.encrName}`;
  }
}

function espError(drop: string, seq: number): string {
  if (drop === 'icv') return 'ICV mismatch';
  if (drop === 'replay' && seq === 0) return 'sequence number 0 on the wire (an ESN SA whose high bits are unknown)';
  return `dropped: ${drop}`;
}

function addrMatches(pattern: string, actual: string | undefined): boolean {
  if (pattern === '*' || pattern === '') return true;
  if (actual === undefined) return false;
  return pattern.toLowerCase() === actual.toLowerCase();
}

function collectIds(payloads: readonly Payload[]): string[] {
  const ids: string[] = [];
  for (const p of payloads) {
    if ('unknown' in p) continue;
    if (p.type === PayloadType.IDi || p.type === PayloadType.IDr) ids.push(formatIdentity(p.idType, p.data));
  }
  return ids;
}

function innerAddresses(nextHeader: number, payload: Uint8Array): { src: string; dst: string; protocol: number } | undefined {
  const f = classifyFrame(101, payload);
  if ((nextHeader !== 4 && nextHeader !== 41) || f.ip === undefined) return undefined;
  return { src: f.ip.src, dst: f.ip.dst, protocol: f.ip.protocol };
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
