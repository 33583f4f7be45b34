/**
 * UDP encapsulation of ESP (RFC 3948) on port 4500: one socket carries IKE, ESP and keepalives.
 *
 * RFC 3948 §2.1 UDP-encapsulated ESP:             §2.2 IKE (Non-ESP Marker):
 *   +-----------------------------------+           +-----------------------------------+
 *   | UDP header (src, dst port 4500)   |           | UDP header                        |
 *   +-----------------------------------+           +-----------------------------------+
 *   | ESP header: SPI (non-zero) ‖ Seq  |           | Non-ESP Marker: 4 zero bytes      |
 *   | …                                 |           | IKE header (RFC 7296 §3.1, 28 B)  |
 *
 * RFC 3948 §2.3 NAT-keepalive: a UDP payload of the single byte 0xFF; the receiver ignores it.
 * A SPI of zero never appears in ESP (RFC 4303 §2.1), which is what makes the marker unambiguous;
 * an ESP packet has at least SPI ‖ Sequence Number (8 bytes).
 */

export const NattKind = {
  invalid: 0,
  /** IKE message after the 4-byte Non-ESP Marker. */
  ike: 1,
  /** ESP packet (first 4 bytes = non-zero SPI). */
  esp: 2,
  /** NAT-keepalive (single 0xFF). */
  keepalive: 3,
} as const;
export type NattKind = (typeof NattKind)[keyof typeof NattKind];

export const NON_ESP_MARKER_LENGTH = 4;
/** RFC 7296 §3.1: the fixed IKE header is 28 bytes. */
export const IKE_HEADER_LENGTH = 28;
/** RFC 3948 §2.3 keepalive payload. */
export const NAT_KEEPALIVE: Uint8Array = Uint8Array.of(0xff);

/** Classifies a UDP payload received on port 4500. Never throws. */
export function classifyNattDatagram(d: Uint8Array): NattKind {
  const n = d.length;
  if (n === 1) return d[0] === 0xff ? NattKind.keepalive : NattKind.invalid;
  if (n < NON_ESP_MARKER_LENGTH) return NattKind.invalid;
  if ((d[0]! | d[1]! | d[2]! | d[3]!) === 0) {
    return n >= NON_ESP_MARKER_LENGTH + IKE_HEADER_LENGTH ? NattKind.ike : NattKind.invalid;
  }
  return n >= 8 ? NattKind.esp : NattKind.invalid;
}

/** The IKE message with the Non-ESP Marker in front (allocates; IKE is not the hot path). */
export function prependNonEspMarker(ike: Uint8Array): Uint8Array {
  const out = new Uint8Array(NON_ESP_MARKER_LENGTH + ike.length);
  out.set(ike, NON_ESP_MARKER_LENGTH);
  return out;
}

/** Writes the 4 zero bytes of the marker at `buf[off..off+4)` (when building in place). */
export function writeNonEspMarker(buf: Uint8Array, off: number): void {
  buf[off] = 0;
  buf[off + 1] = 0;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
}

/** The IKE message after the marker (a view), or null when `d` is not an IKE datagram. */
export function stripNonEspMarker(d: Uint8Array): Uint8Array | null {
  return classifyNattDatagram(d) === NattKind.ike ? d.subarray(NON_ESP_MARKER_LENGTH) : null;
}
