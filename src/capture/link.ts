/**
 * From a captured link-layer frame to the IPsec-relevant part of the packet. Total: never throws.
 *
 * Link layers (tcpdump.org LINKTYPE_* registry):
 *   EN10MB      dst MAC(6) src MAC(6) [802.1Q/802.1ad tag(4)]* EtherType(2) | IP
 *   LINUX_SLL   packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2) | IP
 *   LINUX_SLL2  protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8) | IP
 *   NULL / LOOP address family(4) | IP          RAW / IPV4 / IPV6: IP directly
 *
 * IPv4 (RFC 791 §3.1):
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   |         Identification        |Flags|      Fragment Offset    |
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   |                       Source Address                          |
 *   |                    Destination Address                        |
 *   |                    Options (IHL > 5)                          |
 *
 * IPv6 (RFC 8200 §3): Version(4) Traffic Class(8) Flow Label(20) | Payload Length(16) Next
 * Header(8) Hop Limit(8) | Source(128) | Destination(128), then extension headers (§4): Hop-by-Hop
 * (0), Routing (43), Destination Options (60) are (Hdr Ext Len + 1) * 8 bytes; Fragment (44) is 8
 * bytes; AH (51, RFC 4302) is (Payload Len + 2) * 4 bytes. At most 8 are skipped.
 *
 * UDP (RFC 768): Source Port(16) Destination Port(16) Length(16) Checksum(16) | data.
 *
 * Classification (RFC 3948 §2 and §4): UDP port 500 carries bare IKE; on UDP port 4500 a payload of
 * the single byte 0xFF is a NAT-keepalive, four zero bytes (the non-ESP marker) precede IKE, and
 * anything else is ESP (its first 4 bytes are the non-zero SPI). IP protocol 50 is raw ESP.
 *
 * IP fragments are NOT reassembled: a fragment is reported as such (`fragment: true`) and a
 * non-first fragment has no transport header to classify. IKE messages large enough to fragment
 * at the IP layer should use IKE fragmentation (RFC 7383) instead, which the decoder handles.
 */
import { LinkType } from './pcap-reader.js';
import { formatIp } from '../wire/addr.js';

export const IpProtocol = {
  HOPOPT: 0,
  TCP: 6,
  UDP: 17,
  IPV6_ROUTE: 43,
  IPV6_FRAG: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NONXT: 59,
  IPV6_OPTS: 60,
} as const;
export type IpProtocol = (typeof IpProtocol)[keyof typeof IpProtocol];

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const MAX_VLAN_TAGS = 2;
const MAX_IPV6_EXTENSION_HEADERS = 8;

export const IKE_PORT = 500;
export const NATT_PORT = 4500;

export type LinkResult = { ok: true; ip: Uint8Array } | { ok: false; reason: string };

