/**
 * Bounds-checked IPv4/IPv6 header peek (RFC 791 §3.1, RFC 8200 §3-4) and an IPv4 header writer.
 *
 * IPv4 (RFC 791 §3.1):
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Identification        |Flags|      Fragment Offset    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Source Address                          |
 *   |                    Destination Address                        |
 *   |                    Options (IHL > 5)                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * IPv6 (RFC 8200 §3):
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version| Traffic Class |           Flow Label                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |         Payload Length        |  Next Header  |   Hop Limit   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                Source Address (16 bytes)                      |
 *   |             Destination Address (16 bytes)                    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * followed by extension headers (RFC 8200 §4; Hop-by-Hop 0, Routing 43, Fragment 44, Destination
 * Options 60 are walked: each is `Next Header, Hdr Ext Len (8-octet units, not counting the first 8)`;
 * Fragment is always 8 bytes) and the upper-layer header.
 *
 * TCP (RFC 9293 §3.1), UDP (RFC 768), SCTP (RFC 9260) and UDP-Lite (RFC 3828) start with
 * `Source Port (16) ‖ Destination Port (16)`. ICMP (RFC 792) / ICMPv6 (RFC 4443) start with
 * `Type (8) ‖ Code (8)`; as in IKEv2 traffic selectors (RFC 7296 §3.13.1) they are reported as one
 * 16-bit "port" (type << 8 | code) in both `srcPort` and `dstPort`.
 *
 * Total: `peekIp` never throws and never reads outside `[start, end)`; it returns false for anything
 * malformed.
 */

/** IANA "Assigned Internet Protocol Numbers" used by the ESP data plane. */
export const IpProto = {
  HOPOPT: 0,
  ICMP: 1,
  IPV4: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  /** "No Next Header" (RFC 8200 §4.7); in ESP it marks a dummy packet (RFC 4303 §2.6). */
  NONE: 59,
  IPV6_OPTS: 60,
  SCTP: 132,
  UDPLITE: 136,
} as const;
export type IpProto = (typeof IpProto)[keyof typeof IpProto];

/** Reusable, caller-owned result of `peekIp` (one per hot loop; no allocation per packet). */
export class IpPeek {
  /** 4 or 6. */
  version = 0;
  /** Bytes before the upper-layer header: IHL*4 (IPv4) or 40 + walked extension headers (IPv6). */
  headerLength = 0;
  /** IPv4 Total Length; IPv6 40 + Payload Length. Always ≤ end - start. */
  totalLength = 0;
  /** Upper-layer protocol (IPv4 Protocol; IPv6 last Next Header after extension headers). */
  protocol = 0;
  /** Offsets into the buffer of the source and destination address (`addressLength` bytes each). */
  srcOffset = 0;
  dstOffset = 0;
  /** 4 or 16. */
  addressLength = 0;
  /** Ports (or ICMP type<<8|code); -1 when the protocol has none or this is a non-first fragment. */
  srcPort = -1;
  dstPort = -1;
  /** True for a non-first fragment (no upper-layer header inside). */
  laterFragment = false;
}

const MAX_IPV6_EXT_HEADERS = 8;

function hasPorts(protocol: number): boolean {
  return protocol === 6 || protocol === 17 || protocol === 132 || protocol === 136;
}

function fillPorts(buf: Uint8Array, l4: number, packetEnd: number, out: IpPeek): void {
  out.srcPort = -1;
  out.dstPort = -1;
  if (out.laterFragment) return;
  const p = out.protocol;
  if (hasPorts(p)) {
    if (l4 + 4 <= packetEnd) {
      out.srcPort = (buf[l4]! << 8) | buf[l4 + 1]!;
      out.dstPort = (buf[l4 + 2]! << 8) | buf[l4 + 3]!;
    }
  } else if (p === 1 || p === 58) {
    if (l4 + 2 <= packetEnd) {
      const tc = (buf[l4]! << 8) | buf[l4 + 1]!;
      out.srcPort = tc;
      out.dstPort = tc;
    }
  }
}

/**
 * Peeks at the IP packet in `buf[start, end)`. Returns false (leaving `out` partially written) when
 * the bytes are not a well-formed IPv4/IPv6 header whose length fits in the range. Trailing bytes
 * beyond the IP total length (e.g. ESP TFC padding) are allowed: `totalLength` tells the real end.
 */
