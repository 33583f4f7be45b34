/**
 * Vendor ID payload (RFC 7296 §3.12).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        Vendor ID (VID)                        ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import type { Writer } from '../../wire/writer.js';
import { ok, type DecodeResult } from '../decode-result.js';
import type { VendorPayload } from './types.js';

export function decodeVendorBody(body: Uint8Array, critical: boolean): DecodeResult<VendorPayload> {
  return ok({ type: 43, critical, data: new Uint8Array(body) });
}

export function encodeVendorBody(p: VendorPayload, w: Writer): void {
  w.bytes(p.data);
}
