import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyFrame, formatIpv6, frameToIp, parseIp, parseUdp } from '../../../src/capture/link.js';
import { LinkType } from '../../../src/capture/pcap-reader.js';

const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const cat = (...p: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(p));

// IPv4 198.18.10.1 → 198.18.10.2, protocol 17, total length 20 + udp.length (checksum not checked by the parser).
function ipv4(proto: number, payload: Uint8Array, flagsFrag = '0000'): Uint8Array {
  const total = (20 + payload.length).toString(16).padStart(4, '0');
  return cat(h(`4500${total} 0001${flagsFrag} 40${proto.toString(16).padStart(2, '0')}0000 c6120a01 c6120a02`), payload);
}
function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
  return cat(h(hex4(sport) + hex4(dport) + hex4(8 + payload.length) + '0000'), payload);
}
function ipv6(next: number, payload: Uint8Array): Uint8Array {
  const len = payload.length.toString(16).padStart(4, '0');
  return cat(h(`60000000 ${len} ${next.toString(16).padStart(2, '0')}40 20010db8000000000000000000000001 20010db8000000000000000000000002`), payload);
}

const ike = cat(h('0102030405060708 0000000000000000 21202208 00000000 0000001c'));
const espPkt = h('0000a5f8 0000000a 01020304050607080910');

describe('link layers', () => {
  const ip = ipv4(17, udp(500, 500, ike));
  const cases: Array<[string, number, Uint8Array]> = [
    ['EN10MB', LinkType.EN10MB, cat(h('020000000002 020000000001 0800'), ip)],
    ['EN10MB + 802.1Q', LinkType.EN10MB, cat(h('020000000002 020000000001 8100 0064 0800'), ip)],
    ['EN10MB + QinQ', LinkType.EN10MB, cat(h('020000000002 020000000001 88a8 0001 8100 0064 0800'), ip)],
    ['LINUX_SLL', LinkType.LINUX_SLL, cat(h('0000 0001 0006 020000000001 0000 0800'), ip)],
    ['LINUX_SLL2', LinkType.LINUX_SLL2, cat(h('0800 0000 00000002 0001 00 06 020000000001 0000'), ip)],
    ['RAW', LinkType.RAW, ip],
    ['IPV4', LinkType.IPV4, ip],
    ['NULL (little-endian AF_INET)', LinkType.NULL, cat(h('02000000'), ip)],
    ['LOOP (network order AF_INET)', LinkType.LOOP, cat(h('00000002'), ip)],
  ];
  for (const [name, lt, frame] of cases) {
    it(`${name} → the IPv4 packet`, () => {
      const r = frameToIp(lt, frame);
      expect(r.ok && Buffer.from(r.ip).equals(Buffer.from(ip))).toBe(true);
      const c = classifyFrame(lt, frame);
      expect(c.payload.kind).toBe('ike');
      expect(c.ip?.src).toBe('198.18.10.1');
      expect(c.udp?.dstPort).toBe(500);
    });
  }

  it('IPV6 and EN10MB with EtherType 0x86dd', () => {
    const p6 = ipv6(50, espPkt);
    expect(classifyFrame(LinkType.IPV6, p6).payload.kind).toBe('esp');
    expect(classifyFrame(LinkType.EN10MB, cat(h('020000000002 020000000001 86dd'), p6)).ip?.dst).toBe('2001:db8::2');
  });

  it('rejects non-IP frames, unknown link types and short headers with a reason', () => {
    expect(frameToIp(LinkType.EN10MB, cat(h('020000000002 020000000001 0806'), new Uint8Array(28)))).toEqual({ ok: false, reason: 'not IP (EtherType 0x0806)' });
    expect(frameToIp(147, new Uint8Array(40))).toEqual({ ok: false, reason: 'unsupported link type 147' });
    expect(frameToIp(LinkType.LINUX_SLL2, new Uint8Array(19)).ok).toBe(false);
    expect(frameToIp(LinkType.EN10MB, new Uint8Array(13)).ok).toBe(false);
  });
});

