/**
 * Interop topology (../shared/INTEROP.md §3): three namespaces, the capture point a bridge in the middle.
 *
 *  <p>-a  <p>a0 198.18.10.1/24  <-veth->  <p>-w: <p>wa ┐ bridge <p>br (capture)  <p>wb <-veth-> <p>b0 198.18.10.2/24  <p>-b
 *         lo 198.19.1.1/32 (LAN A)                                                    lo 198.19.2.1/32 (LAN B)
 *
 * Addresses are in 198.18.0.0/15 (RFC 2544 benchmarking range) only. IPv6 is off to keep captures quiet.
 * The endpoint veths have gso_max_segs 1, so GSO batches are cut into datagrams before the wire.
 */
import { must, run } from './sh.js';

export interface Topology {
  prefix: string;
  nsA: string; nsB: string; nsW: string;
  addrA: string; addrB: string; lanA: string; lanB: string;
  bridge: string;
}

export function topology(prefix: string): Topology {
  return {
    prefix, nsA: `${prefix}-a`, nsB: `${prefix}-b`, nsW: `${prefix}-w`,
    addrA: '198.18.10.1', addrB: '198.18.10.2', lanA: '198.19.1.1', lanB: '198.19.2.1', bridge: `${prefix}br`,
  };
}

export async function createTopology(t: Topology): Promise<void> {
  await destroyTopology(t);
  for (const n of [t.nsA, t.nsB, t.nsW]) {
    await must('ip', ['netns', 'add', n]);
    await must('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    await must('ip', ['netns', 'exec', n, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  }
  const p = t.prefix;
  await must('ip', ['-n', t.nsW, 'link', 'add', t.bridge, 'type', 'bridge']);
  await must('ip', ['-n', t.nsW, 'link', 'set', t.bridge, 'up']);
  for (const [side, ns, addr, lan] of [['a', t.nsA, t.addrA, t.lanA], ['b', t.nsB, t.addrB, t.lanB]] as const) {
    await must('ip', ['-n', t.nsW, 'link', 'add', `${p}w${side}`, 'type', 'veth', 'peer', 'name', `${p}${side}0`, 'netns', ns]);
    await must('ip', ['-n', t.nsW, 'link', 'set', `${p}w${side}`, 'master', t.bridge, 'up']);
    // No GSO super-packets onto the wire (tsipsec sends UDP GSO batches): the capture sees each datagram.
    await must('ip', ['-n', ns, 'link', 'set', `${p}${side}0`, 'gso_max_segs', '1']);
    await must('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', `${p}${side}0`]);
    await must('ip', ['-n', ns, 'link', 'set', `${p}${side}0`, 'up']);
    await must('ip', ['-n', ns, 'addr', 'add', `${lan}/32`, 'dev', 'lo']);
  }
}

export async function destroyTopology(t: Topology): Promise<void> {
  for (const n of [t.nsA, t.nsB, t.nsW]) await run('ip', ['netns', 'delete', n], { timeoutMs: 10_000 });
}
