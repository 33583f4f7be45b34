/**
 * The data-plane worker thread (started by dataplane-worker.ts; see there for why). It owns the reads of
 * the TUN device and of the ESP-in-UDP sockets and runs one loop:
 *
 *   poll([tun, udp4500…, wake eventfd], -1)      a synchronous koffi call: this thread has nothing else to do
 *   tun readable   → read a burst (≤ 256, TSO cut) → DataPath.outbound (seal) → sendmmsg (GSO)
 *   udp readable   → recvmmsg (GRO cut) → ESP: DataPath.inbound (open) → TUN write (merged TCP write)
 *                                        → IKE / keepalive / invalid: posted to the main thread
 *   eventfd        → control messages (SA installs, removals, stats requests) via receiveMessageOnPort
 *
 * One thread wake-up per packet hop, like wireguard-go's and libipsec's reader threads; the main thread's
 * event loop is not on the packet path at all. The ESP core (src/esp) is used unchanged through DataPath.
 * The thread never returns to its event loop while running, so nothing here relies on microtasks or
 * timers: the TUN and UDP adapters run in their 'manual' flush mode and are flushed after each burst.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { cryptoProvider } from '../crypto/index.js';
import { nodeRandom } from '../crypto/node.js';
import { withEvpAead } from '../crypto/node-evp.js';
import { classifyNattDatagram, NattKind } from '../esp/natt.js';
import { LinuxUdpTransport } from '../net/linux-udp.js';
import type { Datagram } from '../net/types.js';
import { EAGAIN, EINTR, libc } from '../tun/libc.js';
import { LinuxTun } from '../tun/linux.js';
import { DataPath } from './datapath.js';
import { BUSY_BUCKETS_US, type DataPlaneInit, type DataPlaneSnapshot, type FromWorker, type ToWorker } from './dataplane-protocol.js';
import { run } from './system.js';

/** RFC 3948: ESP-in-UDP shares port 4500 with IKE. */
const NAT_T_PORT = 4500;
const POLLIN = 0x001;
const POLL_FAIL = 0x008 | 0x010 | 0x020; // POLLERR | POLLHUP | POLLNVAL

interface ThreadData {
  readonly init: DataPlaneInit;
  readonly control: MessagePort;
  readonly stats: MessagePort;
}

function post(m: FromWorker, transfer?: ArrayBuffer[]): void {
  parentPort?.postMessage(m, transfer);
}

