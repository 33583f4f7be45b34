/**
 * Trap policies in two running Tunnels (MemoryTun ⇄ Tunnel ⇄ MemoryNetwork ⇄ Tunnel ⇄ MemoryTun):
 * nothing is sent until traffic matches the trap; the first packet raises an acquire, is held and
 * arrives once the child is up; a burst raises one acquire; after DPD (dpd_action = trap) or a peer's
 * Delete (close_action = trap) the trap is back and new traffic brings the tunnel up again; routes
 * for traps are installed at start and removed on close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../src/net/memory.js';
import { MemoryTun } from '../../../src/tun/memory.js';
import { Tunnel, type RouteInstaller } from '../../../src/runtime/tunnel.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import type { IkeChildConfigInput, IkeConfigInput } from '../../../src/ike/config.js';
import { buildIp } from '../../../src/capture/pcap-writer.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
const PSK = new TextEncoder().encode('trap tunnel test pre-shared key');

function config(side: 'a' | 'b', child: Partial<IkeChildConfigInput>, dpdDelayMs = 0): IkeConfigInput {
  const me = side === 'a' ? A : B;
  const peer = side === 'a' ? B : A;
  return {
    limits: { retransmit: { timeoutMs: 60, base: 1, tries: 2 } },
    connections: [{
      name: 'gw', localAddrs: [me], remoteAddrs: [peer], proposals: ['aes128gcm16-prfsha256-x25519'], encap: true, dpdDelayMs,
      local: { auth: 'psk', id: `${side}.test`, psk: PSK },
      remote: { auth: 'psk', id: `${side === 'a' ? 'b' : 'a'}.test`, psk: PSK },
      children: [{
        name: 'net',
        localTs: [side === 'a' ? '198.19.1.0/24' : '198.19.2.0/24'],
        remoteTs: [side === 'a' ? '198.19.2.0/24' : '198.19.1.0/24'],
        espProposals: ['aes128gcm16'], ...child,
      }],
    }],
  };
}

function udpPacket(src: string, dst: string, n: number): Uint8Array {
  const seg = new Uint8Array(12);
  seg[0] = 0x30; seg[1] = 0x39; seg[2] = 0x00; seg[3] = 0x35; seg[5] = 12; seg[8] = n;
  return buildIp({ src, dst, protocol: 17, payload: seg });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Records route calls (what TunnelRoutes would do to the kernel). */
class RecordingRoutes implements RouteInstaller {
  readonly calls: string[] = [];
  async childUp(): Promise<void> { this.calls.push('childUp'); }
  async childDown(): Promise<void> { this.calls.push('childDown'); }
  async trapUp(t: { child: string; reason: string }): Promise<void> { this.calls.push(`trapUp ${t.child} ${t.reason}`); }
  async trapDown(t: { child: string }): Promise<void> { this.calls.push(`trapDown ${t.child}`); }
  async close(): Promise<void> { this.calls.push('close'); }
}

function isIkeSaInit(d: { toPort: number; data: Uint8Array }): boolean {
  return d.toPort === 500 && d.data.length >= 28 && d.data[18] === 34 && (d.data[19]! & 0x20) === 0;
}

