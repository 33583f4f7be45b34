/** Every Drop code has a test that produces it; plus lifetime/sequence events and TFC padding. */
import { createCipheriv } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../../src/crypto/node.js';
import { Drop, DROP_COUNT, DROP_NAMES, dropName } from '../../../src/esp/drop.js';
import { espOpen, openWithSa, OpenResult } from '../../../src/esp/open.js';
import { createEspSa, EspSaEvent, type EspSa } from '../../../src/esp/sa.js';
import { Sad } from '../../../src/esp/sad.js';
import { espSeal } from '../../../src/esp/seal.js';
import { selectorFromPrefix } from '../../../src/esp/selector.js';
import { ip4, ipv4Packet, makePair, PROVIDERS } from './helpers.js';

const produced = new Set<number>();
const GCM = { encr: 'aes-gcm-16', keyBits: 128 } as const;
const CBC = { encr: 'aes-cbc', keyBits: 128, integ: 'hmac-sha256-128' } as const;

function seal(sa: EspSa, payload: Uint8Array, nh: number): Uint8Array {
  const head = sa.headerLength;
  const buf = new Uint8Array(head + payload.length + 64);
  buf.set(payload, head);
  const n = espSeal(sa, buf, head, head + payload.length, nh);
  expect(n).toBeGreaterThan(0);
  return buf.slice(0, n);
}

function open(sa: EspSa, pkt: Uint8Array, out = new OpenResult()): number {
  const sad = new Sad();
  sad.add(sa);
  const d = espOpen(sad, pkt, out);
  produced.add(d);
  if (d !== Drop.ok) expect(sa.drops[d]).toBeGreaterThan(0);
  return d;
}

/** AES-128-GCM ESP packet with an arbitrary plaintext (incl. trailer), built with node:crypto directly. */
function craftGcm(encKey: Uint8Array, spi: number, seq: number, plaintext: Uint8Array): Uint8Array {
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32BE(spi, 0);
  hdr.writeUInt32BE(seq, 4);
  hdr.writeUInt32BE(seq, 12); // IV = seq
  const c = createCipheriv('aes-128-gcm', Buffer.from(encKey.subarray(0, 16)), Buffer.concat([Buffer.from(encKey.subarray(16)), hdr.subarray(8)]), { authTagLength: 16 });
  c.setAAD(hdr.subarray(0, 8));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Uint8Array.from(Buffer.concat([hdr, ct, c.getAuthTag()]));
}

