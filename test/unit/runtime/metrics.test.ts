/**
 * Prometheus metrics of a running Tunnel pair (in memory), scraped over HTTP from startMetrics: a
 * configured-but-down connection is visible, IKE/child SAs per connection, bytes/packets per SA, drops by
 * reason, rekeys, retransmits and the IKE_SA_INIT → IKE_AUTH handshake histogram.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../src/net/memory.js';
import { MemoryTun } from '../../../src/tun/memory.js';
import { Tunnel } from '../../../src/runtime/tunnel.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import { HandshakeTimer, startMetrics, tapHandshakes, type MetricsServer } from '../../../src/runtime/metrics.js';
import type { IkeConfigInput } from '../../../src/ike/config.js';
import { buildIp } from '../../../src/capture/pcap-writer.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
const NOBODY = '198.18.0.9';
const PSK = new TextEncoder().encode('metrics test pre-shared key');

function config(side: 'a' | 'b'): IkeConfigInput {
  const me = side === 'a' ? A : B;
  const peer = side === 'a' ? B : A;
  const gw = {
    name: 'gw', localAddrs: [me], remoteAddrs: [peer], proposals: ['aes128gcm16-prfsha256-x25519'], encap: true,
    local: { auth: 'psk' as const, id: `${side}.test`, psk: PSK },
    remote: { auth: 'psk' as const, id: `${side === 'a' ? 'b' : 'a'}.test`, psk: PSK },
    children: [{ name: 'net', localTs: [side === 'a' ? '198.19.1.0/24' : '198.19.2.0/24'], remoteTs: [side === 'a' ? '198.19.2.0/24' : '198.19.1.0/24'], espProposals: ['aes128gcm16'], startAction: side === 'a' ? 'start' as const : 'none' as const }],
  };
  // A connection nobody answers: configured, never established.
  const idle = { ...gw, name: 'idle', remoteAddrs: [NOBODY], children: [{ ...gw.children[0]!, name: 'idle-net', startAction: 'none' as const }] };
  return { connections: side === 'a' ? [gw, idle] : [gw], limits: { retransmit: { timeoutMs: 40, tries: 3 } } };
}

/** Sample value of `name{labels}` in Prometheus text; undefined if absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) got[p[1]!] = p[2]!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('metrics (prom-client over HTTP)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  it('exposes configured/established SAs, traffic, drops, rekeys, retransmits and handshake latency', async () => {
    const net = new MemoryNetwork({ clock: systemClock });
    const udpA = net.endpoint(A);
    const udpB = net.endpoint(B);
    await udpA.bind({ ports: [500, 4500] });
    await udpB.bind({ ports: [500, 4500] });
    const hsA = new HandshakeTimer();
    const hsB = new HandshakeTimer();
    const tunA = new MemoryTun({ name: 'a0' });
    const a = new Tunnel({ config: config('a'), udp: tapHandshakes(udpA, hsA), tun: tunA, rng: seededRandom(31), keepaliveSec: 0 });
    const b = new Tunnel({ config: config('b'), udp: tapHandshakes(udpB, hsB), tun: new MemoryTun({ name: 'b0' }), rng: seededRandom(32), keepaliveSec: 0 });
    cleanup.push(() => a.close(), () => b.close());
    const mA: MetricsServer = await startMetrics('127.0.0.1', 0, a, { handshakes: hsA });
    const mB: MetricsServer = await startMetrics('127.0.0.1', 0, b, { handshakes: hsB });
    cleanup.push(() => mA.close(), () => mB.close());
    const scrape = async (m: MetricsServer) => {
      const r = await fetch(`http://127.0.0.1:${m.port}/metrics`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/text\/plain/);
      return r.text();
    };
    const pump = async (until: () => boolean) => {
      for (let i = 0; i < 300 && !until(); i++) { net.deliverUntil(systemClock.now()); await sleep(2); }
      net.deliverUntil(systemClock.now());
      expect(until()).toBe(true);
    };

    // Before anything: both connections configured, none established.
    let t = await scrape(mA);
    expect(sample(t, 'tsipsec_connection_configured', { connection: 'idle' })).toBe(1);
    expect(sample(t, 'tsipsec_ike_sas_established', { connection: 'gw' })).toBe(0);

    a.start();
    await pump(() => b.status().ikeSas[0]?.children.length === 1 && a.status().ikeSas[0]?.children.length === 1);
    a.initiate('idle-net'); // to an address nobody answers: retransmits
    const tunB = (b as unknown as { opts: { tun: MemoryTun } }).opts.tun;
    const ping = buildIp({ src: '198.19.1.1', dst: '198.19.2.1', protocol: 17, payload: new Uint8Array(100) });
    for (let i = 0; i < 3; i++) tunA.inject(ping);
    tunA.inject(buildIp({ src: '198.19.1.1', dst: '10.0.0.1', protocol: 17, payload: new Uint8Array(8) })); // no policy
    await pump(() => tunB.written.length === 3 && a.endpoint.counters.retransmitsSent >= 1);
    const spiOut = a.status().ikeSas.find((s) => s.name === 'gw')!.childCounters[0]!.spiOut;
    const spiIn = a.status().ikeSas.find((s) => s.name === 'gw')!.children[0]!.spiIn;
    // Per-SA series belong to live SAs: read the responder's inbound counters before the rekey retires them.
    const before = await scrape(mB);
    expect(sample(before, 'tsipsec_child_sa_packets', { child: 'net', spi: spiOut, direction: 'in' })).toBe(3);
    a.command((ep, now) => ep.rekeyChild(now, spiIn));
    await pump(() => a.status().ikeSas[0]!.children.some((c) => c.spiIn !== spiIn && c.state === 'installed'));

    t = await scrape(mA);
    expect(sample(t, 'tsipsec_connection_configured', { connection: 'gw' })).toBe(1);
    expect(sample(t, 'tsipsec_connection_configured', { connection: 'idle' })).toBe(1);
    expect(sample(t, 'tsipsec_ike_sas_established', { connection: 'gw' })).toBe(1);
    expect(sample(t, 'tsipsec_ike_sas_established', { connection: 'idle' })).toBe(0);
    expect(sample(t, 'tsipsec_child_sas_installed', { connection: 'idle', child: 'idle-net' })).toBe(0);
    expect(sample(t, 'tsipsec_child_sas_installed', { connection: 'gw', child: 'net' })).toBeGreaterThanOrEqual(1);
    expect(sample(t, 'tsipsec_child_sa_packets', { child: 'net', spi: spiOut, direction: 'out' })).toBe(3);
    // Bytes are the protected payload: in tunnel mode the whole inner packet, 3 × its length.
    expect(ping.length).toBe(120);
    expect(sample(t, 'tsipsec_child_sa_bytes', { child: 'net', spi: spiOut, direction: 'out' })).toBe(3 * ping.length);
    expect(sample(t, 'tsipsec_drops', { layer: 'tun', reason: 'noPolicy' })).toBe(1);
    expect(sample(t, 'tsipsec_rekeys_total', { kind: 'child' })).toBe(1);
    expect(sample(t, 'tsipsec_ike_retransmits')).toBeGreaterThanOrEqual(1);
    expect(sample(t, 'tsipsec_ike_handshake_seconds_count', { connection: 'gw', role: 'initiator' })).toBe(1);
    const sum = sample(t, 'tsipsec_ike_handshake_seconds_sum', { connection: 'gw', role: 'initiator' })!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(5);
    expect(sample(t, 'tsipsec_ike_handshake_seconds_bucket', { connection: 'gw', role: 'initiator', le: '+Inf' })).toBe(1);
    expect(t).toMatch(/# TYPE tsipsec_ike_handshake_seconds histogram/);
    // The unanswered connection never completes a handshake.
    expect(sample(t, 'tsipsec_ike_handshake_seconds_count', { connection: 'idle', role: 'initiator' })).toBeUndefined();

    const tb = await scrape(mB);
    expect(sample(tb, 'tsipsec_ike_handshake_seconds_count', { connection: 'gw', role: 'responder' })).toBe(1);
    expect(sample(tb, 'tsipsec_rekeys_total', { kind: 'child' })).toBe(1);
    expect((await fetch(`http://127.0.0.1:${mA.port}/other`)).status).toBe(404);
  });
});

describe('HandshakeTimer', () => {
  it('records only IKE_SA_INIT requests with message ID 0, once per SPIi', () => {
    let now = 1000;
    const h = new HandshakeTimer({ now: () => now });
    const hdr = (exchange: number, flags: number, msgId: number) => {
      const b = new Uint8Array(28);
      b.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
      b[18] = exchange; b[19] = flags; b[23] = msgId;
      return b;
    };
    h.see(hdr(35, 0x08, 1), 0, true); // IKE_AUTH request: ignored
    h.see(hdr(34, 0x20, 0), 0, false); // IKE_SA_INIT response: ignored
    expect(h.complete('0102030405060708')).toBeUndefined();
    h.see(hdr(34, 0x08, 0), 0, true);
    now = 1250;
    h.see(hdr(34, 0x08, 0), 0, true); // retransmit: the first one counts
    now = 1500;
    expect(h.complete('0102030405060708')).toEqual({ seconds: 0.5, role: 'initiator' });
    expect(h.complete('0102030405060708')).toBeUndefined();
  });
});
