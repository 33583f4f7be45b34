/** RFC 6479 replay window and RFC 4303 Appendix A ESN inference. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inferSeqHi, ReplayWindow } from '../../../src/esp/replay.js';

/** Reference model: a Set of seen 64-bit numbers and the top, per RFC 4303 §3.4.3. */
class Model {
  top = 0n;
  seen = new Set<bigint>();
  constructor(readonly w: number) {}
  check(s: bigint): boolean {
    if (s === 0n) return false;
    if (s > this.top) return true;
    if (this.top - s >= BigInt(this.w)) return false;
    return !this.seen.has(s);
  }
  commit(s: bigint): boolean {
    if (!this.check(s)) return false;
    this.seen.add(s);
    if (s > this.top) this.top = s;
    return true;
  }
}

const split = (s: bigint): [number, number] => [Number(s >> 32n), Number(s & 0xffffffffn)];

describe('ReplayWindow (RFC 6479)', () => {
  for (const w of [32, 128, 4096]) {
    describe(`window ${w}`, () => {
      it('accepts new numbers, rejects duplicates, too-old ones, and accepts far-ahead jumps', () => {
        const r = new ReplayWindow(w);
        expect(r.size).toBe(w);
        expect(r.check(0, 0)).toBe(false); // sequence number 0 is never valid
        expect(r.commit(0, 1)).toBe(true);
        expect(r.commit(0, 1)).toBe(false); // duplicate
        expect(r.commit(0, 5)).toBe(true);
        expect(r.commit(0, 3)).toBe(true); // in window, out of order
        expect(r.check(0, 3)).toBe(false);
        expect(r.check(0, 2)).toBe(true);
        // far ahead: a jump much larger than the bitmap
        expect(r.commit(0, 1_000_000)).toBe(true);
        expect([r.topHi, r.topLo]).toEqual([0, 1_000_000]);
        // right edge of the window: top - (w - 1) is in, top - w is too old
        expect(r.check(0, 1_000_000 - (w - 1))).toBe(true);
        expect(r.check(0, 1_000_000 - w)).toBe(false);
        expect(r.check(0, 5)).toBe(false);
        // bits from before the jump must not survive the ring wrap-around
        expect(r.commit(0, 1_000_000 - (w - 1))).toBe(true);
        expect(r.commit(0, 1_000_000 - (w - 1))).toBe(false);
      });

      it('matches a reference model on random 64-bit traffic (fast-check)', () => {
        fc.assert(
          fc.property(
            fc.bigInt({ min: 1n, max: (1n << 64n) - 20000n }),
            fc.array(fc.integer({ min: -w - 40, max: 3 * w }), { minLength: 1, maxLength: 300 }),
            (base, steps) => {
              const r = new ReplayWindow(w);
              const m = new Model(w);
              let cur = base;
              for (const st of steps) {
                cur += BigInt(st);
                if (cur < 1n) cur = 1n;
                const [hi, lo] = split(cur);
                expect(r.check(hi, lo)).toBe(m.check(cur));
                expect(r.commit(hi, lo)).toBe(m.commit(cur));
                expect((BigInt(r.topHi) << 32n) | BigInt(r.topLo)).toBe(m.top);
              }
            },
          ),
          { numRuns: 60 },
        );
      });
    });
  }

  it('advances across the 2^32 boundary (ESN) and keeps the window across it', () => {
    const r = new ReplayWindow(128);
    r.reset(0, 0xffffffe0);
    expect(r.check(0, 0xffffffe0)).toBe(false); // reset marks the top itself as received
    expect(r.check(0, 0xffffffdf)).toBe(true);
    expect(r.commit(0, 0xfffffff0)).toBe(true);
    expect(r.commit(1, 5)).toBe(true);
    expect(r.check(0, 0xfffffff0)).toBe(false); // seen
    expect(r.check(0, 0xfffffff1)).toBe(true); // in window, unseen
    expect(r.check(0, 0xffffff80 + 5)).toBe(false); // 128 behind
    expect(r.check(0, 0xffffff80 + 6)).toBe(true); // 127 behind
  });

  it('rejects bad window sizes naming the field', () => {
    expect(() => new ReplayWindow(16)).toThrow(/replayWindow/);
    expect(() => new ReplayWindow(1 << 20)).toThrow(/replayWindow/);
    expect(() => new ReplayWindow(100.5)).toThrow(/replayWindow/);
    expect(new ReplayWindow(100).words).toBe(8); // ceil(100/32) + 1 spare = 5 words, rounded up to a power of two
  });
});

describe('inferSeqHi (RFC 4303 Appendix A.2.2)', () => {
  const W = 64;
  it('case A: window inside one subspace', () => {
    expect(inferSeqHi(3, 1000, W, 1000 - 63)).toBe(3); // bottom of window
    expect(inferSeqHi(3, 1000, W, 5000)).toBe(3); // ahead
    expect(inferSeqHi(3, 1000, W, 1000 - 64)).toBe(4); // below the window → next subspace
    expect(inferSeqHi(3, 0xfffffff0, W, 2)).toBe(4); // wrapped
    expect(inferSeqHi(0xffffffff, 0xfffffff0, W, 2)).toBe(-1); // would leave 2^64
  });
  it('case B: window spans two subspaces', () => {
    expect(inferSeqHi(3, 10, W, 0xfffffff0)).toBe(2); // just before the boundary, in window
    expect(inferSeqHi(3, 10, W, 5)).toBe(3);
    expect(inferSeqHi(3, 10, W, 1_000_000)).toBe(3); // ahead
    expect(inferSeqHi(0, 10, W, 0xfffffff0)).toBe(-1); // before the start of the SA
  });
  it('agrees with the closest-value rule on random inputs (fast-check)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n << 33n, max: (1n << 64n) - (1n << 33n) }), fc.integer({ min: -(W - 1), max: 2 ** 31 }), (top, delta) => {
        const s = top + BigInt(delta);
        const [th, tl] = split(top);
        const [sh, sl] = split(s);
        expect(inferSeqHi(th, tl, W, sl)).toBe(sh);
      }),
      { numRuns: 500 },
    );
  });
});