/** Strips the link-layer header. `ok: false` for non-IP frames and unknown link types. */
export function frameToIp(linkType: number, frame: Uint8Array): LinkResult {
  switch (linkType) {
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
      return { ok: true, ip: frame };
    case LinkType.NULL:
    case LinkType.LOOP:
      if (frame.length < 4) return { ok: false, reason: 'loopback header truncated' };
      // The family's byte order and value differ between systems (AF_INET6 is 10, 24, 28 or 30);
      // the IP version nibble is the reliable indicator.
      return { ok: true, ip: frame.subarray(4) };
    case LinkType.EN10MB: {
      if (frame.length < 14) return { ok: false, reason: 'Ethernet header truncated' };
      let at = 12;
      let type = be16(frame, at);
      for (let tags = 0; (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && tags < MAX_VLAN_TAGS; tags++) {
        at += 4;
        if (frame.length < at + 2) return { ok: false, reason: 'VLAN tag truncated' };
        type = be16(frame, at);
      }
      return etherTypeToIp(type, frame.subarray(at + 2));
    }
    case LinkType.LINUX_SLL:
      if (frame.length < 16) return { ok: false, reason: 'Linux cooked (SLL) header truncated' };
      return etherTypeToIp(be16(frame, 14), frame.subarray(16));
    case LinkType.LINUX_SLL2:
      if (frame.length < 20) return { ok: false, reason: 'Linux cooked (SLL2) header truncated' };
      return etherTypeToIp(be16(frame, 0), frame.subarray(20));
    default:
      return { ok: false, reason: `unsupported link type ${linkType}` };
  }
}

function etherTypeToIp(type: number, rest: Uint8Array): LinkResult {
  if (type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6) return { ok: true, ip: rest };
  return { ok: false, reason: `not IP (EtherType 0x${type.toString(16).padStart(4, '0')})` };
}

export interface IpPacket {
  readonly version: 4 | 6;
  /** Printable addresses: dotted quad, or RFC 5952 text for IPv6. */
  readonly src: string;
  readonly dst: string;
  readonly srcBytes: Uint8Array;
  readonly dstBytes: Uint8Array;
  /** Upper-layer protocol after the IPv6 extension headers that were skipped. */
  readonly protocol: number;
  /** Upper-layer bytes, bounded by the IP length field and the captured bytes. */
  readonly payload: Uint8Array;
  /** The packet is an IP fragment (any: first, middle or last). */
  readonly fragment: boolean;
  /** A non-first fragment: `payload` does not start with an upper-layer header. */
  readonly fragmentOffsetNonZero: boolean;
  /** The capture holds fewer bytes than the IP length says. */
  readonly truncated: boolean;
}

export type IpResult = { ok: true; packet: IpPacket } | { ok: false; reason: string };

/** Parses an IPv4 or IPv6 header. */
export function parseIp(ip: Uint8Array): IpResult {
  if (ip.length < 1) return { ok: false, reason: 'empty IP packet' };
  const version = ip[0]! >>> 4;
  if (version === 4) return parseIpv4(ip);
  if (version === 6) return parseIpv6(ip);
  return { ok: false, reason: `IP version ${version}` };
}

function parseIpv4(ip: Uint8Array): IpResult {
  if (ip.length < 20) return { ok: false, reason: `IPv4 header truncated (${ip.length} bytes)` };
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ihl < 20) return { ok: false, reason: `IPv4 IHL ${ihl / 4} < 5` };
  if (ip.length < ihl) return { ok: false, reason: 'IPv4 options truncated' };
  const total = be16(ip, 2);
  if (total < ihl) return { ok: false, reason: `IPv4 total length ${total} < header length ${ihl}` };
  const flagsFrag = be16(ip, 6);
  const moreFragments = (flagsFrag & 0x2000) !== 0;
  const offset = flagsFrag & 0x1fff;
  const end = Math.min(total, ip.length);
  const srcBytes = ip.subarray(12, 16);
  const dstBytes = ip.subarray(16, 20);
  return {
    ok: true,
    packet: {
      version: 4,
      src: formatIpv4(srcBytes),
      dst: formatIpv4(dstBytes),
      srcBytes,
      dstBytes,
      protocol: ip[9]!,
      payload: ip.subarray(ihl, end),
      fragment: moreFragments || offset !== 0,
      fragmentOffsetNonZero: offset !== 0,
      truncated: total > ip.length,
    },
  };
}

function parseIpv6(ip: Uint8Array): IpResult {
  if (ip.length < 40) return { ok: false, reason: `IPv6 header truncated (${ip.length} bytes)` };
  const payloadLength = be16(ip, 4);
  // Payload Length 0 with a Hop-by-Hop Jumbo option (RFC 2675): take what was captured.
  const end = payloadLength === 0 ? ip.length : Math.min(40 + payloadLength, ip.length);
  const truncated = payloadLength !== 0 && 40 + payloadLength > ip.length;
  let next = ip[6]!;
  let at = 40;
  let fragment = false;
  let fragmentOffsetNonZero = false;
  for (let n = 0; ; n++) {
    if (next !== IpProtocol.HOPOPT && next !== IpProtocol.IPV6_ROUTE && next !== IpProtocol.IPV6_OPTS && next !== IpProtocol.IPV6_FRAG && next !== IpProtocol.AH) break;
    if (n >= MAX_IPV6_EXTENSION_HEADERS) return { ok: false, reason: `more than ${MAX_IPV6_EXTENSION_HEADERS} IPv6 extension headers` };
    if (end - at < 8) return { ok: false, reason: 'IPv6 extension header truncated' };
    let len: number;
    if (next === IpProtocol.IPV6_FRAG) {
      len = 8;
      const off = be16(ip, at + 2);
      fragment = true;
      if (off >>> 3 !== 0) fragmentOffsetNonZero = true;
    } else if (next === IpProtocol.AH) {
      len = (ip[at + 1]! + 2) * 4;
    } else {
      len = (ip[at + 1]! + 1) * 8;
    }
    if (end - at < len) return { ok: false, reason: 'IPv6 extension header truncated' };
    next = ip[at]!;
    at += len;
    if (fragmentOffsetNonZero) break; // what follows is the middle of someone else's data
  }
  const srcBytes = ip.subarray(8, 24);
  const dstBytes = ip.subarray(24, 40);
  return {
    ok: true,
    packet: {
      version: 6,
      src: formatIpv6(srcBytes),
      dst: formatIpv6(dstBytes),
      srcBytes,
      dstBytes,
      protocol: next,
      payload: ip.subarray(at, end),
      fragment,
      fragmentOffsetNonZero,
      truncated,
    },
  };
}

