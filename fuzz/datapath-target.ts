/**
 * Fuzz target `datapath`: the runtime's packet path between the TUN device and ESP (src/runtime/datapath.ts).
 *
 *   TUN packet (fuzzed) ──► X.outbound: IP header peek, SPD lookup, seal ──► ESP
 *   ESP ──► Y.inbound: open, inbound policy check, transport-mode IP header rebuilt (RFC 4303 §3.1.1)
 *   fuzzed bytes ──► Y.inbound directly (as if from the network)
 *
 * X and Y hold mirrored SA pairs (X's outbound is Y's inbound) for a tunnel-mode child between two
 * /24s and a transport-mode child between the two hosts, so mutated packets that still parse get
 * sealed, opened and rebuilt. Invariants, beyond "never throws":
 *   - outbound yields nothing or an ESP packet whose SPI is one of X's outbound SPIs;
 *   - what Y hands to the TUN is a well-formed IP packet (it peeks; its length field is its length);
 *   - tunnel mode: it is the packet X was given, byte for byte (up to its IP length);
 *   - transport mode: it carries the hosts' addresses swapped back and X's payload unchanged;
 *   - raw bytes into Y.inbound never reach the TUN (no valid ICV without the key);
 *   - a transport-mode packet of IP protocol 59 is ESP's dummy packet (RFC 4303 §2.6): dropped.
 */
import { seededRandom } from '../src/crypto/seeded-random.js';
import { nodeCrypto } from '../src/crypto/node.js';
import type { ChildSaInfo } from '../src/ike/events.js';
import type { TrafficSelector } from '../src/ike/payloads/types.js';
import { buildIp, buildUdpPacket } from '../src/capture/pcap-writer.js';
import { DataPath } from '../src/runtime/datapath.js';
import { IpPeek, peekIp } from '../src/wire/ip.js';
import { FuzzFailure, type FuzzTarget } from './failure.js';

const T = 'datapath';
const HOST_X = Uint8Array.of(198, 18, 0, 1);
const HOST_Y = Uint8Array.of(198, 18, 0, 2);
const LAN_X = '198.19.1';
const LAN_Y = '198.19.2';

function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new FuzzFailure(T, message);
}

function ts(start: readonly number[], end: readonly number[]): TrafficSelector {
  return { tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.from(start), endAddress: Uint8Array.from(end) };
}

const lanX = ts([198, 19, 1, 0], [198, 19, 1, 255]);
const lanY = ts([198, 19, 2, 0], [198, 19, 2, 255]);
const hostX = ts([...HOST_X], [...HOST_X]);
const hostY = ts([...HOST_Y], [...HOST_Y]);

function child(name: string, mode: 'tunnel' | 'transport', spiIn: number, spiOut: number, me: 'x' | 'y', keyIn: number, keyOut: number): ChildSaInfo {
  const x = me === 'x';
  const local = mode === 'tunnel' ? (x ? lanX : lanY) : x ? hostX : hostY;
  const remote = mode === 'tunnel' ? (x ? lanY : lanX) : x ? hostY : hostX;
  return {
    ikeName: 'fz', ikeId: 1, childName: name, spiIn, spiOut, mode, encap: true,
    tsLocal: [local], tsRemote: [remote],
    algorithms: { encr: 20, encrKeyBits: 256, esn: false },
    keys: { encrIn: new Uint8Array(36).fill(keyIn), encrOut: new Uint8Array(36).fill(keyOut), integIn: new Uint8Array(0), integOut: new Uint8Array(0) },
    localAddr: { address: x ? '198.18.0.1' : '198.18.0.2', port: 4500 },
    remoteAddr: { address: x ? '198.18.0.2' : '198.18.0.1', port: 4500 },
    lifetimes: { rekeyAtMs: undefined, expireAtMs: undefined },
    replayWindow: 1024,
    initiator: x,
  };
}

interface Pair { x: DataPath; y: DataPath; now: number }
let pair: Pair | undefined;
let execs = 0;

/** Fresh every 2^16 inputs so the replay windows never run out of sequence numbers. */
function paths(): Pair {
  if (pair && (execs++ & 0xffff) !== 0) return pair;
  const x = new DataPath(nodeCrypto, seededRandom(1));
  const y = new DataPath(nodeCrypto, seededRandom(2));
  x.install(child('net', 'tunnel', 0x1001, 0x2001, 'x', 0x11, 0x22), 0);
  y.install(child('net', 'tunnel', 0x2001, 0x1001, 'y', 0x22, 0x11), 0);
  x.install(child('host', 'transport', 0x1002, 0x2002, 'x', 0x33, 0x44), 0);
  y.install(child('host', 'transport', 0x2002, 0x1002, 'y', 0x44, 0x33), 0);
  pair = { x, y, now: 1 };
  return pair;
}

