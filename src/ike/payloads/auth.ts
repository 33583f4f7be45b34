/**
 * Authentication payload (RFC 7296 §3.8; method 14 from RFC 7427).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Auth Method   |                RESERVED                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Authentication Data                      ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import type { AuthPayload } from './types.js';

export function decodeAuthBody(body: Uint8Array, critical: boolean): DecodeResult<AuthPayload> {
  if (body.length < 4) return syntax('truncated', 'AUTH payload shorter than 4 bytes', 39);
  const r = new Reader(body);
  const method = r.u8();
  r.skip(3);
  const data = r.rest();
  return ok({ type: 39, critical, method, data });
}

export function encodeAuthBody(p: AuthPayload, w: Writer): void {
  w.u8(p.method).zeros(3).bytes(p.data);
}
