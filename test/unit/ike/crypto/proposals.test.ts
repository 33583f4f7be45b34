/**
 * Proposal selection (RFC 7296 §2.7, §3.3): responder choice in our preference order, key length
 * matching, PFS, ESN, unknown transforms/attributes, and the initiator's check of the reply.
 */
import { describe, expect, it } from 'vitest';
import { parseProposals } from '../../../../src/ike/proposal-string.js';
import {
  acceptChosen,
  aeadName,
  algsToWireProposal,
  describeAlgs,
  integName,
  keymatLengths,
  prfName,
  selectProposal,
  type NegotiatedAlgorithms,
} from '../../../../src/ike/proposals.js';
import type { Proposal, Transform } from '../../../../src/ike/payloads/types.js';

const E = (id: number, keyLength?: number): Transform => (keyLength === undefined ? { type: 1, id } : { type: 1, id, keyLength });
const P = (id: number): Transform => ({ type: 2, id });
const I = (id: number): Transform => ({ type: 3, id });
const K = (id: number): Transform => ({ type: 4, id });
const N = (id: number): Transform => ({ type: 5, id });
const prop = (number: number, protocolId: number, transforms: Transform[], spi = new Uint8Array(0)): Proposal => ({ number, protocolId, spi, transforms });

describe('selectProposal (responder)', () => {
  const ours = parseProposals('aes256gcm16-prfsha256-x25519, aes128-sha256-modp2048', 'ike');

  it('matches an offered proposal and returns its number, SPI and one transform per type', () => {
    const offered = [prop(1, 1, [E(12, 128), E(12, 256), P(5), I(12), K(14), K(19)])];
    expect(selectProposal(offered, ours, 'ike')).toEqual({
      number: 1,
      spi: new Uint8Array(0),
      algs: { encr: { id: 12, keyLength: 128 }, integ: 12, prf: 5, dh: 14 },
    });
  });

  it('prefers OUR proposal order over the peer order', () => {
    const offered = [prop(1, 1, [E(12, 128), P(5), I(12), K(14)]), prop(2, 1, [E(20, 256), P(5), K(31)])];
    const s = selectProposal(offered, ours, 'ike')!;
    expect(s.number).toBe(2);
    expect(s.algs).toEqual({ encr: { id: 20, keyLength: 256 }, prf: 5, dh: 31 });
  });

  it('prefers our algorithm order inside a proposal', () => {
    const cfg = parseProposals('aes256-aes128-sha512-sha256-ecp256-x25519', 'ike');
    const offered = [prop(1, 1, [E(12, 128), E(12, 256), P(5), P(7), I(12), I(14), K(31), K(19)])];
    expect(selectProposal(offered, cfg, 'ike')!.algs).toEqual({ encr: { id: 12, keyLength: 256 }, integ: 14, prf: 7, dh: 19 });
  });

  it('returns undefined when nothing matches', () => {
    expect(selectProposal([prop(1, 1, [E(12, 128), P(5), I(12), K(21)])], ours, 'ike')).toBeUndefined();
    expect(selectProposal([], ours, 'ike')).toBeUndefined();
  });

  it('a key length mismatch is no match', () => {
    expect(selectProposal([prop(1, 1, [E(20, 128), P(5), K(31)])], ours, 'ike')).toBeUndefined();
    expect(selectProposal([prop(1, 1, [E(20), P(5), K(31)])], ours, 'ike')).toBeUndefined();
  });

  it('ignores proposals of another protocol and transforms with unknown attributes', () => {
    expect(selectProposal([prop(1, 3, [E(20, 256), P(5), K(31)])], ours, 'ike')).toBeUndefined();
    const withAttr: Transform = { type: 1, id: 20, keyLength: 256, otherAttributes: [{ attrType: 99, tv: true, value: Uint8Array.of(0, 1) }] };
    expect(selectProposal([prop(1, 1, [withAttr, P(5), K(31)])], ours, 'ike')).toBeUndefined();
  });

  it('unknown transform types (RFC 9370 ADDKE) are only acceptable when NONE is offered', () => {
    const addke = (id: number): Transform => ({ type: 6, id });
    expect(selectProposal([prop(1, 1, [E(20, 256), P(5), K(31), addke(35)])], ours, 'ike')).toBeUndefined();
    expect(selectProposal([prop(1, 1, [E(20, 256), P(5), K(31), addke(35), addke(0)])], ours, 'ike')!.algs.dh).toBe(31);
  });

  it('ESP: SPI, ESN choice, AEAD ignores INTEG', () => {
    const esp = parseProposals('aes128gcm16-esn-noesn', 'esp');
    const spi = Uint8Array.of(0xc1, 2, 3, 4);
    const s = selectProposal([prop(3, 3, [E(20, 128), I(12), N(0), N(1)], spi)], esp, 'esp')!;
    expect(s).toEqual({ number: 3, spi, algs: { encr: { id: 20, keyLength: 128 }, esn: true } });
    // no ESN transform offered: read as no-ESN, which our config must allow
    expect(selectProposal([prop(1, 3, [E(20, 128)], spi)], esp, 'esp')!.algs.esn).toBe(false);
    expect(selectProposal([prop(1, 3, [E(20, 128), N(0)], spi)], parseProposals('aes128gcm16-esn', 'esp'), 'esp')).toBeUndefined();
  });

  it('ESP PFS: required when configured, refused when the peer insists and we have none, skipKe ignores it', () => {
    const pfs = parseProposals('aes256gcm16-x25519', 'esp');
    const nopfs = parseProposals('aes256gcm16', 'esp');
    const spi = Uint8Array.of(1, 2, 3, 4);
    const withKe = prop(1, 3, [E(20, 256), K(31), N(0)], spi);
    const noKe = prop(1, 3, [E(20, 256), N(0)], spi);
    expect(selectProposal([withKe], pfs, 'esp')!.algs.dh).toBe(31);
    expect(selectProposal([noKe], pfs, 'esp')).toBeUndefined();
    expect(selectProposal([withKe], nopfs, 'esp')).toBeUndefined();
    expect(selectProposal([prop(1, 3, [E(20, 256), K(31), K(0), N(0)], spi)], nopfs, 'esp')!.algs.dh).toBeUndefined();
    expect(selectProposal([noKe], pfs, 'esp', { skipKe: true })!.algs).toEqual({ encr: { id: 20, keyLength: 256 }, esn: false });
    expect(selectProposal([withKe], nopfs, 'esp', { skipKe: true })).toBeDefined();
  });
});

