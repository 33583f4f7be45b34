/**
 * Loss, duplication and delay on the IKE path (in-memory network; `tc netem` is not available on
 * the CI kernel): after child and IKE rekeys each side holds exactly one IKE SA and one child SA,
 * the two sides agree on the SPIs (no leaked SA, no duplicate child), and the survivors still work.
 */
import { describe, expect, it } from 'vitest';
import { Pair, pskConn } from '../../exchange/harness.js';

function consistent(p: Pair): void {
  const a = p.a.status().filter((s) => s.state === 'established');
  const b = p.b.status().filter((s) => s.state === 'established');
  expect(p.a.status().length, JSON.stringify(p.a.status())).toBe(1);
  expect(p.b.status().length, JSON.stringify(p.b.status())).toBe(1);
  expect(a.length).toBe(1);
  expect(b.length).toBe(1);
  expect([a[0]!.spiI, a[0]!.spiR]).toEqual([b[0]!.spiI, b[0]!.spiR]);
  expect(a[0]!.children.length).toBe(1);
  expect(b[0]!.children.length).toBe(1);
  expect(a[0]!.children[0]!.spiIn).toBe(b[0]!.children[0]!.spiOut);
  expect(a[0]!.children[0]!.spiOut).toBe(b[0]!.children[0]!.spiIn);
  expect(p.a.internalErrors + p.b.internalErrors).toBe(0);
}

describe('rekeys over a lossy, duplicating, delaying IKE path', () => {
  for (const seed of [11, 12, 13, 14]) {
    it(`seed ${seed}: child and IKE rekeys from both sides leave one IKE SA and one child, in agreement`, () => {
      const net = { loss: 0.2, dup: 0.2, delayMs: 20, jitterMs: 150, seed };
      const limits = { halfOpenTimeoutMs: 200_000 };
      const p = new Pair({ connections: [pskConn('a')], limits }, { connections: [pskConn('b')], limits }, net);
      p.a.initiate(p.now, 'gw');
      expect(p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0, 300_000)).toBe(true);
      p.run(60_000);
      for (const [side, ep] of [['a', p.a], ['b', p.b], ['a', p.a]] as const) {
        const before = p.count(side, 'child-rekeyed');
        ep.rekeyChild(p.now, ep.status()[0]!.children[0]!.spiIn);
        expect(p.runUntil(() => p.count(side, 'child-rekeyed') > before, 300_000), `${side} child rekey`).toBe(true);
        p.run(60_000);
        consistent(p);
      }
      for (const [side, ep] of [['b', p.b], ['a', p.a]] as const) {
        const before = p.count(side, 'ike-rekeyed');
        ep.rekeyIke(p.now, ep.status()[0]!.ikeId);
        expect(p.runUntil(() => p.count(side, 'ike-rekeyed') > before, 300_000), `${side} IKE rekey`).toBe(true);
        // The replaced SA can outlive the rekey by more than a minute when its Delete had to wait for
        // an exchange in flight on it (seen with seeds 11 and 14; reported to the IKE engine owner);
        // it must be gone within 10 minutes.
        p.run(600_000);
        consistent(p);
      }
      expect([...p.of('a', 'ike-down'), ...p.of('b', 'ike-down')].map((e) => `${e.reason} ${e.detail ?? ''}`)).toEqual([]);
      expect(p.count('a', 'child-up')).toBe(1);
      expect(p.count('b', 'child-up')).toBe(1);
    });
  }
});
