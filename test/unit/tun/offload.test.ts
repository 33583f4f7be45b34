/**
 * TUN offload helpers (src/tun/offload.ts): TCP segmentation of a super-packet as TSO would do it, and
 * completion of a partial (NEEDS_CSUM) checksum. Checksums are verified with an independent plain loop
 * over the RFC 793 / RFC 8200 pseudo-header written here, not with the code under test.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { completeChecksum, TcpCoalescer, tcpSegment, VNET_HDR_LEN } from '../../../src/tun/offload.js';

/** RFC 1071 sum, folded, not complemented: the reference. */
function sum16(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function tcpChecksumOk(pkt: Uint8Array): boolean {
  const v6 = pkt[0]! >> 4 === 6;
  const ipLen = v6 ? 40 : (pkt[0]! & 15) * 4;
  const l4 = [...pkt.subarray(ipLen)];
  const pseudo = v6
    ? [...pkt.subarray(8, 40), 0, 0, l4.length >> 8, l4.length & 0xff, 0, 0, 0, 6]
    : [...pkt.subarray(12, 20), 0, 6, l4.length >> 8, l4.length & 0xff];
  return sum16([...pseudo, ...l4]) === 0xffff;
}

function superPacket(v6: boolean, payloadLen: number, flags: number, seq: number, id: number, seed: number): Uint8Array {
  const ipLen = v6 ? 40 : 20;
  const tcpLen = 32; // with a 12-byte options block (timestamps), as Linux sends
  const p = new Uint8Array(ipLen + tcpLen + payloadLen);
  if (v6) {
    p[0] = 0x60; p[4] = (tcpLen + payloadLen) >> 8 & 0xff; p[5] = (tcpLen + payloadLen) & 0xff; p[6] = 6; p[7] = 64;
    p.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 8);
    p.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 24);
  } else {
    p[0] = 0x45; p[2] = 0; p[3] = 0; p[4] = id >> 8; p[5] = id & 0xff; p[6] = 0x40; p[8] = 64; p[9] = 6;
    p.set([198, 19, 31, 1, 198, 19, 32, 1], 12);
  }
  const t = ipLen;
  p[t] = 0x9c; p[t + 1] = 0x40; p[t + 2] = 0x14; p[t + 3] = 0x51;
  new DataView(p.buffer).setUint32(t + 4, seq >>> 0);
  new DataView(p.buffer).setUint32(t + 8, 0x01020304);
  p[t + 12] = (tcpLen / 4) << 4; p[t + 13] = flags; p[t + 14] = 0x01; p[t + 15] = 0xf5;
  p.set([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], t + 20);
  for (let i = 0; i < payloadLen; i++) p[ipLen + tcpLen + i] = (i * 31 + seed) & 0xff;
  return p;
}

function segment(p: Uint8Array, mss: number): Uint8Array[] | number {
  const dst = new Uint8Array(4 * p.length + 4096);
  let cursor = 8;
  const out: Uint8Array[] = [];
  const n = tcpSegment(p, 0, p.length, mss, dst, (len) => { const o = cursor; cursor += len + 16; return o; }, (o, len) => out.push(dst.slice(o, o + len)));
  return n < 0 ? n : out;
}

describe('tcpSegment (TSO done in software)', () => {
  it('cuts IPv4 and IPv6 super-packets into MSS segments with correct lengths, ids, sequence numbers, flags and checksums', () => {
    fc.assert(fc.property(fc.boolean(), fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 100, max: 1448 }), fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0x10, 0x18, 0x19, 0x98, 0x90), (v6, payloadLen, mss, seq, id, flags) => {
        const p = superPacket(v6, payloadLen, flags, seq, id, payloadLen);
        const segs = segment(p, mss);
        if (typeof segs === 'number') return false;
        const hdr = (v6 ? 40 : 20) + 32;
        expect(segs.length).toBe(Math.ceil(payloadLen / mss));
        const joined = segs.flatMap((s) => [...s.subarray(hdr)]);
        expect(Buffer.from(joined).equals(Buffer.from(p.subarray(hdr)))).toBe(true);
        segs.forEach((s, i) => {
          const last = i === segs.length - 1;
          expect(s.length).toBe(hdr + (last ? payloadLen - mss * i : mss));
          if (v6) expect((s[4]! << 8) | s[5]!).toBe(s.length - 40);
          else {
            expect((s[2]! << 8) | s[3]!).toBe(s.length);
            expect((s[4]! << 8) | s[5]!).toBe((id + i) & 0xffff);
            expect(sum16([...s.subarray(0, 20)])).toBe(0xffff);
          }
          const t = v6 ? 40 : 20;
          expect(new DataView(s.buffer, s.byteOffset).getUint32(t + 4)).toBe((seq + mss * i) >>> 0);
          let want = flags;
          if (!last) want &= ~0x09;
          if (i > 0) want &= ~0x80;
          expect(s[t + 13]).toBe(want);
          expect(tcpChecksumOk(s)).toBe(true);
        });
        return true;
      }), { numRuns: 150 });
  });

  it('refuses what it cannot segment: not TCP, no payload, mss 0, truncated headers', () => {
    const p = superPacket(false, 3000, 0x10, 1, 1, 3);
    expect(segment(p, 0)).toBe(-1);
    const udp = p.slice(); udp[9] = 17;
    expect(segment(udp, 1000)).toBe(-1);
    expect(segment(p.subarray(0, 52), 1000)).toBe(-1);
    expect(segment(p.subarray(0, 30), 1000)).toBe(-1);
    const v5 = p.slice(); v5[0] = 0x55;
    expect(segment(v5, 1000)).toBe(-1);
  });
});

