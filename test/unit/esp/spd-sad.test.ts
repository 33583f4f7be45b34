/** SPD outbound lookup (RFC 4301 §4.4.1) and SAD by SPI. */
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { createEspSa } from '../../../src/esp/sa.js';
import { Sad } from '../../../src/esp/sad.js';
import { selectorFromPrefix, selectorMatches } from '../../../src/esp/selector.js';
import { Spd, SpdAction } from '../../../src/esp/spd.js';
import { ip4, ipv4Packet, makePair } from './helpers.js';

function ipv6Udp(src: Uint8Array, dst: Uint8Array, sport: number, dport: number): Uint8Array {
  const p = new Uint8Array(48);
  p[0] = 0x60;
  p[5] = 8; // payload length
  p[6] = 17;
  p[7] = 64;
  p.set(src, 8);
  p.set(dst, 24);
  p[40] = sport >> 8;
  p[41] = sport & 0xff;
  p[42] = dport >> 8;
  p[43] = dport & 0xff;
  return p;
}

const v6 = (last: number, first = 0x20): Uint8Array => {
  const a = new Uint8Array(16);
  a[0] = first;
  a[1] = 0x01;
  a[2] = 0x0d;
  a[3] = 0xb8;
  a[15] = last;
  return a;
};

describe('Spd', () => {
  const { out } = makePair({ encr: 'aes-gcm-16', keyBits: 128 }, nodeCrypto);
  const spd = new Spd();
  const any4 = selectorFromPrefix(ip4('0.0.0.0'), 0);
  const protect = spd.add({ priority: 10, local: [selectorFromPrefix(ip4('198.18.0.0'), 24)], remote: [selectorFromPrefix(ip4('198.18.1.0'), 24)], action: SpdAction.protect, sa: out, name: 'net-net' });
  const bypassDns = spd.add({ priority: 5, local: [any4], remote: [selectorFromPrefix(ip4('198.18.1.53'), 32, { ipProtocol: 17, startPort: 53, endPort: 53 })], action: SpdAction.bypass });
  const discard = spd.add({ priority: 100, local: [any4], remote: [any4], action: SpdAction.discard });
  const v6protect = spd.add({ priority: 10, local: [selectorFromPrefix(v6(0), 64)], remote: [selectorFromPrefix(v6(0, 0x30), 16, { ipProtocol: 17 })], action: SpdAction.protect });

  it('orders by priority and picks the first match', () => {
    expect(spd.list().map((e) => e.priority)).toEqual([5, 10, 10, 100]);
    expect(spd.lookup(ipv4Packet('198.18.0.7', '198.18.1.9', 6, 20))).toBe(protect);
    expect(spd.lookup(ipv4Packet('198.18.0.7', '198.18.1.53', 17, 20, 999, 53))).toBe(bypassDns);
    expect(spd.lookup(ipv4Packet('198.18.0.7', '198.18.1.53', 17, 20, 999, 54))).toBe(protect);
    expect(spd.lookup(ipv4Packet('198.18.5.7', '198.18.1.9', 6, 20))).toBe(discard);
    expect(spd.lookup(ipv4Packet('198.18.0.7', '198.18.1.9', 6, 20))!.sa).toBe(out);
  });

  it('matches IPv6 selectors with protocol; a non-IP packet or no match gives null', () => {
    expect(spd.lookup(ipv6Udp(v6(5), v6(9, 0x30), 1, 2))).toBe(v6protect);
    expect(spd.lookup(ipv6Udp(v6(5), v6(9, 0x40), 1, 2))).toBeNull();
    expect(spd.lookup(new Uint8Array([0x45, 0, 0]))).toBeNull();
    expect(spd.lookup(new Uint8Array(0))).toBeNull();
  });

  it('looks up inside a larger buffer', () => {
    const p = ipv4Packet('198.18.0.7', '198.18.1.9', 6, 20);
    const buf = new Uint8Array(100);
    buf.set(p, 30);
    expect(spd.lookup(buf, 30, 30 + p.length)).toBe(protect);
  });

  it('removes entries and validates new ones naming the field', () => {
    expect(spd.remove(bypassDns)).toBe(true);
    expect(spd.remove(bypassDns)).toBe(false);
    expect(spd.lookup(ipv4Packet('198.18.0.7', '198.18.1.53', 17, 20, 999, 53))).toBe(protect);
    expect(() => spd.add({ priority: 1, local: [], remote: [any4], action: SpdAction.bypass })).toThrow(/^local/);
    expect(() => spd.add({ priority: 1, local: [any4], remote: [any4], action: 9 as SpdAction })).toThrow(/^action/);
    expect(() => spd.add({ priority: 1, local: [any4], remote: [{ ...any4, endPort: 70000 }], action: SpdAction.bypass })).toThrow(/^remote\[0\]\.endPort/);
    expect(() => spd.add({ priority: NaN, local: [any4], remote: [any4], action: SpdAction.bypass })).toThrow(/^priority/);
  });
});

describe('selectors', () => {
  it('port-less packets only match full port ranges; ICMP type/code acts as the port', () => {
    const ts = selectorFromPrefix(ip4('10.0.0.0'), 8, { startPort: 80, endPort: 80 });
    const addr = ip4('10.1.2.3');
    expect(selectorMatches(ts, addr, 0, 4, 6, 80)).toBe(true);
    expect(selectorMatches(ts, addr, 0, 4, 6, -1)).toBe(false);
    expect(selectorMatches(selectorFromPrefix(ip4('10.0.0.0'), 8), addr, 0, 4, 47, -1)).toBe(true);
    expect(selectorMatches(ts, ip4('11.0.0.0'), 0, 4, 6, 80)).toBe(false);
    expect(selectorMatches(ts, ip4('9.255.255.255'), 0, 4, 6, 80)).toBe(false);
    const icmpEcho = selectorFromPrefix(ip4('10.0.0.0'), 8, { ipProtocol: 1, startPort: 0x0800, endPort: 0x0800 });
    expect(selectorMatches(icmpEcho, addr, 0, 4, 1, 0x0800)).toBe(true);
    expect(selectorMatches(icmpEcho, addr, 0, 4, 1, 0x0000)).toBe(false);
  });
});

describe('Sad', () => {
  it('maps SPIs to inbound SAs and rejects outbound or duplicate ones', () => {
    const a = makePair({ encr: 'aes-gcm-16', keyBits: 128 }, nodeCrypto, { spi: 0xc0000001 });
    const b = createEspSa({ direction: 'in', spi: 0xc0000002, algorithm: { encr: 'chacha20-poly1305' }, encKey: new Uint8Array(36), provider: nodeCrypto, mode: 'tunnel' });
    const sad = new Sad();
    sad.add(a.in);
    sad.add(b);
    expect(sad.size).toBe(2);
    expect(sad.get(0xc0000001)).toBe(a.in);
    expect(sad.get(0xc0000002)).toBe(b);
    expect(sad.get(0xc0000003)).toBeUndefined();
    expect(() => sad.add(a.in)).toThrow(/already installed/);
    expect(() => sad.add(a.out)).toThrow(/inbound SAs only/);
    expect(sad.remove(0xc0000001)).toBe(true);
    expect(sad.get(0xc0000001)).toBeUndefined();
    expect([...sad.values()]).toEqual([b]);
  });
});
