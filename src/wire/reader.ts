/**
 * Bounds-checked big-endian reader over a byte view (DESIGN.md rule 3: decoders are total).
 *
 * Reads never throw: a read past the end returns `undefined` (or 0 for the numeric fast accessors
 * `u8`/`u16`/`u32`) and latches `failed`, so a decoder can read a whole fixed header and check
 * `failed` once. All multi-byte integers are network byte order (RFC 7296 §3: "All multi-octet
 * fields representing integers are laid out in big endian order").
 */
export class Reader {
  private readonly buf: Uint8Array;
  private pos: number;
  private readonly end: number;
  /** Set by the first out-of-bounds read; stays set. */
  failed = false;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = Math.max(0, Math.min(start, buf.length));
    this.end = Math.max(this.pos, Math.min(end, buf.length));
  }

  /** Current position (absolute index into the underlying buffer). */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private take(n: number): number {
    if (this.failed || !Number.isInteger(n) || n < 0 || n > this.end - this.pos) {
      this.failed = true;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** One byte, or 0 with `failed` set when out of bounds. */
  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buf[at]!;
  }

  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : (this.buf[at]! << 8) | this.buf[at + 1]!;
  }

  u32(): number {
    const at = this.take(4);
    if (at < 0) return 0;
    return ((this.buf[at]! << 24) | (this.buf[at + 1]! << 16) | (this.buf[at + 2]! << 8) | this.buf[at + 3]!) >>> 0;
  }

  /** A fresh copy (a plain Uint8Array even if the source is a Node Buffer) of the next `n` bytes. */
  bytes(n: number): Uint8Array | undefined {
    const at = this.take(n);
    return at < 0 ? undefined : new Uint8Array(this.buf.subarray(at, at + n));
  }

  /** A view (no copy) of the next `n` bytes. */
  view(n: number): Uint8Array | undefined {
    const at = this.take(n);
    return at < 0 ? undefined : this.buf.subarray(at, at + n);
  }

  /** Advances `n` bytes; false (and `failed`) when that passes the end. */
  skip(n: number): boolean {
    return this.take(n) >= 0;
  }

  /** A sub-reader over the next `n` bytes, advancing this one past them; undefined when short. */
  sub(n: number): Reader | undefined {
    const at = this.take(n);
    return at < 0 ? undefined : new Reader(this.buf, at, at + n);
  }

  /** A copy of everything left; the reader ends up at its end. */
  rest(): Uint8Array {
    return this.bytes(this.remaining) ?? new Uint8Array(0);
  }
}
