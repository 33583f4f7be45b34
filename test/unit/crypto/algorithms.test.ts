/** The transform table: IANA numbers and derived lengths (RFC 4106, 7634, 3602, 4868, 5903, 8031). */
import { describe, expect, it } from 'vitest';
import {
  EncrId,
  EsnId,
  IntegId,
  KeId,
  PrfId,
  TransformType,
  aeadName,
  encrIcvLength,
  encrIsAead,
  encrIvLength,
  encrKeyLength,
  encrKeymatLength,
  encrPadAlign,
  encrSaltLength,
  integIcvLength,
  integKeyLength,
  integName,
  kePublicLength,
  prfKeyLength,
  prfName,
  prfOutputLength,
} from '../../../src/crypto/algorithms.js';
import { nobleCrypto } from '../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../src/crypto/node.js';

describe('IANA numbers', () => {
  it('match the IKEv2 registry', () => {
    expect(TransformType).toEqual({ ENCR: 1, PRF: 2, INTEG: 3, KE: 4, ESN: 5 });
    expect(EncrId).toEqual({ AES_CBC: 12, AES_GCM_16: 20, CHACHA20_POLY1305: 28 });
    expect(PrfId).toEqual({ HMAC_SHA2_256: 5, HMAC_SHA2_384: 6, HMAC_SHA2_512: 7 });
    expect(IntegId).toEqual({ NONE: 0, HMAC_SHA2_256_128: 12, HMAC_SHA2_384_192: 13, HMAC_SHA2_512_256: 14 });
    expect(KeId).toEqual({ MODP_2048: 14, ECP_256: 19, ECP_384: 20, ECP_521: 21, CURVE25519: 31 });
    expect(EsnId).toEqual({ NO: 0, YES: 1 });
  });
});

describe('ENCR properties', () => {
  it('AES-GCM-16: key from attribute, 4-byte salt, 8-byte IV, 16-byte ICV, 4-byte alignment', () => {
    expect(encrKeyLength(20, 128)).toBe(16);
    expect(encrKeyLength(20, 256)).toBe(32);
    expect(encrKeymatLength(20, 128)).toBe(20);
    expect(encrKeymatLength(20, 192)).toBe(28);
    expect(encrKeymatLength(20, 256)).toBe(36);
    expect([encrSaltLength(20), encrIvLength(20), encrIcvLength(20), encrPadAlign(20)]).toEqual([4, 8, 16, 4]);
    expect(encrIsAead(20)).toBe(true);
    expect(aeadName(20)).toBe('aes-gcm-16');
    expect(() => encrKeyLength(20)).toThrow(/keyLengthBits/);
    expect(() => encrKeyLength(20, 64)).toThrow(/64/);
  });
  it('ChaCha20-Poly1305: 32-byte key without attribute, KEYMAT 36', () => {
    expect(encrKeyLength(28)).toBe(32);
    expect(encrKeyLength(28, 256)).toBe(32);
    expect(encrKeymatLength(28)).toBe(36);
    expect([encrSaltLength(28), encrIvLength(28), encrIcvLength(28), encrPadAlign(28)]).toEqual([4, 8, 16, 4]);
    expect(aeadName(28)).toBe('chacha20-poly1305');
  });
  it('AES-CBC: no salt, 16-byte IV, no own ICV, 16-byte alignment', () => {
    expect(encrKeymatLength(12, 128)).toBe(16);
    expect(encrKeymatLength(12, 256)).toBe(32);
    expect([encrSaltLength(12), encrIvLength(12), encrIcvLength(12), encrPadAlign(12)]).toEqual([0, 16, 0, 16]);
    expect(encrIsAead(12)).toBe(false);
    expect(() => aeadName(12)).toThrow(/not an AEAD/);
  });
  it('unknown ids throw naming the id', () => {
    expect(() => encrKeyLength(3, 128)).toThrow(/3/);
  });
});

describe('INTEG / PRF / KE properties agree with the providers', () => {
  it.each([
    [12, 32, 16],
    [13, 48, 24],
    [14, 64, 32],
  ])('integ %i: key %i, icv %i', (id, key, icv) => {
    expect(integKeyLength(id)).toBe(key);
    expect(integIcvLength(id)).toBe(icv);
    expect(nodeCrypto.mac(integName(id), new Uint8Array(key)).icvLength).toBe(icv);
    expect(nobleCrypto.mac(integName(id), new Uint8Array(key)).icvLength).toBe(icv);
  });
  it.each([
    [5, 32],
    [6, 48],
    [7, 64],
  ])('prf %i: output %i', (id, len) => {
    expect(prfOutputLength(id)).toBe(len);
    expect(prfKeyLength(id)).toBe(len);
    expect(nodeCrypto.prf(prfName(id)).compute(new Uint8Array(1), new Uint8Array(1)).length).toBe(len);
  });
  it.each([
    [14, 256],
    [19, 64],
    [20, 96],
    [21, 132],
    [31, 32],
  ])('ke %i: public length %i', (id, len) => {
    expect(kePublicLength(id)).toBe(len);
    expect(nodeCrypto.dhGroup(id)!.publicLength).toBe(len);
    expect(nobleCrypto.dhGroup(id)!.publicLength).toBe(len);
  });
});
