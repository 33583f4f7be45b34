/**
 * Key exchange group parameters and the private-key draw shared by both providers, so that the same
 * `RandomSource` yields the same key pair whichever provider runs (tests rely on this).
 *
 * - MODP_2048: RFC 3526 §3 prime, generator 2; private exponent = 32 random bytes (256 bits,
 *   ≥ 2× the group's ~112-bit strength, RFC 3526 §8 / NIST SP 800-57), redrawn if < 2.
 * - ECP_256/384/521: RFC 5903 §3; private key d drawn by rejection sampling of orderLength bytes
 *   (top bits beyond the order's bit length masked) until 1 ≤ d < n (FIPS 186-5 A.4.2 style).
 *   Feeding the bytes of a known private key through a RandomSource therefore yields exactly that key.
 * - CURVE25519: RFC 7748 §6.1: 32 random bytes, clamped inside X25519.
 */
import type { RandomSource } from './types.js';

/** RFC 3526 §3 2048-bit MODP group prime (hex). */
export const MODP_2048_PRIME_HEX =
  'ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74' +
  '020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437' +
  '4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed' +
  'ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05' +
  '98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb' +
  '9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b' +
  'e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718' +
  '3995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff';
export const MODP_2048_GENERATOR = 2;
export const MODP_2048_LENGTH = 256;
/** Private exponent length in bytes. */
export const MODP_EXPONENT_LENGTH = 32;

export interface EcpParams {
  readonly id: 19 | 20 | 21;
  /** OpenSSL curve name (node provider). */
  readonly opensslName: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** Field element / scalar length in bytes. */
  readonly coordLength: number;
  /** Group order n (hex). */
  readonly orderHex: string;
  /** Mask applied to the first byte of a drawn scalar (P-521: only 1 bit of the top byte is used). */
  readonly topMask: number;
}

export const ECP_PARAMS: ReadonlyMap<number, EcpParams> = new Map<number, EcpParams>([
  [19, { id: 19, opensslName: 'prime256v1', coordLength: 32, topMask: 0xff, orderHex: 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551' }],
  [
    20,
    {
      id: 20,
      opensslName: 'secp384r1',
      coordLength: 48,
      topMask: 0xff,
      orderHex: 'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    },
  ],
  [
    21,
    {
      id: 21,
      opensslName: 'secp521r1',
      coordLength: 66,
      topMask: 0x01,
      orderHex:
        '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    },
  ],
]);

export const X25519_LENGTH = 32;

const MAX_DRAWS = 64;

export function bytesToBigInt(b: Uint8Array): bigint {
  let hex = '';
  for (let i = 0; i < b.length; i++) hex += b[i]!.toString(16).padStart(2, '0');
  return hex === '' ? 0n : BigInt('0x' + hex);
}

/** Big-endian, left-padded to `length` bytes. Throws if `v` does not fit. */
export function bigIntToBytes(v: bigint, length: number): Uint8Array {
  const hex = v.toString(16);
  if (hex.length > length * 2) throw new Error(`value does not fit in ${length} bytes`);
  const padded = hex.padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(padded.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Copies `b` right-aligned into a zeroed array of `length` bytes (b.length ≤ length). */
export function leftPad(b: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(b.subarray(Math.max(0, b.length - length)), Math.max(0, length - b.length));
  return out;
}

/** ECP private scalar by rejection sampling (see file header). */
export function drawEcpScalar(rng: RandomSource, p: EcpParams): Uint8Array {
  const n = BigInt('0x' + p.orderHex);
  const d = new Uint8Array(p.coordLength);
  for (let i = 0; i < MAX_DRAWS; i++) {
    rng.fill(d);
    d[0] = d[0]! & p.topMask;
    const v = bytesToBigInt(d);
    if (v >= 1n && v < n) return d;
  }
  throw new Error(`RandomSource produced no valid ECP_${p.id} scalar in ${MAX_DRAWS} draws`);
}

/** MODP private exponent (see file header). */
export function drawModpExponent(rng: RandomSource): Uint8Array {
  const x = new Uint8Array(MODP_EXPONENT_LENGTH);
  for (let i = 0; i < MAX_DRAWS; i++) {
    rng.fill(x);
    if (bytesToBigInt(x) >= 2n) return x;
  }
  throw new Error(`RandomSource produced no valid MODP exponent in ${MAX_DRAWS} draws`);
}

/** RFC 7296 §3.4 / RFC 2631 §2.1.5: a MODP peer value must satisfy 1 < y < p-1. */
export function modpPeerValid(y: bigint, prime: bigint): boolean {
  return y > 1n && y < prime - 1n;
}

export function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i]!;
  return acc === 0;
}
