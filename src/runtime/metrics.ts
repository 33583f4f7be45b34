/**
 * Prometheus metrics (`--metrics HOST:PORT`), served with prom-client: configured and established
 * IKE/child SAs per connection (a configured-but-down tunnel shows 0), bytes/packets per child SA,
 * drops by reason, rekeys, retransmits and IKE handshake latency; raw ESP socket counters (encap = no) and
 * trap policies with their acquires.
 *
 * Handshake latency is a histogram of the seconds from the first IKE_SA_INIT request of an IKE SA
 * (sent as initiator, received as responder) to its `ike-up` event (IKE_AUTH completed). The IKE engine
 * does not report when a handshake starts, so `tapHandshakes` watches the UDP transport for IKE_SA_INIT
 * requests (RFC 7296 §3.1 header: exchange type 34, message ID 0, Response flag clear), keyed by SPIi.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { UdpTransport, Datagram } from '../net/types.js';
import type { Tunnel } from './tunnel.js';
import { systemClock, type Clock } from './clock.js';

const IKE_SA_INIT = 34;
const FLAG_RESPONSE = 0x20;
const MAX_PENDING = 4096;

/** First-IKE_SA_INIT times by SPIi (hex), for the handshake latency histogram. */
export class HandshakeTimer {
  private readonly started = new Map<string, { atMs: number; role: 'initiator' | 'responder' }>();
  constructor(private readonly clock: Pick<Clock, 'now'> = systemClock) {}

  /** Looks at one IKE datagram (marker already stripped); records the first IKE_SA_INIT request per SPIi. */
  see(ike: Uint8Array, offset: number, sent: boolean): void {
    if (ike.length < offset + 28 || ike[offset + 18] !== IKE_SA_INIT || (ike[offset + 19]! & FLAG_RESPONSE) !== 0) return;
    if (ike[offset + 20] !== 0 || ike[offset + 21] !== 0 || ike[offset + 22] !== 0 || ike[offset + 23] !== 0) return;
    let spiI = '';
    for (let i = 0; i < 8; i++) spiI += ike[offset + i]!.toString(16).padStart(2, '0');
    if (this.started.has(spiI)) return;
    if (this.started.size >= MAX_PENDING) this.started.delete(this.started.keys().next().value!);
    this.started.set(spiI, { atMs: this.clock.now(), role: sent ? 'initiator' : 'responder' });
  }

  /** Seconds since the handshake of `spiI` started (undefined if it was not seen); forgets it. */
  complete(spiI: string): { seconds: number; role: 'initiator' | 'responder' } | undefined {
    const s = this.started.get(spiI);
    if (!s) return undefined;
    this.started.delete(spiI);
    return { seconds: (this.clock.now() - s.atMs) / 1000, role: s.role };
  }
}

function seeDatagram(timer: HandshakeTimer, d: Datagram, sent: boolean): void {
  const b = d.data;
  if (d.localPort === 500 || d.remotePort === 500) timer.see(b, 0, sent);
  else if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0) timer.see(b, 4, sent);
}

/** Wraps a UDP transport so `timer` sees every IKE_SA_INIT request; pass the wrapper to the Tunnel. */
export function tapHandshakes(udp: UdpTransport, timer: HandshakeTimer): UdpTransport {
  return {
    bind: (o) => udp.bind(o),
    send: (d) => { seeDatagram(timer, d, true); udp.send(d); },
    onDatagram: (h) => udp.onDatagram((d) => { seeDatagram(timer, d, false); h(d); }),
    boundSockets: () => udp.boundSockets(),
    close: () => udp.close(),
    stats: () => udp.stats(),
    ...(udp.offloadCounters ? { offloadCounters: () => udp.offloadCounters!() } : {}),
  };
}

