/**
 * RFC 7296 §2.9 traffic selector parsing, intersection and narrowing.
 * Expected values are written out by hand from the RFC semantics, not computed by the code.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatIp, formatTs, intersectTs, narrowTs, parseIp, parseTs, tsAllWithin, tsContains } from '../../src/ike/traffic-selectors.js';

describe('IP literals', () => {
  it('parses IPv4 and IPv6', () => {
    expect([...parseIp('198.19.1.7')!]).toEqual([198, 19, 1, 7]);
    expect(parseIp('256.1.1.1')).toBeUndefined();
    expect(parseIp('1.2.3')).toBeUndefined();
    expect([...parseIp('2001:db8::1')!]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect([...parseIp('::')!]).toEqual(new Array(16).fill(0));
    expect(parseIp('1::2::3')).toBeUndefined();
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('::ffff:1.2.3.4')!)).toBe('::ffff:102:304');
  });
  it('never throws on junk', () => {
    fc.assert(fc.property(fc.string(), (s) => { parseIp(s); return true; }));
  });
});

describe('parseTs', () => {
  it('parses prefixes, hosts, ranges, protocols and ports', () => {
    const a = parseTs('198.19.1.0/24');
    expect([...a.startAddress]).toEqual([198, 19, 1, 0]);
    expect([...a.endAddress]).toEqual([198, 19, 1, 255]);
    expect([a.ipProtocol, a.startPort, a.endPort, a.tsType]).toEqual([0, 0, 65535, 7]);
    const b = parseTs('10.0.0.1[tcp/80]');
    expect([b.ipProtocol, b.startPort, b.endPort]).toEqual([6, 80, 80]);
    const c = parseTs('dynamic[udp/1000-2000]', '198.18.0.1');
    expect([...c.startAddress, ...c.endAddress]).toEqual([198, 18, 0, 1, 198, 18, 0, 1]);
    expect([c.ipProtocol, c.startPort, c.endPort]).toEqual([17, 1000, 2000]);
    const d = parseTs('2001:db8::/32');
    expect(d.tsType).toBe(8);
    expect(formatIp(d.endAddress)).toBe('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(formatTs(parseTs('10.1.0.0/16[tcp]'))).toBe('10.1.0.0/16[tcp]');
    expect(formatTs(parseTs('10.0.0.1-10.0.0.5'))).toBe('10.0.0.1-10.0.0.5');
  });
  it('throws a config error naming the selector', () => {
    expect(() => parseTs('10.0.0.0/33')).toThrow(/10.0.0.0\/33/);
    expect(() => parseTs('dynamic')).toThrow(/dynamic/);
    expect(() => parseTs('10.0.0.1[foo]')).toThrow(/foo/);
  });
});

describe('intersection and narrowing (RFC 7296 §2.9)', () => {
  it('intersects address, protocol and port ranges', () => {
    const x = intersectTs(parseTs('10.0.0.0/8'), parseTs('10.1.2.0/24[tcp/80]'))!;
    expect(formatTs(x)).toBe('10.1.2.0/24[tcp/80]');
    expect(intersectTs(parseTs('10.0.0.0/24'), parseTs('10.0.1.0/24'))).toBeUndefined();
    expect(intersectTs(parseTs('10.0.0.0/24[tcp]'), parseTs('10.0.0.0/24[udp]'))).toBeUndefined();
    expect(intersectTs(parseTs('10.0.0.0/24'), parseTs('::/0'))).toBeUndefined();
  });
  it('narrows the initiator proposal to the configured set', () => {
    // initiator proposes 0.0.0.0/0, responder is configured for 198.19.1.0/24 and 198.19.2.0/24
    const n = narrowTs([parseTs('0.0.0.0/0')], [parseTs('198.19.1.0/24'), parseTs('198.19.2.0/24')]);
    expect(n.map(formatTs)).toEqual(['198.19.1.0/24', '198.19.2.0/24']);
    expect(narrowTs([parseTs('10.0.0.0/8')], [parseTs('192.168.0.0/16')])).toEqual([]);
    // duplicates and contained results collapse
    const m = narrowTs([parseTs('10.0.0.0/8'), parseTs('10.1.0.0/16')], [parseTs('10.0.0.0/8')]);
    expect(m.map(formatTs)).toEqual(['10.0.0.0/8']);
  });
  it('checks a response lies within the proposal', () => {
    expect(tsAllWithin([parseTs('10.1.0.0/16')], [parseTs('10.0.0.0/8')])).toBe(true);
    expect(tsAllWithin([parseTs('11.0.0.0/16')], [parseTs('10.0.0.0/8')])).toBe(false);
    expect(tsAllWithin([], [parseTs('10.0.0.0/8')])).toBe(false);
  });
  it('intersection is contained in both operands (property)', () => {
    const ts = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.constantFrom(0, 6, 17), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }))
      .map(([a, p, proto, x, y]) => {
        const ip = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
        const pp = proto === 0 ? '' : `[${proto}/${Math.min(x, y)}-${Math.max(x, y)}]`;
        return parseTs(`${ip}/${p}${pp}`);
      });
    fc.assert(fc.property(ts, ts, (a, b) => {
      const x = intersectTs(a, b);
      if (!x) return true;
      return tsContains(a, x) && tsContains(b, x);
    }));
  });
});
