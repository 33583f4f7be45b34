/**
 * What an IPv4 raw socket for protocol 50 hands over (raw(7): "for receiving, the IP header is always
 * included in the packet"), reduced to the ESP packet (RFC 4303 §2). An IPv6 raw socket delivers the
 * payload alone (RFC 3542 §3), so it only needs the length check. Total: any byte sequence gives a
 * drop code, never a throw.
 *
 * RFC 791 §3.1 (the kernel delivers it reassembled, fields in network byte order):
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
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Destination Address                        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Options (IHL > 5)                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | ESP: SPI (4) | Sequence Number (4) | payload …  (RFC 4303 §2)  |
 */

/** IANA "Assigned Internet Protocol Numbers": 50 = ESP. */
export const IPPROTO_ESP = 50;
/** SPI + Sequence Number (RFC 4303 §2): anything shorter is not an ESP packet. */
export const ESP_MIN_LENGTH = 8;
const IPV4_MIN_HEADER = 20;

export const RawEspDrop = { ok: 0, short: 1, notIpv4: 2, badHeaderLength: 3, notEsp: 4, fragment: 5, truncated: 6 } as const;
export type RawEspDrop = (typeof RawEspDrop)[keyof typeof RawEspDrop];
export const RAW_ESP_DROP_NAMES = ['ok', 'short', 'notIpv4', 'badHeaderLength', 'notEsp', 'fragment', 'truncated'] as const;

/** Where the ESP packet lies in the buffer; reused across packets (no per-packet object). */
export class RawEspView {
  start = 0;
  end = 0;
}

/** Checks the IPv4 header of `buf[0, length)` and sets `out` to the ESP packet after it. */
export function stripIpv4Header(buf: Uint8Array, length: number, out: RawEspView): RawEspDrop {
  if (length > buf.length) length = buf.length;
  if (length < IPV4_MIN_HEADER) return RawEspDrop.short;
  const b0 = buf[0]!;
  if (b0 >> 4 !== 4) return RawEspDrop.notIpv4;
  const ihl = (b0 & 0x0f) * 4;
  if (ihl < IPV4_MIN_HEADER || ihl > length) return RawEspDrop.badHeaderLength;
  if (buf[9] !== IPPROTO_ESP) return RawEspDrop.notEsp;
  // More Fragments or a fragment offset: the kernel reassembles before raw delivery, so this is not ours.
  if (((buf[6]! & 0x3f) << 8 | buf[7]!) !== 0) return RawEspDrop.fragment;
  const totalLength = (buf[2]! << 8) | buf[3]!;
  if (totalLength < ihl) return RawEspDrop.badHeaderLength;
  if (totalLength > length) return RawEspDrop.truncated;
  if (totalLength - ihl < ESP_MIN_LENGTH) return RawEspDrop.short;
  out.start = ihl;
  out.end = totalLength;
  return RawEspDrop.ok;
}

/** The IPv4 source address of the header in `buf` as dotted quad (call after `stripIpv4Header` said ok). */
export function ipv4Source(buf: Uint8Array): string {
  return `${buf[12]}.${buf[13]}.${buf[14]}.${buf[15]}`;
}
