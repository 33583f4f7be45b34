/**
 * IKEv2 message = IKE header (RFC 7296 §3.1) followed by a chain of payloads, each starting with
 * the generic payload header (§3.2):
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The header's Next Payload names the first payload, each payload names the one after it, the
 * last one says 0. An SK (§3.14) or SKF (RFC 7383) payload is always last; its Next Payload field
 * names the first payload *inside* the encryption, which `decodePayloadChain` decodes after
 * decryption.
 *
 * Checks (DESIGN.md rule 3, review item 3): datagram ≤ MAX_MESSAGE_SIZE, header length = datagram
 * length, every Payload Length ≥ 4 and ≤ remaining bytes, no bytes after the last payload,
 * ≤ MAX_PAYLOADS payloads per chain, and an unrecognized payload with C set is an error answered
 * with UNSUPPORTED_CRITICAL_PAYLOAD (§2.5).
 */
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { fail, ok, syntax, type DecodeResult } from './decode-result.js';
import { decodeHeader, IKE_HEADER_LENGTH, writeHeaderFields, type HeaderFields, type IkeHeader } from './header.js';
import { decodePayloadBody, encodePayloadBody, isKnownPayloadType } from './payloads/codec.js';
import { Limits } from './payloads/limits.js';
import { PayloadType, type Payload } from './payloads/types.js';

export type { DecodeError, DecodeErrorCode, DecodeResult } from './decode-result.js';
export { DECODE_ERROR_CODES } from './decode-result.js';
export { Limits } from './payloads/limits.js';

export const GENERIC_PAYLOAD_HEADER_LENGTH = 4;
const CRITICAL = 0x80;
const UNSUPPORTED_CRITICAL_PAYLOAD = 1;

export interface IkeMessage {
  header: IkeHeader;
  payloads: Payload[];
}

/** Decodes a whole IKE datagram (without the RFC 3948 non-ESP marker). Never throws. */
export function decodeMessage(bytes: Uint8Array): DecodeResult<IkeMessage> {
  if (bytes.length > Limits.MAX_MESSAGE_SIZE) return fail('too-large', `IKE message of ${bytes.length} bytes exceeds ${Limits.MAX_MESSAGE_SIZE}`);
  const h = decodeHeader(bytes);
  if (!h.ok) return h;
  const header = h.value;
  if (header.length !== bytes.length) return fail('bad-length', `IKE header length ${header.length} but datagram has ${bytes.length} bytes`);
  const chain = decodeChain(header.nextPayload, bytes, IKE_HEADER_LENGTH, true);
  if (!chain.ok) return chain;
  return ok({ header, payloads: chain.value });
}

/** Decodes a decrypted inner payload chain (SK/SKF are not allowed inside). Never throws. */
export function decodePayloadChain(firstType: number, bytes: Uint8Array): DecodeResult<Payload[]> {
  return decodeChain(firstType, bytes, 0, false);
}

function decodeChain(firstType: number, bytes: Uint8Array, start: number, outer: boolean): DecodeResult<Payload[]> {
  const r = new Reader(bytes, start);
  const payloads: Payload[] = [];
  let type = firstType;
  while (type !== PayloadType.NONE) {
    if (payloads.length >= Limits.MAX_PAYLOADS) return syntax('too-many-payloads', `more than ${Limits.MAX_PAYLOADS} payloads`);
    if (r.remaining < GENERIC_PAYLOAD_HEADER_LENGTH) return syntax('truncated', `payload ${type} header truncated (${r.remaining} bytes left)`, type);
    const next = r.u8();
    const critical = (r.u8() & CRITICAL) !== 0;
    const len = r.u16();
    if (len < GENERIC_PAYLOAD_HEADER_LENGTH || len - GENERIC_PAYLOAD_HEADER_LENGTH > r.remaining) {
      return syntax('bad-length', `payload ${type} length ${len} invalid (${r.remaining + GENERIC_PAYLOAD_HEADER_LENGTH} bytes left)`, type);
    }
    const body = r.view(len - GENERIC_PAYLOAD_HEADER_LENGTH)!;
    if (!isKnownPayloadType(type) && critical) {
      return fail('unsupported-critical', `unsupported critical payload type ${type}`, { notify: UNSUPPORTED_CRITICAL_PAYLOAD, payloadType: type });
    }
    const isSk = type === PayloadType.SK || type === PayloadType.SKF;
    if (isSk && (!outer || r.remaining !== 0)) {
      return syntax('misplaced-sk', outer ? `${type === PayloadType.SK ? 'SK' : 'SKF'} payload is not the last payload` : 'SK/SKF payload inside an encrypted payload', type);
    }
    const p = decodePayloadBody(type, next, critical, body);
    if (!p.ok) return p;
    payloads.push(p.value);
    if (isSk) return ok(payloads);
    type = next;
  }
  if (r.remaining !== 0) return syntax('bad-length', `${r.remaining} bytes after the last payload`);
  return ok(payloads);
}

/** Writes the payload chain; returns the type of the first payload (0 when empty). */
export function writePayloadChain(w: Writer, payloads: readonly Payload[]): number {
  payloads.forEach((p, i) => {
    const isSk = p.type === PayloadType.SK || p.type === PayloadType.SKF;
    let next: number;
    if (isSk && 'innerType' in p) {
      if (i !== payloads.length - 1) throw new RangeError(`payloads: SK/SKF must be the last payload (index ${i} of ${payloads.length})`);
      next = p.innerType;
    } else {
      next = i + 1 < payloads.length ? payloads[i + 1]!.type : PayloadType.NONE;
    }
    const start = w.length;
    w.u8(next).u8('unknown' in p && p.critical ? CRITICAL : 0).u16(0);
    encodePayloadBody(p, w);
    const len = w.length - start;
    if (len > 0xffff) throw new RangeError(`payloads[${i}] (type ${p.type}) is ${len} bytes, over the 65535-byte Payload Length`);
    w.patchU16(start + 2, len);
  });
  return payloads.length > 0 ? payloads[0]!.type : PayloadType.NONE;
}

/** Encodes a payload chain (the plaintext of an SK payload, or for tests). */
export function encodePayloadChain(payloads: readonly Payload[]): { firstType: number; bytes: Uint8Array } {
  const w = new Writer(512);
  const firstType = writePayloadChain(w, payloads);
  return { firstType, bytes: w.finish() };
}

/** Encodes header + payloads, computing Next Payload fields and all lengths. */
export function encodeMessage(header: HeaderFields, payloads: readonly Payload[]): Uint8Array {
  const w = new Writer(512);
  writeHeaderFields(w, header, payloads.length > 0 ? payloads[0]!.type : PayloadType.NONE, 0);
  writePayloadChain(w, payloads);
  w.patchU32(24, w.length);
  return w.finish();
}
