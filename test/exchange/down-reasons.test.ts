/**
 * Every down event carries a reason (the "events … each with a reason"); the ones other
 * files do not reach: a child and an IKE SA past their hard lifetime because their rekey never gets
 * through ('expired'), a request the peer never answers ('timeout'), a responder SA never
 * authenticated ('half-open-timeout').
 */
import { describe, expect, it } from 'vitest';
import { pskPair } from './harness.js';

const CREATE_CHILD_SA = 36;
const IKE_AUTH = 35;

describe('down events and their reasons', () => {
  it('child rekey requests lost: the child goes at its hard lifetime with reason expired', () => {
    const p = pskPair({}, {}, { delayMs: 5 }, { rekeyTimeMs: 10_000, lifeTimeMs: 12_000, randTimeMs: 0 });
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1 && p.count('b', 'child-up') === 1)).toBe(true);
    p.filter = (from, d) => !(from === 'a' && d.data[18] === CREATE_CHILD_SA);
    expect(p.runUntil(() => p.count('a', 'child-down') === 1, 13_000)).toBe(true);
    expect(p.of('a', 'child-down')[0]!.reason).toBe('expired');
    expect(p.now).toBeGreaterThanOrEqual(12_000); // not before the hard lifetime (child up at ~20 ms)
    expect(p.a.status()[0]!.children).toEqual([]);
  });

  it('IKE rekey requests lost: the IKE SA goes at its hard lifetime with reason expired', () => {
    const p = pskPair({ rekeyTimeMs: 10_000, ikeLifetimeMs: 12_000, randTimeMs: 0 }, {}, { delayMs: 5 });
    p.a.initiate(p.now, 'gw');
    expect(p.runUntil(() => p.count('a', 'child-up') === 1)).toBe(true);
    p.filter = (from, d) => !(from === 'a' && d.data[18] === CREATE_CHILD_SA);
    expect(p.runUntil(() => p.count('a', 'ike-down') === 1, 13_000)).toBe(true);
    expect(p.of('a', 'ike-down')[0]!.reason).toBe('expired');
    expect(p.of('a', 'child-down')[0]!.reason).toBe('ike-down');
  });

  it('the peer never answers IKE_SA_INIT: retransmissions give up with reason timeout', () => {
    const p = pskPair();
    p.down.b = true;
    p.a.initiate(p.now, 'gw');
    // 4 s × 1.8^n, 5 retransmits: 4 + 7.2 + 13 + 23.3 + 42 + 75.6 ≈ 165 s.
    expect(p.runUntil(() => p.count('a', 'ike-down') === 1, 200_000)).toBe(true);
    expect(p.of('a', 'ike-down')[0]!.reason).toBe('timeout');
    expect(p.a.counters.retransmitsSent).toBe(5);
  });

  it('the initiator never sends IKE_AUTH: the responder drops its half-open SA after halfOpenTimeoutMs, silently (the runtime never heard of it)', () => {
    const p = pskPair();
    p.filter = (from, d) => !(from === 'a' && d.data[18] === IKE_AUTH);
    p.a.initiate(p.now, 'gw');
    p.run(29_000);
    expect(p.b.counters.halfOpen).toBe(1);
    expect(p.b.status().map((s) => s.state)).toEqual(['half-open']);
    p.run(2_000);
    expect(p.b.counters.halfOpen).toBe(0);
    expect(p.b.status()).toEqual([]);
    expect(p.eventsB).toEqual([]);
  });
});
