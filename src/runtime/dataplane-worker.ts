/**
 * The data plane in a worker thread (issue 6, packet latency): the main thread keeps IKE, the control
 * socket, routes and timers; a worker (dataplane-thread.ts) owns the TUN reads and the reads of the
 * ESP-in-UDP sockets (port 4500), blocks in poll(2) on them, and seals/opens with its own DataPath.
 *
 * Why: on the main thread a packet hop cost two or three thread wake-ups — the TUN poll on a libuv pool
 * thread (koffi async call), its completion callback on the main loop, and the re-armed poll — and waited
 * behind whatever else the event loop had queued. In the worker a hop is one wake-up of a thread that
 * does nothing else (wireguard-go and strongSwan's libipsec work the same way), and the crypto runs on a
 * second thread next to IKE. bench/README.md "End to end" has the measurements.
 *
 * The main thread still sees a DataPath and a TunDevice:
 *   WorkerDataPath  install/retire/remove/warmUp are applied to a mirror here (routes, status and the
 *                   rekey bookkeeping read it) and replayed in the worker; `outbound`/`inbound` (trap
 *                   releases, raw ESP reads) forward the packets to the worker; `syncStats` fetches the
 *                   worker's counters synchronously (Atomics.wait, at most 250 ms) into the mirror.
 *   WorkerTun       name/MTU/routes work on the real device; packets are the worker's.
 * IKE datagrams that arrive on 4500 are posted back and injected into the main UDP transport, which also
 * sends IKE on the same sockets (a socket is safe to share between threads).
 *
 * `TSIPSEC_DATAPLANE=main` keeps the single-thread data path (tun/linux.ts read modes).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { CryptoProvider, RandomSource } from '../crypto/types.js';
import type { ChildSaInfo } from '../ike/events.js';
import type { LinuxUdpTransport } from '../net/linux-udp.js';
import { libc, O_CLOEXEC } from '../tun/libc.js';
import type { LinuxTun } from '../tun/linux.js';
import { emptyTunStats, type TunDevice, type TunPacketHandler, type TunStats } from '../tun/types.js';
import { emptyUdpStats } from '../net/types.js';
import { IpPeek, peekIp } from '../wire/ip.js';
import { DataPath, TunDrop, type InstalledChild, type OutboundPacket } from './datapath.js';
import { emptyOffloadCounters, type DataPlaneInit, type DataPlaneThreadStats, type DataPlaneSnapshot, type FromWorker, type OffloadCounters, type ToWorker } from './dataplane-protocol.js';
import type { Logs } from './log.js';

/** The compiled worker script next to this module (missing when running from the TypeScript sources). */
export const DATAPLANE_THREAD_URL = new URL('./dataplane-thread.js', import.meta.url);

/** True when the worker script exists here (dist/ build), so `startDataPlaneWorker` can run it. */
export function dataPlaneWorkerAvailable(url: URL = DATAPLANE_THREAD_URL): boolean {
  return existsSync(fileURLToPath(url));
}

const NAT_T_PORT = 4500;
const EFD_NONBLOCK = 0o4000;
const STATS_WAIT_MS = 250;
const READY_WAIT_MS = 15_000;
const CLOSE_WAIT_MS = 2_000;

function emptySnapshot(): DataPlaneSnapshot {
  return { tunDrops: [], espDrops: [], children: [], tun: emptyTunStats(), udp: emptyUdpStats(), offload: emptyOffloadCounters(), wakeups: 0, busyMs: 0, busyHistogram: [], heapUsedBytes: 0 };
}

