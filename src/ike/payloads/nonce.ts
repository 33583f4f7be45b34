/**
 * Nonce payload Ni / Nr (RFC 7296 §3.9).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                            Nonce Data                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * "The size of the Nonce Data MUST be between 16 and 256 octets, inclusive."
 */
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import { Limits } from './limits.js';
import type { NoncePayload } from './types.js';

export function decodeNonceBody(body: Uint8Array, critical: boolean): DecodeResult<NoncePayload> {
  if (body.length < Limits.MIN_NONCE || body.length > Limits.MAX_NONCE) {
    return syntax('bad-payload', `Nonce length ${body.length} outside ${Limits.MIN_NONCE}..${Limits.MAX_NONCE}`, 40);
  }
  return ok({ type: 40, critical, nonce: new Uint8Array(body) });
}

export function encodeNonceBody(p: NoncePayload, w: Writer): void {
  if (p.nonce.length < Limits.MIN_NONCE || p.nonce.length > Limits.MAX_NONCE) {
    throw new RangeError(`Nonce payload: nonce length ${p.nonce.length} outside ${Limits.MIN_NONCE}..${Limits.MAX_NONCE}`);
  }
  w.bytes(p.nonce);
}
