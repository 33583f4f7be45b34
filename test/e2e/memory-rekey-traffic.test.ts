/**
 * No packet lost across a CHILD_SA rekey (RFC 7296 §2.8 make-before-break) with traffic flowing both
 * ways over a link with one-way delay: MemoryTun ⇄ Tunnel ⇄ MemoryNetwork ⇄ Tunnel ⇄ MemoryTun on a
 * simulated clock. Every millisecond each side injects one numbered packet into its TUN; a rekey is
 * started by either side in the middle; afterwards every packet must have reached the other TUN, the
 * old SA must be gone and the new one must carry the traffic. The bench (bench/e2e --rekey) saw a TCP
 * dip at every third rekey: this is its in-memory reproduction.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork, seededRandom as seededNetRandom } from '../../src/net/memory.js';
import { MemoryTun } from '../../src/tun/memory.js';
import { Tunnel } from '../../src/runtime/tunnel.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { seededRandom } from '../../src/crypto/seeded-random.js';
import type { RouteInstaller } from '../../src/runtime/tunnel.js';
import { buildIp } from '../../src/capture/pcap-writer.js';
import { pairConfig } from '../support/memory-pair.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
const PSK = new TextEncoder().encode('memory rekey traffic test key');

/** A UDP packet whose payload is its number (4 bytes, big endian). */
function numbered(src: string, dst: string, n: number): Uint8Array {
  const udp = new Uint8Array(8 + 4);
  udp[0] = 0x30; udp[1] = 0x39; udp[2] = 0x30; udp[3] = 0x39;
  udp[5] = 12;
  new DataView(udp.buffer).setUint32(8, n);
  return buildIp({ src, dst, protocol: 17, payload: udp });
}

function numberOf(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(28);
}

describe('CHILD_SA rekey under bidirectional traffic', () => {
  let tunnels: Tunnel[] = [];
  afterEach(async () => {
    for (const t of tunnels) await t.close();
    tunnels = [];
  });

  async function run(rekeyBy: 'a' | 'b', delayMs: number, jitterMs: number) {
    const clock = new SimulatedClock(1000);
    const net = new MemoryNetwork({ clock, delayMs, jitterMs, random: seededNetRandom(7) });
    const tunA = new MemoryTun({ name: 'a0' });
    const tunB = new MemoryTun({ name: 'b0' });
    const udpA = net.endpoint(A);
    const udpB = net.endpoint(B);
    await udpA.bind({ ports: [500, 4500] });
    await udpB.bind({ ports: [500, 4500] });
    const routeCalls: string[] = [];
    const routes = (side: string): RouteInstaller => ({
      childUp: async (c) => { routeCalls.push(`${side}:up:${c.info.spiIn}`); },
      childDown: async (c) => { routeCalls.push(`${side}:down:${c.info.spiIn}`); },
      close: async () => undefined,
    });
    const a = new Tunnel({ config: pairConfig('a', { psk: PSK }), udp: udpA, tun: tunA, rng: seededRandom(21), keepaliveSec: 0, clock, routes: routes('a') });
    const b = new Tunnel({ config: pairConfig('b', { psk: PSK }), udp: udpB, tun: tunB, rng: seededRandom(22), keepaliveSec: 0, clock, routes: routes('b') });
    tunnels.push(a, b);
    const events: string[] = [];
    for (const [name, t] of [['a', a], ['b', b]] as const) t.on((e) => { if (e.type.startsWith('child')) events.push(`${name}:${e.type}${'reason' in e ? `:${e.reason}` : ''}`); });
    a.start();
    const step = (ms: number, traffic: boolean, sent: { ab: number; ba: number }) => {
      for (let i = 0; i < ms; i++) {
        clock.advance(1);
        if (traffic) {
          tunA.inject(numbered('198.19.1.1', '198.19.2.1', sent.ab++));
          tunB.inject(numbered('198.19.2.1', '198.19.1.1', sent.ba++));
        }
        net.deliverUntil(clock.now());
      }
    };
    const sent = { ab: 0, ba: 0 };
    step(200, false, sent);
    expect([...events].sort()).toEqual(['a:child-up', 'b:child-up']);
    const firstSpi = a.status().ikeSas[0]!.childCounters[0]!.spiIn;
    step(50, true, sent);
    const rekeyer = rekeyBy === 'a' ? a : b;
    rekeyer.command((ep, now) => ep.rekeyChild(now, ep.status()[0]!.children[0]!.spiIn));
    step(300, true, sent);
    // Let the last packets arrive.
    step(Math.ceil(delayMs + jitterMs) + 2, false, sent);
    return { a, b, tunA, tunB, sent, events, firstSpi, routeCalls, step };
  }

  for (const rekeyBy of ['a', 'b'] as const) {
    for (const [delay, jitter] of [[5, 0], [20, 0], [5, 4]] as const) {
      it(`loses no packet when ${rekeyBy} rekeys (one-way delay ${delay} ms, jitter ${jitter} ms)`, async () => {
        const { a, b, tunA, tunB, sent, events, firstSpi, routeCalls, step } = await run(rekeyBy, delay, jitter);
        expect(events.filter((e) => e.includes('rekeyed')).sort()).toEqual(['a:child-down:rekeyed', 'a:child-rekeyed', 'b:child-down:rekeyed', 'b:child-rekeyed']);
        const gotB = tunB.written.map(numberOf);
        const gotA = tunA.written.map(numberOf);
        const missingB = [...Array(sent.ab).keys()].filter((n) => !gotB.includes(n));
        const missingA = [...Array(sent.ba).keys()].filter((n) => !gotA.includes(n));
        const drops = { a: a.status().drops.esp, b: b.status().drops.esp };
        expect({ missingA, missingB, unknownA: drops.a.unknownSpi, unknownB: drops.b.unknownSpi }).toEqual({ missingA: [], missingB: [], unknownA: 0, unknownB: 0 });
        // One child left on each side, a new one, and both directions carried traffic on it.
        for (const t of [a, b]) {
          const cc = t.status().ikeSas[0]!.childCounters;
          expect(cc.length).toBe(1);
          expect(cc[0]!.spiIn).not.toBe(firstSpi);
          expect(cc[0]!.packetsIn).toBeGreaterThan(0);
          expect(cc[0]!.packetsOut).toBeGreaterThan(0);
        }
        // The routes were installed once per side and handed over to the new SA (no `ip` run on a rekey).
        expect(routeCalls.map((x) => x.split(':').slice(0, 2).join(':')).sort()).toEqual(['a:up', 'b:up']);
        // The old inbound SA lingers for stragglers only briefly, then the data path holds the new pair alone.
        step(1100, true, sent);
        for (const t of [a, b]) expect(t.datapath.installed().map((c) => c.info.spiIn)).toEqual([t.status().ikeSas[0]!.children[0]!.spiIn]);
        // Deleting the child now takes its routes down (the reference the first SA took is released once).
        a.terminate({ child: 'net' });
        step(100, false, sent);
        expect(routeCalls.filter((x) => x.includes(':down:')).map((x) => x.split(':').slice(0, 2).join(':')).sort()).toEqual(['a:down', 'b:down']);
      });
    }
  }
});
