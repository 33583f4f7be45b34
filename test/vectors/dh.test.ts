/**
 * Key exchange on both providers: ECP groups 19/20/21 (RFC 5903 §8, incl. the KE payload data),
 * X25519 / group 31 (RFC 7748 §5.2, §6.1; RFC 8031), MODP-2048 / group 14 (RFC 3526) agreement with
 * node:crypto's own modp14, and rejection of invalid peer values.
 */
import { createECDH, getDiffieHellman } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { ECP_PARAMS, MODP_2048_PRIME_HEX } from '../../src/crypto/dh-params.js';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { nodeCrypto, nodeCryptoJs } from '../../src/crypto/node.js';
import { seededRandom } from '../../src/crypto/seeded-random.js';
import type { CryptoProvider, DhGroup, DhKeyPair, RandomSource } from '../../src/crypto/types.js';
import { hex, loadVectors, toHex } from './load.js';

/** nodeCrypto runs the PRF, prf+, hashes and X25519 on libcrypto through koffi (node-native-kdf.ts); nodeCryptoJs is its node:crypto-only fallback. */
const PROVIDERS: ReadonlyArray<readonly [string, CryptoProvider]> = [['node, native KDF', nodeCrypto], ['node:crypto only', nodeCryptoJs], ['noble', nobleCrypto]];

/** A RandomSource that hands out exactly `bytes`, then fails. */
function fixedRandom(bytes: Uint8Array): RandomSource {
  let used = false;
  return {
    fill(out: Uint8Array): Uint8Array {
      if (used || out.length !== bytes.length) throw new Error(`fixedRandom: asked for ${out.length}, have ${bytes.length}`);
      used = true;
      out.set(bytes);
      return out;
    },
  };
}

function group(p: CryptoProvider, id: number): DhGroup {
  const g = p.dhGroup(id);
  if (!g) throw new Error(`group ${id} missing`);
  return g;
}

const ecp = loadVectors('ecp-groups-rfc5903.txt');
const ecpCases: Array<{ id: number; section: string; publicLength: number }> = [
  { id: 19, section: 'group-19-ecp256', publicLength: 64 },
  { id: 20, section: 'group-20-ecp384', publicLength: 96 },
  { id: 21, section: 'group-21-ecp521', publicLength: 132 },
];
const x = loadVectors('x25519-rfc7748-rfc8031.txt');
const MODP_P = BigInt('0x' + MODP_2048_PRIME_HEX);

function modpBytes(v: bigint): Uint8Array {
  return hex(v.toString(16).padStart(512, '0'));
}

describe('group parameters', () => {
  it('MODP-2048 prime is node:crypto modp14 (RFC 3526 §3)', () => {
    expect(getDiffieHellman('modp14').getPrime('hex')).toBe(MODP_2048_PRIME_HEX);
  });
  it('ECP orders match @noble/curves', () => {
    expect(BigInt('0x' + ECP_PARAMS.get(19)!.orderHex)).toBe(p256.Point.CURVE().n);
    expect(BigInt('0x' + ECP_PARAMS.get(20)!.orderHex)).toBe(p384.Point.CURVE().n);
    expect(BigInt('0x' + ECP_PARAMS.get(21)!.orderHex)).toBe(p521.Point.CURVE().n);
  });
});