describe('acceptChosen (initiator)', () => {
  const sent = [prop(1, 1, [E(12, 128), E(12, 256), P(5), I(12), K(14), K(31)]), prop(2, 1, [E(20, 256), P(5), P(6), K(31)])];

  it('accepts a reply with one transform per type from the same-numbered proposal', () => {
    expect(acceptChosen(sent, prop(2, 1, [E(20, 256), P(6), K(31)]))).toEqual({
      number: 2,
      spi: new Uint8Array(0),
      algs: { encr: { id: 20, keyLength: 256 }, prf: 6, dh: 31 },
    });
    expect(acceptChosen(sent, prop(1, 1, [E(12, 256), P(5), I(12), K(31)]))!.algs.integ).toBe(12);
  });

  it('tolerates INTEG NONE next to an AEAD, but not with AES-CBC', () => {
    expect(acceptChosen(sent, prop(2, 1, [E(20, 256), P(5), I(0), K(31)]))!.algs.integ).toBeUndefined();
    expect(acceptChosen(sent, prop(1, 1, [E(12, 128), P(5), I(0), K(14)]))).toBeUndefined();
  });

  it('rejects two ENCR transforms', () => {
    expect(acceptChosen(sent, prop(1, 1, [E(12, 128), E(12, 256), P(5), I(12), K(14)]))).toBeUndefined();
  });

  it('rejects a transform we did not offer (or not under that number, or another key length)', () => {
    expect(acceptChosen(sent, prop(1, 1, [E(12, 192), P(5), I(12), K(14)]))).toBeUndefined();
    expect(acceptChosen(sent, prop(1, 1, [E(12, 128), P(5), I(12), K(19)]))).toBeUndefined();
    expect(acceptChosen(sent, prop(2, 1, [E(12, 128), P(5), I(12), K(14)]))).toBeUndefined();
    expect(acceptChosen(sent, prop(3, 1, [E(20, 256), P(5), K(31)]))).toBeUndefined();
  });

  it('rejects a reply missing a mandatory type', () => {
    expect(acceptChosen(sent, prop(1, 1, [E(12, 128), P(5), K(14)]))).toBeUndefined(); // no INTEG for CBC
    expect(acceptChosen(sent, prop(2, 1, [E(20, 256), K(31)]))).toBeUndefined(); // no PRF
    expect(acceptChosen(sent, prop(2, 1, [E(20, 256), P(5)]))).toBeUndefined(); // no KE
  });

  it('ESP: ESN, PFS, and a dropped PFS group', () => {
    const spi = Uint8Array.of(9, 9, 9, 9);
    const esp = [prop(1, 3, [E(20, 128), K(19), N(1), N(0)], spi)];
    expect(acceptChosen(esp, prop(1, 3, [E(20, 128), K(19), N(1)], spi))!.algs).toEqual({ encr: { id: 20, keyLength: 128 }, dh: 19, esn: true });
    expect(acceptChosen(esp, prop(1, 3, [E(20, 128), N(1)], spi))).toBeUndefined();
    expect(acceptChosen(esp, prop(1, 3, [E(20, 128), K(19), N(1), N(0)], spi))).toBeUndefined();
    const noPfs = [prop(1, 3, [E(20, 128), N(0)], spi)];
    expect(acceptChosen(noPfs, prop(1, 3, [E(20, 128), N(0)], spi))!.algs).toEqual({ encr: { id: 20, keyLength: 128 }, esn: false });
  });
});

