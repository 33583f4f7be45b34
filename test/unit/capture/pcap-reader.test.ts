import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectCaptureFormat, LinkType, readCapture } from '../../../src/capture/pcap-reader.js';

/** Hand-built classic pcap (independent of src/capture/pcap-writer.ts). */
function pcap(le: boolean, nano: boolean, linkType: number, recs: Array<{ sec: number; frac: number; data: number[]; orig?: number }>): Uint8Array {
  const size = 24 + recs.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, 65535, le);
  v.setUint32(20, linkType, le);
  let at = 24;
  for (const r of recs) {
    v.setUint32(at, r.sec, le);
    v.setUint32(at + 4, r.frac, le);
    v.setUint32(at + 8, r.data.length, le);
    v.setUint32(at + 12, r.orig ?? r.data.length, le);
    out.set(r.data, at + 16);
    at += 16 + r.data.length;
  }
  return out;
}

/** Hand-built pcapng blocks. */
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const len = 12 + padded;
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, len, le);
  out.set(body, 8);
  v.setUint32(len - 4, len, le);
  return out;
}
function shb(le: boolean): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x1a2b3c4d, le);
  v.setUint16(4, 1, le);
  v.setUint16(6, 0, le);
  v.setInt32(8, -1, le);
  v.setInt32(12, -1, le);
  return block(le, 0x0a0d0d0a, b);
}
function idb(le: boolean, linkType: number, tsresol?: number): Uint8Array {
  const b = new Uint8Array(8 + (tsresol === undefined ? 0 : 8 + 4));
  const v = new DataView(b.buffer);
  v.setUint16(0, linkType, le);
  v.setUint32(4, 262144, le);
  if (tsresol !== undefined) {
    v.setUint16(8, 9, le); // if_tsresol
    v.setUint16(10, 1, le);
    b[12] = tsresol;
    v.setUint16(16, 0, le); // opt_endofopt
    v.setUint16(18, 0, le);
  }
  return block(le, 1, b);
}
function epb(le: boolean, ifId: number, ts: bigint, data: number[]): Uint8Array {
  const b = new Uint8Array(20 + data.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, ifId, le);
  v.setUint32(4, Number(ts >> 32n), le);
  v.setUint32(8, Number(ts & 0xffffffffn), le);
  v.setUint32(12, data.length, le);
  v.setUint32(16, data.length, le);
  b.set(data, 20);
  return block(le, 6, b);
}
function spb(le: boolean, data: number[]): Uint8Array {
  const b = new Uint8Array(4 + data.length);
  new DataView(b.buffer).setUint32(0, data.length, le);
  b.set(data, 4);
  return block(le, 3, b);
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('classic pcap', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`reads ${le ? 'little' : 'big'}-endian ${nano ? 'ns' : 'µs'} files`, () => {
        const bytes = pcap(le, nano, LinkType.EN10MB, [
          { sec: 1700000000, frac: nano ? 250_000_000 : 250_000, data: [1, 2, 3] },
          { sec: 1700000001, frac: 0, data: [4, 5, 6, 7, 8], orig: 1500 },
        ]);
        const r = readCapture(bytes);
        expect(r.error).toBeUndefined();
        expect(r.format).toBe('pcap');
        expect(r.records.length).toBe(2);
        expect(r.records[0]!.tsMs).toBe(1700000000250);
        expect(r.records[0]!.linkType).toBe(1);
        expect(Array.from(r.records[0]!.data)).toEqual([1, 2, 3]);
        expect(r.records[1]!.tsMs).toBe(1700000001000);
        expect(Array.from(r.records[1]!.data)).toEqual([4, 5, 6, 7, 8]);
        expect(r.records[1]!.origLength).toBe(1500);
      });
    }
  }

  for (const lt of Object.values(LinkType)) {
    it(`carries link type ${lt}`, () => {
      expect(readCapture(pcap(true, false, lt, [{ sec: 1, frac: 0, data: [0x45] }])).records[0]!.linkType).toBe(lt);
    });
  }

  it('reports a truncated record and keeps the records before it', () => {
    const bytes = pcap(true, false, 101, [
      { sec: 1, frac: 0, data: [1, 2, 3, 4] },
      { sec: 2, frac: 0, data: [5, 6, 7, 8] },
    ]);
    const r = readCapture(bytes.subarray(0, bytes.length - 2));
    expect(r.records.length).toBe(1);
    expect(r.error).toMatch(/record 2 .*truncated/);
    expect(readCapture(bytes.subarray(0, 30)).error).toMatch(/record 1 header truncated/);
    expect(readCapture(bytes.subarray(0, 20)).error).toMatch(/file header truncated/);
  });

  it('enforces the record size and count limits', () => {
    const bytes = pcap(true, false, 101, [
      { sec: 1, frac: 0, data: new Array(100).fill(0) },
      { sec: 2, frac: 0, data: [1] },
    ]);
    expect(readCapture(bytes, { maxRecordBytes: 50 }).error).toMatch(/exceeds the 50-byte limit/);
    const r = readCapture(bytes, { maxRecords: 1 });
    expect(r.records.length).toBe(1);
    expect(r.error).toMatch(/more than 1 records/);
  });
});

