/**
 * IKE header (RFC 7296 §3.1).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Initiator's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       IKE SA Responder's SPI                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Message ID                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            Length                             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Flags: X X R V I X X X — R (0x20) response, V (0x10) version (never set by IKEv2 senders),
 * I (0x08) sent by the original initiator. Major version MUST be 2; minor version is ignored
 * on receipt and sent as 0 (§2.5).
 */
import { fail, ok, type DecodeResult } from './decode-result.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';

export const IKE_HEADER_LENGTH = 28;
export const IKE_MAJOR_VERSION = 2;
const INVALID_MAJOR_VERSION = 5;

export interface IkeHeader {
  spiI: Uint8Array;
  spiR: Uint8Array;
  nextPayload: number;
  majorVersion: number;
  minorVersion: number;
  exchangeType: number;
  flags: number;
  messageId: number;
  length: number;
}

/**
 * Decodes the fixed 28-byte header. Checks only what the header alone can say: enough bytes and
 * major version 2 (a higher major version gets INVALID_MAJOR_VERSION per §2.5; a lower one, i.e.
 * IKEv1, is just dropped). The Length field is checked against the datagram by `decodeMessage`.
 */
export function decodeHeader(bytes: Uint8Array): DecodeResult<IkeHeader> {
  if (bytes.length < IKE_HEADER_LENGTH) return fail('truncated', `IKE header needs ${IKE_HEADER_LENGTH} bytes, got ${bytes.length}`);
  const r = new Reader(bytes);
  const spiI = r.bytes(8)!;
  const spiR = r.bytes(8)!;
  const nextPayload = r.u8();
  const ver = r.u8();
  const exchangeType = r.u8();
  const flags = r.u8();
  const messageId = r.u32();
  const length = r.u32();
  const majorVersion = ver >>> 4;
  const minorVersion = ver & 0x0f;
  if (majorVersion !== IKE_MAJOR_VERSION) {
    return fail('bad-version', `IKE major version ${majorVersion}, expected 2`, majorVersion > IKE_MAJOR_VERSION ? { notify: INVALID_MAJOR_VERSION } : undefined);
  }
  return ok({ spiI, spiR, nextPayload, majorVersion, minorVersion, exchangeType, flags, messageId, length });
}

/** Writes the 28-byte header. Throws (programmer error) on SPIs that are not 8 bytes. */
export function writeHeader(w: Writer, h: IkeHeader): void {
  writeHeaderFields(w, h, h.nextPayload, h.length);
}

/**
 * `writeHeader` with the two fields the encoders compute (Next Payload, Length) passed on their own:
 * the message encoders called writeHeader with `{ ...header, nextPayload, length }`, an object spread
 * per message that showed in the IKE establishment profile (bench/ike.ts).
 */
export function writeHeaderFields(w: Writer, h: Omit<IkeHeader, 'length' | 'nextPayload'>, nextPayload: number, length: number): void {
  if (h.spiI.length !== 8) throw new RangeError(`IKE header spiI must be 8 bytes, got ${h.spiI.length}`);
  if (h.spiR.length !== 8) throw new RangeError(`IKE header spiR must be 8 bytes, got ${h.spiR.length}`);
  if (h.majorVersion > 15 || h.minorVersion > 15) throw new RangeError(`IKE header version ${h.majorVersion}.${h.minorVersion} does not fit 4 bits`);
  w.bytes(h.spiI).bytes(h.spiR).u8(nextPayload).u8((h.majorVersion << 4) | h.minorVersion).u8(h.exchangeType).u8(h.flags).u32(h.messageId).u32(length);
}

/** The 28 header bytes. */
export function encodeHeader(h: IkeHeader): Uint8Array {
  const w = new Writer(IKE_HEADER_LENGTH);
  writeHeader(w, h);
  return w.finish();
}

/** Header fields the caller chooses; `nextPayload` and `length` are computed by the encoder. */
export type HeaderFields = Omit<IkeHeader, 'length' | 'nextPayload'>;
