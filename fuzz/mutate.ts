/**
 * A coverage-less, structure-aware mutation engine for the fuzz targets (fuzz/targets.ts).
 *
 * Protocol parsers reject most random bytes at the first length check, so blind bit flipping only
 * explores the front door. The operators here are the ones that get past it on IKE, ESP, DER and
 * pcap inputs, all of which are length-prefixed big- or little-endian structures:
 *
 *   bit flip, byte set to 0x00 / 0xff / random / ±1, truncation, extension (zeros, random, a copy
 *   of the tail), 16- and 32-bit big-endian *and* little-endian integer edits at aligned offsets
 *   (±1, 0, 0xffff / 0xffffffff, the remaining length: that is what "length field" edits need),
 *   chunk deletion, duplication and overwrite, and splicing with another seed.
 *
 * Deterministic: every choice comes from `Prng` (xorshift128+ style, 32-bit safe), seeded by the
 * caller, so a run is reproducible from `--seed` and the iteration number.
 */

/** Small deterministic PRNG (xoshiro128**; 32-bit integer arithmetic only). */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 to spread the seed over the state (an all-zero state would be stuck).
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  /** Uniform uint32. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform integer in [0, n) (n ≥ 1). */
  below(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.below(n) === 0;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Longest input the mutator produces (keeps every target's per-input time bounded). */
export const MAX_MUTATED_LENGTH = 70_000;

/** Names of the operators, indexed as `mutateOnce` picks them (for statistics and docs). */
export const MUTATORS = [
  'bit-flip',
  'byte-special',
  'byte-random',
  'byte-arith',
  'truncate',
  'extend',
  'int16',
  'int32',
  'chunk-delete',
  'chunk-duplicate',
  'chunk-overwrite',
  'splice',
] as const;
export type MutatorName = (typeof MUTATORS)[number];

const SPECIAL_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x20];

/** Writes `v` as an n-byte integer at `off` (big- or little-endian). */
function writeInt(b: Uint8Array, off: number, n: 2 | 4, v: number, le: boolean): void {
  for (let i = 0; i < n; i++) {
    const shift = 8 * (le ? i : n - 1 - i);
    b[off + i] = (v / 2 ** shift) & 0xff;
  }
}

function readInt(b: Uint8Array, off: number, n: 2 | 4, le: boolean): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[off + (le ? n - 1 - i : i)]!;
  return v;
}

/** An integer edit interesting for a length field of `n` bytes at `off` in `b`. */
function intEdit(rng: Prng, b: Uint8Array, off: number, n: 2 | 4, le: boolean): void {
  const max = n === 2 ? 0xffff : 0xffffffff;
  const cur = readInt(b, off, n, le);
  let v: number;
  switch (rng.below(8)) {
    case 0: v = cur + 1; break;
    case 1: v = cur - 1; break;
    case 2: v = 0; break;
    case 3: v = max; break;
    case 4: v = n === 2 ? 0x8000 : 0x80000000; break;
    case 5: v = b.length - off; break; // "the rest of the buffer"
    case 6: v = b.length; break;
    default: v = cur + rng.below(33) - 16; break;
  }
  writeInt(b, off, n, ((v % (max + 1)) + (max + 1)) % (max + 1), le);
}

/** An aligned offset for an `n`-byte field, or -1 when `b` is too short. */
function alignedOffset(rng: Prng, len: number, n: number): number {
  if (len < n) return -1;
  // Protocol headers put their length fields on 2/4-byte boundaries; sometimes pick any offset.
  if (rng.oneIn(4)) return rng.below(len - n + 1);
  const slots = Math.floor((len - n) / n) + 1;
  return rng.below(slots) * n;
}