/** The main thread's end of the worker: control messages, the stats request, the stop handshake. */
class DataPlaneHost {
  last: DataPlaneSnapshot = emptySnapshot();
  alive = true;
  private stopping: Promise<void> | undefined;
  private readonly signal: Int32Array;
  private readonly one = new Uint8Array(8);
  private readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    readonly worker: Worker,
    private readonly control: MessagePort,
    private readonly statsPort: MessagePort,
    signal: SharedArrayBuffer,
    private readonly wakeFd: number,
  ) {
    this.signal = new Int32Array(signal);
    this.one[0] = 1;
    this.closed = new Promise((r) => { this.resolveClosed = r; });
    worker.on('exit', () => {
      this.alive = false;
      this.resolveClosed();
    });
  }

  markClosed(): void {
    this.resolveClosed();
  }

  post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!this.alive || this.stopping !== undefined) return;
    this.control.postMessage(m, transfer);
    libc().write(this.wakeFd, this.one, 8);
  }

  /** The worker's counters now (or the last ones if it does not answer within 250 ms). */
  snapshot(): DataPlaneSnapshot {
    if (!this.alive || this.stopping !== undefined) return this.last;
    const seq = Atomics.load(this.signal, 0);
    this.post({ op: 'stats' });
    Atomics.wait(this.signal, 0, seq, STATS_WAIT_MS);
    for (let m = receiveMessageOnPort(this.statsPort); m !== undefined; m = receiveMessageOnPort(this.statsPort)) {
      this.last = m.message as DataPlaneSnapshot;
    }
    return this.last;
  }

  /** Stops the worker loop (it finishes its burst and flushes), then the thread. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    if (this.alive) this.last = this.snapshot();
    this.stopping = (async () => {
      if (this.alive) {
        this.control.postMessage({ op: 'close' } satisfies ToWorker);
        libc().write(this.wakeFd, this.one, 8);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.closed, new Promise<void>((r) => { timer = setTimeout(r, CLOSE_WAIT_MS); })]);
        clearTimeout(timer);
      }
      await this.worker.terminate();
      this.control.close();
      this.statsPort.close();
      libc().close(this.wakeFd);
    })();
    return this.stopping;
  }
}

/** The DataPath the main thread's Tunnel drives when the worker carries the packets (see the top of this file). */
export class WorkerDataPath extends DataPath {
  /** TUN packets the worker passed over that no trap took (counted here, added to `tunDrops.noPolicy`). */
  private mainNoPolicy = 0;
  private readonly scratchPeek = new IpPeek();

  constructor(provider: CryptoProvider, rng: RandomSource, private readonly host: DataPlaneHost) {
    super(provider, rng);
  }

  override install(info: ChildSaInfo, nowMs: number, deferSwitch = false): InstalledChild {
    const c = super.install(info, nowMs, deferSwitch);
    this.host.post({ op: 'install', info, nowMs, defer: deferSwitch });
    return c;
  }

  override retire(spiIn: number, untilMs: number): InstalledChild | undefined {
    const c = super.retire(spiIn, untilMs);
    if (c !== undefined) this.host.post({ op: 'retire', spiIn, untilMs });
    return c;
  }

  override remove(spiIn: number): InstalledChild | undefined {
    const c = super.remove(spiIn);
    if (c !== undefined) this.host.post({ op: 'remove', spiIn });
    return c;
  }

  /** The worker warms its own DataPath (the packets run there). */
  override warmUp(info: ChildSaInfo): void {
    this.host.post({ op: 'warm', info });
  }

  /** A packet the main thread holds (a trap released it): sealed and sent by the worker. */
  override outbound(pkt: Uint8Array): OutboundPacket | null {
    const copy = pkt.slice();
    this.host.post({ op: 'seal', packets: [copy] }, [copy.buffer]);
    return null;
  }

  /** An ESP packet the main thread read (raw ESP): opened by the worker and written to its TUN. */
  override inbound(esp: Uint8Array): Uint8Array | null {
    const copy = esp.slice();
    this.host.post({ op: 'open', packets: [copy] }, [copy.buffer]);
    return null;
  }

  override syncStats(): void {
    const s = this.host.snapshot();
    for (let i = 0; i < this.tunDrops.length; i++) this.tunDrops[i] = (s.tunDrops[i] ?? 0) + (i === TunDrop.noPolicy ? this.mainNoPolicy : 0);
    for (let i = 0; i < this.espDrops.length; i++) this.espDrops[i] = s.espDrops[i] ?? 0;
    for (const ch of s.children) {
      const c = this.child(ch.spiIn);
      if (c === undefined) continue;
      c.inSa.stats.set(ch.inStats);
      c.outSa.stats.set(ch.outStats);
      c.inSa.drops.set(ch.inDrops);
    }
  }

