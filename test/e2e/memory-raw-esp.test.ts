/**
 * In-memory end to end for raw ESP: MemoryTun ⇄ Tunnel ⇄ (MemoryNetwork for IKE, MemoryRawEspNetwork for
 * ESP) ⇄ Tunnel ⇄ MemoryTun. With `encap: false` and no NAT, ESP leaves on the raw transport (IP
 * protocol 50) and never as UDP; with `encap: true` it stays ESP-in-UDP on 4500 even when a raw
 * transport is there; a non-encapsulated child without a raw transport drops and counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Tunnel } from '../../src/runtime/tunnel.js';
import { systemClock } from '../../src/runtime/clock.js';
import { seededRandom } from '../../src/crypto/seeded-random.js';
import { icmpEcho as echo, memorySites, pairConfig } from '../support/memory-pair.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
const PSK = new TextEncoder().encode('memory raw esp test pre-shared key');
const MARKER = 'rawesp!!';
const icmpEcho = (src: string, dst: string, seq: number, type = 8): Uint8Array => echo(src, dst, seq, type, new TextEncoder().encode(MARKER));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('in-memory tunnel over raw ESP', () => {
  let tunnels: Tunnel[] = [];
  afterEach(async () => {
    for (const t of tunnels) await t.close();
    tunnels = [];
  });

  async function bringUp(encap: boolean, withRaw: { a: boolean; b: boolean } = { a: true, b: true }) {
    const { net, raw, tunA, tunB, udpA, udpB, rawA, rawB } = await memorySites();
    const a = new Tunnel({ config: pairConfig('a', { psk: PSK, encap }), udp: udpA, rawEsp: withRaw.a ? rawA : undefined, tun: tunA, rng: seededRandom(21), keepaliveSec: 0 });
    const b = new Tunnel({ config: pairConfig('b', { psk: PSK, encap }), udp: udpB, rawEsp: withRaw.b ? rawB : undefined, tun: tunB, rng: seededRandom(22), keepaliveSec: 0 });
    tunnels.push(a, b);
    const up: boolean[] = [];
    a.on((e) => { if (e.type === 'child-up') up.push(e.encap); });
    b.on((e) => { if (e.type === 'child-up') up.push(e.encap); });
    a.start();
    for (let i = 0; i < 200 && up.length < 2; i++) {
      net.deliverUntil(systemClock.now());
      await sleep(2);
    }
    expect(up).toEqual([encap, encap]);
    const flush = () => { net.deliverUntil(systemClock.now()); raw.deliver(); };
    return { net, raw, tunA, tunB, a, b, flush };
  }

  it('encap: false: a ping crosses both ways as IP protocol 50, never in UDP, never in the clear', async () => {
    const { net, raw, tunA, tunB, a, b, flush } = await bringUp(false);
    const udpBefore = net.captured.length;
    const req = icmpEcho('198.19.1.1', '198.19.2.1', 1);
    tunA.inject(req);
    flush();
    expect(tunB.written.map(hexOf)).toEqual([hexOf(req)]);
    const rep = icmpEcho('198.19.2.1', '198.19.1.1', 1, 0);
    tunB.inject(rep);
    flush();
    expect(tunA.written.map(hexOf)).toEqual([hexOf(rep)]);
    expect(raw.captured.map((c) => [c.fromAddress, c.toAddress, c.fate])).toEqual([[A, B, 'delivered'], [B, A, 'delivered']]);
    // The raw packets start at the SPI the peer chose for its inbound SA.
    const spiOutA = a.status().ikeSas[0]!.childCounters[0]!.spiOut;
    expect(hexOf(raw.captured[0]!.data.subarray(0, 4))).toBe(spiOutA);
    expect(b.status().ikeSas[0]!.childCounters[0]!.spiIn).toBe(spiOutA);
    expect(net.captured.length).toBe(udpBefore);
    for (const d of [...net.captured, ...raw.captured]) expect(Buffer.from(d.data).includes(Buffer.from(MARKER))).toBe(false);
    expect(a.status().ikeSas[0]!.childCounters[0]).toMatchObject({ packetsOut: 1, packetsIn: 1 });
  });

  it('encap: true: ESP stays in UDP 4500 even with a raw transport open', async () => {
    const { net, raw, tunA, tunB, flush } = await bringUp(true);
    const req = icmpEcho('198.19.1.1', '198.19.2.1', 2);
    tunA.inject(req);
    flush();
    expect(tunB.written.map(hexOf)).toEqual([hexOf(req)]);
    expect(raw.captured).toEqual([]);
    const esp = net.captured.filter((d) => d.toPort === 4500 && d.data.length > 8 && (d.data[0]! | d.data[1]! | d.data[2]! | d.data[3]!) !== 0);
    expect(esp.length).toBe(1);
  });

  it('a non-encapsulated child without a raw transport drops its outbound packets and counts them', async () => {
    const { net, raw, tunA, tunB, a, flush } = await bringUp(false, { a: false, b: true });
    const udpBefore = net.captured.length;
    tunA.inject(icmpEcho('198.19.1.1', '198.19.2.1', 3));
    tunA.inject(icmpEcho('198.19.1.1', '198.19.2.1', 4));
    flush();
    expect(tunB.written).toEqual([]);
    expect(raw.captured).toEqual([]);
    expect(net.captured.length).toBe(udpBefore);
    expect(a.status().drops.tun.noRawEsp).toBe(2);
  });

  it('garbage and replayed raw ESP is dropped and counted, nothing reaches the TUN', async () => {
    const { raw, tunA, tunB, b, flush } = await bringUp(false);
    tunA.inject(icmpEcho('198.19.1.1', '198.19.2.1', 5));
    flush();
    expect(tunB.written.length).toBe(1);
    const sent = raw.captured[0]!.data;
    const intruder = raw.host('198.18.0.9');
    await intruder.open({ addresses: ['198.18.0.9'] });
    intruder.send(sent, B);
    intruder.send(Uint8Array.of(1, 2, 3), B);
    raw.deliver();
    expect(tunB.written.length).toBe(1);
    const drops = b.status().drops.esp;
    expect(drops.replay).toBe(1);
    expect(drops.short).toBe(1);
  });
});
