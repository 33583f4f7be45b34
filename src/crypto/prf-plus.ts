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
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const iterations = Math.ceil(length / prf.outputLength);
  if (iterations > PRF_PLUS_MAX_ITERATIONS) {
    throw new Error(`prfPlus: length ${length} needs ${iterations} iterations, more than ${PRF_PLUS_MAX_ITERATIONS}`);
  }
  let prev = new Uint8Array(0);
  let offset = 0;
  for (let i = 1; i <= iterations; i++) {
    const input = new Uint8Array(prev.length + seed.length + 1);
    input.set(prev, 0);
    input.set(seed, prev.length);
    input[input.length - 1] = i;
    prev = Uint8Array.from(prf.compute(key, input));
    const take = Math.min(prev.length, length - offset);
    out.set(prev.subarray(0, take), offset);
    offset += take;
  }
  return out;
}
