/**
 * Property: the node (OpenSSL) and noble (pure JS) providers compute identical AEAD, CBC, MAC and PRF
 * outputs for random inputs, round-trip, and reject any single flipped bit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../../src/crypto/noble.js';
import { nodeCrypto, nodeCryptoJs } from '../../../src/crypto/node.js';
import { loadNativeAead, nativeAeadLoadError } from '../../../src/crypto/node-native-aead.js';
import { loadNativeKdf, nativeKdfLoadError } from '../../../src/crypto/node-native-kdf.js';
import { prfPlus } from '../../../src/crypto/prf-plus.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import { withEvpAead } from '../../../src/crypto/node-evp.js';
import type { AeadName, IntegName, PrfName } from '../../../src/crypto/types.js';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const RUNS = { numRuns: 60 };

const aeadArb = fc.oneof(
  fc.record({ name: fc.constant<AeadName>('aes-gcm-16'), key: fc.oneof(bytes(16, 16), bytes(24, 24), bytes(32, 32)) }),
  fc.record({ name: fc.constant<AeadName>('chacha20-poly1305'), key: bytes(32, 32) }),
);

const evpCrypto = withEvpAead(nodeCrypto);

describe('the OpenSSL EVP AEAD (node-evp.ts) agrees with noble', () => {
  it('one keyed context seals and opens many packets (nonce, aad, length change per packet) exactly like noble', () => {
    const packet = fc.record({ nonce: bytes(12, 12), aad: bytes(0, 12), pt: bytes(0, 1500), flip: fc.nat() });
    fc.assert(
      fc.property(aeadArb, fc.array(packet, { minLength: 1, maxLength: 8 }), (a, packets) => {
        const e = evpCrypto.aead(a.name, a.key);
        const b = nobleCrypto.aead(a.name, a.key);
        expect(e).not.toBe(b);
        for (const { nonce, aad, pt, flip } of packets) {
          const ct1 = new Uint8Array(pt.length);
          const tag1 = new Uint8Array(16);
          e.seal(nonce, aad, pt, ct1, tag1);
          const ct2 = new Uint8Array(pt.length);
          const tag2 = new Uint8Array(16);
          b.seal(nonce, aad, pt, ct2, tag2);
          expect(hexOf(ct1) + hexOf(tag1)).toBe(hexOf(ct2) + hexOf(tag2));
          // in place, as espOpen does it
          const buf = new Uint8Array(pt.length + 16);
          buf.set(ct2);
          buf.set(tag2, pt.length);
          expect(e.open(nonce, aad, buf.subarray(0, pt.length), buf.subarray(pt.length), buf.subarray(0, pt.length))).toBe(true);
          expect(hexOf(buf.subarray(0, pt.length))).toBe(hexOf(pt));
          const tag3 = tag2.slice();
          tag3[flip % 16] = tag3[flip % 16]! ^ (1 << (flip % 8));
          expect(e.open(nonce, aad, ct2, tag3, new Uint8Array(pt.length))).toBe(false);
          // a failed open leaves the context usable
          expect(e.open(nonce, aad, ct2, tag2, new Uint8Array(pt.length))).toBe(true);
        }
        e.dispose?.();
        expect(e.open(packets[0]!.nonce, packets[0]!.aad, new Uint8Array(0), new Uint8Array(16), new Uint8Array(0))).toBe(false);
        expect(() => e.seal(packets[0]!.nonce, packets[0]!.aad, new Uint8Array(0), new Uint8Array(0), new Uint8Array(16))).toThrow(/dispose/);
      }),
      RUNS,
    );
  });
});

describe('node and noble providers agree', () => {
  it('AEAD seal is identical, open(seal(x)) = x, and a flipped bit in ct/tag/aad fails', () => {
    fc.assert(
      fc.property(aeadArb, bytes(12, 12), bytes(0, 64), bytes(0, 2000), fc.nat(), (a, nonce, aad, pt, bitSeed) => {
        const n = nodeCrypto.aead(a.name, a.key);
        const b = nobleCrypto.aead(a.name, a.key);
        const ct1 = new Uint8Array(pt.length);
        const tag1 = new Uint8Array(16);
        n.seal(nonce, aad, pt, ct1, tag1);
        const ct2 = new Uint8Array(pt.length);
        const tag2 = new Uint8Array(16);
        b.seal(nonce, aad, pt, ct2, tag2);
        expect(hexOf(ct1)).toBe(hexOf(ct2));
        expect(hexOf(tag1)).toBe(hexOf(tag2));
        for (const prov of [n, b]) {
          const out = new Uint8Array(pt.length);
          expect(prov.open(nonce, aad, ct1, tag1, out)).toBe(true);
          expect(hexOf(out)).toBe(hexOf(pt));
          // flip one bit somewhere in aad ‖ ct ‖ tag
          const total = aad.length + ct1.length + 16;
          const pos = bitSeed % (total * 8);
          const byte = pos >> 3;
          const mask = 1 << (pos & 7);
          const aad2 = aad.slice();
          const ct3 = ct1.slice();
          const tag3 = tag1.slice();
          if (byte < aad.length) aad2[byte] = aad2[byte]! ^ mask;
          else if (byte < aad.length + ct1.length) ct3[byte - aad.length] = ct3[byte - aad.length]! ^ mask;
          else tag3[byte - aad.length - ct1.length] = tag3[byte - aad.length - ct1.length]! ^ mask;
          expect(prov.open(nonce, aad2, ct3, tag3, out)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('AES-CBC encrypt is identical and decrypt round-trips', () => {
    fc.assert(
      fc.property(fc.oneof(bytes(16, 16), bytes(24, 24), bytes(32, 32)), bytes(16, 16), fc.integer({ min: 0, max: 125 }), fc.nat(), (key, iv, blocks, seed) => {
        const pt = new Uint8Array(blocks * 16);
        for (let i = 0; i < pt.length; i++) pt[i] = (seed + i * 131) & 0xff;
        const c1 = new Uint8Array(pt.length);
        const c2 = new Uint8Array(pt.length);
        nodeCrypto.cbc(key).encrypt(iv, pt, c1);
        nobleCrypto.cbc(key).encrypt(iv, pt, c2);
        expect(hexOf(c1)).toBe(hexOf(c2));
        for (const p of [nodeCrypto, nobleCrypto]) {
          const back = c1.slice();
          expect(p.cbc(key).decrypt(iv, back, back)).toBe(true);
          expect(hexOf(back)).toBe(hexOf(pt));
        }
      }),
      RUNS,
    );
  });

  const integs: Array<[IntegName, number]> = [
    ['hmac-sha256-128', 32],
    ['hmac-sha384-192', 48],
    ['hmac-sha512-256', 64],
  ];
  it.each(integs)('%s MAC is identical and verify rejects a flipped bit', (name, keyLength) => {
    fc.assert(
      fc.property(bytes(keyLength, keyLength), fc.array(bytes(0, 700), { maxLength: 4 }), fc.nat(), (key, parts, bitSeed) => {
        const m1 = nodeCrypto.mac(name, key);
        const m2 = nobleCrypto.mac(name, key);
        const o1 = new Uint8Array(m1.icvLength);
        const o2 = new Uint8Array(m2.icvLength);
        m1.compute(parts, o1);
        m2.compute(parts, o2);
        expect(hexOf(o1)).toBe(hexOf(o2));
        for (const m of [m1, m2]) {
          expect(m.verify(parts, o1)).toBe(true);
          const bad = o1.slice();
          const pos = bitSeed % (bad.length * 8);
          bad[pos >> 3] = bad[pos >> 3]! ^ (1 << (pos & 7));
          expect(m.verify(parts, bad)).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it.each<PrfName>(['hmac-sha256', 'hmac-sha384', 'hmac-sha512'])('%s PRF is identical for any key length', (name) => {
    fc.assert(
      fc.property(bytes(0, 200), bytes(0, 2000), (key, data) => {
        const a = nodeCrypto.prf(name).compute(key, data);
        const b = nobleCrypto.prf(name).compute(key, data);
        expect(a.length).toBe(nodeCrypto.prf(name).outputLength);
        expect(hexOf(a)).toBe(hexOf(b));
      }),
      RUNS,
    );
  });

  it.each(['sha1', 'sha256', 'sha384', 'sha512'] as const)('%s hash is identical', (name) => {
    fc.assert(
      fc.property(bytes(0, 2000), (data) => {
        expect(hexOf(nodeCrypto.hash(name, data))).toBe(hexOf(nobleCrypto.hash(name, data)));
      }),
      RUNS,
    );
  });
});

describe('the libcrypto KDF path (node-native-kdf.ts) agrees with noble and with node:crypto alone', () => {
  const native = loadNativeKdf();

  it('loads on this machine (else nodeCrypto silently falls back to node:crypto)', () => {
    expect(nativeKdfLoadError()).toBeUndefined();
    expect(native).toBeDefined();
    expect(native!.version).toMatch(/^OpenSSL 3\./);
    // nodeCrypto really serves these from libcrypto: the fast prf+ path is there, node:crypto's is not
    expect(nodeCrypto.prf('hmac-sha256').plus).toBeTypeOf('function');
    expect(nodeCryptoJs.prf('hmac-sha256').plus).toBeUndefined();
    expect(nodeCrypto.dhGroup(31)).toBe(native!.x25519);
  });

  it.each<PrfName>(['hmac-sha256', 'hmac-sha384', 'hmac-sha512'])('%s prf and prf+ (one keyed context, any length up to 255 blocks) match noble and node:crypto', (name) => {
    const out = nodeCrypto.prf(name).outputLength;
    fc.assert(
      fc.property(bytes(0, 200), bytes(0, 300), fc.integer({ min: 0, max: 255 * out }), bytes(0, 150), (key, seed, length, data) => {
        const n = nodeCrypto.prf(name);
        const want = prfPlus(nobleCrypto.prf(name), key, seed, length);
        expect(hexOf(prfPlus(n, key, seed, length))).toBe(hexOf(want));
        expect(hexOf(prfPlus(nodeCryptoJs.prf(name), key, seed, length))).toBe(hexOf(want));
        // the shared HMAC_CTX is re-keyed by each call: interleave with another key
        expect(hexOf(n.compute(data, seed))).toBe(hexOf(nobleCrypto.prf(name).compute(data, seed)));
        // views with an offset (subarray) are read from their offset
        const padded = new Uint8Array(key.length + 7);
        padded.set(key, 7);
        expect(hexOf(n.compute(padded.subarray(7), data))).toBe(hexOf(nobleCrypto.prf(name).compute(key, data)));
      }),
      { numRuns: 40 },
    );
  });

  it('X25519: same key pairs as noble from the same RandomSource, same secrets both ways, a second computeSecret on one pair still works', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (sa, sb) => {
        const gn = nodeCrypto.dhGroup(31)!;
        const gb = nobleCrypto.dhGroup(31)!;
        const a = gn.generate(seededRandom(sa));
        expect(hexOf(a.publicKey)).toBe(hexOf(gb.generate(seededRandom(sa)).publicKey));
        const b = gb.generate(seededRandom(sb + 0.5));
        const s1 = gn.computeSecret(a, b.publicKey);
        expect(s1).not.toBeNull();
        expect(hexOf(s1!)).toBe(hexOf(gb.computeSecret(b, a.publicKey)!));
        expect(hexOf(gn.computeSecret(a, b.publicKey)!)).toBe(hexOf(s1!)); // own key imported again from its bytes
        expect(hexOf(nodeCryptoJs.dhGroup(31)!.computeSecret(a, b.publicKey)!)).toBe(hexOf(s1!));
      }),
      { numRuns: 30 },
    );
  });

  it('X25519: low-order peer values (all-zero shared secret, RFC 7748 §6.1) and wrong lengths give null', () => {
    const g = nodeCrypto.dhGroup(31)!;
    const pair = g.generate(seededRandom(7));
    expect(g.computeSecret(pair, new Uint8Array(32))).toBeNull(); // u = 0
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(g.computeSecret(pair, one)).toBeNull(); // u = 1
    expect(g.computeSecret(pair, new Uint8Array(31))).toBeNull();
    expect(g.computeSecret(g.generate(seededRandom(8)), new Uint8Array(33))).toBeNull();
  });
});

describe('AEADs keyed per call on one shared EVP context per algorithm (node-native-aead.ts)', () => {
  it('loads on this machine', () => {
    expect(loadNativeAead()).toBeDefined();
    expect(nativeAeadLoadError()).toBeUndefined();
  });

  it('many ciphers with different keys and algorithms, used interleaved (seal and open), agree with noble and node:crypto', () => {
    const op = fc.record({ which: fc.nat(), nonce: bytes(12, 12), aad: bytes(0, 40), pt: bytes(0, 600), flip: fc.nat() });
    fc.assert(
      fc.property(fc.array(aeadArb, { minLength: 1, maxLength: 5 }), fc.array(op, { minLength: 1, maxLength: 12 }), (keys, ops) => {
        const ciphers = keys.map((k) => ({ n: nodeCrypto.aead(k.name, k.key), j: nodeCryptoJs.aead(k.name, k.key), b: nobleCrypto.aead(k.name, k.key) }));
        for (const { which, nonce, aad, pt, flip } of ops) {
          const c = ciphers[which % ciphers.length]!;
          const ct = new Uint8Array(pt.length);
          const tag = new Uint8Array(16);
          c.n.seal(nonce, aad, pt, ct, tag);
          const ct2 = new Uint8Array(pt.length);
          const tag2 = new Uint8Array(16);
          c.b.seal(nonce, aad, pt, ct2, tag2);
          expect(hexOf(ct) + hexOf(tag)).toBe(hexOf(ct2) + hexOf(tag2));
          const out = new Uint8Array(pt.length);
          expect(c.j.open(nonce, aad, ct, tag, out)).toBe(true);
          // in place, tag right behind the ciphertext (as espOpen and SkCipher.open use it)
          const buf = new Uint8Array(pt.length + 16);
          buf.set(ct);
          buf.set(tag, pt.length);
          expect(c.n.open(nonce, aad, buf.subarray(0, pt.length), buf.subarray(pt.length), buf.subarray(0, pt.length))).toBe(true);
          expect(hexOf(buf.subarray(0, pt.length))).toBe(hexOf(pt));
          const bad = tag.slice();
          bad[flip % 16] = bad[flip % 16]! ^ (1 << (flip % 8));
          expect(c.n.open(nonce, aad, ct, bad, new Uint8Array(pt.length))).toBe(false);
        }
        const first = ciphers[0]!.n;
        first.dispose?.();
        expect(first.open(new Uint8Array(12), new Uint8Array(0), new Uint8Array(0), new Uint8Array(16), new Uint8Array(0))).toBe(false);
        expect(() => first.seal(new Uint8Array(12), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(16))).toThrow(/dispose/);
      }),
      { numRuns: 40 },
    );
  });
});

describe('both libcrypto AEAD bindings refuse a key of the wrong length, naming it', () => {
  it('aes-gcm-16 takes 16/24/32 bytes, chacha20-poly1305 32, and nothing else', () => {
    const native = loadNativeAead();
    expect(native, nativeAeadLoadError()).toBeDefined();
    const evp = withEvpAead(nodeCrypto);
    for (const make of [native!, (n: AeadName, k: Uint8Array) => evp.aead(n, k)]) {
      for (const n of [16, 24, 32]) expect(() => make('aes-gcm-16', new Uint8Array(n))).not.toThrow();
      expect(() => make('aes-gcm-16', new Uint8Array(20))).toThrow(/aes-gcm-16 key must be 16\/24\/32 bytes, got 20/);
      expect(() => make('chacha20-poly1305', new Uint8Array(16))).toThrow(/chacha20-poly1305 key must be 32 bytes, got 16/);
      expect(() => make('rot13' as AeadName, new Uint8Array(32))).toThrow(/unknown aead name: rot13/);
    }
  });
});