describe('trap policies in the Tunnel', () => {
  let tunnels: Tunnel[] = [];
  afterEach(async () => {
    for (const t of tunnels) await t.close();
    tunnels = [];
  });

  async function pair(childA: Partial<IkeChildConfigInput>, childB: Partial<IkeChildConfigInput>, o: { dpdA?: number; routesA?: RouteInstaller } = {}) {
    const net = new MemoryNetwork({ clock: systemClock });
    const tunA = new MemoryTun({ name: 'a0' });
    const tunB = new MemoryTun({ name: 'b0' });
    const udpA = net.endpoint(A);
    const udpB = net.endpoint(B);
    await udpA.bind({ ports: [500, 4500] });
    await udpB.bind({ ports: [500, 4500] });
    const a = new Tunnel({ config: config('a', childA, o.dpdA), udp: udpA, tun: tunA, rng: seededRandom(21), keepaliveSec: 0, routes: o.routesA });
    const b = new Tunnel({ config: config('b', childB), udp: udpB, tun: tunB, rng: seededRandom(22), keepaliveSec: 0 });
    tunnels.push(a, b);
    const upA: number[] = [];
    a.on((e) => { if (e.type === 'child-up') upA.push(e.spiIn); });
    a.start();
    b.start();
    const run = async (until: () => boolean, ms = 3000) => {
      const end = Date.now() + ms;
      while (!until() && Date.now() < end) { net.deliverUntil(systemClock.now()); await sleep(2); }
      net.deliverUntil(systemClock.now());
      return until();
    };
    return { net, tunA, tunB, a, b, upA, run };
  }

  it('sends nothing until traffic matches; the first packet raises an acquire and arrives once the child is up', async () => {
    const { net, tunA, tunB, a, b, upA, run } = await pair({ startAction: 'trap' }, { startAction: 'trap' });
    await run(() => false, 50);
    expect(net.captured.length).toBe(0);
    expect(a.status().traps).toEqual([expect.objectContaining({ connection: 'gw', child: 'net', reason: 'start_action', acquiring: false, acquires: 0 })]);
    const first = udpPacket('198.19.1.1', '198.19.2.1', 1);
    tunA.inject(first);
    expect(a.status().traps[0]!.acquiring).toBe(true);
    expect(await run(() => upA.length === 1 && tunB.written.length === 1)).toBe(true);
    // The held first packet crossed the tunnel, unchanged.
    expect(tunB.written.map(hex)).toEqual([hex(first)]);
    expect(a.status().traps[0]).toMatchObject({ acquires: 1, held: 1, released: 1, dropped: 0, acquiring: false });
    // Later packets go straight through the child; B's own trap raised nothing.
    tunA.inject(udpPacket('198.19.1.1', '198.19.2.1', 2));
    await run(() => tunB.written.length === 2);
    expect(tunB.written.length).toBe(2);
    expect(b.status().traps[0]!.acquires).toBe(0);
    expect(a.status().drops.tun.noPolicy).toBe(0);
    // Traffic matching no trap and no child is still a noPolicy drop.
    tunA.inject(udpPacket('198.19.1.1', '198.19.9.1', 3));
    expect(a.status().drops.tun.noPolicy).toBe(1);
  });

  it('a burst before the IKE SA is up raises one acquire (one IKE_SA_INIT), holds 8 packets and drops the rest', async () => {
    const { net, tunA, tunB, a, upA, run } = await pair({ startAction: 'trap' }, {});
    for (let i = 0; i < 20; i++) tunA.inject(udpPacket('198.19.1.1', '198.19.2.1', i));
    expect(await run(() => upA.length === 1 && tunB.written.length >= 8)).toBe(true);
    await run(() => false, 30);
    expect(net.captured.filter(isIkeSaInit).length).toBe(1);
    expect(a.status().traps[0]).toMatchObject({ acquires: 1, acquiresSuppressed: 19, held: 8, released: 8, dropped: 12 });
    expect(a.status().drops.tun.trapDropped).toBe(12);
    // The held packets arrive in the order they were sent.
    expect(tunB.written.map((p) => p[20 + 8])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a.status().ikeSas.length).toBe(1);
  });

  it('start_action = trap|start initiates at once and traffic meanwhile raises no second acquire', async () => {
    const { net, tunA, tunB, a, upA, run } = await pair({ startAction: 'trap|start' }, {});
    tunA.inject(udpPacket('198.19.1.1', '198.19.2.1', 1));
    expect(await run(() => upA.length === 1 && tunB.written.length === 1)).toBe(true);
    expect(net.captured.filter(isIkeSaInit).length).toBe(1);
    expect(a.status().traps[0]).toMatchObject({ acquires: 0, acquiresSuppressed: 1, released: 1 });
  });

  it('dpd_action = trap: after DPD declares the peer dead the trap is installed, and new traffic re-establishes', async () => {
    const routes = new RecordingRoutes();
    const { net, tunA, tunB, a, upA, run } = await pair({ startAction: 'start', dpdAction: 'trap' }, {}, { dpdA: 100, routesA: routes });
    expect(await run(() => upA.length === 1)).toBe(true);
    expect(a.status().traps).toEqual([]);
    // The peer goes silent: DPD (INFORMATIONAL, 2 retransmits of 60 ms) gives up.
    net.setFilter(() => false);
    const downs: string[] = [];
    a.on((e) => { if (e.type === 'ike-down') downs.push(e.reason); });
    expect(await run(() => downs.length > 0, 3000)).toBe(true);
    expect(downs).toEqual(['dpd']);
    expect(a.status().traps).toEqual([expect.objectContaining({ child: 'net', reason: 'dpd_action', acquiring: false })]);
    expect(a.status().ikeSas).toEqual([]);
    expect(routes.calls).toContain('trapUp net dpd_action');
    // The peer is back: the next packet brings up a new IKE SA and child, and arrives.
    net.setFilter(undefined);
    const pkt = udpPacket('198.19.1.1', '198.19.2.1', 42);
    tunA.inject(pkt);
    expect(await run(() => upA.length === 2 && tunB.written.length === 1)).toBe(true);
    expect(tunB.written.map(hex)).toEqual([hex(pkt)]);
    expect(a.status().traps[0]!.acquires).toBe(1);
  });

  it('close_action = trap: a child the peer deletes leaves a trap; close_action = none leaves none', async () => {
    const { tunA, tunB, a, b, upA, run } = await pair({ startAction: 'start', closeAction: 'trap' }, {});
    expect(await run(() => upA.length === 1)).toBe(true);
    const downs: string[] = [];
    a.on((e) => { if (e.type === 'child-down') downs.push(e.reason); });
    expect(b.terminate({ child: 'net' })).toBe(1);
    expect(await run(() => downs.length === 1)).toBe(true);
    expect(downs).toEqual(['peer']);
    expect(a.status().traps).toEqual([expect.objectContaining({ child: 'net', reason: 'close_action' })]);
    tunA.inject(udpPacket('198.19.1.1', '198.19.2.1', 7));
    expect(await run(() => upA.length === 2 && tunB.written.length === 1)).toBe(true);
  });

  it('installs trap routes at start and removes them on close', async () => {
    const routes = new RecordingRoutes();
    const { a } = await pair({ startAction: 'trap' }, {}, { routesA: routes });
    expect(routes.calls).toEqual(['trapUp net start_action']);
    await a.close();
    expect(routes.calls).toEqual(['trapUp net start_action', 'trapDown net', 'close']);
  });
});