describe.each(PROVIDERS)('DH vectors (%s provider)', (_label, p: CryptoProvider) => {
  it('reports undefined for unsupported groups', () => {
    expect(p.dhGroup(2)).toBeUndefined();
    expect(p.dhGroup(32)).toBeUndefined();
  });

  it.each(ecpCases)('group $id: RFC 5903 §8 KE data and shared x', (c) => {
    const v = ecp.get(c.section)!;
    const g = group(p, c.id);
    expect(g.id).toBe(c.id);
    expect(g.publicLength).toBe(c.publicLength);
    const pi = g.generate(fixedRandom(hex(v.i!)));
    const pr = g.generate(fixedRandom(hex(v.r!)));
    // KE payload = 4-byte generic header ‖ group(2) ‖ reserved(2) ‖ data
    expect(toHex(pi.publicKey)).toBe(toHex(hex(v.kei!).subarray(8)));
    expect(toHex(pr.publicKey)).toBe(toHex(hex(v.ker!).subarray(8)));
    expect(toHex(pi.publicKey)).toBe(toHex(hex(v.gix! + v.giy!)));
    const si = g.computeSecret(pi, pr.publicKey);
    const sr = g.computeSecret(pr, pi.publicKey);
    expect(si && toHex(si)).toBe(toHex(hex(v.girx!)));
    expect(sr && toHex(sr)).toBe(toHex(hex(v.girx!)));
  });

  it.each(ecpCases)('group $id: invalid peer points give null', (c) => {
    const v = ecp.get(c.section)!;
    const g = group(p, c.id);
    const pi = g.generate(fixedRandom(hex(v.i!)));
    const gr = hex(v.grx! + v.gry!);
    const offCurve = gr.slice();
    offCurve[offCurve.length - 1] = offCurve[offCurve.length - 1]! ^ 1;
    expect(g.computeSecret(pi, offCurve)).toBeNull();
    expect(g.computeSecret(pi, new Uint8Array(c.publicLength))).toBeNull();
    expect(g.computeSecret(pi, new Uint8Array(c.publicLength).fill(0xff))).toBeNull();
    expect(g.computeSecret(pi, gr.subarray(1))).toBeNull();
    expect(g.computeSecret(pi, new Uint8Array(0))).toBeNull();
    const withPrefix = new Uint8Array(c.publicLength + 1);
    withPrefix[0] = 4;
    withPrefix.set(gr, 1);
    expect(g.computeSecret(pi, withPrefix)).toBeNull(); // the SEC1 0x04 prefix is not KE data
  });

  it.each(ecpCases)('group $id: agrees with node:crypto ECDH in the test', (c) => {
    const g = group(p, c.id);
    const pair = g.generate(seededRandom(c.id));
    const peer = createECDH(ECP_PARAMS.get(c.id)!.opensslName);
    peer.generateKeys();
    const peerKe = peer.getPublicKey().subarray(1);
    const expected = peer.computeSecret(Buffer.concat([Buffer.from([4]), pair.publicKey]));
    const got = g.computeSecret(pair, peerKe);
    expect(got && toHex(got)).toBe(expected.toString('hex').padStart(c.publicLength, '0'));
  });

  it.each(['rfc7748-6.1-dh', 'rfc8031-dh'])('group 31: %s', (section) => {
    const v = x.get(section)!;
    const g = group(p, 31);
    expect(g.publicLength).toBe(32);
    const a = g.generate(fixedRandom(hex(v.alice_priv!)));
    const b = g.generate(fixedRandom(hex(v.bob_priv!)));
    expect(toHex(a.publicKey)).toBe(toHex(hex(v.alice_pub!)));
    expect(toHex(b.publicKey)).toBe(toHex(hex(v.bob_pub!)));
    const sa = g.computeSecret(a, b.publicKey);
    const sb = g.computeSecret(b, a.publicKey);
    expect(sa && toHex(sa)).toBe(toHex(hex(v.shared!)));
    expect(sb && toHex(sb)).toBe(toHex(hex(v.shared!)));
  });

  it.each(['rfc7748-5.2-vector-1', 'rfc7748-5.2-vector-2'])('group 31: X25519 scalar mult %s', (section) => {
    const v = x.get(section)!;
    const g = group(p, 31);
    const pair: DhKeyPair = { publicKey: new Uint8Array(32), privateKey: hex(v.scalar!) };
    const out = g.computeSecret(pair, hex(v.u!));
    expect(out && toHex(out)).toBe(toHex(hex(v.out!)));
  });

  it('group 31: RFC 7748 §5.2 iterated (1 and 1000 iterations)', () => {
    const v = x.get('rfc7748-5.2-iterated')!;
    const g = group(p, 31);
    let k: Uint8Array = new Uint8Array(32);
    k[0] = 9;
    let u: Uint8Array = k.slice();
    for (let i = 1; i <= 1000; i++) {
      const r = g.computeSecret({ publicKey: u, privateKey: k }, u);
      if (!r) throw new Error(`null at iteration ${i}`);
      u = k;
      k = r;
      if (i === 1) expect(toHex(k)).toBe(toHex(hex(v.after_1!)));
    }
    expect(toHex(k)).toBe(toHex(hex(v.after_1000!)));
  });

  it('group 31: low-order peer values (all-zero output) and bad lengths give null', () => {
    const g = group(p, 31);
    const a = g.generate(seededRandom(31));
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(g.computeSecret(a, new Uint8Array(32))).toBeNull();
    expect(g.computeSecret(a, one)).toBeNull();
    // RFC 7748 §6.1 order-8 point e0eb7a7c...
    expect(g.computeSecret(a, hex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'))).toBeNull();
    expect(g.computeSecret(a, new Uint8Array(31).fill(9))).toBeNull();
  });

  it('group 14: agrees with node:crypto modp14 in the test, both directions', () => {
    const g = group(p, 14);
    expect(g.publicLength).toBe(256);
    const pair = g.generate(seededRandom(14));
    expect(pair.publicKey.length).toBe(256);
    const peer = getDiffieHellman('modp14');
    peer.generateKeys();
    const expected = peer.computeSecret(Buffer.from(pair.publicKey)).toString('hex').padStart(512, '0');
    const got = g.computeSecret(pair, modpBytes(BigInt('0x' + peer.getPublicKey('hex'))));
    expect(got && toHex(got)).toBe(expected);
  });

  it('group 14: rejects 0, 1, p-1, p, >p and wrong lengths', () => {
    const g = group(p, 14);
    const pair = g.generate(seededRandom(140));
    for (const bad of [0n, 1n, MODP_P - 1n, MODP_P, MODP_P + 5n]) {
      const b = bad >= 1n << 2048n ? new Uint8Array(256).fill(0xff) : modpBytes(bad);
      expect(g.computeSecret(pair, b)).toBeNull();
    }
    expect(g.computeSecret(pair, modpBytes(2n).subarray(1))).toBeNull();
    expect(g.computeSecret(pair, new Uint8Array(257))).toBeNull();
  });
});

describe('providers agree on key pairs and secrets from the same RandomSource', () => {
  it.each([14, 19, 20, 21, 31])('group %i', (id) => {
    const gn = group(nodeCrypto, id);
    const gb = group(nobleCrypto, id);
    const a1 = gn.generate(seededRandom(`a${id}`.length * 1000 + id));
    const a2 = gb.generate(seededRandom(`a${id}`.length * 1000 + id));
    expect(toHex(a1.publicKey)).toBe(toHex(a2.publicKey));
    const b = gb.generate(seededRandom(id + 0.5));
    const s1 = gn.computeSecret(a1, b.publicKey);
    const s2 = gb.computeSecret(b, a1.publicKey);
    expect(s1).not.toBeNull();
    expect(toHex(s1!)).toBe(toHex(s2!));
  });
});
