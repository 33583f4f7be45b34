/**
 * SK protection (RFC 7296 §3.14, RFC 5282, RFC 7634): the RFC 7634 Appendix B vector through
 * SkCipher, and AES-GCM / AES-CBC+HMAC checked by independent node:crypto computations in the test.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../../src/crypto/node.js';
import type { CryptoProvider } from '../../../../src/crypto/types.js';
import { decodeMessage, encodeMessage } from '../../../../src/ike/message.js';
import type { Payload } from '../../../../src/ike/payloads/types.js';
import { encodeProtected, openProtected, SkCipher, type SkKeys } from '../../../../src/ike/sk.js';
import { hex, loadVectors, toHex } from '../../../vectors/load.js';
import { plainPayloadArb } from './arbitraries.js';

const v = loadVectors('chacha20poly1305-rfc7634.txt').get('rfc7634-appendix-b-ikev2')!;
const providers: Array<[string, CryptoProvider]> = [['node', nodeCrypto], ['noble', nobleCrypto]];

const hdr = { spiI: hex('c0c1c2c3c4c5c6c7'), spiR: hex('d0d1d2d3d4d5d6d7'), majorVersion: 2, minorVersion: 0, exchangeType: 37, flags: 0, messageId: 9 };
/** Notify SET_WINDOW_SIZE(10): the RFC 7634 Appendix B inner payload. */
const notify: Payload = { type: 41, critical: false, protocolId: 0, spi: new Uint8Array(0), notifyType: 16385, data: hex('0000000a') };
const notifyBytes = hex('0000000c000040010000000a');

function mustOpen(raw: Uint8Array, cipher: SkCipher): Payload[] {
  const m = decodeMessage(raw);
  if (!m.ok) throw new Error(m.error.message);
  const o = openProtected(raw, m.value, cipher);
  if (!o.ok) throw new Error(o.error.code);
  return o.value;
}

const fixedIv = (bytes: Uint8Array) => (n: number) => {
  expect(n).toBe(bytes.length);
  return bytes;
};

describe.each(providers)('RFC 7634 Appendix B IKEv2 ChaCha20-Poly1305 (%s)', (_name, provider) => {
  const keys: SkKeys = { kind: 'aead', aead: 'chacha20-poly1305', key: hex(v.key!), salt: hex(v.salt!) };

  it('SkCipher.seal reproduces IV ‖ ciphertext ‖ tag', () => {
    const c = new SkCipher(provider, keys);
    expect(c.ivLength).toBe(8);
    expect(c.icvLength).toBe(16);
    expect(c.overhead(12)).toBe(8 + 1 + 16);
    const body = c.seal(hex(v.aad!), hex(v.plaintext!).subarray(0, 12), hex(v.iv!));
    expect(toHex(body)).toBe(toHex(hex(v.iv!)) + toHex(hex(v.ct_tag!)));
  });

  it('encodeProtected produces the whole Appendix B message, and openProtected reads it back', () => {
    const c = new SkCipher(provider, keys);
    const [raw, ...more] = encodeProtected(hdr, [notify], c, fixedIv(hex(v.iv!)));
    expect(more).toEqual([]);
    expect(toHex(raw!)).toBe(toHex(hex(v.aad!)) + toHex(hex(v.iv!)) + toHex(hex(v.ct_tag!)));
    expect(mustOpen(raw!, c)).toEqual([notify]);
  });

  it('open rejects any flipped bit in header, SK header, IV, ciphertext or tag', () => {
    const c = new SkCipher(provider, keys);
    const raw = encodeProtected(hdr, [notify], c, fixedIv(hex(v.iv!)))[0]!;
    for (const at of [3, 20, 30, 33, 45, raw.length - 1]) {
      const bad = raw.slice();
      bad[at]! ^= 0x01;
      const m = decodeMessage(bad);
      if (!m.ok) continue; // flipped a framing byte: rejected earlier, also fine
      const o = openProtected(bad, m.value, c);
      expect(o.ok).toBe(false);
      if (!o.ok) {
        expect(o.error.code).toBe('icv');
        expect(o.error.notify).toBeUndefined();
      }
    }
  });
});

