/** Every codec DecodeErrorCode, produced from crafted bytes, with the notify the RFC asks for. */
import { describe, expect, it } from 'vitest';
import { decodeHeader } from '../../../../src/ike/header.js';
import { Limits, decodeMessage, decodePayloadChain, encodeMessage, type DecodeResult } from '../../../../src/ike/message.js';
import type { Payload } from '../../../../src/ike/payloads/types.js';
import { hex } from '../../../vectors/load.js';

const hdr = { spiI: hex('0102030405060708'), spiR: new Uint8Array(8), majorVersion: 2, minorVersion: 0, exchangeType: 34, flags: 8, messageId: 0 };

/** A message whose payload chain is given as raw hex after a correct header. */
function rawMessage(first: number, chainHex: string, patch?: (b: Uint8Array) => void): Uint8Array {
  const body = hex(chainHex);
  const b = new Uint8Array(28 + body.length);
  b.set(encodeMessage(hdr, []).subarray(0, 28));
  b[16] = first;
  b.set(body, 28);
  new DataView(b.buffer).setUint32(24, b.length);
  patch?.(b);
  return b;
}

function err<T>(r: DecodeResult<T>) {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('expected an error');
  return r.error;
}

const INVALID_SYNTAX = 7;

describe('decode errors', () => {
  it('truncated: datagram shorter than the IKE header; payload header cut', () => {
    expect(err(decodeMessage(new Uint8Array(27)))).toMatchObject({ code: 'truncated' });
    expect(err(decodeHeader(new Uint8Array(3)))).toMatchObject({ code: 'truncated' });
    expect(err(decodeMessage(rawMessage(43, '0000')))).toMatchObject({ code: 'truncated', notify: INVALID_SYNTAX });
    // header says Vendor follows, but no bytes are left
    expect(err(decodeMessage(rawMessage(43, '2b000005' + 'aa')))).toMatchObject({ code: 'truncated' });
  });

  it('bad-length: header length ≠ datagram, payload length < 4 or beyond the end, trailing bytes', () => {
    expect(err(decodeMessage(rawMessage(43, '00000005aa', (b) => (b[27] = 99))))).toMatchObject({ code: 'bad-length' });
    expect(err(decodeMessage(rawMessage(43, '00000003')))).toMatchObject({ code: 'bad-length', notify: INVALID_SYNTAX, payloadType: 43 });
    expect(err(decodeMessage(rawMessage(43, '00000009aa')))).toMatchObject({ code: 'bad-length', notify: INVALID_SYNTAX });
    expect(err(decodeMessage(rawMessage(43, '00000005aa' + 'ffff')))).toMatchObject({ code: 'bad-length' });
    // Delete(ESP) claims 2 SPIs but carries 1
    expect(err(decodePayloadChain(42, hex('0000000c' + '03040002' + '11223344')))).toMatchObject({ code: 'bad-length', payloadType: 42 });
    // SA proposal length past the payload
    expect(err(decodePayloadChain(33, hex('0000000c' + '000000ff' + '01010000')))).toMatchObject({ code: 'bad-length', payloadType: 33 });
  });

  it('bad-version: major 3 is answered with INVALID_MAJOR_VERSION, IKEv1 (major 1) is just dropped', () => {
    const v3 = rawMessage(0, '', (b) => (b[17] = 0x30));
    expect(err(decodeMessage(v3))).toMatchObject({ code: 'bad-version', notify: 5 });
    const v1 = rawMessage(0, '', (b) => (b[17] = 0x10));
    const e = err(decodeMessage(v1));
    expect(e.code).toBe('bad-version');
    expect(e.notify).toBeUndefined();
    // the minor version is ignored (RFC 7296 §2.5)
    expect(decodeMessage(rawMessage(0, '', (b) => (b[17] = 0x2f))).ok).toBe(true);
  });

  it('unsupported-critical: unknown payload type with C set → UNSUPPORTED_CRITICAL_PAYLOAD carrying the type', () => {
    expect(err(decodeMessage(rawMessage(43, '63000005aa' + '00800004')))).toMatchObject({ code: 'unsupported-critical', notify: 1, payloadType: 99 });
    // without the C bit it is skipped
    expect(decodeMessage(rawMessage(43, '63000005aa' + '00000004')).ok).toBe(true);
  });

  it('bad-payload: nonce outside 16..256, Delete(IKE) with SPIs, bad Last Substruc, unknown TS type', () => {
    expect(err(decodePayloadChain(40, hex('0000000c' + '0102030405060708')))).toMatchObject({ code: 'bad-payload', notify: INVALID_SYNTAX, payloadType: 40 });
    expect(err(decodePayloadChain(40, hex('00000105' + '00'.repeat(257))))).toMatchObject({ code: 'bad-payload' });
    expect(err(decodePayloadChain(42, hex('0000000c' + '01040001' + '11223344')))).toMatchObject({ code: 'bad-payload' });
    // single proposal marked "more follow" (2)
    expect(err(decodePayloadChain(33, hex('0000000c' + '02000008' + '01010000')))).toMatchObject({ code: 'bad-payload' });
    // Num Transforms says 2, one present
    expect(err(decodePayloadChain(33, hex('00000014' + '00000010' + '01010002' + '00000008' + '01000014')))).toMatchObject({ code: 'bad-payload' });
    expect(err(decodePayloadChain(44, hex('00000018' + '01000000' + '0a000010' + '00000000' + '00000000' + '00000000')))).toMatchObject({ code: 'bad-payload', payloadType: 44 });
    expect(err(decodePayloadChain(44, hex('00000008' + '00000000')))).toMatchObject({ code: 'bad-payload' });
  });

  it('too-many-payloads: more than MAX_PAYLOADS in a chain', () => {
    const vendors: Payload[] = Array.from({ length: Limits.MAX_PAYLOADS + 1 }, () => ({ type: 43, critical: false, data: new Uint8Array(1) }));
    expect(err(decodeMessage(encodeMessage(hdr, vendors)))).toMatchObject({ code: 'too-many-payloads', notify: INVALID_SYNTAX });
    expect(decodeMessage(encodeMessage(hdr, vendors.slice(1))).ok).toBe(true);
  });

  it('too-many-items: selectors, CP attributes, Delete SPIs, transform attributes beyond the limits', () => {
    expect(err(decodePayloadChain(44, hex('00000008' + '41000000')))).toMatchObject({ code: 'too-many-items', payloadType: 44 });
    const attrs = '00010000'.repeat(Limits.MAX_CP_ATTRIBUTES + 1);
    expect(err(decodePayloadChain(47, hex((8 + attrs.length / 2).toString(16).padStart(8, '0') + '01000000' + attrs)))).toMatchObject({ code: 'too-many-items' });
    expect(err(decodePayloadChain(42, hex('00000008' + '03040101')))).toMatchObject({ code: 'too-many-items' });
    const tattrs = '800e0080'.repeat(Limits.MAX_TRANSFORM_ATTRIBUTES + 1);
    const h16 = (n: number) => n.toString(16).padStart(4, '0');
    const tlen = 8 + tattrs.length / 2;
    const plen = 8 + tlen;
    const saHex = '0000' + h16(4 + plen) + '0000' + h16(plen) + '01010001' + '0000' + h16(tlen) + '01000014' + tattrs;
    expect(err(decodePayloadChain(33, hex(saHex)))).toMatchObject({ code: 'too-many-items', payloadType: 33 });
  });

  it('too-large: datagram over MAX_MESSAGE_SIZE, dropped without a notify', () => {
    const e = err(decodeMessage(new Uint8Array(Limits.MAX_MESSAGE_SIZE + 1)));
    expect(e.code).toBe('too-large');
    expect(e.notify).toBeUndefined();
  });

  it('misplaced-sk: SK not last outside, SK inside an encrypted chain', () => {
    expect(err(decodeMessage(rawMessage(46, '2b000008aabbccdd' + '00000004')))).toMatchObject({ code: 'misplaced-sk', payloadType: 46 });
    expect(err(decodeMessage(rawMessage(53, '2b00000c0001000100000000' + '00000004')))).toMatchObject({ code: 'misplaced-sk', payloadType: 53 });
    expect(err(decodePayloadChain(46, hex('29000008aabbccdd')))).toMatchObject({ code: 'misplaced-sk' });
  });

  it('SK last is fine, and its Next Payload is the inner first type even though the outer chain ends', () => {
    const d = decodeMessage(rawMessage(46, '29000008aabbccdd'));
    expect(d.ok && d.value.payloads).toEqual([{ type: 46, critical: false, innerType: 41, body: hex('aabbccdd') }]);
  });
});
