/**
 * Every ordering of two concurrent exchanges (RFC 7296 §2.8.1, §2.8.2, §2.25), as strongSwan's
 * test_child_rekey.c / test_ike_rekey.c enumerate them: A starts one operation, B starts another
 * `offset` ms later on a 5 ms one-way path, so B's request leaves before A's arrives (0, 1, 4),
 * after A's request arrived but before A has B's answer (6, 9), or after A's exchange finished
 * (11, 20, 40); with two seed pairs, so either side's nonces may be the lowest (§2.8.1).
 *
 *   A: rekey-child | delete-child | rekey-ike | delete-ike     B: the same list
 *
 * Invariant after everything settles: one IKE SA on each side with the same SPIs (none after a
 * delete-ike), the expected number of children in mirror image, every child installed, the
 * runtime's view from events equal to the engine's, every down event with a reason, no internal
 * error.
 */
import { describe, expect, it } from 'vitest';
import type { IkeEvent } from '../../src/ike/events.js';
import { Pair, pskConn } from './harness.js';

type Op = 'rekey-child' | 'delete-child' | 'rekey-ike' | 'delete-ike';
const OPS: readonly Op[] = ['rekey-child', 'delete-child', 'rekey-ike', 'delete-ike'];
const OFFSETS = [0, 1, 4, 6, 9, 11, 20, 40];
const SEEDS: readonly [number, number][] = [[1, 2], [7, 3]];

function start(p: Pair, side: 'a' | 'b', op: Op): void {
  const ep = side === 'a' ? p.a : p.b;
  const st = ep.status().find((s) => s.state === 'established');
  if (!st) return; // already gone (the other side's delete-ike won the race)
  const child = st.children.find((c) => c.state === 'installed');
  switch (op) {
    case 'rekey-child':
      if (child) ep.rekeyChild(p.now, child.spiIn);
      return;
    case 'delete-child':
      if (child) ep.terminateChild(p.now, child.spiIn);
      return;
    case 'rekey-ike':
      return ep.rekeyIke(p.now, st.ikeId);
    case 'delete-ike':
      return ep.terminateIke(p.now, st.ikeId);
  }
}

function runtimeView(events: readonly IkeEvent[]): number[] {
  const s = new Set<number>();
  for (const e of events) {
    if (e.type === 'child-up') s.add(e.spiIn);
    else if (e.type === 'child-rekeyed') s.add(e.child.spiIn);
    else if (e.type === 'child-down') s.delete(e.spiIn);
    else if (e.type === 'ike-down') s.clear();
  }
  return [...s].sort((x, y) => x - y);
}

const REASONS = new Set(['local', 'peer', 'rekeyed', 'expired', 'ike-down', 'rekey-collision', 'timeout', 'dpd', 'auth-failed', 'no-proposal', 'error', 'half-open-timeout']);

function check(p: Pair, a: Op, b: Op, label: string): void {
  expect(p.a.internalErrors + p.b.internalErrors, `${label}: ${p.a.lastInternalError ?? p.b.lastInternalError}`).toBe(0);
  const sa = p.a.status();
  const sb = p.b.status();
  for (const e of [...p.eventsA, ...p.eventsB]) {
    if (e.type === 'child-down' || e.type === 'ike-down') expect(REASONS.has(e.reason), `${label}: ${e.type} reason ${e.reason}`).toBe(true);
  }
  if (a === 'delete-ike' || b === 'delete-ike') {
    expect(sa.length + sb.length, label).toBe(0);
    expect(runtimeView(p.eventsA), label).toEqual([]);
    expect(runtimeView(p.eventsB), label).toEqual([]);
    expect(p.count('a', 'ike-down'), label).toBe(1);
    expect(p.count('b', 'ike-down'), label).toBe(1);
    return;
  }
  expect(p.count('a', 'ike-down') + p.count('b', 'ike-down'), label).toBe(0);
  expect([sa.length, sb.length], label).toEqual([1, 1]);
  expect(sa[0]!.spiI, label).toBe(sb[0]!.spiI);
  expect(sa[0]!.spiR, label).toBe(sb[0]!.spiR);
  const children = a === 'delete-child' || b === 'delete-child' ? 0 : 1;
  const ca = sa[0]!.children;
  const cb = sb[0]!.children;
  expect([ca.length, cb.length], label).toEqual([children, children]);
  expect(ca.map((c) => c.spiIn).sort(), label).toEqual(cb.map((c) => c.spiOut).sort());
  expect(ca.map((c) => c.spiOut).sort(), label).toEqual(cb.map((c) => c.spiIn).sort());
  expect(ca.every((c) => c.state === 'installed') && cb.every((c) => c.state === 'installed'), label).toBe(true);
  expect(runtimeView(p.eventsA), label).toEqual(ca.map((c) => c.spiIn).sort((x, y) => x - y));
  expect(runtimeView(p.eventsB), label).toEqual(cb.map((c) => c.spiIn).sort((x, y) => x - y));
}

describe('two concurrent exchanges in every ordering (§2.8.1, §2.8.2, §2.25)', () => {
  for (const a of OPS) {
    for (const b of OPS) {
      it(`A ${a} vs B ${b}, B starting ${OFFSETS.join('/')} ms later, both nonce outcomes`, () => {
        for (const [seedA, seedB] of SEEDS) {
          for (const offset of OFFSETS) {
            const p = new Pair({ connections: [pskConn('a')] }, { connections: [pskConn('b')] }, { delayMs: 5 }, seedA, seedB);
            p.a.initiate(p.now, 'gw');
            expect(p.runUntil(() => p.count('a', 'child-up') > 0 && p.count('b', 'child-up') > 0)).toBe(true);
            p.run(1000);
            start(p, 'a', a);
            if (offset > 0) p.run(offset);
            start(p, 'b', b);
            p.run(300_000);
            check(p, a, b, `A ${a} / B ${b} offset ${offset} seeds ${seedA},${seedB}`);
          }
        }
      });
    }
  }
});
