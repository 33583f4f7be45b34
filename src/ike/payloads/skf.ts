/**
 * Encrypted Fragment payload SKF (RFC 7383 §2.5) — framing only; `../fragments.ts` reassembles.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Fragment Number        |        Total Fragments        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Initialization Vector                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Encrypted content                        ~
 * +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               |             Padding (0-255 octets)            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                               |  Pad Length   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                    Integrity Checksum Data                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Next Payload is the first inner payload type in fragment 1 and 0 in the others. The numbers
 * are checked (1 ≤ number ≤ total) by the reassembler after the fragment's integrity check
 * (§2.6.1), so a forged fragment costs nothing but a failed ICV.
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import type { SkfPayload } from './types.js';

export const SKF_FIXED_LENGTH = 4;

export function decodeSkfBody(innerType: number, body: Uint8Array, critical: boolean): DecodeResult<SkfPayload> {
  if (body.length < SKF_FIXED_LENGTH) return syntax('truncated', 'SKF payload shorter than 4 bytes', 53);
  const r = new Reader(body);
  const fragmentNumber = r.u16();
  const totalFragments = r.u16();
  return ok({ type: 53, critical, innerType, fragmentNumber, totalFragments, body: r.rest() });
}

export function encodeSkfBody(p: SkfPayload, w: Writer): void {
  w.u16(p.fragmentNumber).u16(p.totalFragments).bytes(p.body);
}
