/**
 * Classic pcap writer (draft-ietf-opsawg-pcap §4, §5) and the packet builders the tests and the demo
 * use to fill it. See `pcap-reader.ts` for the file and record header diagrams.
 *
 * Output is little-endian with the microsecond magic 0xA1B2C3D4 (or the nanosecond magic 0xA1B23C4D),
 * version 2.4, link type RAW (101: bare IPv4/IPv6) or EN10MB (1: Ethernet II).
 *
 * Builders (network byte order):
 *   IPv4 (RFC 791 §3.1): 20-byte header, no options, DF clear, header checksum (RFC 1071) filled in.
 *   IPv6 (RFC 8200 §3): 40-byte header, no extension headers.
 *   UDP (RFC 768): checksum over the pseudo-header (RFC 768 / RFC 8200 §8.1) filled in.
 *   Ethernet II: dst MAC, src MAC, EtherType 0x0800 / 0x86DD.
 * Builders are fed by our own code; bad arguments (not an address, value out of range) throw.
 */
import { internetChecksum, onesComplementSum } from '../wire/checksum.js';
import { LinkType } from './pcap-reader.js';

export interface PcapWriterOptions {
  /** LINKTYPE_RAW (101, default) or LINKTYPE_EN10MB (1). */
  readonly linkType?: typeof LinkType.RAW | typeof LinkType.EN10MB;
  /** Write nanosecond timestamps (magic 0xA1B23C4D). Default: microseconds. */
  readonly nanosecond?: boolean;
  /** Snapshot length written to the header (default 262144). Records are never cut. */
  readonly snapLen?: number;
}

/** Collects records in memory; `finish()` returns the file bytes. */
export class PcapWriter {
  readonly linkType: number;
  private readonly nanosecond: boolean;
  private readonly snapLen: number;
  private readonly chunks: Uint8Array[] = [];
  private size = 24;

  constructor(opts: PcapWriterOptions = {}) {
    this.linkType = opts.linkType ?? LinkType.RAW;
    if (this.linkType !== LinkType.RAW && this.linkType !== LinkType.EN10MB) throw new Error(`PcapWriter linkType must be 101 (RAW) or 1 (EN10MB), got ${this.linkType}`);
    this.nanosecond = opts.nanosecond ?? false;
    this.snapLen = opts.snapLen ?? 262144;
  }

