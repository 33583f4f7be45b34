/**
 * Key Exchange payload (RFC 7296 §3.4).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Diffie-Hellman Group Num    |           RESERVED            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       Key Exchange Data                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The data length is checked against the group by the engine (INVALID_SYNTAX if wrong, §3.4).
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import type { KePayload } from './types.js';

export function decodeKeBody(body: Uint8Array, critical: boolean): DecodeResult<KePayload> {
  if (body.length < 4) return syntax('truncated', 'KE payload shorter than 4 bytes', 34);
  const r = new Reader(body);
  const group = r.u16();
  r.u16();
  return ok({ type: 34, critical, group, data: r.rest() });
}

export function encodeKeBody(p: KePayload, w: Writer): void {
  w.u16(p.group).u16(0).bytes(p.data);
}
