/** src/wire/addr.ts: the shared IP literal parser/formatter, checked against node:net as an independent oracle. */
import { isIP, SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, parseIp } from '../../../src/wire/addr.js';

describe('wire/addr', () => {
  it('parses and formats known literals (RFC 5952 §4 examples)', () => {
    expect(Array.from(parseIp('198.18.0.1')!)).toEqual([198, 18, 0, 1]);
    expect(formatIp(parseIp('2001:0DB8:0:0:0:0:0:1')!)).toBe('2001:db8::1');
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(parseIp('2001:db8::1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('::ffff:198.18.0.1')!)).toBe('::ffff:c612:1');
    expect(formatIp(parseIp('::')!)).toBe('::');
    expect(formatIp(new Uint8Array(5))).toBeUndefined();
  });

  it('rejects what is not an address', () => {
    for (const s of ['', '1.2.3', '1.2.3.256', '01234.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'g::1', ':::']) {
      expect(parseIp(s), s).toBeUndefined();
    }
  });

  it('agrees with node:net on random addresses both ways', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
      const b = parseIp(text);
      expect(b, text).toBeDefined();
      // Round trip for every address.
      expect(Array.from(parseIp(formatIp(b!)!)!)).toEqual(Array.from(b!));
      // node:net writes addresses whose first 80 bits are zero with a dotted IPv4 tail (::a.b.c.d, the
      // deprecated RFC 4291 §2.5.5.1 form); RFC 5952 text is compared everywhere else.
      const v4ish = b!.length === 16 && b!.subarray(0, 10).every((x) => x === 0);
      if (!v4ish) {
        const canonical = new SocketAddress({ address: text, family: isIP(text) === 6 ? 'ipv6' : 'ipv4' }).address;
        expect(formatIp(b!)).toBe(canonical);
      }
    }), { numRuns: 2000 });
  });
});
