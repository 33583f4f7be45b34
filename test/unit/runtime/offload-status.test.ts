/**
 * Offload counters in `status --json` (TunnelStatus.offload) and the metrics (tsipsec_offload): the TUN
 * device's and the UDP transport's counters are added up; a data path without offloads shows null.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryNetwork } from '../../../src/net/memory.js';
import { MemoryTun } from '../../../src/tun/memory.js';
import type { TunOffloadCounters } from '../../../src/tun/types.js';
import type { UdpOffloadCounters, UdpTransport } from '../../../src/net/types.js';
import { Tunnel } from '../../../src/runtime/tunnel.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { sumOffload } from '../../../src/runtime/dataplane-protocol.js';
import { createMetricsRegistry } from '../../../src/runtime/metrics.js';
import { seededRandom } from '../../../src/crypto/seeded-random.js';
import type { IkeConfigInput } from '../../../src/ike/config.js';

const config: IkeConfigInput = { connections: [] };

describe('offload counters', () => {
  const tunnels: Tunnel[] = [];
  afterEach(async () => {
    for (const t of tunnels.splice(0)) await t.close();
  });

  it('sumOffload adds the parts field by field; nothing → null', () => {
    expect(sumOffload(undefined, undefined)).toBeNull();
    expect(sumOffload({ tunSuperPackets: 2, tunSegments: 90 }, { udpGsoSends: 3, udpGsoSegments: 40, tunSegments: 1 })).toEqual({
      tunSuperPackets: 2, tunSegments: 91, tunMalformed: 0, tunGroWrites: 0, tunGroSegments: 0,
      udpGsoSends: 3, udpGsoSegments: 40, udpGroReceives: 0, udpGroSegments: 0,
    });
  });

  it('status and metrics show the TUN and UDP counters; null without offloads', async () => {
    const net = new MemoryNetwork({ clock: systemClock });
    const plainUdp = net.endpoint('198.18.0.1');
    await plainUdp.bind({ ports: [4500] });
    const plain = new Tunnel({ config, udp: plainUdp, tun: new MemoryTun({ name: 'p0' }), rng: seededRandom(1), keepaliveSec: 0 });
    tunnels.push(plain);
    expect(plain.status().offload).toBeNull();

    const tunCounters: TunOffloadCounters = { tunSuperPackets: 7, tunSegments: 301, tunMalformed: 1, tunGroWrites: 5, tunGroSegments: 220 };
    const udpCounters: UdpOffloadCounters = { udpGsoSends: 11, udpGsoSegments: 400, udpGroReceives: 13, udpGroSegments: 500 };
    const tun = Object.assign(new MemoryTun({ name: 'o0' }), { offloadCounters: () => tunCounters });
    const inner = net.endpoint('198.18.0.2');
    await inner.bind({ ports: [4500] });
    const udp: UdpTransport = Object.assign(Object.create(inner) as UdpTransport, { offloadCounters: () => udpCounters });
    const t = new Tunnel({ config, udp, tun, rng: seededRandom(2), keepaliveSec: 0 });
    tunnels.push(t);
    expect(t.status().offload).toEqual({ ...tunCounters, ...udpCounters });
    expect(t.status().dataplane).toBeNull();

    const registry = createMetricsRegistry(t);
    registry.collectTsipsec();
    const text = await registry.metrics();
    expect(text).toContain('tsipsec_offload{kind="tun_super_packets"} 7');
    expect(text).toContain('tsipsec_offload{kind="udp_gso_segments"} 400');
    expect(text).toContain('tsipsec_offload{kind="udp_gro_receives"} 13');
  });
});
