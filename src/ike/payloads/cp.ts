/**
 * Configuration payload (RFC 7296 §3.15, attributes §3.15.1).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C| RESERVED    |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   CFG Type    |                    RESERVED                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                   Configuration Attributes                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *  Configuration Attribute (§3.15.1):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|         Attribute Type      |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                             Value                             ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * R is reserved (ignored on receipt, sent as 0). A zero-length value in a CFG_REQUEST asks for
 * any value. Value layouts (e.g. INTERNAL_IP6_ADDRESS = 16-byte address ‖ 1-byte prefix) are
 * interpreted by the engine; only the length framing is checked here.
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import { Limits } from './limits.js';
import type { CfgAttribute, CpPayload } from './types.js';

/** RFC 7296 §3.15.1 Configuration Attribute types used by tsipsec. */
export const CfgAttributeType = {
  INTERNAL_IP4_ADDRESS: 1,
  INTERNAL_IP4_NETMASK: 2,
  INTERNAL_IP4_DNS: 3,
  INTERNAL_IP4_NBNS: 4,
  INTERNAL_IP4_DHCP: 6,
  APPLICATION_VERSION: 7,
  INTERNAL_IP6_ADDRESS: 8,
  INTERNAL_IP6_DNS: 10,
  INTERNAL_IP6_DHCP: 12,
  INTERNAL_IP4_SUBNET: 13,
  SUPPORTED_ATTRIBUTES: 14,
  INTERNAL_IP6_SUBNET: 15,
} as const;
export type CfgAttributeType = (typeof CfgAttributeType)[keyof typeof CfgAttributeType];

const T = 47;

export function decodeCpBody(body: Uint8Array, critical: boolean): DecodeResult<CpPayload> {
  if (body.length < 4) return syntax('truncated', 'CP payload shorter than 4 bytes', T);
  const r = new Reader(body);
  const cfgType = r.u8();
  r.skip(3);
  const attributes: CfgAttribute[] = [];
  while (r.remaining > 0) {
    if (attributes.length >= Limits.MAX_CP_ATTRIBUTES) return syntax('too-many-items', `CP payload has more than ${Limits.MAX_CP_ATTRIBUTES} attributes`, T);
    if (r.remaining < 4) return syntax('truncated', 'CP attribute header truncated', T);
    const attrType = r.u16() & 0x7fff;
    const len = r.u16();
    const value = r.bytes(len);
    if (value === undefined) return syntax('bad-length', `CP attribute ${attrType} length ${len} exceeds payload`, T);
    attributes.push({ attrType, value });
  }
  return ok({ type: T, critical, cfgType, attributes });
}

export function encodeCpBody(p: CpPayload, w: Writer): void {
  w.u8(p.cfgType).zeros(3);
  for (const a of p.attributes) {
    if (a.attrType > 0x7fff) throw new RangeError(`CP attribute: attrType ${a.attrType} exceeds 15 bits`);
    w.u16(a.attrType).u16(a.value.length).bytes(a.value);
  }
}
