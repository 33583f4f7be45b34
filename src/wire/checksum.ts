/**
 * Internet checksum (RFC 1071; used by the IPv4 header checksum, RFC 791 §3.1, and by UDP/TCP).
 *
 * The one's-complement sum of the 16-bit big-endian words of the data (a trailing odd byte is padded
 * with a zero byte), folded to 16 bits and complemented:
 *
 *   sum = Σ word_i  (mod 2^16 with end-around carry)      checksum = ~sum & 0xffff
 *
 * A header whose checksum field is correct sums (with the field included) to 0xffff, so
 * `internetChecksum(header) === 0` verifies it. Total: never throws; out-of-range bounds are clamped.
 */

/**
 * One's-complement sum of `buf[start, end)` added to `initial` (an unfolded partial sum from a
 * previous call, e.g. a pseudo-header), folded to 16 bits but not complemented.
 */
export function onesComplementSum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  if (start < 0) start = 0;
  if (end > buf.length) end = buf.length;
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    // Fold early so `sum` stays a small integer (never leaves the Smi range on huge buffers).
    if (sum > 0x3fffffff) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071 Internet checksum of `buf[start, end)`: the complement of the one's-complement sum. */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return ~onesComplementSum(buf, start, end, initial) & 0xffff;
}