export interface MetricsOptions {
  /** Feeds the handshake latency histogram (see tapHandshakes); without it the histogram stays empty. */
  handshakes?: HandshakeTimer;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export function createMetricsRegistry(tunnel: Tunnel, opts: MetricsOptions = {}): Registry & { collectTsipsec(): void } {
  const registry = new Registry();
  const configured = new Gauge({ name: 'tsipsec_connection_configured', help: 'Configured connections (1 each)', labelNames: ['connection'], registers: [registry] });
  const ikeUp = new Gauge({ name: 'tsipsec_ike_sas_established', help: 'Established IKE SAs per connection', labelNames: ['connection'], registers: [registry] });
  const childUp = new Gauge({ name: 'tsipsec_child_sas_installed', help: 'Installed child SAs per connection and child', labelNames: ['connection', 'child'], registers: [registry] });
  const bytes = new Gauge({ name: 'tsipsec_child_sa_bytes', help: 'ESP payload bytes per child SA', labelNames: ['child', 'spi', 'direction'], registers: [registry] });
  const packets = new Gauge({ name: 'tsipsec_child_sa_packets', help: 'ESP packets per child SA', labelNames: ['child', 'spi', 'direction'], registers: [registry] });
  const drops = new Gauge({ name: 'tsipsec_drops', help: 'Dropped packets by layer and reason', labelNames: ['layer', 'reason'], registers: [registry] });
  const retransmits = new Gauge({ name: 'tsipsec_ike_retransmits', help: 'IKE requests retransmitted', registers: [registry] });
  const rawPackets = new Gauge({ name: 'tsipsec_raw_esp_packets', help: 'Raw ESP (IP protocol 50) packets received / handed to the kernel (encap = no)', labelNames: ['direction'], registers: [registry] });
  const rawBytes = new Gauge({ name: 'tsipsec_raw_esp_bytes', help: 'Raw ESP (IP protocol 50) bytes received / handed to the kernel', labelNames: ['direction'], registers: [registry] });
  const rawErrors = new Gauge({ name: 'tsipsec_raw_esp_errors', help: 'Raw ESP reads that were not ESP (rx) and sends the kernel refused (tx)', labelNames: ['direction'], registers: [registry] });
  const trapPolicies = new Gauge({ name: 'tsipsec_trap_policies', help: 'Installed trap policies (1 each), by why they were installed', labelNames: ['connection', 'child', 'reason'], registers: [registry] });
  const trapPackets = new Gauge({ name: 'tsipsec_trap_packets', help: 'Packets that matched a trap policy without a child SA: acquires raised or suppressed (one pending), held, released, dropped', labelNames: ['connection', 'child', 'kind'], registers: [registry] });
  const offload = new Gauge({
    name: 'tsipsec_offload', help: 'Offload counters: TUN TCP super-packets cut (tun_super_packets, tun_segments, tun_malformed), merged TCP writes to the TUN (tun_gro_writes, tun_gro_segments), UDP GSO sends (udp_gso_sends, udp_gso_segments), UDP GRO receives (udp_gro_receives, udp_gro_segments)',
    labelNames: ['kind'], registers: [registry],
  });
  const rekeys = new Counter({ name: 'tsipsec_rekeys_total', help: 'Completed rekeys', labelNames: ['kind'], registers: [registry] });
  const handshake = new Histogram({
    name: 'tsipsec_ike_handshake_seconds', help: 'Seconds from the first IKE_SA_INIT request to IKE_AUTH completion (ike-up), by our role',
    labelNames: ['connection', 'role'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
  });
  tunnel.on((e) => {
    if (e.type === 'child-rekeyed') rekeys.inc({ kind: 'child' });
    if (e.type === 'ike-rekeyed') rekeys.inc({ kind: 'ike' });
    if (e.type === 'ike-up') {
      const h = opts.handshakes?.complete(e.spiI);
      if (h) handshake.observe({ connection: e.ikeName, role: h.role }, h.seconds);
    }
  });
  const collect = (): void => {
    const s = tunnel.status();
    configured.reset(); ikeUp.reset(); childUp.reset(); bytes.reset(); packets.reset(); drops.reset();
    rawPackets.reset(); rawBytes.reset(); rawErrors.reset(); trapPolicies.reset(); trapPackets.reset();
    if (s.rawEsp) {
      rawPackets.set({ direction: 'in' }, s.rawEsp.rxPackets); rawPackets.set({ direction: 'out' }, s.rawEsp.txPackets);
      rawBytes.set({ direction: 'in' }, s.rawEsp.rxBytes); rawBytes.set({ direction: 'out' }, s.rawEsp.txBytes);
      rawErrors.set({ direction: 'in' }, s.rawEsp.rxDrops); rawErrors.set({ direction: 'out' }, s.rawEsp.txErrors);
    }
    for (const t of s.traps) {
      trapPolicies.set({ connection: t.connection, child: t.child, reason: t.reason }, 1);
      for (const kind of ['acquires', 'acquiresSuppressed', 'held', 'released', 'dropped'] as const) trapPackets.set({ connection: t.connection, child: t.child, kind }, t[kind]);
    }
    for (const c of s.connections) {
      configured.set({ connection: c.name }, 1);
      ikeUp.set({ connection: c.name }, c.established);
      for (const ch of c.children) childUp.set({ connection: c.name, child: ch }, 0);
    }
    for (const sa of s.ikeSas) {
      sa.children.forEach((ch, i) => {
        childUp.inc({ connection: sa.name, child: ch.name });
        const cc = sa.childCounters[i];
        if (!cc) return;
        bytes.set({ child: ch.name, spi: cc.spiIn, direction: 'in' }, cc.bytesIn);
        bytes.set({ child: ch.name, spi: cc.spiOut, direction: 'out' }, cc.bytesOut);
        packets.set({ child: ch.name, spi: cc.spiIn, direction: 'in' }, cc.packetsIn);
        packets.set({ child: ch.name, spi: cc.spiOut, direction: 'out' }, cc.packetsOut);
      });
    }
    for (const [layer, m] of Object.entries(s.drops)) for (const [reason, v] of Object.entries(m)) drops.set({ layer, reason }, v);
    retransmits.set(tunnel.endpoint.counters.retransmitsSent);
    offload.reset();
    if (s.offload) for (const [k, v] of Object.entries(s.offload)) offload.set({ kind: k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) }, v);
  };
  return Object.assign(registry, { collectTsipsec: collect });
}

export async function startMetrics(host: string, port: number, tunnel: Tunnel, opts: MetricsOptions = {}): Promise<MetricsServer> {
  const registry = createMetricsRegistry(tunnel, opts);
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') { res.statusCode = 404; res.end('not found\n'); return; }
    registry.collectTsipsec();
    registry.metrics().then((text) => { res.setHeader('Content-Type', registry.contentType); res.end(text); }, (err: Error) => { res.statusCode = 500; res.end(err.message); });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