describe('pcapng', () => {
  for (const le of [true, false]) {
    it(`reads ${le ? 'little' : 'big'}-endian sections with several interfaces, EPB, SPB and unknown blocks`, () => {
      const bytes = concat(
        shb(le),
        idb(le, LinkType.EN10MB),
        idb(le, LinkType.LINUX_SLL2, 9), // nanoseconds
        block(le, 0x00000bad, new Uint8Array([1, 2, 3, 4, 5])), // unknown block: skipped
        epb(le, 0, 1700000000_123456n, [0xaa, 0xbb, 0xcc]),
        epb(le, 1, 1700000000_123456789n, [0xdd]),
        block(le, 5, new Uint8Array(16)), // interface statistics: skipped
      );
      const r = readCapture(bytes);
      expect(r.error).toBeUndefined();
      expect(r.format).toBe('pcapng');
      expect(r.records.map((x) => x.linkType)).toEqual([1, 276]);
      expect(r.records.map((x) => x.interfaceId)).toEqual([0, 1]);
      expect(r.records[0]!.tsMs).toBeCloseTo(1700000000123.456, 3);
      expect(r.records[1]!.tsMs).toBeCloseTo(1700000000123.4568, 2);
      expect(Array.from(r.records[0]!.data)).toEqual([0xaa, 0xbb, 0xcc]);
      expect(Array.from(r.records[1]!.data)).toEqual([0xdd]);
    });
  }

  it('follows a change of byte order at a second section header and forgets old interfaces', () => {
    const bytes = concat(shb(true), idb(true, LinkType.RAW), epb(true, 0, 1000n, [1]), shb(false), idb(false, LinkType.IPV6), epb(false, 0, 2000000n, [2]));
    const r = readCapture(bytes);
    expect(r.error).toBeUndefined();
    expect(r.records.map((x) => [x.linkType, x.data[0], x.tsMs])).toEqual([
      [101, 1, 1],
      [229, 2, 2000],
    ]);
    const bad = concat(shb(true), idb(true, LinkType.RAW), shb(true), epb(true, 0, 1n, [1]));
    expect(readCapture(bad).error).toMatch(/unknown interface 0/);
  });

  it('reads simple packet blocks (interface 0, no timestamp)', () => {
    const r = readCapture(concat(shb(true), idb(true, LinkType.IPV4), spb(true, [0x45, 0, 0])));
    expect(r.error).toBeUndefined();
    expect(r.records[0]!.linkType).toBe(228);
    expect(Array.from(r.records[0]!.data)).toEqual([0x45, 0, 0]);
    expect(r.records[0]!.tsMs).toBe(0);
  });

  it('honours a binary if_tsresol (2^-10 s units)', () => {
    const r = readCapture(concat(shb(true), idb(true, LinkType.RAW, 0x80 | 10), epb(true, 0, 2048n, [1])));
    expect(r.records[0]!.tsMs).toBe(2000);
  });

  it('reports bad block lengths, truncation and a missing section header', () => {
    const good = concat(shb(true), idb(true, LinkType.RAW), epb(true, 0, 1n, [1, 2, 3, 4]));
    expect(readCapture(good.subarray(0, good.length - 1)).error).toMatch(/truncated/);
    const badLen = good.slice();
    new DataView(badLen.buffer).setUint32(shb(true).length + 4, 13, true);
    expect(readCapture(badLen).error).toMatch(/bad total length 13/);
    const badTrailer = good.slice();
    badTrailer[good.length - 4] = 0;
    expect(readCapture(badTrailer).error).toMatch(/trailing length/);
    const badBom = shb(true);
    badBom[8] = 0;
    expect(readCapture(badBom).error).toMatch(/byte-order magic/);
  });
});

describe('garbage', () => {
  it('says clearly when the bytes are not a capture', () => {
    expect(readCapture(new TextEncoder().encode('hello world')).error).toBe('not a pcap or pcapng file: magic 0x68656c6c');
    expect(readCapture(new Uint8Array([1])).error).toMatch(/only 1 bytes/);
    expect(detectCaptureFormat(new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1]))).toBe('pcap');
    expect(detectCaptureFormat(new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a]))).toBe('pcapng');
  });

  it('never throws on arbitrary bytes, or on arbitrary bytes behind a valid magic', () => {
    const magics = [[], [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0], [0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4], [0x0a, 0x0d, 0x0d, 0x0a], [0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a]];
    fc.assert(
      fc.property(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 400 }), (head, tail) => {
        const bytes = concat(Uint8Array.from(head), tail);
        const r = readCapture(bytes);
        expect(r.records.length === 0 || r.format !== undefined).toBe(true);
        for (const rec of r.records) expect(rec.data.length).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws when a valid capture is cut or has a byte flipped anywhere', () => {
    const good = concat(shb(true), idb(true, LinkType.EN10MB, 6), epb(true, 0, 5n, [1, 2, 3, 4, 5]), spb(true, [9, 9]));
    fc.assert(
      fc.property(fc.nat(good.length), fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (cut, at, val) => {
        const b = good.slice(0, cut);
        if (at < b.length) b[at] = val;
        readCapture(b);
      }),
      { numRuns: 3000 },
    );
  });
});
