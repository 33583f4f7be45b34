/**
 * Delete payload (RFC 7296 §3.11).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Protocol ID   |   SPI Size    |          Num of SPIs          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~               Security Parameter Index(es) (SPI)              ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Protocol ID 1 (IKE): SPI Size 0 and Num of SPIs 0 (the SPIs are in the header).
 * Protocol ID 2/3 (AH/ESP): SPI Size 4. Anything else is INVALID_SYNTAX.
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import { Limits } from './limits.js';
import type { DeletePayload } from './types.js';

const T = 42;

export function decodeDeleteBody(body: Uint8Array, critical: boolean): DecodeResult<DeletePayload> {
  if (body.length < 4) return syntax('truncated', 'Delete payload shorter than 4 bytes', T);
  const r = new Reader(body);
  const protocolId = r.u8();
  const spiSize = r.u8();
  const num = r.u16();
  if (protocolId === 1) {
    if (spiSize !== 0 || num !== 0) return syntax('bad-payload', `Delete(IKE) with SPI size ${spiSize} and ${num} SPIs`, T);
  } else if (protocolId === 2 || protocolId === 3) {
    if (spiSize !== 4) return syntax('bad-payload', `Delete(protocol ${protocolId}) SPI size ${spiSize}, expected 4`, T);
  } else {
    return syntax('bad-payload', `Delete payload protocol ID ${protocolId} unknown`, T);
  }
  if (num > Limits.MAX_DELETE_SPIS) return syntax('too-many-items', `Delete payload has ${num} SPIs (max ${Limits.MAX_DELETE_SPIS})`, T);
  if (r.remaining !== num * spiSize) return syntax('bad-length', `Delete payload: ${num} SPIs of ${spiSize} bytes but ${r.remaining} bytes`, T);
  const spis: Uint8Array[] = [];
  for (let i = 0; i < num; i++) spis.push(r.bytes(spiSize)!);
  return ok({ type: T, critical, protocolId, spis });
}

export function encodeDeleteBody(p: DeletePayload, w: Writer): void {
  const spiSize = p.protocolId === 1 ? 0 : 4;
  if (p.protocolId === 1 && p.spis.length > 0) throw new RangeError('Delete payload: spis must be empty for protocolId IKE');
  for (const s of p.spis) if (s.length !== spiSize) throw new RangeError(`Delete payload: spis entries must be ${spiSize} bytes, got ${s.length}`);
  w.u8(p.protocolId).u8(spiSize).u16(p.spis.length);
  for (const s of p.spis) w.bytes(s);
}