  /** Adds one frame captured at `tsMs` (Unix ms, may be fractional). */
  add(tsMs: number, frame: Uint8Array): this {
    if (!Number.isFinite(tsMs) || tsMs < 0) throw new RangeError(`PcapWriter.add tsMs must be a finite non-negative number, got ${tsMs}`);
    const sec = Math.floor(tsMs / 1000);
    const fracUnits = this.nanosecond ? 1e6 : 1e3;
    const frac = Math.min(Math.round((tsMs - sec * 1000) * fracUnits), this.nanosecond ? 999_999_999 : 999_999);
    const h = new Uint8Array(16);
    const v = new DataView(h.buffer);
    v.setUint32(0, sec >>> 0, true);
    v.setUint32(4, frac, true);
    v.setUint32(8, frame.length, true);
    v.setUint32(12, frame.length, true);
    this.chunks.push(h, frame.slice());
    this.size += 16 + frame.length;
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    const v = new DataView(out.buffer);
    v.setUint32(0, this.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, this.snapLen, true);
    v.setUint32(20, this.linkType, true);
    let at = 24;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** One-shot: a pcap file holding `records`. */
export function writePcap(records: readonly { readonly tsMs: number; readonly data: Uint8Array }[], opts: PcapWriterOptions = {}): Uint8Array {
  const w = new PcapWriter(opts);
  for (const r of records) w.add(r.tsMs, r.data);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Packet builders

/** Parses a dotted-quad or RFC 4291 §2.2 IPv6 text address. Throws on anything else. */
export function parseAddress(text: string): Uint8Array {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) throw new Error(`not an IPv4 address: ${text}`);
    return Uint8Array.from(b);
  }
  if (!text.includes(':')) throw new Error(`not an IP address: ${text}`);
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${text}`);
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...tail];
  if (groups.length !== 8 || groups.some(Number.isNaN) || (halves.length === 2 && fill < 1)) throw new Error(`not an IPv6 address: ${text}`);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >>> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

export interface IpBuildOptions {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  readonly payload: Uint8Array;
  /** IPv4 TTL / IPv6 hop limit (default 64). */
  readonly ttl?: number;
  /** IPv4 Identification (default 0). */
  readonly id?: number;
}

/** An IPv4 or IPv6 packet (family from the address text). */
export function buildIp(o: IpBuildOptions): Uint8Array {
  const src = parseAddress(o.src);
  const dst = parseAddress(o.dst);
  if (src.length !== dst.length) throw new Error(`buildIp: src ${o.src} and dst ${o.dst} are different families`);
  const ttl = o.ttl ?? 64;
  if (src.length === 4) {
    const total = 20 + o.payload.length;
    if (total > 0xffff) throw new RangeError(`buildIp: IPv4 packet of ${total} bytes is too long`);
    const p = new Uint8Array(total);
    p[0] = 0x45;
    p[2] = total >>> 8;
    p[3] = total & 0xff;
    const id = o.id ?? 0;
    p[4] = (id >>> 8) & 0xff;
    p[5] = id & 0xff;
    p[8] = ttl;
    p[9] = o.protocol;
    p.set(src, 12);
    p.set(dst, 16);
    const c = internetChecksum(p, 0, 20);
    p[10] = c >>> 8;
    p[11] = c & 0xff;
    p.set(o.payload, 20);
    return p;
  }
  if (o.payload.length > 0xffff) throw new RangeError(`buildIp: IPv6 payload of ${o.payload.length} bytes is too long`);
  const p = new Uint8Array(40 + o.payload.length);
  p[0] = 0x60;
  p[4] = o.payload.length >>> 8;
  p[5] = o.payload.length & 0xff;
  p[6] = o.protocol;
  p[7] = ttl;
  p.set(src, 8);
  p.set(dst, 24);
  p.set(o.payload, 40);
  return p;
}

export interface UdpBuildOptions {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** An IPv4/IPv6 packet carrying one UDP datagram with a correct checksum. */
export function buildUdpPacket(o: UdpBuildOptions): Uint8Array {
  const src = parseAddress(o.src);
  const dst = parseAddress(o.dst);
  for (const [name, port] of [['srcPort', o.srcPort], ['dstPort', o.dstPort]] as const) {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`buildUdpPacket: ${name} ${port} outside 0..65535`);
  }
  const len = 8 + o.payload.length;
  if (len > 0xffff) throw new RangeError(`buildUdpPacket: datagram of ${len} bytes is too long`);
  const u = new Uint8Array(len);
  u[0] = o.srcPort >>> 8;
  u[1] = o.srcPort & 0xff;
  u[2] = o.dstPort >>> 8;
  u[3] = o.dstPort & 0xff;
  u[4] = len >>> 8;
  u[5] = len & 0xff;
  u.set(o.payload, 8);
  // Pseudo-header: src, dst, zero+protocol (17), UDP length.
  let sum = onesComplementSum(src);
  sum = onesComplementSum(dst, 0, dst.length, sum);
  sum += 17 + len;
  let c = internetChecksum(u, 0, len, sum);
  if (c === 0) c = 0xffff; // RFC 768: a computed zero is sent as all ones
  u[6] = c >>> 8;
  u[7] = c & 0xff;
  return buildIp({ src: o.src, dst: o.dst, protocol: 17, payload: u });
}

/** An Ethernet II frame around an IP packet (EtherType from the IP version nibble). */
export function buildEthernet(ip: Uint8Array, srcMac = '02:00:00:00:00:01', dstMac = '02:00:00:00:00:02'): Uint8Array {
  const mac = (s: string): Uint8Array => {
    const parts = s.split(':');
    if (parts.length !== 6 || parts.some((x) => !/^[0-9a-fA-F]{2}$/.test(x))) throw new Error(`not a MAC address: ${s}`);
    return Uint8Array.from(parts.map((x) => parseInt(x, 16)));
  };
  const f = new Uint8Array(14 + ip.length);
  f.set(mac(dstMac), 0);
  f.set(mac(srcMac), 6);
  const v6 = ip.length > 0 && ip[0]! >>> 4 === 6;
  f[12] = v6 ? 0x86 : 0x08;
  f[13] = v6 ? 0xdd : 0x00;
  f.set(ip, 14);
  return f;
}
