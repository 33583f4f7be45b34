/** IP header peek (RFC 791, RFC 8200) and Internet checksum (RFC 1071). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { internetChecksum, onesComplementSum } from '../../../src/wire/checksum.js';
import { IpPeek, peekIp, writeIpv4Header } from '../../../src/wire/ip.js';

// A real IPv4 header from RFC 7634 Appendix A's inner ICMP packet (checksum e778 as captured).
const RFC7634_INNER = Buffer.from('45000054a6f200004001e778c6336405c0000205', 'hex');

describe('internetChecksum', () => {
  it('verifies a captured header and recomputes its checksum field', () => {
    expect(internetChecksum(RFC7634_INNER)).toBe(0);
    const h = Uint8Array.from(RFC7634_INNER);
    h[10] = 0;
    h[11] = 0;
    expect(internetChecksum(h)).toBe(0xe778);
  });
  it('RFC 1071 §3 example: sum of 0001 f203 f4f5 f6f7 is ddf2', () => {
    expect(onesComplementSum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7))).toBe(0xddf2);
    expect(internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7))).toBe(0x220d);
  });
  it('pads an odd trailing byte with zero', () => {
    expect(onesComplementSum(Uint8Array.of(0x12))).toBe(0x1200);
  });
});

describe('peekIp', () => {
  it('reads the RFC 7634 inner IPv4/ICMP header', () => {
    const pkt = new Uint8Array(84);
    pkt.set(RFC7634_INNER);
    pkt[20] = 8; // echo request
    const p = new IpPeek();
    expect(peekIp(pkt, 0, pkt.length, p)).toBe(true);
    expect([p.version, p.headerLength, p.totalLength, p.protocol, p.addressLength]).toEqual([4, 20, 84, 1, 4]);
    expect(Array.from(pkt.subarray(p.srcOffset, p.srcOffset + 4))).toEqual([198, 51, 100, 5]);
    expect(Array.from(pkt.subarray(p.dstOffset, p.dstOffset + 4))).toEqual([192, 0, 2, 5]);
    expect(p.srcPort).toBe(0x0800);
    expect(peekIp(pkt, 0, 83, p)).toBe(false); // total length 84 > 83 available
  });

  it('writeIpv4Header builds a header that peeks back, with a valid checksum and UDP ports', () => {
    const pkt = new Uint8Array(40);
    writeIpv4Header(pkt, 0, { totalLength: 36, protocol: 17, src: Uint8Array.of(198, 18, 0, 1), dst: Uint8Array.of(198, 18, 0, 2) });
    pkt.set([0x30, 0x39, 0x00, 0x35], 20);
    expect(internetChecksum(pkt, 0, 20)).toBe(0);
    const p = new IpPeek();
    expect(peekIp(pkt, 0, 40, p)).toBe(true);
    expect([p.totalLength, p.protocol, p.srcPort, p.dstPort, p.laterFragment]).toEqual([36, 17, 12345, 53, false]);
    pkt[7] = 1; // fragment offset 8: no ports
    expect(peekIp(pkt, 0, 40, p)).toBe(true);
    expect([p.laterFragment, p.srcPort]).toEqual([true, -1]);
    expect(() => writeIpv4Header(pkt, 30, { totalLength: 36, protocol: 17, src: new Uint8Array(4), dst: new Uint8Array(4) })).toThrow(/buf too small/);
    expect(() => writeIpv4Header(pkt, 0, { totalLength: 36, protocol: 17, src: new Uint8Array(16), dst: new Uint8Array(4) })).toThrow(/src/);
  });

  it('walks IPv6 extension headers to the upper layer', () => {
    // IPv6 → Hop-by-Hop (8) → Fragment (8, offset 0) → TCP ports 80 → 443
    const pkt = new Uint8Array(40 + 8 + 8 + 20);
    pkt[0] = 0x60;
    pkt[5] = 36;
    pkt[6] = 0; // HBH
    pkt[8] = 0x20;
    pkt[24] = 0x20;
    pkt[40] = 44; // next: fragment
    pkt[48] = 6; // next: TCP
    pkt.set([0, 80, 1, 187], 56);
    const p = new IpPeek();
    expect(peekIp(pkt, 0, pkt.length, p)).toBe(true);
    expect([p.version, p.headerLength, p.totalLength, p.protocol, p.srcPort, p.dstPort, p.addressLength]).toEqual([6, 56, 76, 6, 80, 443, 16]);
    pkt[50] = 0x01; // non-zero fragment offset
    expect(peekIp(pkt, 0, pkt.length, p)).toBe(true);
    expect([p.laterFragment, p.srcPort]).toEqual([true, -1]);
    pkt[41] = 200; // HBH length beyond the packet
    expect(peekIp(pkt, 0, pkt.length, p)).toBe(false);
  });

  it('rejects malformed headers and never throws on any bytes (fast-check)', () => {
    const p = new IpPeek();
    expect(peekIp(Uint8Array.of(0x44, 0, 0, 20), 0, 4, p)).toBe(false);
    expect(peekIp(new Uint8Array(20).fill(0x45), 0, 20, p)).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: -5, max: 130 }), fc.integer({ min: -5, max: 130 }), (b, s, e) => {
        const ok = peekIp(b, s, e, p);
        if (ok) {
          expect(p.totalLength).toBeLessThanOrEqual(e - s);
          expect(p.srcOffset + p.addressLength).toBeLessThanOrEqual(e);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
