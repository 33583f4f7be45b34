/**
 * In-memory end to end (DESIGN.md rule 10): MemoryTun ⇄ Tunnel ⇄ MemoryNetwork ⇄ Tunnel ⇄ MemoryTun.
 * A ping crosses the tunnel both ways; tampered and replayed ESP datagrams are dropped and counted, and
 * nothing of them reaches the TUN device.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryUdpEndpoint } from '../../src/net/memory.js';
import { Tunnel } from '../../src/runtime/tunnel.js';
import { systemClock } from '../../src/runtime/clock.js';
import { seededRandom } from '../../src/crypto/seeded-random.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { icmpEcho, memorySites, pairConfig } from '../support/memory-pair.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
const PSK = new TextEncoder().encode('memory tunnel test pre-shared key');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('in-memory tunnel end to end', () => {
  let tunnels: Tunnel[] = [];
  afterEach(async () => {
    for (const t of tunnels) await t.close();
    tunnels = [];
  });

  async function bringUp(mode: 'tunnel' | 'transport', beforeStart?: (b: Tunnel, udpB: MemoryUdpEndpoint) => void) {
    const { net, tunA, tunB, udpA, udpB } = await memorySites();
    const a = new Tunnel({ config: pairConfig('a', { psk: PSK, mode }), udp: udpA, tun: tunA, rng: seededRandom(11), keepaliveSec: 0 });
    const b = new Tunnel({ config: pairConfig('b', { psk: PSK, mode }), udp: udpB, tun: tunB, rng: seededRandom(12), keepaliveSec: 0 });
    tunnels.push(a, b);
    const upA: string[] = [];
    const upB: string[] = [];
    a.on((e) => { if (e.type === 'child-up') upA.push(e.childName); });
    b.on((e) => { if (e.type === 'child-up') upB.push(e.childName); });
    beforeStart?.(b, udpB);
    a.start();
    for (let i = 0; i < 200 && (upA.length === 0 || upB.length === 0); i++) {
      net.deliverUntil(systemClock.now());
      await sleep(2);
    }
    expect(upA).toEqual(['net']);
    expect(upB).toEqual(['net']);
    return { net, tunA, tunB, a, b };
  }

  it('carries a ping both ways in tunnel mode, over ESP-in-UDP on 4500', async () => {
    const { net, tunA, tunB, a, b } = await bringUp('tunnel');
    const req = icmpEcho('198.19.1.1', '198.19.2.1', 1);
    tunA.inject(req);
    net.deliverUntil(systemClock.now());
    expect(tunB.written.map((p) => Buffer.from(p).toString('hex'))).toEqual([Buffer.from(req).toString('hex')]);
    const rep = icmpEcho('198.19.2.1', '198.19.1.1', 1, 0);
    tunB.inject(rep);
    net.deliverUntil(systemClock.now());
    expect(tunA.written.map((p) => Buffer.from(p).toString('hex'))).toEqual([Buffer.from(rep).toString('hex')]);
    // The wire carried the ping only as ESP on port 4500, never in the clear.
    const esp = net.captured.filter((d) => d.toPort === 4500 && d.data.length > 8 && (d.data[0]! | d.data[1]! | d.data[2]! | d.data[3]!) !== 0);
    expect(esp.length).toBe(2);
    const marker = Buffer.from('tsipsec!');
    for (const d of net.captured) expect(Buffer.from(d.data).includes(marker)).toBe(false);
    const sa = a.status().ikeSas[0]!;
    expect(sa.childCounters[0]!.packetsOut).toBe(1);
    expect(sa.childCounters[0]!.packetsIn).toBe(1);
    expect(b.status().ikeSas[0]!.childCounters[0]!.spiIn).toBe(sa.childCounters[0]!.spiOut);
  });

  it('the responder installs its child SA before its IKE_AUTH response leaves', async () => {
    // The initiator sends ESP the moment the response arrives; an SA installed after the send (the first
    // child's warm-up takes ~0.1 s) would drop those packets.
    const installedAtResponse: number[] = [];
    await bringUp('tunnel', (b, udpB) => {
      const send = udpB.send.bind(udpB);
      udpB.send = (d) => {
        // Port 4500: non-ESP marker, then the IKE header (exchange type at 18, flags at 19).
        const ike = d.localPort === 4500 ? d.data.subarray(4) : d.data;
        if (ike.length >= 28 && ike[18] === 35 && (ike[19]! & 0x20) !== 0) installedAtResponse.push([...(b as unknown as { datapath: { installed(): Iterable<unknown> } }).datapath.installed()].length);
        send(d);
      };
    });
    expect(installedAtResponse).toEqual([1]);
  });

  it('drops tampered and replayed ESP datagrams, counts them, and writes nothing to the TUN', async () => {
    const { net, tunA, tunB, b } = await bringUp('tunnel');
    tunA.inject(icmpEcho('198.19.1.1', '198.19.2.1', 7));
    net.deliverUntil(systemClock.now());
    expect(tunB.written.length).toBe(1);
    const espDatagram = net.captured.filter((d) => d.toPort === 4500 && (d.data[0]! | d.data[1]! | d.data[2]! | d.data[3]!) !== 0).at(-1)!;
    const udpB = (b as unknown as { opts: { udp: { receive(d: unknown): boolean } } }).opts.udp;
    // Replay of the same datagram.
    udpB.receive({ data: espDatagram.data.slice(), remoteAddress: A, remotePort: 4500, localAddress: B, localPort: 4500 });
    // Bit flip in the ciphertext of a fresh packet (a new sequence number, so it passes the replay pre-check).
    net.setFilter((d) => !(d.toAddress === B && d.toPort === 4500));
    tunA.inject(icmpEcho('198.19.1.1', '198.19.2.1', 8));
    net.setFilter(undefined);
    const held = net.captured.at(-1)!;
    expect(held.fate).toBe('filtered');
    const flipped = held.data.slice();
    flipped[flipped.length - 20]! ^= 0x01;
    udpB.receive({ data: flipped, remoteAddress: A, remotePort: 4500, localAddress: B, localPort: 4500 });
    // Truncated to a header.
    udpB.receive({ data: espDatagram.data.slice(0, 10), remoteAddress: A, remotePort: 4500, localAddress: B, localPort: 4500 });
    // Unknown SPI.
    const unknown = espDatagram.data.slice();
    unknown[0] = 0x7f; unknown[1] = 0x12;
    udpB.receive({ data: unknown, remoteAddress: A, remotePort: 4500, localAddress: B, localPort: 4500 });
    // Neither keepalive, IKE nor ESP: too short for an SPI and sequence number (RFC 3948 §2.2).
    udpB.receive({ data: Uint8Array.of(1, 2, 3), remoteAddress: A, remotePort: 4500, localAddress: B, localPort: 4500 });
    expect(tunB.written.length).toBe(1);
    const drops = b.status().drops.esp;
    expect(drops.nattInvalid).toBe(1);
    expect(drops.replay).toBe(1);
    expect(drops.icv).toBe(1);
    expect(drops.short).toBe(1);
    expect(drops.unknownSpi).toBe(1);
  });

  it('carries traffic in transport mode and rebuilds the IP header on receive', async () => {
    const { net, tunA, tunB } = await bringUp('transport');
    const req = icmpEcho(A, B, 3);
    tunA.inject(req);
    net.deliverUntil(systemClock.now());
    expect(tunB.written.length).toBe(1);
    const got = tunB.written[0]!;
    // Same addresses, protocol and ICMP payload; the rebuilt header has a valid checksum.
    expect(Buffer.from(got.subarray(12, 20))).toEqual(Buffer.from(req.subarray(12, 20)));
    expect(got[9]).toBe(1);
    expect(Buffer.from(got.subarray(20))).toEqual(Buffer.from(req.subarray(20)));
    expect(internetChecksum(got, 0, 20)).toBe(0);
  });

  it('takes the child down on terminate and stops forwarding', async () => {
    const { net, tunA, tunB, a } = await bringUp('tunnel');
    const downs: string[] = [];
    a.on((e) => { if (e.type === 'child-down') downs.push(e.reason); });
    expect(a.terminate({ child: 'net' })).toBe(1);
    for (let i = 0; i < 100 && downs.length === 0; i++) { net.deliverUntil(systemClock.now()); await sleep(2); }
    expect(downs).toEqual(['local']);
    tunA.inject(icmpEcho('198.19.1.1', '198.19.2.1', 9));
    net.deliverUntil(systemClock.now());
    expect(tunB.written.length).toBe(0);
    expect(a.status().drops.tun.noPolicy).toBe(1);
  });
});
