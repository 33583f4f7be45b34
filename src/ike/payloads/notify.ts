/**
 * Notify payload (RFC 7296 §3.10).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Protocol ID  |   SPI Size    |      Notify Message Type      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                Security Parameter Index (SPI)                 ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       Notification Data                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Protocol ID 0 with SPI size 0 for IKE SA notifications; per-notify data layout is the
 * engine's business (e.g. UNSUPPORTED_CRITICAL_PAYLOAD carries the one-octet payload type,
 * INVALID_KE_PAYLOAD a two-octet group number).
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import type { NotifyPayload } from './types.js';

export function decodeNotifyBody(body: Uint8Array, critical: boolean): DecodeResult<NotifyPayload> {
  if (body.length < 4) return syntax('truncated', 'Notify payload shorter than 4 bytes', 41);
  const r = new Reader(body);
  const protocolId = r.u8();
  const spiSize = r.u8();
  const notifyType = r.u16();
  const spi = r.bytes(spiSize);
  if (spi === undefined) return syntax('bad-length', `Notify SPI size ${spiSize} exceeds payload`, 41);
  return ok({ type: 41, critical, protocolId, spi, notifyType, data: r.rest() });
}

export function encodeNotifyBody(p: NotifyPayload, w: Writer): void {
  if (p.spi.length > 255) throw new RangeError(`Notify payload: spi length ${p.spi.length} exceeds 255`);
  w.u8(p.protocolId).u8(p.spi.length).u16(p.notifyType).bytes(p.spi).bytes(p.data);
}
