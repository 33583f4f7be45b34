import { describe, expect, it } from 'vitest';
import { Reader } from '../../../../src/wire/reader.js';
import { Writer } from '../../../../src/wire/writer.js';

describe('Reader', () => {
  it('reads big-endian integers and bytes', () => {
    const r = new Reader(Uint8Array.from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xff, 0xfe, 0xfd, 0xfc]));
    expect(r.u8()).toBe(0x01);
    expect(r.u16()).toBe(0x0203);
    expect(r.u32()).toBe(0x04050607);
    expect(r.offset).toBe(7);
    expect(r.remaining).toBe(4);
    expect(r.u32()).toBe(0xfffefdfc); // unsigned, not -66052
    expect(r.failed).toBe(false);
  });

  it('latches failed instead of throwing when reading past the end', () => {
    const r = new Reader(Uint8Array.from([1, 2, 3]));
    expect(r.u32()).toBe(0);
    expect(r.failed).toBe(true);
    expect(r.u8()).toBe(0); // stays failed even though a byte is there
    expect(r.bytes(1)).toBeUndefined();
  });

  it('bytes() copies into a plain Uint8Array; view() does not copy', () => {
    const src = Buffer.from([9, 8, 7, 6]);
    const r = new Reader(src);
    const c = r.bytes(2)!;
    const v = r.view(2)!;
    src[0] = 0;
    src[2] = 0;
    expect(Object.getPrototypeOf(c)).toBe(Uint8Array.prototype);
    expect([...c]).toEqual([9, 8]);
    expect([...v]).toEqual([0, 6]);
  });

  it('sub() bounds the child reader and advances the parent', () => {
    const r = new Reader(Uint8Array.from([1, 2, 3, 4, 5]));
    r.u8();
    const s = r.sub(2)!;
    expect(s.remaining).toBe(2);
    expect(s.u16()).toBe(0x0203);
    expect(s.u8()).toBe(0);
    expect(s.failed).toBe(true);
    expect(r.u8()).toBe(4);
    expect(r.sub(5)).toBeUndefined();
  });

  it('rejects negative and fractional lengths', () => {
    expect(new Reader(new Uint8Array(4)).bytes(-1)).toBeUndefined();
    expect(new Reader(new Uint8Array(4)).bytes(1.5)).toBeUndefined();
  });
});

describe('Writer', () => {
  it('writes big-endian values and grows past its initial capacity', () => {
    const w = new Writer(16);
    for (let i = 0; i < 100; i++) w.u8(i & 0xff).u16(0x0102).u32(0xa0b0c0d0);
    const out = w.finish();
    expect(out.length).toBe(700);
    for (let i = 0; i < 100; i++) {
      expect([...out.subarray(i * 7, i * 7 + 7)]).toEqual([i, 1, 2, 0xa0, 0xb0, 0xc0, 0xd0]);
    }
  });

  it('patchU16/patchU32 overwrite earlier fields', () => {
    const w = new Writer();
    w.u16(0).u32(0).bytes(Uint8Array.from([7, 7]));
    w.patchU16(0, 0xbeef).patchU32(2, 0x01020304);
    expect([...w.finish()]).toEqual([0xbe, 0xef, 1, 2, 3, 4, 7, 7]);
    expect(() => w.patchU16(7, 1)).toThrow(/offset/);
  });

  it('throws on out-of-range values (programmer error), naming the width', () => {
    expect(() => new Writer().u8(256)).toThrow(/u8/);
    expect(() => new Writer().u16(-1)).toThrow(/u16/);
    expect(() => new Writer().u32(2 ** 32)).toThrow(/u32/);
  });
});
