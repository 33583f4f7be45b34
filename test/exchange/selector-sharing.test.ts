/**
 * Heap per IKE SA (bench/ike.ts): a narrowed or answered traffic selector equal to a configured or
 * offered one is that selector object, not a copy. These tests pin the values (RFC 7296 §2.9
 * intersection, written out independently here) and the sharing itself.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { intersectTs, preferOwnTs, resolveTsDynamic } from '../../src/ike/traffic-selectors.js';
import type { TrafficSelector } from '../../src/ike/payloads/types.js';
import { pskPair } from './harness.js';

const ipv4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([x, y]) => Uint8Array.of(10, 0, x, y));
const selector = fc
  .record({ a: ipv4, b: ipv4, p1: fc.integer({ min: 0, max: 65535 }), p2: fc.integer({ min: 0, max: 65535 }), proto: fc.constantFrom(0, 6, 17) })
  .map(({ a, b, p1, p2, proto }): TrafficSelector => {
    const lo = Buffer.compare(a, b) <= 0 ? a : b;
    const hi = lo === a ? b : a;
    return { tsType: 7, ipProtocol: proto, startPort: Math.min(p1, p2), endPort: Math.max(p1, p2), startAddress: lo, endAddress: hi };
  });

/** §2.9 intersection computed here with Buffer.compare, independent of traffic-selectors.ts. */
function reference(a: TrafficSelector, b: TrafficSelector): { proto: number; ports: [number, number]; start: string; end: string } | undefined {
  if (a.ipProtocol !== 0 && b.ipProtocol !== 0 && a.ipProtocol !== b.ipProtocol) return undefined;
  const proto = a.ipProtocol === 0 ? b.ipProtocol : a.ipProtocol;
  const sp = Math.max(a.startPort, b.startPort);
  const ep = Math.min(a.endPort, b.endPort);
  const start = Buffer.compare(a.startAddress, b.startAddress) >= 0 ? a.startAddress : b.startAddress;
  const end = Buffer.compare(a.endAddress, b.endAddress) <= 0 ? a.endAddress : b.endAddress;
  if (sp > ep || Buffer.compare(start, end) > 0) return undefined;
  return { proto, ports: [sp, ep], start: Buffer.from(start).toString('hex'), end: Buffer.from(end).toString('hex') };
}

describe('shared traffic selectors', () => {
  it('intersectTs returns the §2.9 intersection, and one of its inputs only when equal to it', () => {
    fc.assert(fc.property(selector, selector, fc.boolean(), (a, b, same) => {
      const y = same ? { ...b, startAddress: b.startAddress.slice(), endAddress: b.endAddress.slice() } : b;
      const x = intersectTs(same ? y : a, b);
      const want = same ? reference(y, b) : reference(a, b);
      if (want === undefined) return x === undefined;
      if (!x) return false;
      const got = { proto: x.ipProtocol, ports: [x.startPort, x.endPort], start: Buffer.from(x.startAddress).toString('hex'), end: Buffer.from(x.endAddress).toString('hex') };
      expect(got).toEqual(want);
      // Equal to b (the configured side): b itself; the inputs are never modified.
      if (same) expect(x).toBe(b);
      return true;
    }), { numRuns: 500 });
  });

  it('preferOwnTs swaps in our equal selector and keeps the others', () => {
    const ours = resolveTsDynamic(['10.7.0.0/16', '10.8.0.0/24'], []);
    const equalCopy: TrafficSelector = { ...ours[0]!, startAddress: ours[0]!.startAddress.slice(), endAddress: ours[0]!.endAddress.slice() };
    const narrower: TrafficSelector = { ...ours[1]!, startAddress: Uint8Array.of(10, 8, 0, 16), endAddress: Uint8Array.of(10, 8, 0, 31) };
    const out = preferOwnTs([equalCopy, narrower], ours);
    expect(out[0]).toBe(ours[0]);
    expect(out[1]).toBe(narrower);
    expect([...out[1]!.startAddress, ...out[1]!.endAddress]).toEqual([10, 8, 0, 16, 10, 8, 0, 31]);
  });

  it('after IKE_AUTH both children hold the configured selector objects with the configured values', () => {
    const p = pskPair();
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.eventsA.some((e) => e.type === 'child-up') && p.eventsB.some((e) => e.type === 'child-up'))).toBe(true);
    const upA = p.eventsA.find((e) => e.type === 'child-up')!;
    const upB = p.eventsB.find((e) => e.type === 'child-up')!;
    if (upA.type !== 'child-up' || upB.type !== 'child-up') throw new Error('unreachable');
    const hexes = (ts: readonly TrafficSelector[]) => ts.map((t) => `${Buffer.from(t.startAddress).toString('hex')}-${Buffer.from(t.endAddress).toString('hex')}`);
    // A: 198.19.1.0/24 local, 198.19.2.0/24 remote (harness child()); B mirrored.
    expect(hexes(upA.tsLocal)).toEqual(['c6130100-c61301ff']);
    expect(hexes(upA.tsRemote)).toEqual(['c6130200-c61302ff']);
    expect(hexes(upB.tsLocal)).toEqual(['c6130200-c61302ff']);
    expect(hexes(upB.tsRemote)).toEqual(['c6130100-c61301ff']);
    expect(upA.tsLocal[0]).toBe(resolveTsDynamic(['198.19.1.0/24'], [])[0]);
    expect(upB.tsLocal[0]).toBe(resolveTsDynamic(['198.19.2.0/24'], [])[0]);
  });
});
