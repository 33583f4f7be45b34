/**
 * prf+ (RFC 7296 §2.13): the key-stream expansion every IKEv2 key derivation uses.
 *
 *   prf+ (K,S) = T1 | T2 | T3 | T4 | ...
 *   T1 = prf (K, S | 0x01)
 *   T2 = prf (K, T1 | S | 0x02)
 *   T3 = prf (K, T2 | S | 0x03)
 *
 * "The prf+ function is not defined beyond 255 times the size of the prf function output."
 */
import type { Prf } from './types.js';

/** Upper bound on the prf+ block counter (a single octet, RFC 7296 §2.13). */
export const PRF_PLUS_MAX_ITERATIONS = 255;

/**
 * Returns the first `length` bytes of prf+(key, seed). Throws (a programmer error) when `length`
 * needs more than 255 prf iterations or is negative.
 */
export function prfPlus(prf: Prf, key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0) throw new Error(`prfPlus: length ${length} is not a non-negative integer`);
  if (length === 0) return new Uint8Array(0);
  const iterations = Math.ceil(length / prf.outputLength);
  if (iterations > PRF_PLUS_MAX_ITERATIONS) {
    throw new Error(`prfPlus: length ${length} needs ${iterations} iterations, more than ${PRF_PLUS_MAX_ITERATIONS}`);
  }
  if (prf.plus !== undefined) return prf.plus(key, seed, length);
  // T1..Tn into one output buffer; one input buffer T(i-1) | S | i reused for every block.
  const h = prf.outputLength;
  const out = new Uint8Array(length);
  const input = new Uint8Array(h + seed.length + 1);
  input.set(seed, h);
  for (let i = 1; i <= iterations; i++) {
    input[h + seed.length] = i;
    const t = prf.compute(key, i === 1 ? input.subarray(h) : input);
    if (t.length !== h) throw new Error(`prfPlus: prf returned ${t.length} bytes, outputLength is ${h}`);
    const offset = (i - 1) * h;
    out.set(length - offset >= h ? t : t.subarray(0, length - offset), offset);
    input.set(t, 0);
  }
  input.fill(0);
  return out;
}
