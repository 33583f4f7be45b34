/**
 * Deterministic RandomSource for reproducible tests and simulations (NOT for production keys).
 *
 * Output = ChaCha20 keystream (RFC 8439 §2.4, via @noble/ciphers) with key = SHA-256(seed bytes),
 * all-zero 96-bit nonce, block counter starting at 0. A number seed is encoded as its 8-byte
 * IEEE-754 big-endian form, so seededRandom(1) and seededRandom(new Uint8Array([1])) differ.
 * The stream is consumed in order across fill() calls, whatever the call sizes.
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { RandomSource } from './types.js';

const CHUNK_BLOCKS = 64;
const BLOCK = 64;
const NONCE = new Uint8Array(12);

export function seededRandom(seed: number | Uint8Array): RandomSource {
  let seedBytes: Uint8Array;
  if (typeof seed === 'number') {
    seedBytes = new Uint8Array(8);
    new DataView(seedBytes.buffer).setFloat64(0, seed, false);
  } else {
    seedBytes = seed;
  }
  const key = sha256(seedBytes);
  const zeros = new Uint8Array(CHUNK_BLOCKS * BLOCK);
  const chunk = new Uint8Array(CHUNK_BLOCKS * BLOCK);
  let counter = 0;
  let pos = chunk.length; // empty

  function refill(): void {
    chacha20(key, NONCE, zeros, chunk, counter);
    counter += CHUNK_BLOCKS;
    pos = 0;
  }

  return {
    fill(out: Uint8Array): Uint8Array {
      let o = 0;
      while (o < out.length) {
        if (pos === chunk.length) refill();
        const n = Math.min(out.length - o, chunk.length - pos);
        out.set(chunk.subarray(pos, pos + n), o);
        pos += n;
        o += n;
      }
      return out;
    },
  };
}