const peek = new IpPeek();
let reached: 'none' | 'sealed' | 'tunnel' | 'transport' = 'none';

/** How far the last input got: not sealed, sealed only, or through the tunnel / transport child to Y's TUN. */
export function datapathReached(): typeof reached {
  return reached;
}
const OUT_SPIS = new Set([0x2001, 0x2002]);

export const datapathTarget: FuzzTarget = {
  name: T,
  description: 'DataPath outbound (TUN packet parse, SPD, seal) then the mirrored inbound (open, policy, transport-mode IP header rebuilt); raw bytes inbound',
  seeds: () => [
    buildIp({ src: `${LAN_X}.1`, dst: `${LAN_Y}.1`, protocol: 1, payload: Uint8Array.of(8, 0, 0, 0, 0, 1, 0, 1, 0x74, 0x73) }),
    buildUdpPacket({ src: `${LAN_X}.7`, dst: `${LAN_Y}.9`, srcPort: 5000, dstPort: 53, payload: new Uint8Array(40).fill(0x61) }),
    buildIp({ src: '198.18.0.1', dst: '198.18.0.2', protocol: 6, payload: Uint8Array.of(0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0, 0x68, 0x69) }),
    buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 500, dstPort: 500, payload: new Uint8Array(8) }),
    buildUdpPacket({ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 1, dstPort: 2, payload: new Uint8Array(4) }),
  ],
  run(input) {
    reached = 'none';
    const p = paths();
    p.now += 1;
    // Raw bytes from the network: without the key nothing opens.
    check(p.y.inbound(input.slice(), p.now) === null, 'raw bytes opened as ESP');
    const sealed = p.x.outbound(input);
    if (sealed === null) return;
    const d = sealed.data;
    check(d.length >= 8, `sealed ${d.length} bytes`);
    const spi = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
    check(OUT_SPIS.has(spi), `sealed with SPI ${spi.toString(16)}`);
    reached = 'sealed';
    const got = p.y.inbound(d.slice(), p.now);
    // Transport mode carries the IP protocol as ESP's Next Header; 59 there marks a dummy packet
    // (RFC 4303 §2.6) that the receiver discards, so an IPv4 packet of protocol 59 cannot cross.
    if (spi === 0x2002 && input[9] === 59) return void check(got === null, 'a Next Header 59 (dummy) packet reached the TUN');
    check(got !== null, `the mirrored SA did not open what X sealed (SPI ${spi.toString(16)})`);
    check(peekIp(got, 0, got.length, peek), 'the TUN would get a packet that does not parse as IP');
    const version = got[0]! >> 4;
    const ipLength = version === 4 ? (got[2]! << 8) | got[3]! : 40 + ((got[4]! << 8) | got[5]!);
    check(ipLength === got.length, `IP length ${ipLength} for ${got.length} bytes`);
    reached = spi === 0x2001 ? 'tunnel' : 'transport';
    if (spi === 0x2001) {
      // Tunnel mode: the inner packet is X's packet itself, up to its own length.
      check(got.length <= input.length && Buffer.from(input.subarray(0, got.length)).equals(Buffer.from(got)), 'tunnel mode changed the packet');
    } else {
      // Transport mode (RFC 4303 §3.1.1): addresses rebuilt from the SA, payload as X's.
      check(version === 4, 'transport mode rebuilt a non-IPv4 header');
      check(Buffer.from(got.subarray(12, 16)).equals(Buffer.from(HOST_X)) && Buffer.from(got.subarray(16, 20)).equals(Buffer.from(HOST_Y)), 'transport mode rebuilt the wrong addresses');
      const ihl = (input[0]! & 0x0f) * 4;
      const inLen = Math.min(input.length, (input[2]! << 8) | input[3]!);
      check(Buffer.from(got.subarray(20)).equals(Buffer.from(input.subarray(ihl, inLen))), 'transport mode changed the payload');
      check(got[9] === input[9], `transport mode protocol ${got[9]} for ${input[9]}`);
    }
  },
};