describe('IP and UDP', () => {
  it('IPv4: addresses, protocol, payload bounded by total length (Ethernet padding dropped)', () => {
    const p = cat(ipv4(17, udp(4500, 4500, h('ff'))), h('000000000000'));
    const r = parseIp(p);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([r.packet.src, r.packet.dst, r.packet.protocol, r.packet.payload.length, r.packet.fragment]).toEqual(['198.18.10.1', '198.18.10.2', 17, 9, false]);
  });

  it('IPv4 fragments are flagged and not reassembled', () => {
    const first = classifyFrame(LinkType.RAW, ipv4(17, udp(500, 500, ike), '2000'));
    expect(first.ip?.fragment).toBe(true);
    expect(first.payload.kind).toBe('ike'); // the first fragment still has the UDP header
    const later = classifyFrame(LinkType.RAW, ipv4(17, new Uint8Array(16), '0010'));
    expect(later.payload).toEqual({ kind: 'other', reason: 'non-first IP fragment (no reassembly)' });
  });

  it('IPv6 extension headers are skipped (hop-by-hop, destination options, fragment, AH)', () => {
    const hbh = h('3c00 010400000000'); // next = 60 (dst opts), len 0 → 8 bytes
    const dst = h('2c00 010400000000'); // next = 44 (fragment)
    const frag = h('3300 0000 12345678'); // next = 51 (AH), offset 0, M=0
    const ah = h('1104 0000 00000100 00000001 000000000000000000000000'); // next = 17, Payload Len 4 → 24 bytes
    const r = parseIp(ipv6(0, cat(hbh, dst, frag, ah, udp(4500, 4500, espPkt))));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.packet.protocol).toBe(17);
    expect(r.packet.fragment).toBe(true);
    expect(r.packet.fragmentOffsetNonZero).toBe(false);
    const u = parseUdp(r.packet.payload);
    expect(u.ok && Buffer.from(u.udp.payload).equals(Buffer.from(espPkt))).toBe(true);
  });

  it('IPv6: too many extension headers is an error, not a loop', () => {
    let chain: Uint8Array = udp(1, 2, new Uint8Array(0));
    let next = 17;
    for (let i = 0; i < 9; i++) {
      chain = cat(Uint8Array.from([next, 0, 0, 0, 0, 0, 0, 0]), chain);
      next = 60;
    }
    expect(parseIp(ipv6(60, chain))).toEqual({ ok: false, reason: 'more than 8 IPv6 extension headers' });
  });

  it('formats IPv6 addresses per RFC 5952', () => {
    expect(formatIpv6(h('20010db8000000000000000000000001'))).toBe('2001:db8::1');
    expect(formatIpv6(h('00000000000000000000000000000000'))).toBe('::');
    expect(formatIpv6(h('20010db8000000010000000000000001'))).toBe('2001:db8:0:1::1');
    expect(formatIpv6(h('20010db8000100000001000100010001'))).toBe('2001:db8:1:0:1:1:1:1');
    expect(formatIpv6(h('fe800000000000000000000000000000'))).toBe('fe80::');
  });

  it('UDP length below 8 is an error; a length beyond the capture is flagged truncated', () => {
    expect(parseUdp(h('01f401f40004 0000')).ok).toBe(false);
    const r = parseUdp(h('01f401f4 0010 0000 0102'));
    expect(r.ok && r.udp.truncated && r.udp.payload.length === 2).toBe(true);
  });
});

describe('RFC 3948 classification', () => {
  const on4500 = (payload: Uint8Array) => classifyFrame(LinkType.RAW, ipv4(17, udp(4500, 4500, payload))).payload;
  it('single 0xFF is a NAT keepalive', () => expect(on4500(h('ff'))).toEqual({ kind: 'keepalive' }));
  it('non-ESP marker → IKE after the marker', () => {
    const p = on4500(cat(h('00000000'), ike));
    expect(p.kind === 'ike' && p.transport === 'udp-4500' && Buffer.from(p.message).equals(Buffer.from(ike))).toBe(true);
  });
  it('non-zero SPI → ESP', () => {
    const p = on4500(espPkt);
    expect(p.kind === 'esp' && p.transport === 'udp-4500' && p.packet.length === espPkt.length).toBe(true);
  });
  it('NATed source port: only the destination is 4500', () => {
    expect(classifyFrame(LinkType.RAW, ipv4(17, udp(34567, 4500, espPkt))).payload.kind).toBe('esp');
  });
  it('IP protocol 50 is raw ESP; other traffic is "other"', () => {
    expect(classifyFrame(LinkType.RAW, ipv4(50, espPkt)).payload.kind).toBe('esp');
    expect(classifyFrame(LinkType.RAW, ipv4(6, new Uint8Array(20))).payload).toEqual({ kind: 'other', reason: 'IP protocol 6' });
    expect(classifyFrame(LinkType.RAW, ipv4(17, udp(53, 53, h('00')))).payload.kind).toBe('other');
  });
  it('short payloads on 4500 are "other"', () => expect(on4500(h('0102')).kind).toBe('other'));
});

describe('totality', () => {
  it('classifyFrame never throws on arbitrary frames of any link type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(LinkType), 999), fc.uint8Array({ maxLength: 200 }), fc.boolean(), (lt, bytes, forceIp) => {
        const b = bytes.slice();
        if (forceIp && b.length > 0) b[0] = (b[0]! & 0x0f) | (b.length % 2 ? 0x40 : 0x60);
        const c = classifyFrame(lt, b);
        expect(['ike', 'esp', 'keepalive', 'other']).toContain(c.payload.kind);
      }),
      { numRuns: 5000 },
    );
  });
});
