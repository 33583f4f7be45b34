/**
 * Prometheus metrics (`--metrics HOST:PORT`), served with prom-client: configured and established
 * IKE/child SAs per connection (a configured-but-down tunnel shows 0), bytes/packets per child SA,
 * drops by reason, rekeys, retransmits and IKE handshake latency.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Tunnel } from './tunnel.js';

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export function createMetricsRegistry(tunnel: Tunnel): Registry {
  const registry = new Registry();
  const configured = new Gauge({ name: 'tsipsec_connection_configured', help: 'Configured connections (1 each)', labelNames: ['connection'], registers: [registry] });
  const ikeUp = new Gauge({ name: 'tsipsec_ike_sas_established', help: 'Established IKE SAs per connection', labelNames: ['connection'], registers: [registry] });
  const childUp = new Gauge({ name: 'tsipsec_child_sas_installed', help: 'Installed child SAs per connection and child', labelNames: ['connection', 'child'], registers: [registry] });
  const bytes = new Gauge({ name: 'tsipsec_child_sa_bytes', help: 'ESP payload bytes per child SA', labelNames: ['child', 'spi', 'direction'], registers: [registry] });
  const packets = new Gauge({ name: 'tsipsec_child_sa_packets', help: 'ESP packets per child SA', labelNames: ['child', 'spi', 'direction'], registers: [registry] });
  const drops = new Gauge({ name: 'tsipsec_drops', help: 'Dropped packets by layer and reason', labelNames: ['layer', 'reason'], registers: [registry] });
  const retransmits = new Gauge({ name: 'tsipsec_ike_retransmits', help: 'IKE requests retransmitted', registers: [registry] });
  const rekeys = new Counter({ name: 'tsipsec_rekeys_total', help: 'Completed rekeys', labelNames: ['kind'], registers: [registry] });
  const handshake = new Histogram({ name: 'tsipsec_ike_handshake_seconds', help: 'Time from initiation to IKE SA establishment', buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [registry] });
  const started = Date.now();
  tunnel.on((e) => {
    if (e.type === 'child-rekeyed') rekeys.inc({ kind: 'child' });
    if (e.type === 'ike-rekeyed') rekeys.inc({ kind: 'ike' });
    if (e.type === 'ike-up' && e.initiator) handshake.observe((Date.now() - started) / 1000);
  });
  const collect = (): void => {
    const s = tunnel.status();
    configured.reset(); ikeUp.reset(); childUp.reset(); bytes.reset(); packets.reset(); drops.reset();
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
  };
  return Object.assign(registry, { collectTsipsec: collect });
}

export async function startMetrics(host: string, port: number, tunnel: Tunnel): Promise<MetricsServer> {
  const registry = createMetricsRegistry(tunnel) as Registry & { collectTsipsec(): void };
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
