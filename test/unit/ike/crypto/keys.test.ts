/**
 * Key schedule shapes (RFC 7296 §2.13-§2.17): SK codec keys per direction, AEAD key ‖ salt split,
 * child KEYMAT order for AEAD, and programmer errors.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../../src/crypto/node.js';
import { deriveChildKeys, deriveIkeKeys, ikeKeymatLength, skKeysFor } from '../../../../src/ike/keys.js';
import type { NegotiatedAlgorithms } from '../../../../src/ike/proposals.js';

const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

const chachaIke: NegotiatedAlgorithms = { encr: { id: 28 }, prf: 7, dh: 31 };
const cbcIke: NegotiatedAlgorithms = { encr: { id: 12, keyLength: 192 }, integ: 13, prf: 6, dh: 20 };

describe.each([nodeCrypto, nobleCrypto])('keys ($name provider)', (provider) => {
  const gir = fill(32, 7);
  const ni = fill(32, 1);
  const nr = fill(32, 2);
  const spiI = fill(8, 3);
  const spiR = fill(8, 4);

  it('ikeKeymatLength sums SK_d, SK_a*, SK_e*, SK_p*', () => {
    expect(ikeKeymatLength(chachaIke)).toBe(64 + 0 + 2 * 36 + 2 * 64);
    expect(ikeKeymatLength(cbcIke)).toBe(48 + 2 * 48 + 2 * 24 + 2 * 48);
  });

  it('skKeysFor: AEAD direction i uses SK_ei (key ‖ salt), r uses SK_er', () => {
    const { keys } = deriveIkeKeys(provider, chachaIke, gir, ni, nr, spiI, spiR);
    const i = skKeysFor(chachaIke, keys, 'i');
    const r = skKeysFor(chachaIke, keys, 'r');
    if (i.kind !== 'aead' || r.kind !== 'aead') throw new Error('expected aead');
    expect(i.aead).toBe('chacha20-poly1305');
    expect(hx(i.key)).toBe(hx(keys.skEi.subarray(0, 32)));
    expect(hx(i.salt)).toBe(hx(keys.skEi.subarray(32, 36)));
    expect(hx(r.key)).toBe(hx(keys.skEr.subarray(0, 32)));
    expect(hx(i.key)).not.toBe(hx(r.key));
  });

  it('skKeysFor: CBC carries the integrity name and SK_a of that direction', () => {
    const { keys } = deriveIkeKeys(provider, cbcIke, gir, ni, nr, spiI, spiR);
    const r = skKeysFor(cbcIke, keys, 'r');
    if (r.kind !== 'cbc') throw new Error('expected cbc');
    expect(r.key.length).toBe(24);
    expect(r.integ).toBe('hmac-sha384-192');
    expect(hx(r.integKey)).toBe(hx(keys.skAr));
    expect(hx(r.key)).toBe(hx(keys.skEr));
  });

  it('child AEAD KEYMAT: encr_i (key ‖ salt) then encr_r, no integrity keys', () => {
    const skD = fill(64, 9);
    const k = deriveChildKeys(provider, 7, skD, undefined, ni, nr, { encr: { id: 20, keyLength: 256 }, esn: false });
    let stream = Buffer.alloc(0);
    let t = Buffer.alloc(0);
    for (let c = 1; stream.length < 72; c++) {
      t = createHmac('sha512', skD).update(Buffer.concat([t, ni, nr, Buffer.from([c])])).digest();
      stream = Buffer.concat([stream, t]);
    }
    expect(hx(k.encrI)).toBe(stream.subarray(0, 36).toString('hex'));
    expect(hx(k.encrR)).toBe(stream.subarray(36, 72).toString('hex'));
    expect(k.integI.length).toBe(0);
    expect(k.integR.length).toBe(0);
  });

  it('throws on SPIs that are not 8 bytes and on a missing PRF', () => {
    expect(() => deriveIkeKeys(provider, chachaIke, gir, ni, nr, fill(4, 0), spiR)).toThrow(/spiI/);
    expect(() => deriveIkeKeys(provider, { encr: { id: 28 }, dh: 31 }, gir, ni, nr, spiI, spiR)).toThrow(/prf/);
  });
});
