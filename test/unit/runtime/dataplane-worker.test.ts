/**
 * The data-plane worker (src/runtime/dataplane-worker.ts + dataplane-thread.ts) with a real TUN device in
 * a namespace this test creates (prefix `tsdp-`, 198.18.77.0/24) and real UDP sockets on loopback
 * addresses: `ping` in the namespace → TUN → the worker seals → UDP to a peer on this thread, which opens
 * the ESP with its own DataPath (the mirror SA pair), answers the echo request and seals the reply back →
 * the worker opens it and writes it to the TUN → ping gets its reply. Also: a non-ESP datagram on 4500
 * reaches the main thread's handler, a packet with no child SA reaches the main thread's noPolicy hook,
 * and status counters come back from the worker (syncStats).
 *
 * Needs root (TUN, namespaces) and the compiled worker script (npm run build): without root and outside
 * CI the suite is skipped with a loud message, as test/e2e/tun-linux.test.ts does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { openLinuxTun, type LinuxTun } from '../../../src/tun/linux.js';
import { LinuxUdpTransport } from '../../../src/net/linux-udp.js';
import type { Datagram } from '../../../src/net/types.js';
import { nodeCrypto, nodeRandom } from '../../../src/crypto/node.js';
import { DataPath, TunDrop } from '../../../src/runtime/datapath.js';
import { startDataPlaneWorker, type DataPlaneWorker } from '../../../src/runtime/dataplane-worker.js';
import { run } from '../../../src/runtime/system.js';
import type { ChildSaInfo } from '../../../src/ike/events.js';

const isRoot = process.getuid?.() === 0;
const inCi = Boolean(process.env.CI);
const script = new URL('../../../dist/src/runtime/dataplane-thread.js', import.meta.url);
if (!isRoot && !inCi) console.warn('\n!!!!!!!! test/unit/runtime/dataplane-worker.test.ts SKIPPED: needs root for /dev/net/tun and namespaces !!!!!!!!\n');

const suffix = (process.pid % 100000).toString(36);
const NS = `tsdp-w${suffix}`;
const LOCAL_UDP = '127.77.0.1';
const PEER_UDP = '127.77.0.2';

/** RFC 1071 Internet checksum, written independently of src/ for the test. */
function inetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** ICMP echo reply (RFC 792) for an IPv4 echo request: addresses swapped, type 0, fresh checksums. */
function echoReply(req: Uint8Array): Uint8Array {
  const p = req.slice();
  const ihl = (p[0]! & 0x0f) * 4;
  p.set(req.subarray(16, 20), 12);
  p.set(req.subarray(12, 16), 16);
  p[10] = p[11] = 0;
  const hc = inetChecksum(p.subarray(0, ihl));
  p[10] = hc >> 8; p[11] = hc & 0xff;
  p[ihl] = 0;
  p[ihl + 2] = p[ihl + 3] = 0;
  const ic = inetChecksum(p.subarray(ihl));
  p[ihl + 2] = ic >> 8; p[ihl + 3] = ic & 0xff;
  return p;
}

const sel = (a: number[], b: number[]) => ({ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: Uint8Array.from(a), endAddress: Uint8Array.from(b) });

function child(spiIn: number, spiOut: number, kIn: Uint8Array, kOut: Uint8Array, local: string, remote: string, flip: boolean): ChildSaInfo {
  const l = sel([198, 18, 77, 1], [198, 18, 77, 1]);
  const r = sel([198, 18, 77, 2], [198, 18, 77, 2]);
  return {
    ikeName: 'gw', ikeId: 1, childName: 'net', spiIn, spiOut, mode: 'tunnel', encap: true,
    tsLocal: [flip ? r : l], tsRemote: [flip ? l : r],
    algorithms: { encr: 20, encrKeyBits: 256, esn: false },
    keys: { encrIn: kIn, encrOut: kOut, integIn: new Uint8Array(0), integOut: new Uint8Array(0) },
    localAddr: { address: local, port: 4500 }, remoteAddr: { address: remote, port: 4500 },
    lifetimes: { rekeyAtMs: undefined, expireAtMs: undefined }, replayWindow: 128, initiator: true,
  };
}

