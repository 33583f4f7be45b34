/**
 * Traffic Selector payloads TSi / TSr (RFC 7296 §3.13, selectors §3.13.1).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Number of TSs |                 RESERVED                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       <Traffic Selectors>                     ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *  Traffic Selector (§3.13.1):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   TS Type     |IP Protocol ID*|       Selector Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Start Port*         |           End Port*           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                         Starting Address*                     ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                         Ending Address*                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * TS_IPV4_ADDR_RANGE (7): 4-byte addresses, selector length 16.
 * TS_IPV6_ADDR_RANGE (8): 16-byte addresses, selector length 40.
 * Other TS types (e.g. RFC 9478 security labels) are rejected with INVALID_SYNTAX: we cannot
 * honour a selector we do not understand, and silently dropping it would widen the policy.
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import { Limits } from './limits.js';
import type { TrafficSelector, TsPayload } from './types.js';

const addrLen = (tsType: number): number => (tsType === 7 ? 4 : tsType === 8 ? 16 : 0);

export function decodeTsBody(type: 44 | 45, body: Uint8Array, critical: boolean): DecodeResult<TsPayload> {
  const name = type === 44 ? 'TSi' : 'TSr';
  if (body.length < 4) return syntax('truncated', `${name} payload shorter than 4 bytes`, type);
  const r = new Reader(body);
  const count = r.u8();
  r.skip(3);
  if (count === 0) return syntax('bad-payload', `${name} payload with zero selectors`, type);
  if (count > Limits.MAX_SELECTORS) return syntax('too-many-items', `${name} payload has ${count} selectors (max ${Limits.MAX_SELECTORS})`, type);
  const selectors: TrafficSelector[] = [];
  for (let i = 0; i < count; i++) {
    if (r.remaining < 4) return syntax('truncated', `${name} selector ${i + 1} of ${count} truncated`, type);
    const tsType = r.u8();
    const ipProtocol = r.u8();
    const len = r.u16();
    const al = addrLen(tsType);
    if (al === 0) return syntax('bad-payload', `${name} selector type ${tsType} unsupported`, type);
    if (len !== 8 + 2 * al) return syntax('bad-length', `${name} selector type ${tsType} length ${len}, expected ${8 + 2 * al}`, type);
    if (r.remaining < len - 4) return syntax('truncated', `${name} selector ${i + 1} truncated`, type);
    const startPort = r.u16();
    const endPort = r.u16();
    const startAddress = r.bytes(al)!;
    const endAddress = r.bytes(al)!;
    selectors.push({ tsType, ipProtocol, startPort, endPort, startAddress, endAddress });
  }
  if (r.remaining !== 0) return syntax('bad-length', `${name} payload has ${r.remaining} bytes after its selectors`, type);
  return ok({ type, critical, selectors });
}

export function encodeTsBody(p: TsPayload, w: Writer): void {
  if (p.selectors.length === 0 || p.selectors.length > 255) throw new RangeError(`TS payload: selectors count ${p.selectors.length} outside 1..255`);
  w.u8(p.selectors.length).zeros(3);
  for (const s of p.selectors) {
    const al = addrLen(s.tsType);
    if (al === 0) throw new RangeError(`TS payload: tsType ${s.tsType} unsupported`);
    if (s.startAddress.length !== al || s.endAddress.length !== al) throw new RangeError(`TS payload: startAddress/endAddress must be ${al} bytes for tsType ${s.tsType}`);
    w.u8(s.tsType).u8(s.ipProtocol).u16(8 + 2 * al).u16(s.startPort).u16(s.endPort).bytes(s.startAddress).bytes(s.endAddress);
  }
}
