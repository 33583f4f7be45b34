/**
 * ESP anti-replay window (RFC 4303 §3.4.3) as the ring bitmap of RFC 6479, with the Extended Sequence
 * Number high-order inference of RFC 4303 Appendix A.2.2.
 *
 * RFC 6479 §2: the bitmap is an array of 32-bit words used as a ring. Bit `seq mod N` (N = 32·words,
 * a power of two) records whether `seq` was received. Advancing the window never shifts bits: it
 * zeroes the whole words between the old top's word and the new one (at most `words` of them) and
 * moves the top. The window of size W accepts `top - W < seq`; one spare word keeps the oldest
 * in-window bits from being zeroed (W ≤ 32·(words − 1)).
 *
 *        word (top>>5)&mask      word (seq>>5)&mask
 *   ... [ 32 bits ][ 32 bits ]...[ 32 bits ] ...     zero words in between, set bit seq&31
 *
 * Sequence numbers are 64-bit (ESN) kept as two uint32 halves (`hi`, `lo`): no BigInt, and JS doubles
 * lose precision above 2^53. Non-ESN SAs use hi = 0.
 *
 * Use: `check` before decrypting (cheap rejection of replays, RFC 4303 §3.4.3), `commit` only after the
 * ICV verified (so forged packets cannot move the window).
 */

/** Smallest and largest configurable window (bits). 0 is not allowed: anti-replay is always on. */
export const REPLAY_WINDOW_MIN = 32;
export const REPLAY_WINDOW_MAX = 65536;
/** Default window size (strongSwan and Linux default to 32; RFC 4303 recommends ≥ 64; DESIGN.md ≥ 128). */
export const REPLAY_WINDOW_DEFAULT = 128;

const TWO32 = 4294967296;

export class ReplayWindow {
  /** Window size W in sequence numbers. */
  readonly size: number;
  /** Highest authenticated sequence number so far (0,0 = none yet). */
  topHi = 0;
  topLo = 0;
  private readonly bitmap: Uint32Array;
  private readonly mask: number; // words - 1

  constructor(size: number = REPLAY_WINDOW_DEFAULT) {
    if (!Number.isInteger(size) || size < REPLAY_WINDOW_MIN || size > REPLAY_WINDOW_MAX) {
      throw new RangeError(`replayWindow: must be an integer in ${REPLAY_WINDOW_MIN}..${REPLAY_WINDOW_MAX}, got ${size}`);
    }
    this.size = size;
    let words = 1;
    const need = Math.ceil(size / 32) + 1;
    while (words < need) words <<= 1;
    this.bitmap = new Uint32Array(words);
    this.mask = words - 1;
  }

  /** Bitmap words in the ring (a power of two). */
  get words(): number {
    return this.mask + 1;
  }

  /**
   * True when (hi, lo) is acceptable: newer than the top, or inside the window and not yet seen.
   * Sequence number 0 is never valid (RFC 4303 §2.2: the first packet has sequence number 1).
   */
  check(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) return false;
    const th = this.topHi;
    const tl = this.topLo;
    if (hi > th || (hi === th && lo > tl)) return true;
    let diff: number;
    if (hi === th) diff = tl - lo;
    else if (hi + 1 === th) diff = tl + TWO32 - lo;
    else return false;
    if (diff >= this.size) return false;
    return (this.bitmap[(lo >>> 5) & this.mask]! & (1 << (lo & 31))) === 0;
  }

  /**
   * Records (hi, lo) as received, advancing the window if it is the new top. Returns false (and
   * changes nothing) if the number is not acceptable — call only after the ICV verified.
   */
  commit(hi: number, lo: number): boolean {
    if (!this.check(hi, lo)) return false;
    const th = this.topHi;
    const tl = this.topLo;
    const bitmap = this.bitmap;
    const mask = this.mask;
    if (hi > th || (hi === th && lo > tl)) {
      // RFC 6479 §2.3: zero the words strictly after the old top's word up to the new top's word.
      const topWord = tl >>> 5;
      let wordDiff: number;
      if (hi === th) wordDiff = (lo >>> 5) - topWord;
      else if (hi === th + 1) wordDiff = (lo >>> 5) + 0x8000000 - topWord;
      else wordDiff = mask + 1;
      if (wordDiff > mask + 1) wordDiff = mask + 1;
      for (let i = 1; i <= wordDiff; i++) bitmap[(topWord + i) & mask] = 0;
      this.topHi = hi;
      this.topLo = lo;
    }
    const w = (lo >>> 5) & mask;
    bitmap[w] = bitmap[w]! | (1 << (lo & 31));
    return true;
  }

  /**
   * Resets the window so that (hi, lo) is the top, marked received, and nothing below it is (an SA
   * installed mid-stream, e.g. migrated state, or checking a single packet by hand). (0, 0) = fresh.
   */
  reset(hi: number, lo: number): void {
    if (!isUint32(hi) || !isUint32(lo)) throw new RangeError('replay reset: hi/lo must be uint32');
    this.bitmap.fill(0);
    this.topHi = hi;
    this.topLo = lo;
    if (hi !== 0 || lo !== 0) {
      const w = (lo >>> 5) & this.mask;
      this.bitmap[w] = this.bitmap[w]! | (1 << (lo & 31));
    }
  }
}

function isUint32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/**
 * RFC 4303 Appendix A.2.2: infers the high-order 32 bits of a received ESN sequence number from its
 * low-order bits `seqLo`, the highest authenticated number (topHi, topLo) and the window size W.
 *
 *   Case A (Tl ≥ W − 1, the window lies in one 2^32 subspace):
 *     Seql ≥ Tl − W + 1  → Seqh = Th       else  Seqh = Th + 1
 *   Case B (Tl < W − 1, the window spans two subspaces):
 *     Seql ≥ Tl − W + 1 (mod 2^32) → Seqh = Th − 1   else  Seqh = Th
 *
 * Returns −1 when the inferred value would leave the 64-bit space (Th − 1 < 0 or Th + 1 > 2^32 − 1):
 * such a packet can only be a replay or garbage.
 */
export function inferSeqHi(topHi: number, topLo: number, window: number, seqLo: number): number {
  const bottom = (topLo - window + 1) >>> 0; // Tl − W + 1 mod 2^32
  if (topLo >= window - 1) {
    if (seqLo >= bottom) return topHi;
    return topHi === 0xffffffff ? -1 : topHi + 1;
  }
  if (seqLo >= bottom) return topHi === 0 ? -1 : topHi - 1;
  return topHi;
}
