/**
 * Trap policies (runtime/traps.ts) on their own: selectors from the configuration, the acquire rate
 * limit (one pending acquire per trap until the child is up or the acquire expires), the bounded hold
 * queue, and release in order.
 */
import { describe, expect, it } from 'vitest';
import { resolveConnection } from '../../../src/ike/config.js';
import { TrapTable, trapSelectors } from '../../../src/runtime/traps.js';
import { IpPeek, peekIp } from '../../../src/wire/ip.js';
import { buildIp } from '../../../src/capture/pcap-writer.js';

const PSK = new TextEncoder().encode('a pre-shared key of some length');

function conn(over: { localAddrs?: string[]; vips?: string[]; localTs?: string[]; remoteTs?: string[] } = {}) {
  return resolveConnection({
    name: 'gw', localAddrs: over.localAddrs ?? ['198.18.0.1'], remoteAddrs: ['198.18.0.2'], proposals: ['aes128-sha256-x25519'],
    local: { auth: 'psk', id: 'a', psk: PSK }, remote: { auth: 'psk', id: 'b', psk: PSK }, vips: over.vips,
    children: [{ name: 'net', localTs: over.localTs ?? ['198.19.1.0/24'], remoteTs: over.remoteTs ?? ['198.19.2.0/24', '198.19.3.7[udp/53]'], espProposals: ['aes128gcm16'], startAction: 'trap' }],
  });
}

function udp(src: string, dst: string, dport: number, n = 0): { pkt: Uint8Array; peek: IpPeek } {
  const payload = new Uint8Array(12);
  payload[0] = 0x30; payload[1] = 0x39; // source port 12345
  payload[2] = dport >> 8; payload[3] = dport & 0xff;
  payload[5] = 12;
  payload[8] = n;
  const pkt = buildIp({ src, dst, protocol: 17, payload });
  const peek = new IpPeek();
  expect(peekIp(pkt, 0, pkt.length, peek)).toBe(true);
  return { pkt, peek };
}

describe('trapSelectors', () => {
  it('resolves the configured selectors, dynamic to the connection address', () => {
    const c = conn({ localTs: ['dynamic'], remoteTs: ['198.19.2.0/24'] });
    const s = trapSelectors(c, c.children[0]!);
    expect([...s.tsLocal[0]!.startAddress]).toEqual([198, 18, 0, 1]);
    expect([...s.tsLocal[0]!.endAddress]).toEqual([198, 18, 0, 1]);
    expect([...s.tsRemote[0]!.startAddress]).toEqual([198, 19, 2, 0]);
    expect([...s.tsRemote[0]!.endAddress]).toEqual([198, 19, 2, 255]);
  });

  it('with virtual IPs requested, a dynamic local selector matches any source', () => {
    const c = conn({ localTs: ['dynamic'], vips: ['0.0.0.0'] });
    const s = trapSelectors(c, c.children[0]!);
    expect(s.tsLocal.some((t) => t.startAddress.length === 4 && t.startAddress.every((x) => x === 0) && t.endAddress.every((x) => x === 255))).toBe(true);
  });

  it('refuses a connection without a concrete local address, naming the field', () => {
    const c = conn({ localAddrs: ['%any'] });
    expect(() => trapSelectors(c, c.children[0]!)).toThrow(/connections\.gw\.local_addrs/);
  });
});

describe('TrapTable', () => {
  it('matches only traffic inside both selector sets (ports included)', () => {
    const c = conn();
    const t = new TrapTable();
    t.install(c, c.children[0]!, 'start_action');
    const miss1 = udp('198.19.9.1', '198.19.2.1', 80);
    const miss2 = udp('198.19.1.1', '198.19.3.7', 80);
    const hitPort = udp('198.19.1.1', '198.19.3.7', 53);
    expect(t.take(0, miss1.pkt, miss1.peek)).toBeUndefined();
    expect(t.take(0, miss2.pkt, miss2.peek)).toBeUndefined();
    expect(t.take(0, hitPort.pkt, hitPort.peek)?.acquire).toBe(true);
  });

  it('raises one acquire while pending, holds the first queueMax packets and drops the rest', () => {
    const c = conn();
    const t = new TrapTable({ queueMax: 3, acquireTimeoutMs: 1000 });
    const trap = t.install(c, c.children[0]!, 'start_action')!;
    const acquires: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      const p = udp('198.19.1.1', '198.19.2.1', 80, i);
      acquires.push(t.take(i * 10, p.pkt, p.peek)!.acquire);
    }
    expect(acquires).toEqual([true, false, false, false, false, false, false, false, false, false]);
    expect(trap.counters).toEqual({ acquires: 1, acquiresSuppressed: 9, held: 3, released: 0, dropped: 7 });
    const held = t.childUp('gw', 'net');
    expect(held.map((p) => p[20 + 8])).toEqual([0, 1, 2]); // byte 8 of the UDP segment: the packet number
    expect(t.get('gw', 'net')!.pendingSinceMs).toBeUndefined();
    expect(t.totals.released).toBe(3);
    // After the child came up (and went again), the next packet raises a new acquire at once.
    const p = udp('198.19.1.1', '198.19.2.1', 80, 99);
    expect(t.take(200, p.pkt, p.peek)!.acquire).toBe(true);
  });

  it('a pending acquire expires after acquireTimeoutMs; a failure drops the held packets but keeps it pending', () => {
    const c = conn();
    const t = new TrapTable({ queueMax: 4, acquireTimeoutMs: 1000 });
    const trap = t.install(c, c.children[0]!, 'start_action')!;
    const p = udp('198.19.1.1', '198.19.2.1', 80);
    expect(t.take(0, p.pkt, p.peek)!.acquire).toBe(true);
    expect(t.take(500, p.pkt, p.peek)!.acquire).toBe(false);
    t.failed('gw');
    expect(trap.queue.length).toBe(0);
    expect(trap.counters.dropped).toBe(2);
    // Still pending: a peer that refuses us is not asked again for every packet.
    expect(t.take(999, p.pkt, p.peek)!.acquire).toBe(false);
    expect(t.take(1000, p.pkt, p.peek)!.acquire).toBe(true);
    // The stale held packet of the expired acquire was dropped, the new one is held.
    expect(trap.counters.dropped).toBe(3);
    expect(trap.queue.length).toBe(1);
    expect(trap.counters.acquires).toBe(2);
  });

  it('holds a copy, not the caller’s buffer', () => {
    const c = conn();
    const t = new TrapTable();
    t.install(c, c.children[0]!, 'start_action');
    const p = udp('198.19.1.1', '198.19.2.1', 80, 5);
    t.take(0, p.pkt, p.peek);
    p.pkt.fill(0);
    expect(t.childUp('gw', 'net')[0]![20 + 8]).toBe(5);
  });

  it('installs once per child and lists status like swanctl --list-pols', () => {
    const c = conn();
    const t = new TrapTable();
    expect(t.install(c, c.children[0]!, 'start_action')).toBeDefined();
    expect(t.install(c, c.children[0]!, 'dpd_action')).toBeUndefined();
    expect(t.status()).toEqual([expect.objectContaining({ connection: 'gw', child: 'net', mode: 'tunnel', reason: 'start_action', tsLocal: ['198.19.1.0/24'], tsRemote: ['198.19.2.0/24', '198.19.3.7/32[udp/53]'], acquiring: false })]);
    t.remove(t.get('gw', 'net')!);
    expect(t.size).toBe(0);
  });
});
