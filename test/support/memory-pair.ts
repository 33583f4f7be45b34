/**
 * The two-site PSK configuration the in-memory runtime tests share: A (198.18.0.1, LAN 198.19.1.0/24)
 * initiates to B (198.18.0.2, LAN 198.19.2.0/24), X25519 with AES-GCM, one child `net` on connection
 * `gw`; the in-memory wiring of the two sites; and an ICMP echo builder with a correct checksum.
 */
import type { IkeConfigInput } from '../../src/ike/config.js';
import { buildIp } from '../../src/capture/pcap-writer.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { MemoryNetwork } from '../../src/net/memory.js';
import { MemoryRawEspNetwork } from '../../src/net/memory-raw.js';
import { MemoryTun } from '../../src/tun/memory.js';
import { systemClock } from '../../src/runtime/clock.js';

export const ADDR_A = '198.18.0.1';
export const ADDR_B = '198.18.0.2';

export interface PairConfigOptions {
  readonly psk: Uint8Array;
  readonly mode?: 'tunnel' | 'transport';
  /** Force ESP-in-UDP (default true); false lets raw ESP be used. */
  readonly encap?: boolean;
  /** 128 or 256 (default 256): aesXXXgcm16 for IKE and ESP. */
  readonly aesBits?: 128 | 256;
}

export function pairConfig(side: 'a' | 'b', o: PairConfigOptions): IkeConfigInput {
  const a = side === 'a';
  const tunnel = (o.mode ?? 'tunnel') === 'tunnel';
  const aes = `aes${o.aesBits ?? 256}gcm16`;
  return {
    connections: [{
      name: 'gw', localAddrs: [a ? ADDR_A : ADDR_B], remoteAddrs: [a ? ADDR_B : ADDR_A], proposals: [`${aes}-prfsha256-x25519`], encap: o.encap ?? true,
      local: { auth: 'psk', id: `${side}.test`, psk: o.psk },
      remote: { auth: 'psk', id: `${a ? 'b' : 'a'}.test`, psk: o.psk },
      children: [{
        name: 'net',
        localTs: tunnel ? [a ? '198.19.1.0/24' : '198.19.2.0/24'] : ['dynamic'],
        remoteTs: tunnel ? [a ? '198.19.2.0/24' : '198.19.1.0/24'] : ['dynamic'],
        espProposals: [aes], mode: o.mode ?? 'tunnel',
        startAction: a ? 'start' : 'none',
      }],
    }],
  };
}

/** ICMP echo request (type 8) or reply (0), RFC 792, with `data` after the 8-byte header. */
export function icmpEcho(src: string, dst: string, seq: number, type = 8, data: Uint8Array = new TextEncoder().encode('tsipsec!')): Uint8Array {
  const icmp = new Uint8Array(8 + data.length);
  icmp[0] = type;
  icmp[6] = seq >> 8; icmp[7] = seq & 0xff;
  icmp.set(data, 8);
  const c = internetChecksum(icmp);
  icmp[2] = c >> 8; icmp[3] = c & 0xff;
  return buildIp({ src, dst, protocol: 1, payload: icmp });
}

/** The two sites' in-memory wiring: one network, UDP 500/4500 bound at A and B, a TUN each, and raw ESP hosts. */
export async function memorySites() {
  const net = new MemoryNetwork({ clock: systemClock });
  const raw = new MemoryRawEspNetwork();
  const tunA = new MemoryTun({ name: 'a0' });
  const tunB = new MemoryTun({ name: 'b0' });
  const udpA = net.endpoint(ADDR_A);
  const udpB = net.endpoint(ADDR_B);
  await udpA.bind({ ports: [500, 4500] });
  await udpB.bind({ ports: [500, 4500] });
  const rawA = raw.host(ADDR_A);
  const rawB = raw.host(ADDR_B);
  await rawA.open({ addresses: [ADDR_A] });
  await rawB.open({ addresses: [ADDR_B] });
  return { net, raw, tunA, tunB, udpA, udpB, rawA, rawB };
}