describe('helpers', () => {
  const ikeGcm: NegotiatedAlgorithms = { encr: { id: 20, keyLength: 256 }, prf: 5, dh: 14 };
  const ikeCbc: NegotiatedAlgorithms = { encr: { id: 12, keyLength: 128 }, integ: 12, prf: 5, dh: 31 };
  const espChacha: NegotiatedAlgorithms = { encr: { id: 28 }, esn: true };

  it('describeAlgs in strongSwan style', () => {
    expect(describeAlgs(ikeGcm)).toBe('AES_GCM_16_256/PRF_HMAC_SHA2_256/MODP_2048');
    expect(describeAlgs(ikeCbc)).toBe('AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519');
    expect(describeAlgs(espChacha)).toBe('CHACHA20_POLY1305/EXT_SEQ');
    expect(describeAlgs({ encr: { id: 20, keyLength: 128 }, esn: false, dh: 19 })).toBe('AES_GCM_16_128/ECP_256/NO_EXT_SEQ');
  });

  it('algsToWireProposal round-trips through acceptChosen', () => {
    const w = algsToWireProposal(4, 1, new Uint8Array(0), ikeCbc);
    expect(w.transforms).toEqual([E(12, 128), P(5), I(12), K(31)]);
    expect(acceptChosen([w], w)!.algs).toEqual(ikeCbc);
    const e = algsToWireProposal(1, 3, Uint8Array.of(1, 2, 3, 4), espChacha);
    expect(e.transforms).toEqual([E(28), N(1)]);
  });

  it('provider names and KEYMAT lengths', () => {
    expect(aeadName(ikeGcm)).toBe('aes-gcm-16');
    expect(aeadName(espChacha)).toBe('chacha20-poly1305');
    expect(aeadName(ikeCbc)).toBeUndefined();
    expect(integName(ikeCbc)).toBe('hmac-sha256-128');
    expect(integName(ikeGcm)).toBeUndefined();
    expect(prfName(ikeGcm)).toBe('hmac-sha256');
    expect(() => prfName(espChacha)).toThrow(/prf/);
    expect(keymatLengths(ikeGcm)).toEqual({ encrKey: 32, salt: 4, encrKeymat: 36, integKey: 0 });
    expect(keymatLengths(ikeCbc)).toEqual({ encrKey: 16, salt: 0, encrKeymat: 16, integKey: 32 });
    expect(keymatLengths(espChacha)).toEqual({ encrKey: 32, salt: 4, encrKeymat: 36, integKey: 0 });
  });
});