describe.each(providers)('AES-GCM-16 SK checked against node:crypto (%s)', (_name, provider) => {
  it('nonce = salt ‖ IV, AAD = header ‖ SK header, pad length 0', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f');
    const salt = hex('a0a1a2a3');
    const iv = hex('0000000000000007');
    const c = new SkCipher(provider, { kind: 'aead', aead: 'aes-gcm-16', key, salt });
    const raw = encodeProtected(hdr, [notify], c, fixedIv(iv))[0]!;
    expect(raw.length).toBe(28 + 4 + 8 + 13 + 16);
    // independent decryption
    const d = createDecipheriv('aes-128-gcm', key, Buffer.concat([salt, iv]), { authTagLength: 16 });
    d.setAAD(raw.subarray(0, 32));
    d.setAuthTag(raw.subarray(raw.length - 16));
    const plain = Buffer.concat([d.update(raw.subarray(40, raw.length - 16)), d.final()]);
    expect(toHex(plain)).toBe(toHex(notifyBytes) + '00');
    expect(raw[28]).toBe(41); // SK Next Payload = N
    expect(mustOpen(raw, c)).toEqual([notify]);
  });

  it('opens a body built independently with node:crypto, with a non-zero pad length', () => {
    const key = hex('00'.repeat(31) + '01');
    const salt = hex('01020304');
    const iv = hex('1111111111111111');
    const header = encodeMessage(hdr, [{ type: 46, critical: false, innerType: 41, body: new Uint8Array(8 + 12 + 4 + 16) }]);
    const aad = header.subarray(0, 32);
    const e = createCipheriv('aes-256-gcm', key, Buffer.concat([salt, iv]), { authTagLength: 16 });
    e.setAAD(aad);
    const ct = Buffer.concat([e.update(Buffer.concat([notifyBytes, hex('aabbcc03')])), e.final()]);
    const raw = Buffer.concat([aad, iv, ct, e.getAuthTag()]);
    const c = new SkCipher(provider, { kind: 'aead', aead: 'aes-gcm-16', key, salt });
    expect(mustOpen(raw, c)).toEqual([notify]);
  });
});

describe.each(providers)('AES-CBC + HMAC-SHA2-256-128 SK checked against node:crypto (%s)', (_name, provider) => {
  const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
  const integKey = hex('0b'.repeat(32));
  const iv = hex('000102030405060708090a0b0c0d0e0f');

  it('pads to the block, MACs header ‖ IV ‖ ciphertext, and opens', () => {
    const c = new SkCipher(provider, { kind: 'cbc', key, integ: 'hmac-sha256-128', integKey });
    expect(c.ivLength).toBe(16);
    expect(c.icvLength).toBe(16);
    expect(c.overhead(12)).toBe(16 + 4 + 16); // 12 + 3 pad + 1 = 16
    const raw = encodeProtected(hdr, [notify], c, fixedIv(iv))[0]!;
    expect(raw.length).toBe(28 + 4 + 16 + 16 + 16);
    const mac = createHmac('sha256', integKey).update(raw.subarray(0, raw.length - 16)).digest().subarray(0, 16);
    expect(toHex(raw.subarray(raw.length - 16))).toBe(toHex(mac));
    const d = createDecipheriv('aes-128-cbc', key, raw.subarray(32, 48));
    d.setAutoPadding(false);
    const plain = Buffer.concat([d.update(raw.subarray(48, raw.length - 16)), d.final()]);
    expect(toHex(plain)).toBe(toHex(notifyBytes) + '00000003');
    expect(mustOpen(raw, c)).toEqual([notify]);
  });

  it('accepts non-zero pad bytes from a peer, rejects a pad length longer than the plaintext', () => {
    const c = new SkCipher(provider, { kind: 'cbc', key, integ: 'hmac-sha256-128', integKey });
    const build = (padded: Uint8Array) => {
      const header = encodeMessage(hdr, [{ type: 46, critical: false, innerType: 41, body: new Uint8Array(16 + padded.length + 16) }]);
      const e = createCipheriv('aes-128-cbc', key, iv);
      e.setAutoPadding(false);
      const ct = Buffer.concat([e.update(padded), e.final()]);
      const signed = Buffer.concat([header.subarray(0, 32), iv, ct]);
      return Buffer.concat([signed, createHmac('sha256', integKey).update(signed).digest().subarray(0, 16)]);
    };
    expect(mustOpen(build(Buffer.concat([notifyBytes, hex('ffee1303')])), c)).toEqual([notify]);
    const bad = build(Buffer.concat([notifyBytes, hex('00000020')]));
    const m = decodeMessage(bad);
    expect(m.ok && openProtected(bad, m.value, c)).toMatchObject({ ok: false, error: { code: 'icv' } });
  });

  it('a wrong integrity key fails with icv', () => {
    const a = new SkCipher(provider, { kind: 'cbc', key, integ: 'hmac-sha256-128', integKey });
    const b = new SkCipher(provider, { kind: 'cbc', key, integ: 'hmac-sha256-128', integKey: hex('0c'.repeat(32)) });
    const raw = encodeProtected(hdr, [notify], a, fixedIv(iv))[0]!;
    const m = decodeMessage(raw);
    expect(m.ok && openProtected(raw, m.value, b)).toMatchObject({ ok: false, error: { code: 'icv' } });
  });
});

