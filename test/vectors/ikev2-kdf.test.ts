/**
 * The full IKEv2 key schedule (RFC 7296 §2.14, §2.17, §2.18) against the NIST CAVP SP 800-135 IKEv2
 * KDF vector (HMAC-SHA1, via libreswan), and the SHA-256 provider path of deriveIkeKeys /
 * deriveRekeyedIkeKeys / deriveChildKeys against an independent node:crypto computation.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EncrId, IntegId, KeId, PrfId } from '../../src/crypto/algorithms.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { nodeCrypto, nodeCryptoJs } from '../../src/crypto/node.js';
import { prfPlus } from '../../src/crypto/prf-plus.js';
import type { CryptoProvider, Prf } from '../../src/crypto/types.js';
import { deriveChildKeys, deriveIkeKeys, deriveRekeyedIkeKeys } from '../../src/ike/keys.js';
import type { NegotiatedAlgorithms } from '../../src/ike/proposals.js';
import { hex, loadVectors, toHex } from './load.js';

/** nodeCrypto runs the PRF, prf+, hashes and X25519 on libcrypto through koffi (node-native-kdf.ts); nodeCryptoJs is its node:crypto-only fallback. */
const PROVIDERS: ReadonlyArray<readonly [string, CryptoProvider]> = [['node, native KDF', nodeCrypto], ['node:crypto only', nodeCryptoJs], ['noble', nobleCrypto]];

const v = loadVectors('ikev2-kdf-cavp-sha1-libreswan.txt').get('cavp-ikev2-sha1-count0')!;
const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(p));

/** HMAC-SHA1 as a Prf (not in the provider interface; the CAVP vector uses it). */
const hmacSha1: Prf = { outputLength: 20, keyLength: 20, compute: (k, d) => Uint8Array.from(createHmac('sha1', k).update(d).digest()) };

describe('CAVP IKEv2 KDF (HMAC-SHA1) through prfPlus', () => {
  const ni = hex(v.ni!);
  const nr = hex(v.nr!);
  const len = Number(v.dkm_len_bytes);
  const skeyseed = hmacSha1.compute(cat(ni, nr), hex(v.gir!));

  it('SKEYSEED = prf(Ni | Nr, g^ir)', () => {
    expect(toHex(skeyseed)).toBe(v.skeyseed);
  });
  it('DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)', () => {
    expect(toHex(prfPlus(hmacSha1, hex(v.skeyseed!), cat(ni, nr, hex(v.spii!), hex(v.spir!)), len))).toBe(v.dkm);
  });
  const skD = hex(v.dkm!).subarray(0, 20);
  it('child DKM = prf+(SK_d, Ni | Nr)', () => {
    expect(toHex(prfPlus(hmacSha1, skD, cat(ni, nr), len))).toBe(v.dkm_child);
  });
  it('child DKM with PFS = prf+(SK_d, g^ir(new) | Ni | Nr)', () => {
    expect(toHex(prfPlus(hmacSha1, skD, cat(hex(v.gir_new!), ni, nr), len))).toBe(v.dkm_child_dh);
  });
  it('rekey SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr)', () => {
    expect(toHex(hmacSha1.compute(skD, cat(hex(v.gir_new!), ni, nr)))).toBe(v.skeyseed_rekey);
  });
});

// ---- provider path (SHA-256), against an independent computation ----

function hmac(hash: string, key: Uint8Array, data: Uint8Array): Buffer {
  return createHmac(hash, key).update(data).digest();
}

/** Independent prf+ (RFC 7296 §2.13) written out again for the oracle. */
function refPrfPlus(hash: string, key: Uint8Array, seed: Uint8Array, n: number): Buffer {
  const blocks: Buffer[] = [];
  let t: Buffer = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(blocks).length < n; i++) {
    t = hmac(hash, key, Buffer.concat([t, seed, Buffer.from([i])]));
    blocks.push(t);
  }
  return Buffer.concat(blocks).subarray(0, n);
}

const ni = hex(v.ni!);
const nr = hex(v.nr!);
const spiI = hex(v.spii!);
const spiR = hex(v.spir!);
const gir = hex(v.gir!);
const girNew = hex(v.gir_new!);

