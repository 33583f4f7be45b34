/** seededRandom: deterministic, seed-sensitive, and equal to the ChaCha20 keystream it documents. */
import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/crypto/seeded-random.js';

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('seededRandom', () => {
  it('is the ChaCha20 keystream under sha256(seed) with a zero nonce (checked with node:crypto)', () => {
    const seed = new Uint8Array([1, 2, 3]);
    const key = createHash('sha256').update(seed).digest();
    // node's 'chacha20' takes a 16-byte IV = 32-bit LE counter ‖ 96-bit nonce
    const c = createCipheriv('chacha20', key, Buffer.alloc(16));
    const expected = c.update(Buffer.alloc(10000));
    const got = seededRandom(seed).fill(new Uint8Array(10000));
    expect(hexOf(got)).toBe(expected.toString('hex'));
  });

  it('gives the same stream whatever the fill sizes', () => {
    const sizes = [0, 1, 63, 64, 65, 4095, 717, 1];
    const total = sizes.reduce((x, y) => x + y, 0);
    const a = seededRandom(42).fill(new Uint8Array(total));
    const r = seededRandom(42);
    const parts: Uint8Array[] = [];
    for (const n of sizes) parts.push(r.fill(new Uint8Array(n)).slice());
    const b = Buffer.concat(parts);
    expect(b.length).toBe(total);
    expect(hexOf(b)).toBe(hexOf(a));
  });

  it('differs between seeds and returns its argument', () => {
    const out = new Uint8Array(32);
    expect(seededRandom(1).fill(out)).toBe(out);
    expect(hexOf(seededRandom(1).fill(new Uint8Array(32)))).not.toBe(hexOf(seededRandom(2).fill(new Uint8Array(32))));
    expect(hexOf(seededRandom(1).fill(new Uint8Array(32)))).not.toBe(hexOf(seededRandom(new Uint8Array([1])).fill(new Uint8Array(32))));
  });
});
