/**
 * ESP overhead / MTU figures. Expected values are worked out here from the RFC field sizes
 * (RFC 4303 §2, RFC 4106 §3-4, RFC 3948 §2.1) and cross-checked by sealing real packets.
 */
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { espInnerMtu, espMaxOverhead, espOverhead, espPacketLength, fixedOverheadInnerMtu, OVN_IPSEC_OVERHEAD, type EspOverheadParams } from '../../../src/esp/mtu.js';
import { espSeal } from '../../../src/esp/seal.js';
import { ALGORITHMS, algName, makePair } from './helpers.js';

const gcm = { encr: 'aes-gcm-16', keyBits: 128 } as const;

describe('ESP MTU arithmetic', () => {
  it('reproduces the 46-byte OVN figure and explains it against the exact RFC 4106 worst case', () => {
    // OVN/OpenShift: SPI 4 + Seq 8 + IV 8 + Salt 4 + Pad 4 + PadLen 1 + NH 1 + ICV 16.
    expect(4 + 8 + 8 + 4 + 4 + 1 + 1 + 16).toBe(OVN_IPSEC_OVERHEAD);
    // On the wire, transport mode: SPI 4 + Seq 4 + IV 8 + pad ≤ 3 + 2 + ICV 16 = 37.
    const transport: EspOverheadParams = { algorithm: gcm, mode: 'transport', udpEncap: false, outerIp: 4 };
    expect(espMaxOverhead(transport)).toBe(37);
    // 46 − 37 = seq_hi 4 (not sent) + salt 4 (not sent) + 1 (pad counted as 4, max 3).
    expect(OVN_IPSEC_OVERHEAD - espMaxOverhead(transport)).toBe(4 + 4 + 1);
    // …so 46 also covers UDP encapsulation: 37 + 8 = 45.
    expect(espMaxOverhead({ ...transport, udpEncap: true })).toBe(45);
    // Tunnel mode adds the outer header: 20 + 37 = 57 (IPv4), 77 (IPv6).
    expect(espMaxOverhead({ ...transport, mode: 'tunnel' })).toBe(57);
    expect(espMaxOverhead({ ...transport, mode: 'tunnel', outerIp: 6 })).toBe(77);
    // CBC + HMAC-SHA-256-128: 8 + 16 IV + pad ≤ 15 + 2 + 16 ICV = 57 in transport.
    expect(espMaxOverhead({ ...transport, algorithm: { encr: 'aes-cbc', integ: 'hmac-sha256-128' } })).toBe(57);
  });

  it('Docker formula EXTMTU − 46 − ((EXTMTU − 46) mod 4)', () => {
    expect(fixedOverheadInnerMtu(1500)).toBe(1452); // 1454 − 2
    expect(fixedOverheadInnerMtu(9000)).toBe(8952); // 8954 − 2
    expect(fixedOverheadInnerMtu(1450)).toBe(1404); // 1404 − 0
    expect(fixedOverheadInnerMtu(1501)).toBe(1452); // 1455 − 3
    for (let m = 1280; m <= 9000; m += 7) {
      const v = fixedOverheadInnerMtu(m);
      expect(v % 4).toBe(0);
      expect(m - 46 - v).toBeGreaterThanOrEqual(0);
      expect(m - 46 - v).toBeLessThan(4);
      // The formula is conservative: the exact transport-mode MTU (even with NAT-T) is never smaller.
      expect(espInnerMtu({ algorithm: gcm, mode: 'transport', udpEncap: true, outerIp: 4 }, m)).toBeGreaterThanOrEqual(v);
    }
  });

  it('exact inner MTU at 1500', () => {
    // transport IPv4: 20 + 8 + 8 + ct + 16 ≤ 1500 → ct ≤ 1448 (4-aligned) → L − 20 + 2 ≤ 1448 → L = 1466
    expect(espInnerMtu({ algorithm: gcm, mode: 'transport', udpEncap: false, outerIp: 4 }, 1500)).toBe(1466);
    expect(espInnerMtu({ algorithm: gcm, mode: 'transport', udpEncap: true, outerIp: 4 }, 1500)).toBe(1458);
    // tunnel IPv4 + UDP: 20 + 8 + 8 + 8 + ct + 16 ≤ 1500 → ct ≤ 1440 → L = 1438
    expect(espInnerMtu({ algorithm: gcm, mode: 'tunnel', udpEncap: true, outerIp: 4 }, 1500)).toBe(1438);
    // tunnel IPv4, CBC/SHA-256: 20 + 8 + 16 + ct + 16 ≤ 1500 → ct ≤ 1440 (16-aligned: 1440) → L = 1438
    expect(espInnerMtu({ algorithm: { encr: 'aes-cbc', integ: 'hmac-sha256-128' }, mode: 'tunnel', udpEncap: false, outerIp: 4 }, 1500)).toBe(1438);
    // tunnel IPv6, CBC/SHA-512: 40 + 8 + 16 + ct + 32 ≤ 1500 → ct ≤ 1404 → 1392 (16-aligned) → L = 1390
    expect(espInnerMtu({ algorithm: { encr: 'aes-cbc', integ: 'hmac-sha512-256' }, mode: 'tunnel', udpEncap: false, outerIp: 6 }, 1500)).toBe(1390);
  });

  for (const alg of ALGORITHMS) {
    it(`agrees with real sealed packet sizes: ${algName(alg)}`, () => {
      const { out } = makePair(alg, nodeCrypto, { mode: 'tunnel' });
      const p: EspOverheadParams = { algorithm: alg, mode: 'tunnel', udpEncap: true, outerIp: 4 };
      const mtu = espInnerMtu(p, 1500);
      for (const len of [0, 1, 2, 3, 63, 64, mtu - 1, mtu, mtu + 1]) {
        const buf = new Uint8Array(out.headerLength + len + 64);
        const n = espSeal(out, buf, out.headerLength, out.headerLength + len, 4);
        expect(20 + 8 + n).toBe(espPacketLength(p, len));
        expect(espOverhead(p, len)).toBe(20 + 8 + n - len);
        expect(espOverhead(p, len)).toBeLessThanOrEqual(espMaxOverhead(p));
        if (len <= mtu) expect(20 + 8 + n).toBeLessThanOrEqual(1500);
        else expect(20 + 8 + n).toBeGreaterThan(1500);
      }
    });
  }
});