const cbc: NegotiatedAlgorithms = { encr: { id: EncrId.AES_CBC, keyLength: 256 }, integ: IntegId.HMAC_SHA2_256_128, prf: PrfId.HMAC_SHA2_256, dh: KeId.MODP_2048 };
const gcm: NegotiatedAlgorithms = { encr: { id: EncrId.AES_GCM_16, keyLength: 128 }, prf: PrfId.HMAC_SHA2_384, dh: KeId.ECP_256 };

describe.each(PROVIDERS)('deriveIkeKeys / rekey / child (%s provider)', (_label, provider: CryptoProvider) => {
  it('AES-CBC-256 + HMAC-SHA2-256-128 + PRF-HMAC-SHA2-256: SK_* match the oracle split', () => {
    const { skeyseed, keys } = deriveIkeKeys(provider, cbc, gir, ni, nr, spiI, spiR);
    const ss = hmac('sha256', cat(ni, nr), gir);
    expect(toHex(skeyseed)).toBe(ss.toString('hex'));
    // SK_d 32 | SK_ai 32 | SK_ar 32 | SK_ei 32 | SK_er 32 | SK_pi 32 | SK_pr 32
    const dkm = refPrfPlus('sha256', ss, cat(ni, nr, spiI, spiR), 7 * 32);
    const parts = [0, 1, 2, 3, 4, 5, 6].map((i) => dkm.subarray(i * 32, i * 32 + 32).toString('hex'));
    expect([keys.skD, keys.skAi, keys.skAr, keys.skEi, keys.skEr, keys.skPi, keys.skPr].map(toHex)).toEqual(parts);
  });

  it('AES-GCM-128 + PRF-HMAC-SHA2-384: SK_a empty, SK_e = 16-byte key ‖ 4-byte salt', () => {
    const { keys } = deriveIkeKeys(provider, gcm, gir, ni, nr, spiI, spiR);
    const ss = hmac('sha384', cat(ni, nr), gir);
    const dkm = refPrfPlus('sha384', ss, cat(ni, nr, spiI, spiR), 48 + 20 + 20 + 48 + 48);
    expect(keys.skAi.length).toBe(0);
    expect(keys.skAr.length).toBe(0);
    expect(toHex(keys.skD)).toBe(dkm.subarray(0, 48).toString('hex'));
    expect(toHex(keys.skEi)).toBe(dkm.subarray(48, 68).toString('hex'));
    expect(toHex(keys.skEr)).toBe(dkm.subarray(68, 88).toString('hex'));
    expect(toHex(keys.skPi)).toBe(dkm.subarray(88, 136).toString('hex'));
    expect(toHex(keys.skPr)).toBe(dkm.subarray(136, 184).toString('hex'));
  });

  it('rekey: SKEYSEED with the OLD prf and SK_d, DKM with the NEW prf and new SPIs', () => {
    const oldSkD = hex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
    const newSpiI = hex('0102030405060708');
    const newSpiR = hex('1112131415161718');
    const { skeyseed, keys } = deriveRekeyedIkeKeys(provider, PrfId.HMAC_SHA2_256, oldSkD, gcm, girNew, ni, nr, newSpiI, newSpiR);
    const ss = hmac('sha256', oldSkD, cat(girNew, ni, nr));
    expect(toHex(skeyseed)).toBe(ss.toString('hex'));
    const dkm = refPrfPlus('sha384', ss, cat(ni, nr, newSpiI, newSpiR), 48);
    expect(toHex(keys.skD)).toBe(dkm.toString('hex'));
  });

  it('child keys: encr_i | integ_i | encr_r | integ_r, with and without PFS', () => {
    const skD = hex('a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002');
    const child: NegotiatedAlgorithms = { encr: { id: EncrId.AES_CBC, keyLength: 128 }, integ: IntegId.HMAC_SHA2_512_256, esn: false };
    for (const g of [undefined, girNew]) {
      const k = deriveChildKeys(provider, PrfId.HMAC_SHA2_256, skD, g, ni, nr, child);
      const seed = g ? cat(g, ni, nr) : cat(ni, nr);
      const km = refPrfPlus('sha256', skD, seed, 2 * (16 + 64));
      expect(toHex(k.encrI)).toBe(km.subarray(0, 16).toString('hex'));
      expect(toHex(k.integI)).toBe(km.subarray(16, 80).toString('hex'));
      expect(toHex(k.encrR)).toBe(km.subarray(80, 96).toString('hex'));
      expect(toHex(k.integR)).toBe(km.subarray(96, 160).toString('hex'));
    }
  });
});
