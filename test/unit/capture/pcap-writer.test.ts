import { describe, expect, it } from 'vitest';
import { classifyFrame } from '../../../src/capture/link.js';
import { readCapture } from '../../../src/capture/pcap-reader.js';
import { buildEthernet, buildIp, buildUdpPacket, parseAddress, PcapWriter, writePcap } from '../../../src/capture/pcap-writer.js';

const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Independent RFC 1071 checksum over 16-bit words (test oracle). */
function checksum(words: number[]): number {
  let s = 0;
  for (const w of words) s += w;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
function words(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 2) out.push((b[i]! << 8) | (b[i + 1] ?? 0));
  return out;
}

describe('pcap writer', () => {
  it('writes the documented little-endian header and record layout', () => {
    const f = writePcap([{ tsMs: 1700000000123.5, data: h('4500') }], { linkType: 101 });
    // magic d4c3b2a1, version 2.4, thiszone 0, sigfigs 0, snaplen 262144, linktype 101
    expect(hex(f.subarray(0, 24))).toBe('d4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '65000000');
    // ts_sec 1700000000 = 0x6553f100, ts_usec 123500 = 0x1e26c, incl_len = orig_len = 2
    expect(hex(f.subarray(24))).toBe('00f15365' + '6ce20100' + '02000000' + '02000000' + '4500');
  });

  it('nanosecond files use magic a1b23c4d and round-trip through the reader', () => {
    const w = new PcapWriter({ linkType: 1, nanosecond: true });
    w.add(5.000001, h('01')).add(6000, h('0203'));
    const bytes = w.finish();
    expect(hex(bytes.subarray(0, 4))).toBe('4d3cb2a1');
    const r = readCapture(bytes);
    expect(r.error).toBeUndefined();
    expect(r.records.map((x) => [x.linkType, hex(x.data)])).toEqual([
      [1, '01'],
      [1, '0203'],
    ]);
    expect(r.records[0]!.tsMs).toBeCloseTo(5.000001, 6);
  });

  it('rejects unsupported link types and bad timestamps (programmer errors)', () => {
    expect(() => new PcapWriter({ linkType: 113 as 1 })).toThrow(/linkType/);
    expect(() => new PcapWriter().add(-1, h('00'))).toThrow(/tsMs/);
  });
});

describe('packet builders', () => {
  it('IPv4 header: fields and a valid RFC 1071 header checksum', () => {
    const p = buildIp({ src: '198.18.10.1', dst: '198.18.10.2', protocol: 50, payload: h('deadbeef'), id: 0x1234 });
    expect(hex(p.subarray(0, 10))).toBe('45000018' + '1234' + '0000' + '40' + '32');
    expect(hex(p.subarray(12, 20))).toBe('c6120a01c6120a02');
    const hdr = p.slice(0, 20);
    hdr[10] = 0;
    hdr[11] = 0;
    expect((p[10]! << 8) | p[11]!).toBe(checksum(words(hdr)));
  });

  it('UDP over IPv4 and IPv6 with the pseudo-header checksum', () => {
    for (const [src, dst] of [
      ['198.18.10.1', '198.18.10.2'],
      ['2001:db8::1', '2001:db8::2'],
    ] as const) {
      const pkt = buildUdpPacket({ src, dst, srcPort: 4500, dstPort: 4500, payload: h('ff') });
      const c = classifyFrame(101, pkt);
      expect(c.payload.kind).toBe('keepalive');
      expect([c.ip?.src, c.ip?.dst]).toEqual([src, dst]);
      const u = c.ip!.payload;
      const pseudo = [...words(parseAddress(src)), ...words(parseAddress(dst)), 17, u.length];
      const zeroed = u.slice();
      zeroed[6] = 0;
      zeroed[7] = 0;
      expect((u[6]! << 8) | u[7]!).toBe(checksum([...pseudo, ...words(zeroed)]));
    }
  });

  it('Ethernet II frames carry the right EtherType', () => {
    const v4 = buildEthernet(buildIp({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, payload: new Uint8Array(0) }));
    expect(hex(v4.subarray(12, 14))).toBe('0800');
    const v6 = buildEthernet(buildIp({ src: '::1', dst: '::2', protocol: 6, payload: new Uint8Array(0) }));
    expect(hex(v6.subarray(0, 14))).toBe('020000000002' + '020000000001' + '86dd');
  });

  it('parseAddress accepts IPv4/IPv6 text and throws on anything else', () => {
    expect(hex(parseAddress('2001:db8::1'))).toBe('20010db8000000000000000000000001');
    expect(hex(parseAddress('::'))).toBe('0'.repeat(32));
    expect(hex(parseAddress('1:2:3:4:5:6:7:8'))).toBe('00010002000300040005000600070008');
    for (const bad of ['256.1.1.1', '1.2.3', 'x', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::1']) expect(() => parseAddress(bad)).toThrow();
  });
});