  override close(): Promise<void> {
    return this.host.stop();
  }

  /** Worker thread wake-ups so far (one per poll(2) return). */
  get wakeups(): number {
    return this.host.last.wakeups;
  }

  /** The worker thread's counters as of the last `syncStats`. */
  override threadStats(): DataPlaneThreadStats | null {
    const s = this.host.last;
    return { thread: 'worker', wakeups: s.wakeups, busyMs: Math.round(s.busyMs * 1000) / 1000, busyHistogram: [...s.busyHistogram], heapUsedBytes: s.heapUsedBytes };
  }

  /** A TUN packet without a child SA, from the worker: the trap table (Tunnel) may take it. */
  handleNoPolicy(packet: Uint8Array): void {
    const p = this.scratchPeek;
    if (peekIp(packet, 0, packet.length, p) && this.noPolicy !== undefined && this.noPolicy(packet, p)) return;
    this.mainNoPolicy++;
  }
}

/** The TUN device as the main thread sees it while the worker reads and writes its packets. */
export class WorkerTun implements TunDevice {
  readonly headroom = 0;
  readonly tailroom = 0;

  constructor(private readonly real: LinuxTun, private readonly host: DataPlaneHost) {}

  get name(): string {
    return this.real.name;
  }

  get mtu(): number {
    return this.real.mtu;
  }

  /** The worker reads the device; a handler here would never be called. */
  onPackets(_handler: TunPacketHandler): void {}

  write(packet: Uint8Array): boolean {
    return this.writeBatch([packet]) === 1;
  }

  writeBatch(packets: readonly Uint8Array[]): number {
    if (!this.host.alive) return 0;
    const copies = packets.map((p) => p.slice());
    this.host.post({ op: 'write', packets: copies }, copies.map((c) => c.buffer));
    return packets.length;
  }

  setMtu(mtu: number): Promise<void> {
    return this.real.setMtu(mtu);
  }

  async close(): Promise<void> {
    await this.host.stop();
    await this.real.close();
  }

  /** The worker's TUN counters as of the last `syncStats` (Tunnel.status calls it first). */
  stats(): TunStats {
    return { ...this.host.last.tun };
  }

  /** The worker's TUN and UDP offload counters as of the last `syncStats`. */
  offloadCounters(): OffloadCounters {
    return { ...this.host.last.offload };
  }
}

export interface DataPlaneWorkerOptions {
  /** The opened TUN device; nothing may have called its `onPackets` (the worker reads it). */
  tun: LinuxTun;
  /** The bound transport; the worker takes over the reads of its port-4500 sockets. */
  udp: LinuxUdpTransport;
  /** ESP crypto in the worker: provider name and whether the AEAD runs on EVP contexts (node-evp.ts). */
  provider: 'node' | 'noble';
  evp: boolean;
  /** Provider and randomness of the main thread's mirror SAs (they never see a packet). */
  mirrorProvider: CryptoProvider;
  rng: RandomSource;
  logs?: Logs;
  /** After each wake-up the worker polls without sleeping for this many µs before it blocks (default 0). */
  busyPollUs?: number;
  /** The worker script (default: dataplane-thread.js next to this module). */
  scriptUrl?: URL;
}

export interface DataPlaneWorker {
  readonly datapath: WorkerDataPath;
  readonly tun: WorkerTun;
}

/**
 * Starts the worker and waits until its loop runs. On failure the UDP transport reads its sockets again
 * and the TUN device is untouched, so the caller can fall back to the main-thread data path.
 */
