/**
 * Identification payloads IDi / IDr (RFC 7296 §3.5).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   ID Type     |                 RESERVED                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                   Identification Data                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The first 4 body bytes (ID Type ‖ RESERVED) are part of the AUTH signed octets (§2.15); the
 * RESERVED bytes are re-encoded as zero, which is what every sender puts there.
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import type { IdPayload } from './types.js';

export function decodeIdBody(type: 35 | 36, body: Uint8Array, critical: boolean): DecodeResult<IdPayload> {
  if (body.length < 4) return syntax('truncated', `${type === 35 ? 'IDi' : 'IDr'} payload shorter than 4 bytes`, type);
  const r = new Reader(body);
  const idType = r.u8();
  r.skip(3);
  const data = r.rest();
  return ok({ type, critical, idType, data });
}

export function encodeIdBody(p: IdPayload, w: Writer): void {
  w.u8(p.idType).zeros(3).bytes(p.data);
}
