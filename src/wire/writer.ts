/**
 * Growable big-endian byte writer, the encoder counterpart of `Reader`.
 *
 * Values out of range for their width are programmer errors and throw with the offending value
 * (encoders are only ever fed by our own code, never by the wire).
 */
export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
  }

  /** Bytes written so far (also the offset the next write lands at). */
  get length(): number {
    return this.len;
  }

  private reserve(n: number): number {
    const need = this.len + n;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    const at = this.len;
    this.len = need;
    return at;
  }

  u8(v: number): this {
    check(v, 0xff, 'u8');
    const at = this.reserve(1); // reserve first: it may replace this.buf
    this.buf[at] = v;
    return this;
  }

  u16(v: number): this {
    check(v, 0xffff, 'u16');
    const at = this.reserve(2);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    check(v, 0xffffffff, 'u32');
    const at = this.reserve(4);
    this.buf[at] = v >>> 24;
    this.buf[at + 1] = (v >>> 16) & 0xff;
    this.buf[at + 2] = (v >>> 8) & 0xff;
    this.buf[at + 3] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return this;
  }

  /** `n` zero bytes (RESERVED fields). */
  zeros(n: number): this {
    const at = this.reserve(n);
    this.buf.fill(0, at, at + n);
    return this;
  }

  /** Overwrites a u16 already written at `at` (length fields known only after the body). */
  patchU16(at: number, v: number): this {
    check(v, 0xffff, 'patchU16 value');
    if (!Number.isInteger(at) || at < 0 || at + 2 > this.len) throw new RangeError(`patchU16: offset ${at} outside 0..${this.len - 2}`);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
    return this;
  }

  /** Overwrites a u32 already written at `at`. */
  patchU32(at: number, v: number): this {
    check(v, 0xffffffff, 'patchU32 value');
    if (!Number.isInteger(at) || at < 0 || at + 4 > this.len) throw new RangeError(`patchU32: offset ${at} outside 0..${this.len - 4}`);
    this.buf[at] = v >>> 24;
    this.buf[at + 1] = (v >>> 16) & 0xff;
    this.buf[at + 2] = (v >>> 8) & 0xff;
    this.buf[at + 3] = v & 0xff;
    return this;
  }

  /** A copy of the written bytes, exactly `length` long. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function check(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what}: value ${v} outside 0..${max}`);
}
