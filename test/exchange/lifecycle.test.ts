/**
 * Two-endpoint tests after establishment: CREATE_CHILD_SA rekey (child and IKE, collisions),
 * INFORMATIONAL delete and liveness, retransmission and the response cache, bad input.
 */
import { describe, expect, it } from 'vitest';
import { Pair, hexOf, pskConn, pskPair } from './harness.js';

function established(net = {}, a = {}, b = {}): Pair {
  const p = pskPair(a, b, net);
  p.a.initiate(p.now, 'gw');
  expect(p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0)).toBe(true);
  return p;
}

describe('INFORMATIONAL', () => {
  it('HDR, SK {D(ESP)} removes the child on both sides', () => {
    const p = established();
    const ca = p.of('a', 'child-up')[0];
    p.a.terminateChild(p.now, ca.spiIn);
    p.runUntil(() => p.count('a', 'child-down') > 0 && p.count('b', 'child-down') > 0, 5000);
    expect(p.of('a', 'child-down')[0]).toMatchObject({ spiIn: ca.spiIn, reason: 'local' });
    expect(p.of('b', 'child-down')[0]).toMatchObject({ spiIn: ca.spiOut, reason: 'peer' });
    expect(p.a.status()[0].children).toEqual([]);
    expect(p.b.status()[0].children).toEqual([]);
  });

  it('HDR, SK {D(IKE)} takes every child down on both sides', () => {
    const p = established();
    const ikeId = p.of('a', 'ike-up')[0].ikeId;
    p.a.terminateIke(p.now, ikeId);
    p.runUntil(() => p.count('a', 'ike-down') > 0 && p.count('b', 'ike-down') > 0, 5000);
    expect(p.of('a', 'ike-down')[0].reason).toBe('local');
    expect(p.of('b', 'ike-down')[0].reason).toBe('peer');
    expect(p.of('a', 'child-down')[0].reason).toBe('ike-down');
    expect(p.of('b', 'child-down')[0].reason).toBe('ike-down');
    expect(p.a.status()).toEqual([]);
    expect(p.b.status()).toEqual([]);
  });

  it('liveness: answered while the peer lives; with the peer gone, 5 retransmits then ike-down dpd', () => {
    const p = established({}, { dpdDelayMs: 30_000 }, {});
    p.run(60_000);
    // Idle but alive: liveness checks were answered.
    expect(p.count('a', 'ike-down')).toBe(0);
    p.down.b = true;
    p.runUntil(() => p.count('a', 'ike-down') > 0, 400_000);
    expect(p.of('a', 'ike-down')[0].reason).toBe('dpd');
    expect(p.a.counters.retransmitsSent).toBe(5);
  });
});

