/**
 * prf+ (RFC 7296 §2.13) against the NIST CAVP SP 800-135 IKEv2 vectors (via strongSwan's
 * kdf_prf_plus.c transcription), on both providers, plus the 255-iteration limit.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { nodeCrypto, nodeCryptoJs } from '../../src/crypto/node.js';
import { prfPlus } from '../../src/crypto/prf-plus.js';
import type { CryptoProvider, Prf, PrfName } from '../../src/crypto/types.js';
import { hex, loadVectors, toHex } from './load.js';

/** nodeCrypto runs the PRF, prf+, hashes and X25519 on libcrypto through koffi (node-native-kdf.ts); nodeCryptoJs is its node:crypto-only fallback. */
const PROVIDERS: ReadonlyArray<readonly [string, CryptoProvider]> = [['node, native KDF', nodeCrypto], ['node:crypto only', nodeCryptoJs], ['noble', nobleCrypto]];

const vectors = loadVectors('ikev2-prfplus-cavp-sp800-135.txt');
const PRF_OF: Record<string, PrfName> = { 'HMAC-SHA2-256': 'hmac-sha256', 'HMAC-SHA2-384': 'hmac-sha384', 'HMAC-SHA2-512': 'hmac-sha512' };

describe.each(PROVIDERS)('prf+ CAVP SP 800-135 (%s provider)', (_label, provider: CryptoProvider) => {
  it('has vectors', () => {
    expect(vectors.size).toBeGreaterThanOrEqual(6);
  });
  for (const [name, v] of vectors) {
    it(name, () => {
      const prf = provider.prf(PRF_OF[v.prf!]!);
      const want = hex(v.out!);
      expect(toHex(prfPlus(prf, hex(v.key!), hex(v.seed!), want.length))).toBe(toHex(want));
      // a shorter request is a prefix of the stream
      expect(toHex(prfPlus(prf, hex(v.key!), hex(v.seed!), 5))).toBe(toHex(want.subarray(0, 5)));
    });
  }
});

describe('prf+ limits', () => {
  const sha1: Prf = {
    outputLength: 20,
    keyLength: 20,
    compute: (k, d) => Uint8Array.from(createHmac('sha1', k).update(d).digest()),
  };
  it('allows exactly 255 iterations and throws beyond', () => {
    expect(prfPlus(sha1, new Uint8Array(4), new Uint8Array(1), 255 * 20).length).toBe(5100);
    expect(() => prfPlus(sha1, new Uint8Array(4), new Uint8Array(1), 255 * 20 + 1)).toThrow(/255/);
  });
  it('returns an empty array for length 0 and rejects negative lengths', () => {
    expect(prfPlus(sha1, new Uint8Array(4), new Uint8Array(1), 0).length).toBe(0);
    expect(() => prfPlus(sha1, new Uint8Array(4), new Uint8Array(1), -1)).toThrow(/length/);
  });
});
