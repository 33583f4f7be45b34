/**
 * Security Association payload (RFC 7296 §3.3) with its Proposal (§3.3.1), Transform (§3.3.2)
 * and Transform Attribute (§3.3.5) substructures.
 *
 *  SA payload body: one or more Proposal substructures.
 *
 *  Proposal (§3.3.1):
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Last Substruc |   RESERVED    |         Proposal Length       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        SPI (variable)                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        <Transforms>                           ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   Last Substruc: 0 = last proposal, 2 = more follow.
 *
 *  Transform (§3.3.2):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Last Substruc |   RESERVED    |        Transform Length       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Transform Type |   RESERVED    |          Transform ID         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                      Transform Attributes                     ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   Last Substruc: 0 = last transform, 3 = more follow.
 *
 *  Transform Attribute (§3.3.5):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |A|       Attribute Type        |    AF=0  Attribute Length     |
 * |F|                             |    AF=1  Attribute Value      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   AF=0  Attribute Value                       |
 * |                   AF=1  Not Transmitted                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   Key Length (type 14) is the only attribute RFC 7296 defines; it is TV (AF=1), in bits.
 *   Other attributes are kept in `Transform.otherAttributes`; §3.3.6 makes a transform with an
 *   attribute we do not understand unacceptable, which is the proposal matcher's decision.
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import { Limits } from './limits.js';
import type { Proposal, SaPayload, Transform, TransformAttribute } from './types.js';

export const KEY_LENGTH_ATTRIBUTE = 14;
const LAST = 0;
const MORE_PROPOSALS = 2;
const MORE_TRANSFORMS = 3;
const T = 33; // PayloadType.SA

export function decodeSaBody(body: Uint8Array, critical: boolean): DecodeResult<SaPayload> {
  const r = new Reader(body);
  const proposals: Proposal[] = [];
  if (r.remaining === 0) return syntax('bad-payload', 'SA payload has no proposals', T);
  while (r.remaining > 0) {
    if (proposals.length >= Limits.MAX_PROPOSALS) return syntax('too-many-items', `SA payload has more than ${Limits.MAX_PROPOSALS} proposals`, T);
    if (r.remaining < 8) return syntax('truncated', 'SA proposal header truncated', T);
    const last = r.u8();
    r.u8();
    const len = r.u16();
    if (len < 8 || len - 4 > r.remaining) return syntax('bad-length', `SA proposal length ${len} invalid (remaining ${r.remaining + 4})`, T);
    const pr = r.sub(len - 4)!;
    const isLast = r.remaining === 0;
    if (last !== (isLast ? LAST : MORE_PROPOSALS)) return syntax('bad-payload', `SA proposal Last Substruc ${last} but ${isLast ? 'it is the last' : 'more follow'}`, T);
    const res = decodeProposal(pr);
    if (!res.ok) return res;
    proposals.push(res.value);
  }
  return ok({ type: T, critical, proposals });
}

function decodeProposal(r: Reader): DecodeResult<Proposal> {
  const number = r.u8();
  const protocolId = r.u8();
  const spiSize = r.u8();
  const numTransforms = r.u8();
  const spi = r.bytes(spiSize);
  if (spi === undefined) return syntax('bad-length', `SA proposal SPI size ${spiSize} exceeds proposal`, T);
  if (numTransforms > Limits.MAX_TRANSFORMS) return syntax('too-many-items', `SA proposal has ${numTransforms} transforms (max ${Limits.MAX_TRANSFORMS})`, T);
  const transforms: Transform[] = [];
  while (r.remaining > 0) {
    if (transforms.length >= numTransforms) return syntax('bad-payload', `SA proposal has more transforms than Num Transforms ${numTransforms}`, T);
    if (r.remaining < 8) return syntax('truncated', 'SA transform header truncated', T);
    const last = r.u8();
    r.u8();
    const len = r.u16();
    if (len < 8 || len - 4 > r.remaining) return syntax('bad-length', `SA transform length ${len} invalid`, T);
    const tr = r.sub(len - 4)!;
    const isLast = r.remaining === 0;
    if (last !== (isLast ? LAST : MORE_TRANSFORMS)) return syntax('bad-payload', `SA transform Last Substruc ${last} but ${isLast ? 'it is the last' : 'more follow'}`, T);
    const res = decodeTransform(tr);
    if (!res.ok) return res;
    transforms.push(res.value);
  }
  if (transforms.length !== numTransforms) return syntax('bad-payload', `SA proposal Num Transforms ${numTransforms} but ${transforms.length} present`, T);
  return ok({ number, protocolId, spi, transforms });
}

function decodeTransform(r: Reader): DecodeResult<Transform> {
  const type = r.u8();
  r.u8();
  const id = r.u16();
  let keyLength: number | undefined;
  const other: TransformAttribute[] = [];
  let count = 0;
  while (r.remaining > 0) {
    if (++count > Limits.MAX_TRANSFORM_ATTRIBUTES) return syntax('too-many-items', `SA transform has more than ${Limits.MAX_TRANSFORM_ATTRIBUTES} attributes`, T);
    if (r.remaining < 4) return syntax('truncated', 'SA transform attribute truncated', T);
    const at = r.u16();
    const tv = (at & 0x8000) !== 0;
    const attrType = at & 0x7fff;
    if (tv) {
      const v = r.u16();
      if (attrType === KEY_LENGTH_ATTRIBUTE && keyLength === undefined) keyLength = v;
      else other.push({ attrType, tv: true, value: new Uint8Array([v >>> 8, v & 0xff]) });
    } else {
      const alen = r.u16();
      const value = r.bytes(alen);
      if (value === undefined) return syntax('bad-length', `SA transform attribute length ${alen} exceeds transform`, T);
      // Key Length MUST be TV (§3.3.5); a TLV one is kept as "other" so the matcher rejects it.
      other.push({ attrType, tv: false, value });
    }
  }
  const t: { type: number; id: number; keyLength?: number; otherAttributes?: readonly TransformAttribute[] } = { type, id };
  if (keyLength !== undefined) t.keyLength = keyLength;
  if (other.length > 0) t.otherAttributes = other;
  return ok(t);
}

export function encodeSaBody(p: SaPayload, w: Writer): void {
  if (p.proposals.length === 0) throw new RangeError('SA payload: proposals must not be empty');
  p.proposals.forEach((prop, i) => {
    const start = w.length;
    w.u8(i === p.proposals.length - 1 ? LAST : MORE_PROPOSALS).u8(0).u16(0);
    if (prop.transforms.length > 255) throw new RangeError(`SA proposal ${prop.number}: ${prop.transforms.length} transforms exceed 255`);
    w.u8(prop.number).u8(prop.protocolId).u8(prop.spi.length).u8(prop.transforms.length).bytes(prop.spi);
    prop.transforms.forEach((t, j) => {
      const tStart = w.length;
      w.u8(j === prop.transforms.length - 1 ? LAST : MORE_TRANSFORMS).u8(0).u16(0);
      w.u8(t.type).u8(0).u16(t.id);
      if (t.keyLength !== undefined) w.u16(0x8000 | KEY_LENGTH_ATTRIBUTE).u16(t.keyLength);
      for (const a of t.otherAttributes ?? []) {
        if (a.tv) {
          if (a.value.length !== 2) throw new RangeError(`SA transform attribute ${a.attrType}: TV value must be 2 bytes`);
          w.u16(0x8000 | a.attrType).bytes(a.value);
        } else {
          w.u16(a.attrType).u16(a.value.length).bytes(a.value);
        }
      }
      w.patchU16(tStart + 2, w.length - tStart);
    });
    w.patchU16(start + 2, w.length - start);
  });
}