export async function startDataPlaneWorker(opts: DataPlaneWorkerOptions): Promise<DataPlaneWorker> {
  const lc = libc();
  const wakeFd = lc.eventfd(0, EFD_NONBLOCK | O_CLOEXEC);
  if (wakeFd < 0) throw new Error(`data-plane worker: eventfd failed, errno ${lc.errno()}`);
  const sockets = opts.udp.detachReceive(NAT_T_PORT);
  const control = new MessageChannel();
  const stats = new MessageChannel();
  const signal = new SharedArrayBuffer(8);
  const init: DataPlaneInit = {
    tun: { fd: opts.tun.fileDescriptor, name: opts.tun.name, mtu: opts.tun.mtu, offload: opts.tun.offload },
    sockets, gso: opts.udp.gsoEnabled, provider: opts.provider, evp: opts.evp, wakeFd,
    mainTimeOrigin: performance.timeOrigin, signal, busyPollUs: opts.busyPollUs ?? 0,
  };
  const worker = new Worker(opts.scriptUrl ?? DATAPLANE_THREAD_URL, {
    workerData: { init, control: control.port2, stats: stats.port2 },
    transferList: [control.port2, stats.port2],
    // The heap of the worker is the data path's: slabs and SA state, no IKE.
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  const host = new DataPlaneHost(worker, control.port1, stats.port1, signal, wakeFd);
  const datapath = new WorkerDataPath(opts.mirrorProvider, opts.rng, host);
  const log = opts.logs?.sub('esp');
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`data-plane worker: not ready after ${READY_WAIT_MS} ms`)), READY_WAIT_MS);
      worker.once('error', (err) => { clearTimeout(timer); reject(err); });
      worker.once('exit', (code) => { clearTimeout(timer); reject(new Error(`data-plane worker exited (code ${code}) before it was ready`)); });
      worker.on('message', (m: FromWorker) => {
        switch (m.op) {
          case 'ready': clearTimeout(timer); resolve(); break;
          case 'datagram': opts.udp.inject(m.d); break;
          case 'nopolicy': datapath.handleNoPolicy(m.packet); break;
          case 'raw': datapath.rawOut?.(m.data, m.remote, m.local); break;
          case 'error': log?.warn({ err: m.message }, 'data-plane worker'); break;
          case 'closed': host.markClosed(); break;
        }
      });
    });
  } catch (err) {
    await worker.terminate().catch(() => undefined);
    control.port1.close();
    stats.port1.close();
    lc.close(wakeFd);
    opts.udp.resumeReceive();
    throw err;
  }
  worker.on('error', (err) => log?.error({ err: err.message }, 'data-plane worker failed: no more packets pass'));
  return { datapath, tun: new WorkerTun(opts.tun, host) };
}

/**
 * The daemon's choice: the worker unless `TSIPSEC_DATAPLANE=main`, the transport is not the batching Linux
 * one (TSIPSEC_UDP=dgram), or the worker script is not built. A worker that fails to start is logged and
 * the main-thread data path used instead (undefined is returned).
 */
export async function startDataPlaneFromEnv(
  tun: LinuxTun, udp: unknown, opts: Omit<DataPlaneWorkerOptions, 'tun' | 'udp'>,
): Promise<DataPlaneWorker | undefined> {
  const mode = process.env.TSIPSEC_DATAPLANE ?? 'worker';
  if (mode !== 'worker' && mode !== 'main') throw new Error(`TSIPSEC_DATAPLANE: must be 'worker' or 'main', got ${JSON.stringify(mode)}`);
  if (mode === 'main' || !isLinuxUdp(udp) || !dataPlaneWorkerAvailable(opts.scriptUrl)) return undefined;
  const spin = process.env.TSIPSEC_BUSY_POLL_US;
  const busyPollUs = spin === undefined || spin === '' ? opts.busyPollUs : Number(spin);
  if (busyPollUs !== undefined && (!Number.isInteger(busyPollUs) || busyPollUs < 0 || busyPollUs > 100_000)) {
    throw new Error(`TSIPSEC_BUSY_POLL_US: must be an integer in 0..100000 (µs), got ${JSON.stringify(spin)}`);
  }
  try {
    return await startDataPlaneWorker({ ...opts, tun, udp, busyPollUs });
  } catch (err) {
    opts.logs?.sub('esp').warn({ err: (err as Error).message }, 'data-plane worker did not start; packets run on the main thread');
    return undefined;
  }
}

function isLinuxUdp(udp: unknown): udp is LinuxUdpTransport {
  return typeof udp === 'object' && udp !== null && typeof (udp as LinuxUdpTransport).detachReceive === 'function' && typeof (udp as LinuxUdpTransport).adopt === 'function';
}