describe('CREATE_CHILD_SA', () => {
  it('rekeys a child (make-before-break): child-rekeyed, then the old SA goes down on both sides', () => {
    const p = established();
    const ca = p.of('a', 'child-up')[0];
    p.a.rekeyChild(p.now, ca.spiIn);
    p.runUntil(() => p.count('a', 'child-down') > 0 && p.count('b', 'child-down') > 0, 5000);
    const ra = p.of('a', 'child-rekeyed')[0];
    const rb = p.of('b', 'child-rekeyed')[0];
    expect(ra.oldSpiIn).toBe(ca.spiIn);
    expect(ra.child.spiOut).toBe(rb.child.spiIn);
    expect(hexOf(ra.child.keys.encrOut)).toBe(hexOf(rb.child.keys.encrIn));
    expect(hexOf(ra.child.keys.encrOut)).not.toBe(hexOf(ca.keys.encrOut));
    expect(p.of('a', 'child-down')[0]).toMatchObject({ spiIn: ca.spiIn, reason: 'rekeyed' });
    expect(p.of('b', 'child-down')[0]).toMatchObject({ spiIn: ca.spiOut, reason: 'rekeyed' });
    expect(p.a.status()[0].children.map((c) => c.spiIn)).toEqual([ra.child.spiIn]);
    expect(p.b.status()[0].children.map((c) => c.spiIn)).toEqual([rb.child.spiIn]);
  });

  it('rekeys a child with PFS (KE in CREATE_CHILD_SA)', () => {
    const p = established({}, {}, {});
    const q = pskPair({}, {}, {}, { espProposals: ['aes128gcm16-x25519'] }, { espProposals: ['aes128gcm16-x25519'] });
    void p;
    q.a.initiate(q.now, 'gw');
    q.runUntil(() => q.count('a', 'child-up') > 0 && q.count('b', 'child-up') > 0);
    const ca = q.of('a', 'child-up')[0];
    q.b.rekeyChild(q.now, q.of('b', 'child-up')[0].spiIn);
    q.runUntil(() => q.count('a', 'child-down') > 0 && q.count('b', 'child-down') > 0, 5000);
    const ra = q.of('a', 'child-rekeyed')[0];
    const rb = q.of('b', 'child-rekeyed')[0];
    expect(ra.child.algorithms.dhGroup).toBe(31);
    expect(hexOf(rb.child.keys.encrOut)).toBe(hexOf(ra.child.keys.encrIn));
    expect(ra.oldSpiIn).toBe(ca.spiIn);
  });

  it('simultaneous child rekey (§2.8.1): one new SA survives on both sides, same SPIs, no duplicates', () => {
    const p = established({ delayMs: 20 });
    const ca = p.of('a', 'child-up')[0];
    const cb = p.of('b', 'child-up')[0];
    p.a.rekeyChild(p.now, ca.spiIn);
    p.b.rekeyChild(p.now, cb.spiIn);
    p.run(20_000);
    const sa = p.a.status()[0].children;
    const sb = p.b.status()[0].children;
    expect(sa.length).toBe(1);
    expect(sb.length).toBe(1);
    expect(sa[0].spiIn).toBe(sb[0].spiOut);
    expect(sa[0].spiOut).toBe(sb[0].spiIn);
    expect(sa[0].spiIn).not.toBe(ca.spiIn);
    expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
  });

  it('rekey vs delete of the same child: the child ends up gone on both sides', () => {
    const p = established({ delayMs: 20 });
    const ca = p.of('a', 'child-up')[0];
    const cb = p.of('b', 'child-up')[0];
    p.a.rekeyChild(p.now, ca.spiIn);
    p.b.terminateChild(p.now, cb.spiIn);
    p.run(20_000);
    expect(p.a.status()[0].children).toEqual([]);
    expect(p.b.status()[0].children).toEqual([]);
  });

  it('delete vs delete of the same child: each side reports child-down once', () => {
    const p = established({ delayMs: 20 });
    p.a.terminateChild(p.now, p.of('a', 'child-up')[0].spiIn);
    p.b.terminateChild(p.now, p.of('b', 'child-up')[0].spiIn);
    p.run(20_000);
    expect(p.count('a', 'child-down')).toBe(1);
    expect(p.count('b', 'child-down')).toBe(1);
    expect(p.a.status()[0].children).toEqual([]);
  });

  it('rekeys the IKE SA: new SPIs, children move, old SA deleted quietly', () => {
    const p = established();
    const ia = p.of('a', 'ike-up')[0];
    p.a.rekeyIke(p.now, ia.ikeId);
    p.run(20_000);
    const ra = p.of('a', 'ike-rekeyed')[0];
    expect(ra.oldSpiI).toBe(ia.spiI);
    expect(ra.spiI).not.toBe(ia.spiI);
    expect(p.of('b', 'ike-rekeyed')[0].spiR).toBe(ra.spiR);
    expect(p.count('a', 'child-down') + p.count('b', 'child-down') + p.count('a', 'ike-down') + p.count('b', 'ike-down')).toBe(0);
    expect(p.a.status().length).toBe(1);
    expect(p.b.status().length).toBe(1);
    expect(p.a.status()[0].spiI).toBe(ra.spiI);
    // The new IKE SA works: rekey the child through it.
    const ca = p.of('a', 'child-up')[0];
    p.a.rekeyChild(p.now, ca.spiIn);
    p.runUntil(() => p.count('b', 'child-down') > 0, 5000);
    expect(p.count('a', 'child-rekeyed')).toBe(1);
  });

  it('simultaneous IKE rekey: one IKE SA survives on both sides with the child', () => {
    const p = established({ delayMs: 20 });
    p.a.rekeyIke(p.now, p.of('a', 'ike-up')[0].ikeId);
    p.b.rekeyIke(p.now, p.of('b', 'ike-up')[0].ikeId);
    p.run(60_000);
    const sa = p.a.status();
    const sb = p.b.status();
    expect(sa.length).toBe(1);
    expect(sb.length).toBe(1);
    expect(sa[0].spiI).toBe(sb[0].spiI);
    expect(sa[0].children.length).toBe(1);
    expect(sb[0].children.length).toBe(1);
    expect(p.count('a', 'ike-down') + p.count('b', 'ike-down')).toBe(0);
  });

  it('rekeys the child before its lifetime (rekey_time − jitter)', () => {
    const p = pskPair({}, {}, {}, { rekeyTimeMs: 60_000, lifeTimeMs: 70_000 }, { rekeyTimeMs: 600_000 });
    p.a.initiate(p.now, 'gw');
    p.runUntil(() => p.count('b', 'child-up') > 0);
    const t0 = p.now;
    p.runUntil(() => p.count('a', 'child-rekeyed') > 0, 120_000);
    expect(p.now - t0).toBeLessThanOrEqual(60_000);
    expect(p.now - t0).toBeGreaterThanOrEqual(50_000);
  });
});

