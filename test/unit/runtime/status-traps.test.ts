/** `tsipsec status` text lists trap policies (like `swanctl --list-pols`) and raw ESP counters. */
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../../src/cli/commands/status.js';
import type { TunnelStatus } from '../../../src/runtime/tunnel.js';

describe('formatStatus: traps and raw ESP', () => {
  it('prints each trap with its selectors and acquire counters, and the raw ESP counters', () => {
    const s: TunnelStatus = {
      ikeSas: [], connections: [{ name: 'gw', established: 0, children: ['net'] }], tun: null,
      drops: { tun: {}, esp: {}, ike: {} },
      traps: [{ connection: 'gw', child: 'net', mode: 'tunnel', reason: 'dpd_action', tsLocal: ['198.19.1.0/24'], tsRemote: ['198.19.2.0/24'], acquiring: true, acquires: 2, acquiresSuppressed: 5, held: 3, released: 1, dropped: 4 }],
      rawEsp: { rxPackets: 7, rxBytes: 700, rxBatches: 2, rxDrops: 1, txPackets: 6, txBytes: 600, txErrors: 0 },
    };
    const text = formatStatus(s, 0);
    expect(text).toContain('gw/net, TRAP (dpd_action), tunnel: 198.19.1.0/24 === 198.19.2.0/24, acquiring');
    expect(text).toContain('acquires 2 (suppressed 5), held 3, released 1, dropped 4');
    expect(text).toContain('raw ESP: rx 7 (700 bytes, 1 not ESP), tx 6 (600 bytes, 0 refused)');
  });
});
