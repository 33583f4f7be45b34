/**
 * The bench topology: two namespaces on one veth link, RFC 2544 benchmarking addresses only.
 *
 *   tsbe-a: tsbea0 198.18.30.1/24  <── veth ──>  tsbeb0 198.18.30.2/24 :tsbe-b
 *           lo 198.19.31.1/32 (LAN A)                    lo 198.19.32.1/32 (LAN B)
 *
 * Traffic runs LAN A → LAN B; each row decides how (plain routes, a tunnel).
 */
import { must, sh } from './proc.js';

export const NS_A = 'tsbe-a';
export const NS_B = 'tsbe-b';
export const LINK_A = '198.18.30.1';
export const LINK_B = '198.18.30.2';
export const LAN_A = '198.19.31.1';
export const LAN_B = '198.19.32.1';
export const LAN_A_NET = '198.19.31.0/24';
export const LAN_B_NET = '198.19.32.0/24';
export const DEV_A = 'tsbea0';
export const DEV_B = 'tsbeb0';

export async function destroyTopology(): Promise<void> {
  for (const ns of [NS_A, NS_B]) await sh('ip', ['netns', 'delete', ns], { timeoutMs: 10_000 });
}

export async function createTopology(): Promise<void> {
  await destroyTopology();
  for (const ns of [NS_A, NS_B]) {
    await must('ip', ['netns', 'add', ns]);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  }
  await must('ip', ['-n', NS_A, 'link', 'add', DEV_A, 'type', 'veth', 'peer', 'name', DEV_B, 'netns', NS_B]);
  await must('ip', ['-n', NS_A, 'addr', 'add', `${LINK_A}/24`, 'dev', DEV_A]);
  await must('ip', ['-n', NS_B, 'addr', 'add', `${LINK_B}/24`, 'dev', DEV_B]);
  await must('ip', ['-n', NS_A, 'link', 'set', DEV_A, 'up']);
  await must('ip', ['-n', NS_B, 'link', 'set', DEV_B, 'up']);
  await must('ip', ['-n', NS_A, 'addr', 'add', `${LAN_A}/32`, 'dev', 'lo']);
  await must('ip', ['-n', NS_B, 'addr', 'add', `${LAN_B}/32`, 'dev', 'lo']);
}
