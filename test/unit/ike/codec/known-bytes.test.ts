/**
 * Decoding hand-assembled wire bytes, written out field by field from the RFC 7296 §3 diagrams and
 * the RFC 7634 Appendix B IKEv2 example — independent of our encoder.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeType, HeaderFlag, NotifyType, describePayloads, exchangeName, notifyName, payloadName } from '../../../../src/ike/constants.js';
import { decodeHeader, encodeHeader } from '../../../../src/ike/header.js';
import { decodeMessage, decodePayloadChain, encodeMessage, encodePayloadChain } from '../../../../src/ike/message.js';
import type { Payload, SaPayload } from '../../../../src/ike/payloads/types.js';
import { hex, loadVectors, toHex } from '../../../vectors/load.js';

const v = loadVectors('chacha20poly1305-rfc7634.txt').get('rfc7634-appendix-b-ikev2')!;

function chain(first: number, h: string): Payload[] {
  const d = decodePayloadChain(first, hex(h));
  if (!d.ok) throw new Error(d.error.message);
  return d.value;
}

function reencode(ps: Payload[]): string {
  return toHex(encodePayloadChain(ps).bytes);
}

describe('IKE header (RFC 7634 Appendix B)', () => {
  const header = hex(v.aad!).subarray(0, 28);
  it('decodes every field', () => {
    const d = decodeHeader(header);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(toHex(d.value.spiI)).toBe('c0c1c2c3c4c5c6c7');
    expect(toHex(d.value.spiR)).toBe('d0d1d2d3d4d5d6d7');
    expect(d.value.nextPayload).toBe(46);
    expect(d.value.majorVersion).toBe(2);
    expect(d.value.minorVersion).toBe(0);
    expect(d.value.exchangeType).toBe(ExchangeType.INFORMATIONAL);
    expect(d.value.flags).toBe(0);
    expect(d.value.messageId).toBe(9);
    expect(d.value.length).toBe(0x45);
    expect(toHex(encodeHeader(d.value))).toBe(toHex(header));
  });

  it('decodes the whole 0x45-byte message as one SK payload whose next payload is N', () => {
    const raw = new Uint8Array(0x45);
    raw.set(hex(v.aad!));
    raw.set(hex(v.iv!), 32);
    raw.set(hex(v.ct_tag!), 40);
    const d = decodeMessage(raw);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value.payloads).toEqual([{ type: 46, critical: false, innerType: 41, body: raw.slice(32) }]);
  });

  it('decodes the Appendix B plaintext Notify (SET_WINDOW_SIZE = 10)', () => {
    const plain = hex(v.plaintext!).subarray(0, 12); // minus the pad length byte
    expect(chain(41, toHex(plain))).toEqual([
      { type: 41, critical: false, protocolId: 0, spi: new Uint8Array(0), notifyType: NotifyType.SET_WINDOW_SIZE, data: hex('0000000a') },
    ]);
  });

  it('encodes flags at the right bits', () => {
    const b = encodeMessage({ spiI: new Uint8Array(8), spiR: new Uint8Array(8), majorVersion: 2, minorVersion: 0, exchangeType: 34, flags: HeaderFlag.INITIATOR | HeaderFlag.RESPONSE, messageId: 0 }, []);
    expect(toHex(b)).toBe('0000000000000000' + '0000000000000000' + '00' + '20' + '22' + '28' + '00000000' + '0000001c');
  });
});

describe('payloads from hand-assembled bytes', () => {
  it('SA: one IKE proposal, AES-GCM-16 256 / PRF_HMAC_SHA2_256 / Curve25519 (Key Length TV attribute)', () => {
    const sa =
      '00000028' + // generic header: next 0, length 40
      '00000024' + '01010003' + // last proposal, length 36; #1 IKE, SPI size 0, 3 transforms
      '0300000c' + '01000014' + '800e0100' + // more; ENCR 20, key length 256
      '03000008' + '02000005' + // more; PRF 5
      '00000008' + '0400001f'; // last; KE 31
    const ps = chain(33, sa);
    expect(ps).toEqual([
      {
        type: 33,
        critical: false,
        proposals: [
          {
            number: 1,
            protocolId: 1,
            spi: new Uint8Array(0),
            transforms: [
              { type: 1, id: 20, keyLength: 256 },
              { type: 2, id: 5 },
              { type: 4, id: 31 },
            ],
          },
        ],
      },
    ]);
    expect(reencode(ps)).toBe(sa);
  });

  it('SA: ESP proposal with a 4-byte SPI and two proposals (Last Substruc 2 then 0)', () => {
    const sa =
      '0000003c' + // 4 + 2 × 28
      '0200001c' + '01030402' + 'aabbccdd' + '03000008' + '01000014' + '00000008' + '05000000' +
      '0000001c' + '02030402' + 'aabbccdd' + '03000008' + '0100001c' + '00000008' + '05000001';
    const ps = chain(33, sa);
    const p = ps[0] as SaPayload;
    expect(p.proposals.map((x) => [x.number, x.protocolId, toHex(x.spi), x.transforms.map((t) => `${t.type}:${t.id}`).join(',')])).toEqual([
      [1, 3, 'aabbccdd', '1:20,5:0'],
      [2, 3, 'aabbccdd', '1:28,5:1'],
    ]);
    expect(reencode(ps)).toBe(sa);
  });

  it('KE (group 31, 32 bytes), Nonce (32 bytes), IDi FQDN, AUTH PSK, CERTREQ, Vendor', () => {
    const keData = '11'.repeat(32);
    const nonce = '22'.repeat(32);
    const ke = '28000028' + '001f0000' + keData; // KE → next Nonce; 4 + 4 + 32 = 40
    const no = '23000024' + nonce; // Nonce → next IDi; 4 + 32 = 36
    const id = '27000012' + '02000000' + toHex(new TextEncoder().encode('a.ipx.test')); // → AUTH; 4 + 4 + 10 = 18
    const auth = '26000010' + '02000000' + 'deadbeefcafef00d'; // → CERTREQ
    const certreq = '2b000019' + '04' + '33'.repeat(20); // → V; 4 + 1 + 20 = 25
    const vendor = '00000008' + '01020304';
    const all = ke + no + id + auth + certreq + vendor;
    const ps = chain(34, all);
    expect(ps).toEqual([
      { type: 34, critical: false, group: 31, data: hex(keData) },
      { type: 40, critical: false, nonce: hex(nonce) },
      { type: 35, critical: false, idType: 2, data: new TextEncoder().encode('a.ipx.test') },
      { type: 39, critical: false, method: 2, data: hex('deadbeefcafef00d') },
      { type: 38, critical: false, encoding: 4, data: hex('33'.repeat(20)) },
      { type: 43, critical: false, data: hex('01020304') },
    ]);
    expect(reencode(ps)).toBe(all);
    expect(describePayloads(ps)).toBe('KE No IDi AUTH CERTREQ V');
  });

  it('TSi IPv4 range and TSr IPv6 range', () => {
    const tsi = '2d000018' + '01000000' + '07000010' + '0000ffff' + 'c0000200' + 'c00002ff';
    const tsr = '00000030' + '01000000' + '08110028' + '01f401f4' + '20010db8000000000000000000000000' + '20010db8ffffffffffffffffffffffff';
    const ps = chain(44, tsi + tsr);
    expect(ps).toEqual([
      { type: 44, critical: false, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: hex('c0000200'), endAddress: hex('c00002ff') }] },
      {
        type: 45,
        critical: false,
        selectors: [{ tsType: 8, ipProtocol: 17, startPort: 500, endPort: 500, startAddress: hex('20010db8000000000000000000000000'), endAddress: hex('20010db8ffffffffffffffffffffffff') }],
      },
    ]);
    expect(reencode(ps)).toBe(tsi + tsr);
  });

  it('Delete ESP with two SPIs, Delete IKE, Notify with SPI (REKEY_SA), CP request, EAP kept raw', () => {
    const d1 = '2a000010' + '03040002' + '11223344' + '55667788';
    const d2 = '29000008' + '01000000';
    const n = '2f00000c' + '03044009' + 'aabbccdd';
    const cp = '30000014' + '01000000' + '00010000' + '00030000' + '00080000';
    const eap = '00800008' + '02010004'; // C bit set on EAP: a known type, so no error
    const ps = chain(42, d1 + d2 + n + cp + eap);
    expect(ps).toEqual([
      { type: 42, critical: false, protocolId: 3, spis: [hex('11223344'), hex('55667788')] },
      { type: 42, critical: false, protocolId: 1, spis: [] },
      { type: 41, critical: false, protocolId: 3, spi: hex('aabbccdd'), notifyType: NotifyType.REKEY_SA, data: new Uint8Array(0) },
      {
        type: 47,
        critical: false,
        cfgType: 1,
        attributes: [
          { attrType: 1, value: new Uint8Array(0) },
          { attrType: 3, value: new Uint8Array(0) },
          { attrType: 8, value: new Uint8Array(0) },
        ],
      },
      { type: 48, critical: true, raw: hex('02010004'), unknown: true },
    ]);
    expect(reencode(ps)).toBe(d1 + d2 + n + cp + eap);
    expect(describePayloads(ps)).toBe('D(ESP) D(IKE) N(REKEY_SA) CP EAP');
  });

  it('an unknown non-critical payload is kept raw and the chain continues', () => {
    const ps = chain(99, '2b000006' + 'abcd' + '00000005' + 'ee');
    expect(ps).toEqual([
      { type: 99, critical: false, raw: hex('abcd'), unknown: true },
      { type: 43, critical: false, data: hex('ee') },
    ]);
  });

  it('SKF framing: fragment number, total, body', () => {
    const raw = encodeMessage({ spiI: hex('0102030405060708'), spiR: hex('1112131415161718'), majorVersion: 2, minorVersion: 0, exchangeType: 35, flags: 8, messageId: 1 }, [
      { type: 53, critical: false, innerType: 35, fragmentNumber: 1, totalFragments: 3, body: hex('a1a2a3') },
    ]);
    expect(toHex(raw.subarray(28))).toBe('2300000b' + '00010003' + 'a1a2a3');
    expect(raw[16]).toBe(53);
  });
});

describe('names', () => {
  it('names exchanges, notifies and payloads, with a numeric fallback', () => {
    expect(exchangeName(34)).toBe('IKE_SA_INIT');
    expect(exchangeName(43)).toBe('IKE_INTERMEDIATE');
    expect(exchangeName(99)).toBe('EXCHANGE(99)');
    expect(notifyName(16390)).toBe('COOKIE');
    expect(notifyName(14)).toBe('NO_PROPOSAL_CHOSEN');
    expect(notifyName(12345)).toBe('NOTIFY(12345)');
    expect(payloadName(35)).toBe('IDi');
    expect(payloadName(53)).toBe('SKF');
    expect(payloadName(200)).toBe('PAYLOAD(200)');
  });

  it('has the RFC 7296 §3.10.1 numbers', () => {
    expect(NotifyType).toMatchObject({
      UNSUPPORTED_CRITICAL_PAYLOAD: 1, INVALID_IKE_SPI: 4, INVALID_MAJOR_VERSION: 5, INVALID_SYNTAX: 7, INVALID_MESSAGE_ID: 9,
      INVALID_SPI: 11, NO_PROPOSAL_CHOSEN: 14, INVALID_KE_PAYLOAD: 17, AUTHENTICATION_FAILED: 24, SINGLE_PAIR_REQUIRED: 34,
      NO_ADDITIONAL_SAS: 35, INTERNAL_ADDRESS_FAILURE: 36, FAILED_CP_REQUIRED: 37, TS_UNACCEPTABLE: 38, INVALID_SELECTORS: 39,
      TEMPORARY_FAILURE: 43, CHILD_SA_NOT_FOUND: 44, INITIAL_CONTACT: 16384, SET_WINDOW_SIZE: 16385, ADDITIONAL_TS_POSSIBLE: 16386,
      IPCOMP_SUPPORTED: 16387, NAT_DETECTION_SOURCE_IP: 16388, NAT_DETECTION_DESTINATION_IP: 16389, COOKIE: 16390,
      USE_TRANSPORT_MODE: 16391, HTTP_CERT_LOOKUP_SUPPORTED: 16392, REKEY_SA: 16393, ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
      NON_FIRST_FRAGMENTS_ALSO: 16395, MOBIKE_SUPPORTED: 16396, MULTIPLE_AUTH_SUPPORTED: 16404, REDIRECT_SUPPORTED: 16406,
      CHILDLESS_IKEV2_SUPPORTED: 16418, IKEV2_FRAGMENTATION_SUPPORTED: 16430, SIGNATURE_HASH_ALGORITHMS: 16431,
    });
    expect(ExchangeType).toEqual({ IKE_SA_INIT: 34, IKE_AUTH: 35, CREATE_CHILD_SA: 36, INFORMATIONAL: 37, IKE_INTERMEDIATE: 43 });
    expect(HeaderFlag).toEqual({ INITIATOR: 8, VERSION: 16, RESPONSE: 32 });
  });
});