describe('completeChecksum (NEEDS_CSUM)', () => {
  it('turns a pseudo-header partial sum into the full TCP checksum, and UDP zero into 0xffff', () => {
    const p = superPacket(false, 700, 0x18, 77, 5, 9);
    p[2] = p.length >> 8; p[3] = p.length & 0xff;
    // What the kernel leaves: the folded pseudo-header sum (not complemented) in the checksum field.
    const l4 = p.length - 20;
    const pseudo = sum16([...p.subarray(12, 20), 0, 6, l4 >> 8, l4 & 0xff]);
    p[36] = pseudo >> 8; p[37] = pseudo & 0xff;
    expect(completeChecksum(p, 0, p.length, 20, 16)).toBe(true);
    expect(tcpChecksumOk(p)).toBe(true);
    expect(completeChecksum(p, 0, p.length, 20, p.length)).toBe(false);
    // A UDP datagram whose checksum comes out as zero is sent as all ones (RFC 768).
    const u = new Uint8Array(8);
    u[6] = 0xff; u[7] = 0xff; // the sum over the datagram is 0xffff: complemented, 0
    expect(completeChecksum(u, 0, 8, 0, 6)).toBe(true);
    expect([u[6], u[7]]).toEqual([0xff, 0xff]);
  });
});

describe('TcpCoalescer (GRO done in software)', () => {
  it('merges the in-order segments of one flow into a TCPV4 GSO packet that segments back into the same packets', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 0, max: 900 }), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (full, tail, seq, psh) => {
      const mss = 1000;
      const payload = full * mss + tail;
      const segs = segment(superPacket(false, payload, psh ? 0x18 : 0x10, seq, 777, 5), mss) as Uint8Array[];
      const g = new TcpCoalescer();
      for (const s of segs) expect(g.add(s)).toBe(true);
      expect(g.segments).toBe(segs.length);
      const out = g.take();
      expect(g.pending).toBe(false);
      const dv = new DataView(out.buffer, out.byteOffset);
      // virtio_net_hdr: NEEDS_CSUM, TCPV4, hdr_len 52, gso_size = mss, csum at 20 + 16.
      expect([out[0], out[1], dv.getUint16(2, true), dv.getUint16(4, true), dv.getUint16(6, true), dv.getUint16(8, true)]).toEqual([1, 1, 52, mss, 20, 16]);
      const pkt = out.slice(VNET_HDR_LEN);
      expect(pkt.length).toBe(52 + payload);
      expect((pkt[2]! << 8) | pkt[3]!).toBe(pkt.length);
      expect(sum16([...pkt.subarray(0, 20)])).toBe(0xffff);
      // The TCP checksum field holds the pseudo-header sum (RFC 793 pseudo-header, not complemented).
      const l4 = pkt.length - 20;
      expect((pkt[36]! << 8) | pkt[37]!).toBe(sum16([...pkt.subarray(12, 20), 0, 6, l4 >> 8, l4 & 0xff]));
      const again = segment(pkt, mss) as Uint8Array[];
      expect(again.map((x) => Buffer.from(x).toString('hex'))).toEqual(segs.map((x) => Buffer.from(x).toString('hex')));
      return true;
    }), { numRuns: 60 });
  });

  it('refuses a gap, another flow, SYN/FIN, a longer segment and anything after a short one or PSH; one segment goes out as DATA_VALID', () => {
    const segs = segment(superPacket(false, 5000, 0x10, 100, 1, 9), 1000) as Uint8Array[];
    const g = new TcpCoalescer();
    expect(g.add(segs[0]!)).toBe(true);
    expect(g.add(segs[2]!)).toBe(false); // gap
    const other = segs[1]!.slice(); other[23] ^= 1; // another destination port
    expect(g.add(other)).toBe(false);
    const fin = segs[1]!.slice(); fin[33] = 0x11;
    expect(g.add(fin)).toBe(false);
    expect(g.add(segs[1]!)).toBe(true);
    const one = new TcpCoalescer();
    expect(one.add(segs[4]!)).toBe(true);
    const out = one.take();
    expect(out[0]).toBe(2);
    expect(Buffer.from(out.subarray(VNET_HDR_LEN)).equals(Buffer.from(segs[4]!))).toBe(true);
    const shortFirst = segment(superPacket(false, 1500, 0x10, 100, 1, 9), 1000) as Uint8Array[];
    const s2 = new TcpCoalescer();
    expect(s2.add(shortFirst[0]!)).toBe(true);
    expect(s2.add(shortFirst[1]!)).toBe(true); // 500 < 1000: the last one
    const next = segment(superPacket(false, 1000, 0x10, 1600, 1, 9), 1000) as Uint8Array[];
    expect(s2.add(next[0]!)).toBe(false);
    const v6 = segment(superPacket(true, 2000, 0x10, 1, 1, 9), 1000) as Uint8Array[];
    expect(new TcpCoalescer().add(v6[0]!)).toBe(false);
  });
});
