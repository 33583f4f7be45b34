/**
 * Who decides between raw ESP (IP protocol 50) and ESP-in-UDP (RFC 3948): with `encap: false` on both
 * sides and matching NAT-D hashes (RFC 7296 §2.23) the child is not encapsulated and IKE stays on the
 * configured port; a NAT on the path, or either side forcing encapsulation with a NAT_DETECTION_SOURCE_IP
 * that cannot match, makes it UDP-encapsulated on 4500 for both.
 *
 *   HDR, SAi1, KEi, Ni, N(NAT_D_SRC = hash(SPIs, IPi, 500)), N(NAT_D_DST = hash(SPIs, IPr, 500))  -->
 *                  <--  HDR, SAr1, KEr, Nr, N(NAT_D_SRC = hash(SPIs, IPr, 500)), N(NAT_D_DST = …)
 *   all match: HDR, SK {IDi, AUTH, SAi2, TSi, TSr} on 500 --> ; child-up { encap: false }
 */
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/ike/message.js';
import { type Pair, pskPair } from './harness.js';

function up(p: Pair): boolean {
  return p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0);
}

function authPorts(p: Pair): Array<[number, number]> {
  return p.delivered
    .filter((d) => { const m = decodeMessage(d.data); return m.ok && m.value.header.exchangeType === 35; })
    .map((d) => [d.local.port, d.remote.port]);
}

describe('raw ESP or ESP-in-UDP: the child-up encap flag', () => {
  it('encap: false on both sides and no NAT: child not encapsulated on either side, IKE_AUTH stays on 500', () => {
    const p = pskPair({ encap: false }, { encap: false });
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    expect(p.of('a', 'ike-up')[0]!.encap).toBe(false);
    expect(p.of('b', 'ike-up')[0]!.encap).toBe(false);
    const ca = p.of('a', 'child-up')[0]!;
    const cb = p.of('b', 'child-up')[0]!;
    expect([ca.encap, cb.encap]).toEqual([false, false]);
    expect([ca.localAddr.port, ca.remoteAddr.port, cb.localAddr.port, cb.remoteAddr.port]).toEqual([500, 500, 500, 500]);
    const ports = authPorts(p);
    expect(ports.length).toBe(2);
    expect(ports.every(([l, r]) => l === 500 && r === 500)).toBe(true);
  });

  for (const [name, a, b] of [['the initiator', true, false], ['the responder', false, true]] as const) {
    it(`${name} forcing encapsulation makes both sides encapsulate on 4500`, () => {
      const p = pskPair({ encap: a }, { encap: b });
      p.a.initiate(p.now, 'gw');
      expect(up(p)).toBe(true);
      const ca = p.of('a', 'child-up')[0]!;
      const cb = p.of('b', 'child-up')[0]!;
      expect([ca.encap, cb.encap]).toEqual([true, true]);
      expect([ca.remoteAddr.port, cb.localAddr.port]).toEqual([4500, 4500]);
      expect(authPorts(p).every(([l, r]) => l === 4500 && r === 4500)).toBe(true);
    });
  }

  it('encap: false with a NAT in front of the initiator: NAT detected, both sides encapsulate', () => {
    const p = pskPair({ encap: false }, { encap: false }, { natA: true });
    p.a.initiate(p.now, 'gw');
    expect(up(p)).toBe(true);
    expect([p.of('a', 'child-up')[0]!.encap, p.of('b', 'child-up')[0]!.encap]).toEqual([true, true]);
  });
});