describe('SK round trip and edge cases', () => {
  const suites: Array<[string, SkKeys]> = [
    ['aes-gcm-16-128', { kind: 'aead', aead: 'aes-gcm-16', key: new Uint8Array(16).fill(1), salt: hex('01020304') }],
    ['chacha20-poly1305', { kind: 'aead', aead: 'chacha20-poly1305', key: new Uint8Array(32).fill(2), salt: hex('01020304') }],
    ['aes-cbc-256 + hmac-sha384-192', { kind: 'cbc', key: new Uint8Array(32).fill(3), integ: 'hmac-sha384-192', integKey: new Uint8Array(48).fill(4) }],
    ['aes-cbc-128 + hmac-sha512-256', { kind: 'cbc', key: new Uint8Array(16).fill(5), integ: 'hmac-sha512-256', integKey: new Uint8Array(64).fill(6) }],
  ];
  for (const [name, keys] of suites) {
    it(`${name}: openProtected(encodeProtected(x)) ≡ x, also across providers`, () => {
      const sender = new SkCipher(nodeCrypto, keys);
      const receiver = new SkCipher(nobleCrypto, keys);
      fc.assert(
        fc.property(fc.array(plainPayloadArb, { maxLength: 6 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (inner, ivBytes) => {
          const out = encodeProtected(hdr, inner, sender, (n) => ivBytes.slice(0, n));
          expect(out.length).toBe(1);
          expect(out[0]!.length - 32 - 1).toBeGreaterThanOrEqual(0);
          expect(mustOpen(out[0]!, receiver)).toEqual(inner);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('an empty inner chain (INFORMATIONAL liveness check) round-trips', () => {
    const c = new SkCipher(nodeCrypto, suites[0]![1]);
    const raw = encodeProtected(hdr, [], c, (n) => new Uint8Array(n))[0]!;
    expect(raw[28]).toBe(0);
    expect(mustOpen(raw, c)).toEqual([]);
  });

  it('openProtected without SK → missing-sk; SK body too short → icv; never throws on junk bodies', () => {
    const c = new SkCipher(nodeCrypto, suites[2]![1]);
    const plain = encodeMessage(hdr, [notify]);
    const m = decodeMessage(plain);
    expect(m.ok && openProtected(plain, m.value, c)).toMatchObject({ ok: false, error: { code: 'missing-sk' } });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (body) => {
        const raw = encodeMessage(hdr, [{ type: 46, critical: false, innerType: 41, body }]);
        const d = decodeMessage(raw);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        for (const cipher of suites.map(([, k]) => new SkCipher(nodeCrypto, k))) {
          const o = openProtected(raw, d.value, cipher);
          expect(o).toMatchObject({ ok: false, error: { code: 'icv' } });
        }
      }),
      { numRuns: 200 },
    );
  });

  it('programmer errors throw naming the field', () => {
    expect(() => new SkCipher(nodeCrypto, { kind: 'aead', aead: 'aes-gcm-16', key: new Uint8Array(16), salt: new Uint8Array(3) })).toThrow(/salt/);
    const c = new SkCipher(nodeCrypto, suites[0]![1]);
    expect(() => c.seal(new Uint8Array(32), new Uint8Array(4), new Uint8Array(7))).toThrow(/iv/);
  });
});
