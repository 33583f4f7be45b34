/**
 * Signed octets and shared-key AUTH (RFC 7296 §2.15), checked against node:crypto HMAC computed
 * independently in the test, on both providers.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nobleCrypto } from '../../../../src/crypto/noble.js';
import { nodeCrypto } from '../../../../src/crypto/node.js';
import { constantTimeEqual, pskAuth, verifyPskAuth } from '../../../../src/ike/auth/psk.js';
import { idPayloadBody, signedOctets } from '../../../../src/ike/auth/signed-octets.js';

const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe.each([nodeCrypto, nobleCrypto])('PSK AUTH ($name provider)', (provider) => {
  const realMessage = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const nonceR = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
  const skPi = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
  const body = idPayloadBody(2, enc('moon.strongswan.org'));

  it('idPayloadBody = ID Type ‖ RESERVED(3) ‖ data', () => {
    expect(hx(body)).toBe('02000000' + Buffer.from('moon.strongswan.org').toString('hex'));
  });

  it('signedOctets = RealMessage ‖ NonceOther ‖ prf(SK_p, RestOfID)', () => {
    const want = Buffer.concat([realMessage, nonceR, createHmac('sha256', skPi).update(body).digest()]);
    expect(hx(signedOctets(provider, 5, realMessage, nonceR, skPi, body))).toBe(want.toString('hex'));
  });

  it('AUTH = prf(prf(secret, "Key Pad for IKEv2"), octets) for SHA-256/384/512', () => {
    const octets = signedOctets(provider, 5, realMessage, nonceR, skPi, body);
    const psk = enc('This is a strong password');
    for (const [id, h] of [[5, 'sha256'], [6, 'sha384'], [7, 'sha512']] as const) {
      const inner = createHmac(h, psk).update('Key Pad for IKEv2').digest();
      const want = createHmac(h, inner).update(octets).digest();
      const auth = pskAuth(provider, id, psk, octets);
      expect(hx(auth)).toBe(want.toString('hex'));
      expect(verifyPskAuth(provider, id, psk, octets, want)).toBe(true);
    }
  });

  it('verifyPskAuth rejects a wrong PSK, a flipped bit, a truncated value, an empty PSK', () => {
    const octets = signedOctets(provider, 5, realMessage, nonceR, skPi, body);
    const psk = enc('secret');
    const good = pskAuth(provider, 5, psk, octets);
    expect(verifyPskAuth(provider, 5, enc('secreT'), octets, good)).toBe(false);
    const bad = good.slice();
    bad[31] ^= 1;
    expect(verifyPskAuth(provider, 5, psk, octets, bad)).toBe(false);
    expect(verifyPskAuth(provider, 5, psk, octets, good.subarray(0, 16))).toBe(false);
    expect(verifyPskAuth(provider, 5, new Uint8Array(0), octets, good)).toBe(false);
    expect(() => pskAuth(provider, 5, new Uint8Array(0), octets)).toThrow(/psk/);
  });
});

describe('constantTimeEqual', () => {
  it('equals byte-wise equality', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
        expect(constantTimeEqual(a, a.slice())).toBe(true);
      }),
    );
  });
});
