/**
 * HMAC-SHA2 on both providers: the IKEv2 PRF (full output, RFC 4868 §2.1.2) against RFC 4231 test
 * cases 1-7, and the truncated integrity MAC (RFC 4868 §2.3) against RFC 4868 §2.7.2 test case 1.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { nodeCrypto, nodeCryptoJs } from '../../src/crypto/node.js';
import type { CryptoProvider, IntegName, PrfName } from '../../src/crypto/types.js';
import { hex, loadVectors, toHex } from './load.js';

/** nodeCrypto runs the PRF, prf+, hashes and X25519 on libcrypto through koffi (node-native-kdf.ts); nodeCryptoJs is its node:crypto-only fallback. */
const PROVIDERS: ReadonlyArray<readonly [string, CryptoProvider]> = [['node, native KDF', nodeCrypto], ['node:crypto only', nodeCryptoJs], ['noble', nobleCrypto]];

const rfc4231 = [...loadVectors('hmac-sha2-rfc4231.txt')];
const prfs: Array<[PrfName, 'hmac_sha256' | 'hmac_sha384' | 'hmac_sha512', number]> = [
  ['hmac-sha256', 'hmac_sha256', 32],
  ['hmac-sha384', 'hmac_sha384', 48],
  ['hmac-sha512', 'hmac_sha512', 64],
];

// RFC 4868 §2.7.2.1-2.7.2.3 test case 1: key = 0x0b × (32|48|64), data = "Hi There"; the values were also
// recomputed with node:crypto HMAC (see the last test).
const rfc4868: Array<{ integ: IntegName; keyLength: number; full: string; icvLength: number }> = [
  {
    integ: 'hmac-sha256-128',
    keyLength: 32,
    icvLength: 16,
    full: '198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7',
  },
  {
    integ: 'hmac-sha384-192',
    keyLength: 48,
    icvLength: 24,
    full: 'b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc4c5df61d5b3297b4fb68dab9f1b582c2',
  },
  {
    integ: 'hmac-sha512-256',
    keyLength: 64,
    icvLength: 32,
    full:
      '637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8' +
      'ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b',
  },
];
const HI_THERE = new TextEncoder().encode('Hi There');

describe.each(PROVIDERS)('HMAC vectors (%s provider)', (_label, p: CryptoProvider) => {
  it('has all RFC 4231 cases', () => {
    expect(rfc4231.length).toBe(7);
  });

  for (const [prfName, field, outLen] of prfs) {
    it.each(rfc4231)(`${prfName} PRF: RFC 4231 %s`, (_name, v) => {
      const prf = p.prf(prfName);
      expect(prf.outputLength).toBe(outLen);
      expect(prf.keyLength).toBe(outLen);
      const out = prf.compute(hex(v.key!), hex(v.data!));
      expect(out.length).toBe(outLen);
      const expected = v[field]!.replace(/\s+/g, '');
      if (v.truncate_bytes) expect(toHex(out.subarray(0, Number(v.truncate_bytes)))).toBe(expected);
      else expect(toHex(out)).toBe(expected);
    });
  }

  it.each(rfc4868)('$integ MAC: RFC 4868 test case 1, multi-part input, verify', (c) => {
    const m = p.mac(c.integ, new Uint8Array(c.keyLength).fill(0x0b));
    expect(m.icvLength).toBe(c.icvLength);
    const out = new Uint8Array(c.icvLength + 4).fill(0xee);
    m.compute([HI_THERE], out);
    const want = c.full.slice(0, c.icvLength * 2);
    expect(toHex(out.subarray(0, c.icvLength))).toBe(want);
    expect(toHex(out.subarray(c.icvLength))).toBe('eeeeeeee'); // writes only icvLength bytes
    const split = new Uint8Array(c.icvLength);
    m.compute([HI_THERE.subarray(0, 3), new Uint8Array(0), HI_THERE.subarray(3)], split);
    expect(toHex(split)).toBe(want);
    expect(m.verify([HI_THERE], hex(want))).toBe(true);
    const bad = hex(want);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x80;
    expect(m.verify([HI_THERE], bad)).toBe(false);
    expect(m.verify([HI_THERE.subarray(1)], hex(want))).toBe(false);
    expect(m.verify([HI_THERE], hex(want).subarray(0, 8))).toBe(false); // wrong ICV length: false, no throw
  });

  it('rejects integrity keys of the wrong length', () => {
    expect(() => p.mac('hmac-sha256-128', new Uint8Array(20))).toThrow(/key/);
  });

  it('hash: SHA-1/SHA-2 of "abc" (FIPS 180 examples)', () => {
    const abc = new TextEncoder().encode('abc');
    expect(toHex(p.hash('sha1', abc))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(toHex(p.hash('sha256', abc))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(p.hash('sha384', abc)).slice(0, 32)).toBe('cb00753f45a35e8bb5a03d699ac65007');
    expect(toHex(p.hash('sha512', abc)).slice(0, 32)).toBe('ddaf35a193617abacc417349ae204131');
  });
});

describe('RFC 4868 constants above', () => {
  it.each(rfc4868)('$integ full HMAC matches node:crypto', (c) => {
    const h = c.integ.startsWith('hmac-sha256') ? 'sha256' : c.integ.startsWith('hmac-sha384') ? 'sha384' : 'sha512';
    expect(createHmac(h, Buffer.alloc(c.keyLength, 0x0b)).update(HI_THERE).digest('hex')).toBe(c.full);
  });
});