/** Applies one random operator to `input` (not modified) and returns the result. */
export function mutateOnce(rng: Prng, input: Uint8Array, seeds: readonly Uint8Array[]): Uint8Array {
  const len = input.length;
  const op = rng.below(MUTATORS.length);
  let b: Uint8Array = input.slice();
  switch (MUTATORS[op]) {
    case 'bit-flip':
      if (len > 0) {
        const i = rng.below(len);
        b[i] ^= 1 << rng.below(8);
      }
      break;
    case 'byte-special':
      if (len > 0) b[rng.below(len)] = SPECIAL_BYTES[rng.below(SPECIAL_BYTES.length)]!;
      break;
    case 'byte-random':
      if (len > 0) b[rng.below(len)] = rng.u32() & 0xff;
      break;
    case 'byte-arith':
      if (len > 0) {
        const i = rng.below(len);
        b[i] = (b[i]! + (rng.oneIn(2) ? 1 : 255)) & 0xff;
      }
      break;
    case 'truncate':
      if (len > 0) b = b.slice(0, rng.oneIn(3) ? rng.below(len) : len - 1 - rng.below(Math.min(len, 16)));
      break;
    case 'extend': {
      const n = rng.oneIn(8) ? rng.below(2048) : 1 + rng.below(16);
      const ext = rng.below(3) === 0 ? new Uint8Array(n) : rng.oneIn(2) ? rng.bytes(n) : input.slice(Math.max(0, len - n));
      b = concat(input, ext);
      break;
    }
    case 'int16': {
      const off = alignedOffset(rng, len, 2);
      if (off >= 0) intEdit(rng, b, off, 2, rng.oneIn(4));
      break;
    }
    case 'int32': {
      const off = alignedOffset(rng, len, 4);
      if (off >= 0) intEdit(rng, b, off, 4, rng.oneIn(4));
      break;
    }
    case 'chunk-delete':
      if (len > 1) {
        const start = rng.below(len);
        const n = 1 + rng.below(Math.min(len - start, 64));
        b = concat(input.subarray(0, start), input.subarray(start + n));
      }
      break;
    case 'chunk-duplicate':
      if (len > 0) {
        const start = rng.below(len);
        const n = 1 + rng.below(Math.min(len - start, 256));
        const at = rng.below(len + 1);
        b = concat(input.subarray(0, at), input.subarray(start, start + n), input.subarray(at));
      }
      break;
    case 'chunk-overwrite':
      if (len > 1) {
        const src = rng.below(len);
        const dst = rng.below(len);
        const n = 1 + rng.below(Math.min(len - Math.max(src, dst), 64));
        b.set(input.subarray(src, src + n), dst);
      }
      break;
    case 'splice': {
      const other = seeds.length > 0 ? seeds[rng.below(seeds.length)]! : rng.bytes(32);
      const cut = rng.below(len + 1);
      const from = rng.below(other.length + 1);
      // Either "head of input + tail of other" or "insert a chunk of other".
      if (rng.oneIn(2)) b = concat(input.subarray(0, cut), other.subarray(from));
      else b = concat(input.subarray(0, cut), other.subarray(from, from + 1 + rng.below(128)), input.subarray(cut));
      break;
    }
  }
  return b.length > MAX_MUTATED_LENGTH ? b.slice(0, MAX_MUTATED_LENGTH) : b;
}

/**
 * One fuzz input: a seed (sometimes an empty or random buffer) with 1..`maxStack` stacked
 * mutations; now and then the unmodified seed itself, so invariants about valid inputs are checked too.
 */
export function nextInput(rng: Prng, seeds: readonly Uint8Array[], maxStack = 6): Uint8Array {
  if (seeds.length === 0 || rng.oneIn(64)) return rng.bytes(rng.below(512));
  const seed = seeds[rng.below(seeds.length)]!;
  if (rng.oneIn(50)) return seed.slice();
  let b: Uint8Array = seed;
  const n = 1 + (rng.oneIn(3) ? rng.below(maxStack) : 0);
  for (let i = 0; i < n; i++) b = mutateOnce(rng, b, seeds);
  return b === seed ? seed.slice() : b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
