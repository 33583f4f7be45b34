/**
 * Raw ESP (encap = no) in status and metrics, and a raw ESP transport attached to a running Tunnel (what
 * `reload` does when it adds the first `encap = no` connection): before, the child's packets are
 * dropped as noRawEsp; after, they leave as IP protocol 50 and the transport's counters show in
 * `status().rawEsp` and in tsipsec_raw_esp_* metrics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../src/net/memory.js';
import { MemoryTun } from '../../../src/tun/memory.js';
import { Tunnel } from '../../../src/runtime/tunnel.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import { createMetricsRegistry } from '../../../src/runtime/metrics.js';
import { buildIp } from '../../../src/capture/pcap-writer.js';
import { memorySites, pairConfig } from '../../support/memory-pair.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
const PSK = new TextEncoder().encode('raw esp status test pre-shared key');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const udpPacket = (n: number) => {
  const seg = new Uint8Array(12);
  seg[1] = 7; seg[3] = 9; seg[5] = 12; seg[8] = n;
  return buildIp({ src: '198.19.1.1', dst: '198.19.2.1', protocol: 17, payload: seg });
};

describe('raw ESP in status and metrics; attaching a raw transport later', () => {
  let tunnels: Tunnel[] = [];
  afterEach(async () => {
    for (const t of tunnels) await t.close();
    tunnels = [];
  });

  it('drops without a transport, sends as protocol 50 once one is attached, and reports its counters', async () => {
    const { net, raw, tunA, tunB, udpA, udpB, rawA, rawB } = await memorySites();
    const a = new Tunnel({ config: pairConfig('a', { psk: PSK, aesBits: 128, encap: false }), udp: udpA, tun: tunA, rng: seededRandom(31), keepaliveSec: 0 });
    const b = new Tunnel({ config: pairConfig('b', { psk: PSK, aesBits: 128, encap: false }), udp: udpB, rawEsp: rawB, tun: tunB, rng: seededRandom(32), keepaliveSec: 0 });
    tunnels.push(a, b);
    let up = 0;
    a.on((e) => { if (e.type === 'child-up') up++; });
    a.start();
    for (let i = 0; i < 300 && up === 0; i++) { net.deliverUntil(systemClock.now()); await sleep(2); }
    expect(up).toBe(1);
    expect(a.status().rawEsp).toBeNull();
    expect(a.hasRawEsp).toBe(false);
    tunA.inject(udpPacket(1));
    raw.deliver();
    expect(a.status().drops.tun.noRawEsp).toBe(1);
    expect(tunB.written.length).toBe(0);

    a.attachRawEsp(rawA);
    expect(a.hasRawEsp).toBe(true);
    expect(() => a.attachRawEsp(rawA)).toThrow(/already attached/);
    tunA.inject(udpPacket(2));
    tunA.inject(udpPacket(3));
    raw.deliver();
    expect(tunB.written.map((p) => p[20 + 8])).toEqual([2, 3]);
    const sa = a.status().rawEsp!;
    expect(sa.txPackets).toBe(2);
    expect(sa.txBytes).toBe(raw.captured.filter((c) => c.fromAddress === A).reduce((n, c) => n + c.data.length, 0));
    expect(b.status().rawEsp!.rxPackets).toBe(2);

    const reg = createMetricsRegistry(b);
    reg.collectTsipsec();
    const text = await reg.metrics();
    expect(text).toMatch(/^tsipsec_raw_esp_packets\{direction="in"\} 2$/m);
    expect(text).toMatch(/^tsipsec_raw_esp_packets\{direction="out"\} 0$/m);
    const regA = createMetricsRegistry(a);
    regA.collectTsipsec();
    expect(await regA.metrics()).toMatch(/^tsipsec_raw_esp_errors\{direction="out"\} 0$/m);
  });

  it('metrics list trap policies and their packets', async () => {
    const net = new MemoryNetwork({ clock: systemClock });
    const udpA = net.endpoint(A);
    await udpA.bind({ ports: [500, 4500] });
    const tunA = new MemoryTun({ name: 'a0' });
    const cfg = pairConfig('a', { psk: PSK, aesBits: 128, encap: false });
    const a = new Tunnel({ config: { connections: [{ ...cfg.connections[0]!, encap: true, children: [{ ...cfg.connections[0]!.children![0]!, startAction: 'trap' }] }] }, udp: udpA, tun: tunA, rng: seededRandom(33), keepaliveSec: 0 });
    tunnels.push(a);
    a.start();
    for (let i = 0; i < 3; i++) tunA.inject(udpPacket(i));
    const reg = createMetricsRegistry(a);
    reg.collectTsipsec();
    const text = await reg.metrics();
    expect(text).toMatch(/^tsipsec_trap_policies\{connection="gw",child="net",reason="start_action"\} 1$/m);
    expect(text).toMatch(/^tsipsec_trap_packets\{connection="gw",child="net",kind="acquires"\} 1$/m);
    expect(text).toMatch(/^tsipsec_trap_packets\{connection="gw",child="net",kind="acquiresSuppressed"\} 2$/m);
    expect(text).toMatch(/^tsipsec_trap_packets\{connection="gw",child="net",kind="held"\} 3$/m);
    // No raw transport: no raw ESP samples at all.
    expect(text).not.toMatch(/^tsipsec_raw_esp_packets\{/m);
  });
});