describe('Drop codes', () => {
  afterAll(() => {
    // Every code except `ok` must have been produced by one of the tests below.
    const missing = DROP_NAMES.filter((_, code) => !produced.has(code));
    expect(missing).toEqual([]);
  });

  it('names every code', () => {
    expect(DROP_NAMES.length).toBe(DROP_COUNT);
    expect(dropName(Drop.icv)).toBe('icv');
    expect(dropName(99)).toBe('unknown(99)');
    expect(new Set(Object.values(Drop)).size).toBe(DROP_COUNT);
  });

  for (const provider of PROVIDERS) {
    describe(provider.name, () => {
      it('ok, short (SAD and SA level), unknownSpi, replay, icv', () => {
        const { out, in: inb } = makePair(GCM, provider, { mode: 'transport' });
        const pkt = seal(out, new Uint8Array(40).fill(7), 17);
        const sad = new Sad();
        sad.add(inb);
        const res = new OpenResult();
        expect(espOpen(sad, new Uint8Array(7), res)).toBe(Drop.short);
        expect(sad.drops[Drop.short]).toBe(1);
        produced.add(Drop.short);
        const unknown = pkt.slice();
        unknown[3] ^= 1;
        expect(espOpen(sad, unknown, res)).toBe(Drop.unknownSpi);
        expect(res.sa).toBeNull();
        expect(sad.drops[Drop.unknownSpi]).toBe(1);
        produced.add(Drop.unknownSpi);
        expect(open(inb, pkt.slice(0, 8 + 8 + 1 + 16))).toBe(Drop.short); // ciphertext shorter than the trailer
        const tampered = pkt.slice();
        tampered[20] ^= 0x80;
        expect(open(inb, tampered)).toBe(Drop.icv);
        const tag = pkt.slice();
        tag[tag.length - 1] ^= 1;
        expect(open(inb, tag)).toBe(Drop.icv);
        expect(open(inb, pkt.slice())).toBe(Drop.ok);
        expect(open(inb, pkt.slice())).toBe(Drop.replay);
        expect(inb.stats[0]).toBe(1);
        expect(inb.stats[1]).toBe(40);
      });

      it('a forged packet does not move the replay window (commit only after the ICV)', () => {
        const { out, in: inb } = makePair(GCM, provider, { mode: 'transport' });
        out.setOutboundSeq(0, 999);
        const pkt = seal(out, new Uint8Array(8), 17); // seq 1000
        const forged = pkt.slice();
        forged[forged.length - 1] ^= 1;
        expect(open(inb, forged)).toBe(Drop.icv);
        expect(inb.replay!.topLo).toBe(0);
        expect(open(inb, pkt.slice())).toBe(Drop.ok);
        expect(inb.replay!.topLo).toBe(1000);
      });

      it('padding: bytes not 1,2,3… and Pad Length beyond the payload', () => {
        const { in: inb, keys } = makePair(GCM, provider, { mode: 'transport', spi: 0x2000 });
        // 6 payload bytes, padding 01 03 (should be 01 02), Pad Length 2, Next Header 17.
        const bad = Uint8Array.of(1, 2, 3, 4, 5, 6, 1, 3, 2, 17);
        expect(open(inb, craftGcm(keys.encKey, 0x2000, 1, bad))).toBe(Drop.padding);
        // Pad Length 200 in a 10-byte plaintext.
        const long = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 200, 17);
        expect(open(inb, craftGcm(keys.encKey, 0x2000, 2, long))).toBe(Drop.padding);
        // Control: correct padding opens.
        const good = Uint8Array.of(1, 2, 3, 4, 5, 6, 1, 2, 2, 17);
        expect(open(inb, craftGcm(keys.encKey, 0x2000, 3, good))).toBe(Drop.ok);
        expect(inb.drops[Drop.padding]).toBe(2);
      });

      it('dummy: Next Header 59 is dropped silently with its own code (RFC 4303 §2.6)', () => {
        const { out, in: inb } = makePair(GCM, provider, { mode: 'tunnel' });
        const res = new OpenResult();
        expect(open(inb, seal(out, new Uint8Array(33), 59), res)).toBe(Drop.dummy);
        expect(res.nextHeader).toBe(59);
        expect(inb.drops[Drop.dummy]).toBe(1);
        expect(inb.stats[0]).toBe(0);
      });

      it('innerHeader: non-IP, wrong version for Next Header, truncated inner packet, wrong Next Header', () => {
        const { out, in: inb } = makePair(GCM, provider, { mode: 'tunnel' });
        const ip = ipv4Packet('198.18.0.1', '198.18.0.2', 17, 30);
        expect(open(inb, seal(out, new Uint8Array(40).fill(0x11), 4))).toBe(Drop.innerHeader);
        expect(open(inb, seal(out, ip, 41))).toBe(Drop.innerHeader); // IPv4 under Next Header 41
        expect(open(inb, seal(out, ip.subarray(0, 40), 4))).toBe(Drop.innerHeader); // total length 50 > 40
        expect(open(inb, seal(out, ip, 17))).toBe(Drop.innerHeader); // tunnel mode carries only IP
        expect(open(inb, seal(out, ip, 4))).toBe(Drop.ok);
        expect(inb.drops[Drop.innerHeader]).toBe(4);
      });

      it('TFC padding after the inner packet is accepted and cut at the inner total length', () => {
        const { out, in: inb } = makePair(GCM, provider, { mode: 'tunnel' });
        const ip = ipv4Packet('198.18.0.1', '198.18.0.2', 17, 30);
        const padded = new Uint8Array(ip.length + 77);
        padded.set(ip);
        const res = new OpenResult();
        const pkt = seal(out, padded, 4);
        expect(open(inb, pkt, res)).toBe(Drop.ok);
        expect(res.payloadEnd - res.payloadStart).toBe(ip.length);
        expect(Buffer.from(pkt.subarray(res.payloadStart, res.payloadEnd)).equals(Buffer.from(ip))).toBe(true);
      });

      it('policy: inner packet outside the SA traffic selectors (RFC 4301 §5.2)', () => {
        const { out, in: inb } = makePair(GCM, provider, {
          mode: 'tunnel',
          tsRemote: [selectorFromPrefix(ip4('198.18.0.0'), 24)],
          tsLocal: [selectorFromPrefix(ip4('198.18.1.0'), 24, { ipProtocol: 17, startPort: 53, endPort: 53 })],
        });
        expect(open(inb, seal(out, ipv4Packet('198.18.0.9', '198.18.1.1', 17, 20, 4000, 53), 4))).toBe(Drop.ok);
        expect(open(inb, seal(out, ipv4Packet('198.18.2.9', '198.18.1.1', 17, 20, 4000, 53), 4))).toBe(Drop.policy); // src
        expect(open(inb, seal(out, ipv4Packet('198.18.0.9', '198.18.3.1', 17, 20, 4000, 53), 4))).toBe(Drop.policy); // dst
        expect(open(inb, seal(out, ipv4Packet('198.18.0.9', '198.18.1.1', 17, 20, 4000, 54), 4))).toBe(Drop.policy); // port
        expect(open(inb, seal(out, ipv4Packet('198.18.0.9', '198.18.1.1', 6, 20, 4000, 53), 4))).toBe(Drop.policy); // protocol
        expect(inb.drops[Drop.policy]).toBe(4);
      });

      it('policy in transport mode checks protocol and ports', () => {
        const { out, in: inb } = makePair(GCM, provider, {
          mode: 'transport',
          tsLocal: [{ ...selectorFromPrefix(ip4('0.0.0.0'), 0), ipProtocol: 17, startPort: 500, endPort: 500 }],
        });
        const udp = (dport: number): Uint8Array => Uint8Array.of(0x10, 0x00, dport >> 8, dport & 0xff, 0, 8, 0, 0);
        expect(open(inb, seal(out, udp(500), 17))).toBe(Drop.ok);
        expect(open(inb, seal(out, udp(501), 17))).toBe(Drop.policy);
        expect(open(inb, seal(out, udp(500), 6))).toBe(Drop.policy);
      });

      it('malformed: CBC ciphertext not a multiple of the block size', () => {
        const { out, in: inb } = makePair(CBC, provider, { mode: 'transport' });
        const pkt = seal(out, new Uint8Array(20), 17);
        const cut = new Uint8Array(pkt.length - 1);
        cut.set(pkt.subarray(0, pkt.length - 17));
        cut.set(pkt.subarray(pkt.length - 16), pkt.length - 17);
        expect(open(inb, cut)).toBe(Drop.malformed);
        expect(open(inb, pkt)).toBe(Drop.ok);
      });

      it('seqExhausted: the counter never cycles (RFC 4303 §3.3.3), soft event first', () => {
        const { out } = makePair(GCM, provider, { mode: 'transport' });
        out.setOutboundSeq(0, 0xfffffffe - 0x1000000);
        seal(out, new Uint8Array(4), 17);
        expect(out.pollEvents() & EspSaEvent.seqSoft).toBe(EspSaEvent.seqSoft);
        out.setOutboundSeq(0, 0xfffffffe);
        seal(out, new Uint8Array(4), 17); // 0xffffffff is the last number
        const buf = new Uint8Array(100);
        expect(espSeal(out, buf, 16, 20, 17)).toBe(-Drop.seqExhausted);
        produced.add(Drop.seqExhausted);
        expect(out.pollEvents()).toBe(EspSaEvent.seqHard);
        expect(out.expired).toBe(true);
        expect(espSeal(out, buf, 16, 20, 17)).toBe(-Drop.seqExhausted);
        expect(out.drops[Drop.seqExhausted]).toBe(2);
        // With ESN the low half wraps into the high half; only 2^64 − 1 is the end.
        const esn = makePair(GCM, provider, { mode: 'transport', esn: true }).out;
        esn.setOutboundSeq(0, 0xffffffff);
        seal(esn, new Uint8Array(4), 17);
        expect([esn.seqHi, esn.seqLo]).toEqual([1, 0]);
        esn.setOutboundSeq(0xffffffff, 0xffffffff);
        expect(espSeal(esn, buf, 16, 20, 17)).toBe(-Drop.seqExhausted);
      });

      it('lifetimeExpired: hard packet and byte limits, soft events polled once', () => {
        const { out, in: inb } = makePair(GCM, provider, { mode: 'transport', lifetime: { softPackets: 2, hardPackets: 3, softBytes: 1000, hardBytes: 10_000 } });
        const pkts = [seal(out, new Uint8Array(10), 17), seal(out, new Uint8Array(10), 17)];
        expect(out.pollEvents()).toBe(EspSaEvent.softPackets);
        expect(out.pollEvents()).toBe(0);
        pkts.push(seal(out, new Uint8Array(10), 17));
        expect(out.pollEvents()).toBe(EspSaEvent.hardPackets);
        const buf = new Uint8Array(100);
        expect(espSeal(out, buf, 16, 20, 17)).toBe(-Drop.lifetimeExpired);
        produced.add(Drop.lifetimeExpired);
        // Inbound: hard bytes.
        const b = makePair(GCM, provider, { mode: 'transport' });
        const limited = createEspSa({ direction: 'in', spi: b.in.spi, algorithm: GCM, encKey: b.keys.encKey, provider, mode: 'transport', lifetime: { hardBytes: 15 } });
        const p1 = seal(b.out, new Uint8Array(10), 17);
        const p2 = seal(b.out, new Uint8Array(10), 17);
        const p3 = seal(b.out, new Uint8Array(10), 17);
        expect(open(limited, p1)).toBe(Drop.ok);
        expect(limited.pollEvents()).toBe(0);
        expect(open(limited, p2)).toBe(Drop.ok);
        // No soft limit configured: the soft event comes with the hard one.
        expect(limited.pollEvents()).toBe(EspSaEvent.softBytes | EspSaEvent.hardBytes);
        expect(limited.expired).toBe(true);
        expect(open(limited, p3)).toBe(Drop.lifetimeExpired);
        expect(inb.expired).toBe(false);
      });

      it('buffer: missing headroom or tailroom; direction: SA used the wrong way', () => {
        const { out, in: inb } = makePair(GCM, provider, { mode: 'transport' });
        const buf = new Uint8Array(64);
        expect(espSeal(out, buf, 15, 20, 17)).toBe(-Drop.buffer); // needs 16 bytes of headroom
        expect(espSeal(out, buf, 16, 48, 17)).toBe(-Drop.buffer); // 16 + 32 + 2 pad + 2 + 16 = 68 > 64
        expect(espSeal(out, buf, 16, 20, 17)).toBeGreaterThan(0);
        expect(out.seqLo).toBe(1); // failed seals consumed no sequence number
        produced.add(Drop.buffer);
        expect(espSeal(inb, buf, 16, 20, 17)).toBe(-Drop.direction);
        const res = new OpenResult();
        expect(openWithSa(out, buf.slice(0, 42), res, -1)).toBe(Drop.direction);
        produced.add(Drop.direction);
      });
    });
  }

  it('createEspSa names the bad field', () => {
    const base = { direction: 'in' as const, spi: 0x1234, algorithm: GCM, encKey: new Uint8Array(20), provider: nodeCrypto, mode: 'tunnel' as const };
    expect(() => createEspSa({ ...base, spi: 5 })).toThrow(/^spi: .*reserved/);
    expect(() => createEspSa({ ...base, spi: -1 })).toThrow(/^spi/);
    expect(() => createEspSa({ ...base, encKey: new Uint8Array(16) })).toThrow(/^encKey: .*20 bytes/);
    expect(() => createEspSa({ ...base, algorithm: { encr: 'aes-gcm-16', keyBits: 100 } })).toThrow(/^algorithm\.keyBits/);
    expect(() => createEspSa({ ...base, algorithm: { encr: 'aes-gcm-16', integ: 'hmac-sha256-128' } })).toThrow(/^algorithm\.integ/);
    expect(() => createEspSa({ ...base, algorithm: { encr: 'aes-cbc' }, encKey: new Uint8Array(16) })).toThrow(/^algorithm\.integ/);
    expect(() => createEspSa({ ...base, algorithm: { encr: 'des' as 'aes-cbc' } })).toThrow(/^algorithm\.encr/);
    expect(() => createEspSa({ ...base, algorithm: CBC, encKey: new Uint8Array(16), integKey: new Uint8Array(20) })).toThrow(/^integKey/);
    expect(() => createEspSa({ ...base, direction: 'out', algorithm: CBC, encKey: new Uint8Array(16), integKey: new Uint8Array(32) })).toThrow(/^rng/);
    expect(() => createEspSa({ ...base, mode: 'bogus' as 'tunnel' })).toThrow(/^mode/);
    expect(() => createEspSa({ ...base, direction: 'x' as 'in' })).toThrow(/^direction/);
    expect(() => createEspSa({ ...base, replayWindow: 8 })).toThrow(/^replayWindow/);
    expect(() => createEspSa({ ...base, lifetime: { hardPackets: -1 } })).toThrow(/^lifetime\.hardPackets/);
    expect(() => createEspSa({ ...base, lifetime: { softBytes: 10, hardBytes: 5 } })).toThrow(/^lifetime\.softBytes/);
    expect(() => createEspSa({ ...base, tsLocal: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: new Uint8Array(16), endAddress: new Uint8Array(16) }] })).toThrow(/^tsLocal\[0\]\.startAddress/);
    expect(createEspSa(base).replay!.size).toBe(128);
  });
});