describe.runIf(isRoot || inCi)('data-plane worker (root, namespace tsdp-*)', () => {
  let tun: LinuxTun | undefined;
  let udp: LinuxUdpTransport | undefined;
  let peerUdp: LinuxUdpTransport | undefined;
  let worker: DataPlaneWorker | undefined;

  beforeAll(async () => {
    expect(existsSync(fileURLToPath(script)), 'dist/src/runtime/dataplane-thread.js: run npm run build').toBe(true);
    await run('ip', ['netns', 'del', NS]).catch(() => undefined);
    await run('ip', ['netns', 'add', NS]);
    await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  });

  afterAll(async () => {
    await worker?.datapath.close().catch(() => undefined);
    await worker?.tun.close().catch(() => undefined);
    await udp?.close().catch(() => undefined);
    await peerUdp?.close().catch(() => undefined);
    await run('ip', ['netns', 'del', NS]).catch(() => undefined);
  });

  it('carries a ping both ways, forwards IKE and no-policy packets to the main thread, reports counters', async () => {
    tun = await openLinuxTun({ name: `tsdpw${suffix}`, netns: NS, addresses: ['198.18.77.1/24'] });
    udp = new LinuxUdpTransport();
    await udp.bind({ addresses: [LOCAL_UDP], ports: [4500] });
    const ike: Datagram[] = [];
    udp.onDatagram((d) => ike.push(d));
    worker = await startDataPlaneWorker({ tun, udp, provider: 'node', evp: true, mirrorProvider: nodeCrypto, rng: nodeRandom, scriptUrl: script });
    const noPolicy: Uint8Array[] = [];
    worker.datapath.noPolicy = (pkt) => { noPolicy.push(pkt.slice()); return true; };

    const k1 = new Uint8Array(36).fill(0x11);
    const k2 = new Uint8Array(36).fill(0x22);
    worker.datapath.install(child(0x1001, 0x2002, k1, k2, LOCAL_UDP, PEER_UDP, false), performance.now());
    // The peer: a main-thread DataPath with the mirror SA pair that answers echo requests.
    const peer = new DataPath(nodeCrypto, nodeRandom);
    peer.install(child(0x2002, 0x1001, k2, k1, PEER_UDP, LOCAL_UDP, true), performance.now());
    peerUdp = new LinuxUdpTransport();
    await peerUdp.bind({ addresses: [PEER_UDP], ports: [4500] });
    let requests = 0;
    peerUdp.onDatagram((d) => {
      const inner = peer.inbound(d.data, performance.now());
      if (inner === null || inner[9] !== 1 || inner[20] !== 8) return;
      requests++;
      const out = peer.outbound(echoReply(inner));
      if (out !== null) peerUdp!.send({ data: out.data, remoteAddress: LOCAL_UDP, remotePort: 4500, localPort: 4500 });
    });

    const ping = await run('ip', ['netns', 'exec', NS, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '198.18.77.2'], { timeoutMs: 15_000 }).catch((e: Error) => e);
    expect(ping instanceof Error ? ping.message : ping.stdout).toMatch(/3 received/);
    expect(requests).toBe(3);

    // IKE on 4500 (non-ESP marker + a 28-byte header) from the peer reaches the main thread's handler.
    const ikeMsg = new Uint8Array(4 + 28);
    ikeMsg[4] = 0xab;
    peerUdp.send({ data: ikeMsg, remoteAddress: LOCAL_UDP, remotePort: 4500, localPort: 4500 });
    // A packet outside the child's selectors reaches the noPolicy hook (the trap table's entry point).
    // (IPv6 router solicitations and the like arrive there too.)
    const toDot3 = () => noPolicy.filter((p) => p[0] === 0x45 && p[16] === 198 && p[17] === 18 && p[18] === 77 && p[19] === 3).length;
    await run('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '1', '198.18.77.3']).catch(() => undefined);
    const deadline = Date.now() + 3000;
    while ((ike.length === 0 || toDot3() === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ike.length).toBe(1);
    expect(Buffer.from(ike[0]!.data).toString('hex')).toBe(Buffer.from(ikeMsg).toString('hex'));
    expect(ike[0]!.remoteAddress).toBe(PEER_UDP);
    expect(toDot3()).toBe(1);

    worker.datapath.syncStats();
    const c = worker.datapath.child(0x1001)!;
    expect(c.outSa.stats[0]).toBe(3);
    expect(c.inSa.stats[0]).toBe(3);
    expect(worker.datapath.tunDrops[TunDrop.noPolicy]).toBe(0); // taken by the hook
    const st = worker.tun.stats();
    expect(st.txPackets).toBe(3); // the three replies written by the worker
    expect(st.rxPackets).toBeGreaterThanOrEqual(4);
    expect(worker.tun.offloadCounters().udpGsoSends).toBe(0);
    expect(worker.datapath.wakeups).toBeGreaterThanOrEqual(6);

    // Removing the child in the main thread removes it in the worker: the next ping is a no-policy packet.
    worker.datapath.remove(0x1001);
    const toDot2 = () => noPolicy.filter((p) => p[0] === 0x45 && p[19] === 2 && p[18] === 77).length;
    expect(toDot2()).toBe(0);
    await run('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '1', '198.18.77.2']).catch(() => undefined);
    const until = Date.now() + 3000;
    while (toDot2() === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(toDot2()).toBe(1);
    expect(requests).toBe(3);
  });
});