export interface UdpDatagram {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
  /** The UDP length field claims more than was captured. */
  readonly truncated: boolean;
}

export type UdpResult = { ok: true; udp: UdpDatagram } | { ok: false; reason: string };

/** Parses a UDP header (the checksum is not verified: captures often hold offloaded checksums). */
export function parseUdp(segment: Uint8Array): UdpResult {
  if (segment.length < 8) return { ok: false, reason: `UDP header truncated (${segment.length} bytes)` };
  const length = be16(segment, 4);
  if (length < 8) return { ok: false, reason: `UDP length ${length} < 8` };
  return {
    ok: true,
    udp: {
      srcPort: be16(segment, 0),
      dstPort: be16(segment, 2),
      payload: segment.subarray(8, Math.min(length, segment.length)),
      truncated: length > segment.length,
    },
  };
}

/** What an IP packet carries, from an IPsec point of view. */
export type IpsecPayload =
  | { readonly kind: 'ike'; readonly transport: 'udp-500' | 'udp-4500'; readonly message: Uint8Array }
  | { readonly kind: 'esp'; readonly transport: 'udp-4500' | 'ip-50'; readonly packet: Uint8Array }
  | { readonly kind: 'keepalive' }
  | { readonly kind: 'other'; readonly reason: string };

/** Classifies a UDP payload by port (RFC 3948 §2.2 for port 4500). */
export function classifyUdp(udp: UdpDatagram): IpsecPayload {
  const p = udp.payload;
  if (udp.srcPort === NATT_PORT || udp.dstPort === NATT_PORT) {
    if (p.length === 1 && p[0] === 0xff) return { kind: 'keepalive' };
    if (p.length >= 4 && p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0) return { kind: 'ike', transport: 'udp-4500', message: p.subarray(4) };
    if (p.length >= 8) return { kind: 'esp', transport: 'udp-4500', packet: p };
    return { kind: 'other', reason: `UDP 4500 payload of ${p.length} bytes is neither IKE, ESP nor a keepalive` };
  }
  if (udp.srcPort === IKE_PORT || udp.dstPort === IKE_PORT) return { kind: 'ike', transport: 'udp-500', message: p };
  return { kind: 'other', reason: `UDP ${udp.srcPort} → ${udp.dstPort}` };
}

/** Everything `decode` needs about one frame. */
export interface FrameInfo {
  readonly ip: IpPacket | undefined;
  readonly udp: UdpDatagram | undefined;
  readonly payload: IpsecPayload;
}

/** Frame → IP → (UDP) → IPsec classification. Never throws. */
export function classifyFrame(linkType: number, frame: Uint8Array): FrameInfo {
  const l = frameToIp(linkType, frame);
  if (!l.ok) return { ip: undefined, udp: undefined, payload: { kind: 'other', reason: l.reason } };
  const r = parseIp(l.ip);
  if (!r.ok) return { ip: undefined, udp: undefined, payload: { kind: 'other', reason: r.reason } };
  const ip = r.packet;
  if (ip.fragmentOffsetNonZero) return { ip, udp: undefined, payload: { kind: 'other', reason: 'non-first IP fragment (no reassembly)' } };
  if (ip.protocol === IpProtocol.ESP) {
    if (ip.payload.length < 8) return { ip, udp: undefined, payload: { kind: 'other', reason: 'ESP header truncated' } };
    return { ip, udp: undefined, payload: { kind: 'esp', transport: 'ip-50', packet: ip.payload } };
  }
  if (ip.protocol !== IpProtocol.UDP) return { ip, udp: undefined, payload: { kind: 'other', reason: `IP protocol ${ip.protocol}` } };
  const u = parseUdp(ip.payload);
  if (!u.ok) return { ip, udp: undefined, payload: { kind: 'other', reason: u.reason } };
  return { ip, udp: u.udp, payload: classifyUdp(u.udp) };
}

function be16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

export function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function formatIpv6(b: Uint8Array): string {
  return formatIp(b) ?? '';
}