function main(): void {
  const { init, control, stats } = workerData as ThreadData;
  // V8's tier-up budget (bytecode run between tier-up checks; V8's default 67584), process-wide: 8192 here,
  // TSIPSEC_INTERRUPT_BUDGET to change it. At ping rates the per-packet functions otherwise stayed in the
  // baseline tier for seconds (perf: Builtins_LoadIC and baseline prologues were 40 % of the worker's
  // CPU at idle pings); bench/README.md "End to end" has the A/B (row tsipsec-v8budget).
  const budget = process.env.TSIPSEC_INTERRUPT_BUDGET ?? '8192';
  if (/^[1-9][0-9]{2,6}$/.test(budget)) setFlagsFromString(`--interrupt-budget=${budget}`);
  const lc = libc();
  const origin = performance.timeOrigin - init.mainTimeOrigin;
  const now = (): number => performance.now() + origin;
  const signal = new Int32Array(init.signal);
  const provider = init.evp ? withEvpAead(cryptoProvider('node')) : cryptoProvider(init.provider);
  const dp = new DataPath(provider, nodeRandom);
  let errors = 0;
  const report = (err: Error): void => {
    // At most a few a second reach the main thread's log (a refused send per packet would flood it).
    if (errors++ < 20) post({ op: 'error', message: err.message });
  };
  const tun = new LinuxTun(lc, init.tun.fd, init.tun.name, init.tun.mtu, undefined, 256, 0, 0, 'external', run, report, init.tun.offload, 'manual');
  const udp = new LinuxUdpTransport({ gso: init.gso, flushMode: 'manual', onError: report });
  udp.adopt(init.sockets);
  let wakeups = 0;
  let busyMs = 0;
  const histogram = new Float64Array(BUSY_BUCKETS_US.length + 1);

  // TUN → ESP (the Tunnel's onTunPackets, here).
  const seal = (packets: readonly Uint8Array[]): void => {
    for (let i = 0; i < packets.length; i++) {
      const out = dp.outbound(packets[i]!);
      if (out === null) continue;
      if (!out.encap) {
        const data = out.data.slice();
        post({ op: 'raw', data, remote: out.remote.address, local: out.local.address }, [data.buffer]);
        continue;
      }
      udp.send({ data: out.data, remoteAddress: out.remote.address, remotePort: out.remote.port, localAddress: out.local.address, localPort: out.local.port });
    }
  };
  tun.onPackets(seal);
  dp.noPolicy = (pkt) => {
    // The trap table lives on the main thread: it holds, drops or counts the packet (noPolicy).
    const packet = pkt.slice();
    post({ op: 'nopolicy', packet }, [packet.buffer]);
    return true;
  };
  // ESP-in-UDP → TUN; everything else on the sockets goes to the main thread's Tunnel.
  udp.onDatagram((d: Datagram) => {
    if (d.localPort === NAT_T_PORT && classifyNattDatagram(d.data) === NattKind.esp) {
      const pkt = dp.inbound(d.data, now());
      if (pkt !== null) tun.write(pkt);
      return;
    }
    // Not ESP: linux-udp.ts already copied it (only ESP is a view into the receive slot).
    post({ op: 'datagram', d }, [d.data.buffer as ArrayBuffer]);
  });

  const snapshot = (): DataPlaneSnapshot => ({
    tunDrops: Array.from(dp.tunDrops),
    espDrops: Array.from(dp.espDrops),
    children: dp.installed().map((c) => ({ spiIn: c.info.spiIn, inStats: Array.from(c.inSa.stats), outStats: Array.from(c.outSa.stats), inDrops: Array.from(c.inSa.drops) })),
    tun: tun.stats(),
    udp: udp.stats(),
    offload: { ...tun.offloadCounters(), ...udp.offloadCounters() },
    wakeups,
    busyMs,
    busyHistogram: Array.from(histogram),
    heapUsedBytes: getHeapStatistics().used_heap_size,
  });

  let closing = false;
  const handle = (m: ToWorker): void => {
    switch (m.op) {
      case 'install': dp.install(m.info, m.nowMs, m.defer); break;
      case 'retire': dp.retire(m.spiIn, m.untilMs); break;
      case 'remove': dp.remove(m.spiIn); break;
      case 'sweep': dp.sweep(now()); break;
      case 'warm': dp.warmUp(m.info); break;
      case 'seal': seal(m.packets); udp.flush(); break;
      case 'open': {
        const t = now();
        for (const p of m.packets) { const pkt = dp.inbound(p, t); if (pkt !== null) tun.write(pkt); }
        tun.flush();
        break;
      }
      case 'write': for (const p of m.packets) tun.write(p); tun.flush(); break;
      case 'stats':
        stats.postMessage(snapshot());
        Atomics.add(signal, 0, 1);
        Atomics.notify(signal, 0);
        break;
      case 'close': closing = true; break;
    }
  };

  const drainControl = (): void => {
    let any = false;
    for (let m = receiveMessageOnPort(control); m !== undefined; m = receiveMessageOnPort(control)) {
      any = true;
      try {
        handle(m.message as ToWorker);
      } catch (err) {
        report(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (any) {
      udp.flush();
      tun.flush();
    }
  };

  const n = 2 + init.sockets.length;
  const fds = new Uint8Array(8 * n);
  const dv = new DataView(fds.buffer);
  const setFd = (i: number, fd: number): void => {
    dv.setInt32(i * 8, fd, true);
    dv.setInt16(i * 8 + 4, POLLIN, true);
  };
  setFd(0, init.wakeFd);
  setFd(1, init.tun.fd);
  init.sockets.forEach((s, i) => setFd(2 + i, s.fd));
  const counter = new Uint8Array(8);
  post({ op: 'ready' });

  // Busy-poll (TSIPSEC_BUSY_POLL_US): after a wake-up that moved packets, poll without blocking for up to
  // this long before sleeping, so an answer that comes back quickly (a ping's reply, a TCP ACK) finds
  // the thread running instead of waiting for a wake-up.
  const spinMs = init.busyPollUs / 1000;
  let spinUntil = 0;
  let failed = false;
  /**
   * One wake-up: poll, then handle what is ready. A function of its own rather than the body of a loop
   * in main(): main() runs once, so its loop could only be optimized by on-stack replacement, and at ping
   * rates it stayed in V8's baseline tier; a function called per wake-up tiers up like the rest.
   */
  const iteration = (): void => {
    let r = 0;
    if (spinMs > 0 && spinUntil > 0) {
      r = lc.poll(fds, n, 0);
      if (r === 0) {
        if (performance.now() < spinUntil) return;
        spinUntil = 0;
      }
    }
    if (r === 0) r = lc.poll(fds, n, -1);
    if (r < 0) {
      const e = lc.errno();
      if (e === EINTR || e === EAGAIN) return;
      report(new Error(`data-plane worker: poll failed, errno ${e}`));
      failed = true;
      return;
    }
    wakeups++;
    const t0 = performance.now();
    // Control first, and again before reading ESP: the main thread sends a rekey's CREATE_CHILD_SA
    // response and then posts the new SA, so the peer's first packet on it can arrive in the same
    // wake-up as (or just after) the install (an unknownSpi drop at a rekey otherwise).
    if (dv.getInt16(6, true) !== 0) {
      lc.read(init.wakeFd, counter, 8);
      drainControl();
    }
    for (let i = 1; i < n; i++) {
      const rev = dv.getInt16(i * 8 + 6, true);
      if (rev === 0) continue;
      if ((rev & POLLIN) !== 0) {
        if (i === 1) {
          tun.drainReadable();
          udp.flush();
        } else {
          drainControl();
          udp.drainSocket(i - 2);
          tun.flush();
        }
      } else if ((rev & POLL_FAIL) !== 0) {
        // Error or hang-up with nothing to read: stop polling this fd (a negative fd is ignored by poll).
        report(new Error(`data-plane worker: ${i === 1 ? `TUN ${init.tun.name}` : `socket ${init.sockets[i - 2]!.info.address}:${init.sockets[i - 2]!.info.port}`} poll revents 0x${(rev & 0xffff).toString(16)}`));
        dv.setInt32(i * 8, -1, true);
      }
    }
    const t1 = performance.now();
    busyMs += t1 - t0;
    const us = (t1 - t0) * 1000;
    let b = 0;
    while (b < BUSY_BUCKETS_US.length && us >= BUSY_BUCKETS_US[b]!) b++;
    histogram[b]!++;
    if (spinMs > 0) spinUntil = t1 + spinMs;
  };
  while (!closing && !failed) iteration();
  tun.flush();
  void udp.close(); // flushes; leaves the sockets open (the main thread owns them), frees the rings
  control.close();
  stats.close();
  post({ op: 'closed' });
}

main();