export function peekIp(buf: Uint8Array, start: number, end: number, out: IpPeek): boolean {
  if (start < 0 || end > buf.length || end - start < 1) return false;
  const avail = end - start;
  const version = buf[start]! >>> 4;
  out.version = version;
  if (version === 4) {
    if (avail < 20) return false;
    const ihl = (buf[start]! & 0x0f) * 4;
    const total = (buf[start + 2]! << 8) | buf[start + 3]!;
    if (ihl < 20 || total < ihl || total > avail) return false;
    out.headerLength = ihl;
    out.totalLength = total;
    out.protocol = buf[start + 9]!;
    out.addressLength = 4;
    out.srcOffset = start + 12;
    out.dstOffset = start + 16;
    const fragOffset = ((buf[start + 6]! & 0x1f) << 8) | buf[start + 7]!;
    out.laterFragment = fragOffset !== 0;
    fillPorts(buf, start + ihl, start + total, out);
    return true;
  }
  if (version === 6) {
    if (avail < 40) return false;
    const payloadLength = (buf[start + 4]! << 8) | buf[start + 5]!;
    const total = 40 + payloadLength;
    // Payload Length 0 with a Jumbo option (RFC 2675) is not supported: the packet then has no length.
    if (payloadLength === 0 && buf[start + 6] === 0) return false;
    if (total > avail) return false;
    const packetEnd = start + total;
    let nh = buf[start + 6]!;
    let off = start + 40;
    let later = false;
    for (let i = 0; i < MAX_IPV6_EXT_HEADERS; i++) {
      if (nh === 0 || nh === 43 || nh === 60) {
        if (off + 8 > packetEnd) return false;
        const len = (buf[off + 1]! + 1) * 8;
        if (off + len > packetEnd) return false;
        nh = buf[off]!;
        off += len;
      } else if (nh === 44) {
        if (off + 8 > packetEnd) return false;
        const fragOffset = (buf[off + 2]! << 5) | (buf[off + 3]! >>> 3);
        if (fragOffset !== 0) later = true;
        nh = buf[off]!;
        off += 8;
      } else {
        break;
      }
    }
    out.headerLength = off - start;
    out.totalLength = total;
    out.protocol = nh;
    out.addressLength = 16;
    out.srcOffset = start + 8;
    out.dstOffset = start + 24;
    out.laterFragment = later;
    fillPorts(buf, off, packetEnd, out);
    return true;
  }
  return false;
}

/** Fields for `writeIpv4Header` (a plain 20-byte header, no options). */
export interface Ipv4HeaderFields {
  readonly totalLength: number;
  readonly protocol: number;
  readonly src: Uint8Array; // 4 bytes
  readonly dst: Uint8Array; // 4 bytes
  readonly ttl?: number; // default 64
  readonly identification?: number; // default 0
  readonly dontFragment?: boolean; // default true
  readonly tos?: number; // default 0
}

/**
 * Writes a 20-byte IPv4 header (RFC 791 §3.1) with a correct header checksum at `buf[off..off+20)`.
 * Throws (programmer error) on a bad field or too small a buffer; returns 20.
 */
export function writeIpv4Header(buf: Uint8Array, off: number, f: Ipv4HeaderFields): number {
  if (off < 0 || off + 20 > buf.length) throw new RangeError('writeIpv4Header: buf too small for 20 bytes at off');
  if (!Number.isInteger(f.totalLength) || f.totalLength < 20 || f.totalLength > 0xffff) throw new RangeError('writeIpv4Header: totalLength');
  if (!Number.isInteger(f.protocol) || f.protocol < 0 || f.protocol > 255) throw new RangeError('writeIpv4Header: protocol');
  if (f.src.length !== 4) throw new RangeError('writeIpv4Header: src must be 4 bytes');
  if (f.dst.length !== 4) throw new RangeError('writeIpv4Header: dst must be 4 bytes');
  const id = f.identification ?? 0;
  buf[off] = 0x45;
  buf[off + 1] = (f.tos ?? 0) & 0xff;
  buf[off + 2] = f.totalLength >>> 8;
  buf[off + 3] = f.totalLength & 0xff;
  buf[off + 4] = (id >>> 8) & 0xff;
  buf[off + 5] = id & 0xff;
  buf[off + 6] = f.dontFragment === false ? 0 : 0x40;
  buf[off + 7] = 0;
  buf[off + 8] = (f.ttl ?? 64) & 0xff;
  buf[off + 9] = f.protocol;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  buf.set(f.src, off + 12);
  buf.set(f.dst, off + 16);
  // RFC 791: the checksum is the Internet checksum of the header with the field zero.
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (buf[off + i]! << 8) | buf[off + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const ck = ~sum & 0xffff;
  buf[off + 10] = ck >>> 8;
  buf[off + 11] = ck & 0xff;
  return 20;
}
