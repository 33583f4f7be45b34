/**
 * AEAD known answers on both providers: AES-GCM-16 ESP packets (draft-mcgrew-gcm-test-01 §4, RFC 4106)
 * and ChaCha20-Poly1305 (RFC 7634 Appendix A ESP, Appendix B IKEv2).
 */
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../src/crypto/noble.js';
import { nodeCrypto, nodeCryptoJs } from '../../src/crypto/node.js';
import { loadEvp, withEvpAead } from '../../src/crypto/node-evp.js';
import type { AeadName, CryptoProvider } from '../../src/crypto/types.js';
import { hex, loadVectors, toHex } from './load.js';

interface AeadCase {
  name: string;
  aead: AeadName;
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  plaintext: Uint8Array;
  ctTag: Uint8Array;
}

const gcmCases: AeadCase[] = [...loadVectors('esp-aes-gcm-draft-mcgrew-gcm-test-01.txt')].map(([name, v]) => ({
  name,
  aead: 'aes-gcm-16',
  key: hex(v.key!),
  nonce: hex(v.nonce!),
  aad: hex(v.aad!),
  plaintext: hex(v.plaintext!),
  ctTag: hex(v.ct_tag!),
}));

const chachaCases: AeadCase[] = [...loadVectors('chacha20poly1305-rfc7634.txt')].map(([name, v]) => ({
  name,
  aead: 'chacha20-poly1305',
  key: hex(v.key!),
  nonce: hex(v.salt! + v.iv!), // RFC 7634 §2: nonce = salt ‖ IV
  aad: hex(v.aad!),
  plaintext: hex(v.plaintext!),
  ctTag: hex(v.ct_tag!),
}));

const cases = [...gcmCases, ...chachaCases];

// The OpenSSL EVP provider (node-evp.ts) is required on this Linux machine: it must load, not fall back.
const evpCrypto: CryptoProvider = { ...withEvpAead(nodeCrypto), name: 'node' };
const providers = [
  { label: 'node (AEAD keyed per call on a shared EVP context, node-native-aead.ts)', p: nodeCrypto },
  { label: 'node:crypto only', p: nodeCryptoJs },
  { label: 'noble', p: nobleCrypto },
  { label: 'node-evp', p: evpCrypto },
];

it('libcrypto.so.3 loads for the EVP provider', () => {
  expect(loadEvp()).toBeDefined();
  expect(evpCrypto.aead).not.toBe(nodeCrypto.aead);
});

describe.each(providers)('AEAD vectors ($label provider)', ({ p }: { p: CryptoProvider }) => {
  it('loads all the vectors', () => {
    expect(gcmCases.length).toBe(7);
    expect(chachaCases.length).toBe(2);
  });

  it.each(cases)('$name: seal gives ct ‖ tag', (c) => {
    const a = p.aead(c.aead, c.key);
    expect(a.nonceLength).toBe(12);
    expect(a.tagLength).toBe(16);
    const dst = new Uint8Array(c.plaintext.length);
    const tag = new Uint8Array(16);
    a.seal(c.nonce, c.aad, c.plaintext, dst, tag);
    expect(toHex(dst) + toHex(tag)).toBe(toHex(c.ctTag));
  });

  it.each(cases)('$name: seal in place (dst aliases plaintext)', (c) => {
    const a = p.aead(c.aead, c.key);
    const pkt = new Uint8Array(c.plaintext.length + 16);
    pkt.set(c.plaintext);
    a.seal(c.nonce, c.aad, pkt.subarray(0, c.plaintext.length), pkt.subarray(0, c.plaintext.length), pkt.subarray(c.plaintext.length));
    expect(toHex(pkt)).toBe(toHex(c.ctTag));
  });

  it.each(cases)('$name: open returns the plaintext, also in place', (c) => {
    const a = p.aead(c.aead, c.key);
    const n = c.plaintext.length;
    const dst = new Uint8Array(n);
    expect(a.open(c.nonce, c.aad, c.ctTag.subarray(0, n), c.ctTag.subarray(n), dst)).toBe(true);
    expect(toHex(dst)).toBe(toHex(c.plaintext));
    const pkt = c.ctTag.slice();
    expect(a.open(c.nonce, c.aad, pkt.subarray(0, n), pkt.subarray(n), pkt.subarray(0, n))).toBe(true);
    expect(toHex(pkt.subarray(0, n))).toBe(toHex(c.plaintext));
  });

  it.each(cases)('$name: tampering with ct, tag, aad or nonce makes open return false', (c) => {
    const a = p.aead(c.aead, c.key);
    const n = c.plaintext.length;
    const dst = new Uint8Array(n);
    const ct = c.ctTag.slice(0, n);
    const tag = c.ctTag.slice(n);
    const flip = (b: Uint8Array, i: number): Uint8Array => {
      const x = b.slice();
      x[i] = x[i]! ^ 0x01;
      return x;
    };
    expect(a.open(c.nonce, c.aad, flip(ct, 0), tag, dst)).toBe(false);
    expect(a.open(c.nonce, c.aad, flip(ct, n - 1), tag, dst)).toBe(false);
    expect(a.open(c.nonce, c.aad, ct, flip(tag, 15), dst)).toBe(false);
    expect(a.open(c.nonce, flip(c.aad, 0), ct, tag, dst)).toBe(false);
    expect(a.open(flip(c.nonce, 11), c.aad, ct, tag, dst)).toBe(false);
    expect(a.open(c.nonce, c.aad.subarray(1), ct, tag, dst)).toBe(false);
    // wrong tag length is a failure, not a throw
    expect(a.open(c.nonce, c.aad, ct, tag.subarray(0, 12), dst)).toBe(false);
    expect(a.open(c.nonce.subarray(0, 8), c.aad, ct, tag, dst)).toBe(false);
  });

  it('rejects wrong key lengths at construction', () => {
    expect(() => p.aead('aes-gcm-16', new Uint8Array(20))).toThrow(/key/);
    expect(() => p.aead('chacha20-poly1305', new Uint8Array(16))).toThrow(/key/);
  });
});