describe('robustness', () => {
  it('comes up over a lossy, duplicating, reordering network without duplicate children', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      // Half-open timeout above the whole retransmit schedule, so only loss patterns decide.
      const p = new Pair({ connections: [pskConn('a')] }, { connections: [pskConn('b')], limits: { halfOpenTimeoutMs: 200_000 } }, { loss: 0.3, dup: 0.3, delayMs: 5, jitterMs: 300, seed });
      p.a.initiate(p.now, 'gw');
      const ok = p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0, 300_000);
      expect(ok, `seed ${seed}`).toBe(true);
      p.run(200_000);
      expect(p.count('a', 'child-up')).toBe(1);
      expect(p.count('b', 'child-up')).toBe(1);
      expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
    }
  });

  it('a retransmitted request gets the cached response and no second state change', () => {
    const p = established();
    const ca = p.of('a', 'child-up')[0];
    let replay: Uint8Array | undefined;
    p.filter = (from, d) => {
      if (from === 'a' && replay === undefined && d.data[18] === 36) replay = d.data; // CREATE_CHILD_SA request
      return true;
    };
    p.a.rekeyChild(p.now, ca.spiIn);
    p.runUntil(() => p.count('b', 'child-rekeyed') > 0, 5000);
    expect(replay).toBeDefined();
    const before = p.b.counters.retransmitsAnswered;
    p.b.handleDatagram(p.now, { data: replay!, local: { address: '198.18.0.2', port: 500 }, remote: { address: '198.18.0.1', port: 500 } });
    expect(p.b.counters.retransmitsAnswered).toBe(before + 1);
    expect(p.b.pollTransmit()).toBeDefined();
    p.run(5000);
    expect(p.count('b', 'child-rekeyed')).toBe(1);
  });

  it('garbage datagrams are counted drops, never throws', () => {
    const p = established();
    const local = { address: '198.18.0.2', port: 500 };
    const remote = { address: '198.18.0.1', port: 500 };
    const junk = [new Uint8Array(0), new Uint8Array(27), new Uint8Array(28).fill(0xff), new Uint8Array(200).map((_, i) => (i * 37) & 0xff)];
    for (const data of junk) p.b.handleDatagram(p.now, { data, local, remote });
    // A real header for the live SA with a corrupted ICV.
    const st = p.b.status()[0];
    const spiI = Buffer.from(st.spiI, 'hex');
    const spiR = Buffer.from(st.spiR, 'hex');
    const forged = new Uint8Array(28 + 4 + 8 + 16 + 16);
    forged.set(spiI, 0);
    forged.set(spiR, 8);
    forged[16] = 46; forged[17] = 0x20; forged[18] = 37; forged[19] = 0x08;
    forged[22] = 0; forged[23] = 5; // Message ID 5 (in window after 1 request? counts as out-of-window)
    new DataView(forged.buffer).setUint32(24, forged.length);
    forged[28] = 0; forged[31] = forged.length - 28;
    p.b.handleDatagram(p.now, { data: forged, local, remote });
    new DataView(forged.buffer).setUint32(20, 1);
    p.b.handleDatagram(p.now, { data: forged, local, remote });
    const c = p.b.counters;
    expect(c.dropDecode + c.dropIcv + c.dropOutOfWindow + c.dropUnknownSpi + c.dropRules + c.dropRetransmitOld).toBeGreaterThanOrEqual(junk.length + 2);
    expect(p.b.internalErrors).toBe(0);
    expect(p.b.status()[0].state).toBe('established');
  });
});
