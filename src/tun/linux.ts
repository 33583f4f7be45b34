/**
 * Linux TUN device through koffi (DESIGN.md §5 "TUN"): open("/dev/net/tun", O_RDWR|O_NONBLOCK|O_CLOEXEC),
 * ioctl(TUNSETIFF, struct ifreq { char ifr_name[IFNAMSIZ]; short ifr_flags = IFF_TUN|IFF_NO_PI }) —
 * linux/if_tun.h, Documentation/networking/tuntap.rst. Address, MTU and link state are set with `ip`.
 * The device is non-persistent: closing the fd makes the kernel delete it.
 *
 * How packets are read. Neither mode blocks the event loop (the fd is O_NONBLOCK; a read that would
 * block returns EAGAIN) and neither uses fs.read. Both read on the main thread through koffi in a loop
 * until EAGAIN or `maxBatch`, into a slab, then hand the whole batch over; they differ in how they learn
 * the fd is readable:
 *
 *   'async-poll' (default)  poll([tun, eventfd], -1) as a koffi async call (runs on a libuv pool thread);
 *                           re-armed after each drain. The pool round trip coalesces wake-ups, so batches
 *                           are large. close() writes the eventfd to release the parked poll.
 *   'uv-poll'               koffi.node.poll: a libuv uv_poll_t on the fd (level-triggered) calls back on
 *                           the main loop. No pool thread, but one wake-up per 3–5 packets.
 *   'external'              nothing here waits: the owner polls `fileDescriptor` and calls `drainReadable()`.
 *                           The daemon's data-plane worker thread (runtime/dataplane-thread.ts) does this,
 *                           blocking in poll(2) on the TUN and the ESP sockets together; with `flushMode:
 *                           'manual'` merged TCP writes leave on `flush()` instead of a microtask (that
 *                           thread never returns to its event loop). The daemon uses it unless
 *                           TSIPSEC_DATAPLANE=main; the two modes above are then the main thread's.
 *
 * bench/tun.ts, 2-vCPU VM, 64-byte UDP payloads written by a generator process into a second TUN and
 * forwarded by the kernel into this one; medians of 3–5 rounds. The VM was shared with other builds
 * (load average 8–16), so absolute figures swing a lot; async-poll read faster in 4 of 5 runs and
 * reflected faster in all 5:
 *
 *   mode         read pkt/s     read CPU µs/pkt   mean batch   reflect (read+write back) pkt/s
 *   async-poll   63k–179k       1.4–4.0           11–40        64k–152k
 *   uv-poll      55k–90k        3.3–3.8           3–4          42k–73k
 *   write(2) through koffi (generator side): 1.3–1.6 µs CPU per packet, 150k–520k pkt/s.
 *
 * At low load (before the other builds started) a prototype of the async-poll loop read a Python UDP
 * blaster at 420–500k pkt/s (the blaster's own limit) with 1.8–2.2 µs CPU per packet.
 *
 * Rejected:
 *   - worker_thread doing blocking poll()+read() into a SharedArrayBuffer ring with
 *     Atomics.notify/waitAsync: prototyped; on 2 vCPUs the extra busy thread competes with the rest, and
 *     it measured 90–290k pkt/s vs 420–500k for the main-thread read loop in the same runs, at
 *     2.9–3.9 µs vs 1.8–2.2 µs CPU per packet, plus ring-full and shutdown handshakes to get right.
 *   - fs.read per packet: ~18 µs and it ties up a pool thread per read (REFERENCE.md §6: 56k pkt/s).
 *   - net.Socket({ fd }): treats the fd as a byte stream and loses packet boundaries.
 * Cost of the default: one of libuv's four pool threads (UV_THREADPOOL_SIZE) stays parked in poll() for
 * the life of each device (and, until close(), keeps the process alive); pick 'uv-poll' where that
 * matters more than throughput.
 *
 * Packets are views into 512 KiB slabs that are never reused (a fresh slab replaces a full one), so a
 * receiver may keep them; `headroom`/`tailroom` bytes around each are free for in-place ESP sealing.
 * Writes are a synchronous write(2) per packet on the non-blocking fd; EAGAIN (queue full) or any error
 * is a counted drop, never a throw.
 */
import { run as defaultRun, type RunCommand } from '../runtime/system.js';
import {
  EAGAIN, EINTR, IFF_NO_PI, IFF_TUN, IFNAMSIZ, IFREQ_SIZE, libc, O_CLOEXEC, O_NONBLOCK, O_RDWR, TUNSETIFF, TUNSETOFFLOAD,
  type Libc,
} from './libc.js';
import {
  completeChecksum, IFF_VNET_HDR, TcpCoalescer, tcpSegment, TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, VNET_F_DATA_VALID, VNET_F_NEEDS_CSUM,
  VNET_GSO_ECN, VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_HDR_LEN,
} from './offload.js';
import { emptyTunStats, type TunDevice, type TunOffloadCounters, type TunPacketHandler, type TunStats } from './types.js';

/**
 * 'external': nothing here waits for readability; the owner polls the fd (`fileDescriptor`) and calls
 * `drainReadable()` (the data-plane worker, runtime/dataplane-thread.ts, which blocks in poll(2) itself).
 */
export type TunReadMode = 'uv-poll' | 'async-poll' | 'external';


export interface LinuxTunOptions {
  /** Interface name or pattern (`%d` → first free number). Default `tsipsec%d`. At most 15 bytes. */
  name?: string;
  /** MTU set on the device. Default 1400. */
  mtu?: number;
  /** CIDR addresses to assign, IPv4 or IPv6 (e.g. `198.18.200.1/24`). Default none. */
  addresses?: readonly string[];
  /** Bring the link up. Default true. */
  up?: boolean;
  /** Move the device into this network namespace before configuring it (the fd keeps working). */
  netns?: string;
  /** Most packets read per wake-up before yielding to the event loop. Default 256. */
  maxBatch?: number;
  /** Free bytes kept before / after each received packet in its buffer. Default 0 / 0. */
  headroom?: number;
  tailroom?: number;
  /** How readability is detected (see the top of this file). Default 'async-poll'. */
  readMode?: TunReadMode;
  /**
   * Merged TCP writes (offload) are flushed by a microtask after the current handler ('microtask',
   * default) or only by `flush()` ('manual': a thread that never yields to its event loop).
   */
  flushMode?: 'microtask' | 'manual';
  /**
   * IFF_VNET_HDR with checksum and TCP segmentation offload (offload.ts): the kernel hands over 64 KiB
   * TCP super-packets that are cut into MTU-sized packets here, and writes skip the kernel's checksum
   * check. Readers still see ordinary IP packets. Default: on, unless TSIPSEC_TUN_OFFLOAD=0.
   */
  offload?: boolean;
  /** Read failures (fd error, hang-up) and exceptions thrown by the packet handler. Default: rethrown asynchronously. */
  onError?: (err: Error) => void;
  /** Command runner for `ip` (tests inject a fake). */
  run?: RunCommand;
}

/** Largest packet a TUN read can return (IPv4 total length / IPv6 payload length are 16 bits). */
const MAX_READ = 65535;
const SLAB_BYTES = 512 * 1024;
const POLLIN = 0x001;

/**
 * A slab without the zero fill (Buffer.allocUnsafeSlow, unpooled, seen as a plain Uint8Array so the hot
 * code stays monomorphic): a fresh slab every few hundred packets was a 0.5–1 MiB memset each time (5 %
 * of the sender's CPU in a perf profile). Only bytes written by a read or a seal are ever handed out.
 */
function uninitialized(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function checkName(name: string): void {
  if (name.length === 0 || Buffer.byteLength(name) >= IFNAMSIZ || /[\s/:]/.test(name)) {
    throw new Error(`LinuxTunOptions.name: must be 1..${IFNAMSIZ - 1} bytes without whitespace, '/' or ':' (got ${JSON.stringify(name)})`);
  }
}

function checkMtu(mtu: number, field: string): void {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new Error(`${field}: must be an integer in 68..65535, got ${mtu}`);
}

/** `ip` arguments, run inside `netns` when given. */
function ipArgs(netns: string | undefined, args: string[]): string[] {
  return netns === undefined ? args : ['-n', netns, ...args];
}

/** Creates, configures and returns a Linux TUN device. Needs CAP_NET_ADMIN. */
export async function openLinuxTun(opts: LinuxTunOptions = {}): Promise<LinuxTun> {
  const pattern = opts.name ?? 'tsipsec%d';
  checkName(pattern);
  const mtu = opts.mtu ?? 1400;
  checkMtu(mtu, 'LinuxTunOptions.mtu');
  const maxBatch = opts.maxBatch ?? 256;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`LinuxTunOptions.maxBatch: must be a positive integer, got ${maxBatch}`);
  const headroom = opts.headroom ?? 0;
  const tailroom = opts.tailroom ?? 0;
  for (const [k, v] of [['headroom', headroom], ['tailroom', tailroom]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 4096) throw new Error(`LinuxTunOptions.${k}: must be an integer in 0..4096, got ${v}`);
  }
  const readMode = opts.readMode ?? 'async-poll';
  const offload = opts.offload ?? process.env.TSIPSEC_TUN_OFFLOAD !== '0';
  if (readMode !== 'uv-poll' && readMode !== 'async-poll' && readMode !== 'external') throw new Error(`LinuxTunOptions.readMode: unknown mode ${String(readMode)}`);
  const run = opts.run ?? defaultRun;

  const lc = libc();
  const fd = lc.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw new Error(`open /dev/net/tun failed: errno ${lc.errno()} (needs CAP_NET_ADMIN and the tun module)`);
  const ifr = new Uint8Array(IFREQ_SIZE);
  ifr.set(Buffer.from(pattern, 'utf8'));
  new DataView(ifr.buffer).setInt16(IFNAMSIZ, IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0), true);
  if (lc.ioctl(fd, TUNSETIFF, ifr) !== 0) {
    const e = lc.errno();
    lc.close(fd);
    throw new Error(`ioctl(TUNSETIFF, ${pattern}) failed: errno ${e}${e === 16 ? ' (EBUSY: name in use)' : ''}`);
  }
  const end = ifr.indexOf(0);
  const name = Buffer.from(ifr.subarray(0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end)).toString('utf8');
  if (offload && lc.ioctlValue(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) !== 0) {
    const e = lc.errno();
    lc.close(fd);
    throw new Error(`ioctl(TUNSETOFFLOAD, ${name}) failed: errno ${e}`);
  }

  try {
    if (opts.netns !== undefined) await run('ip', ['link', 'set', 'dev', name, 'netns', opts.netns]);
    await run('ip', ipArgs(opts.netns, ['link', 'set', 'dev', name, 'mtu', String(mtu)]));
    for (const a of opts.addresses ?? []) await run('ip', ipArgs(opts.netns, ['addr', 'add', a, 'dev', name]));
    if (opts.up ?? true) await run('ip', ipArgs(opts.netns, ['link', 'set', 'dev', name, 'up']));
  } catch (err) {
    lc.close(fd);
    throw err;
  }
  return new LinuxTun(lc, fd, name, mtu, opts.netns, maxBatch, headroom, tailroom, readMode, run, opts.onError, offload, opts.flushMode);
}

export class LinuxTun implements TunDevice {
  readonly name: string;
  readonly headroom: number;
  readonly tailroom: number;
  /** The namespace the device lives in, if it was moved. */
  readonly netns: string | undefined;
  readonly readMode: TunReadMode;
  private mtuBytes: number;
  private handler: TunPacketHandler | undefined;
  private readonly counters: TunStats = emptyTunStats();
  private closed = false;
  private started = false;
  private slab = uninitialized(SLAB_BYTES);
  private slabOff = 0;
  private readonly readRoom: number;
  private pollHandle: { stop(): void; close(): void } | undefined;
  /** async-poll: eventfd that wakes the parked poll() for close, and the pollfd array. */
  private wakeFd = -1;
  private pollFds: Uint8Array | undefined;
  private pollIdle: Promise<void> | undefined;
  private resolvePollIdle: (() => void) | undefined;

  constructor(
    private readonly lc: Libc,
    private readonly fd: number,
    name: string,
    mtu: number,
    netns: string | undefined,
    private readonly maxBatch: number,
    headroom: number,
    tailroom: number,
    readMode: TunReadMode,
    private readonly run: RunCommand,
    private readonly onError: ((err: Error) => void) | undefined,
    /** IFF_VNET_HDR with TSO/checksum offload (offload.ts). */
    readonly offload = false,
    flushMode: 'microtask' | 'manual' = 'microtask',
  ) {
    this.manualFlush = flushMode === 'manual';
    this.name = name;
    this.mtuBytes = mtu;
    this.netns = netns;
    this.headroom = headroom;
    this.tailroom = tailroom;
    this.readMode = readMode;
    this.readRoom = headroom + MAX_READ + tailroom + (offload ? VNET_HDR_LEN : 0);
    if (offload) {
      this.wbuf = new Uint8Array(VNET_HDR_LEN + MAX_READ);
      this.wbuf[0] = VNET_F_DATA_VALID;
      this.gro = new TcpCoalescer();
    }
  }

  private readonly manualFlush: boolean;

  /** The device's file descriptor (for a reader in another thread: the fd is process-wide). */
  get fileDescriptor(): number {
    return this.fd;
  }

  /** 'external' read mode: reads what is queued (up to maxBatch) and delivers it. Returns the packet count. */
  drainReadable(): number {
    return this.closed ? 0 : this.drain();
  }

  /** Writes the pending merged TCP packet now (the 'manual' flush mode's owner calls this after each burst). */
  flush(): void {
    this.flushGro();
  }

  offloadCounters(): TunOffloadCounters {
    const o = this.offloadStats;
    const g = this.groStats;
    return { tunSuperPackets: o.superPackets, tunSegments: o.segments, tunMalformed: o.malformed, tunGroWrites: g.writes, tunGroSegments: g.segments };
  }

  /** Offload: the write buffer (virtio_net_hdr with DATA_VALID, then the packet). */
  private wbuf: Uint8Array | undefined;
  /** Offload: TCP super-packets cut, and packets dropped because they could not be. */
  readonly offloadStats = { superPackets: 0, segments: 0, malformed: 0 };

  get mtu(): number {
    return this.mtuBytes;
  }

  onPackets(handler: TunPacketHandler): void {
    this.handler = handler;
    if (!this.started && !this.closed) {
      this.started = true;
      if (this.readMode === 'uv-poll') this.pollHandle = this.lc.pollReadable(this.fd, this.onReadable);
      else if (this.readMode === 'async-poll') this.startAsyncPoll();
    }
  }

  write(packet: Uint8Array): boolean {
    if (this.closed) {
      this.counters.txDrops++;
      return false;
    }
    let n: number;
    const w = this.wbuf;
    const gro = this.gro;
    if (w !== undefined && gro !== undefined) {
      if (packet.length > MAX_READ) {
        this.counters.txDrops++;
        return false;
      }
      // In-order TCP segments of one flow are merged and written at the end of this tick (offload.ts).
      if (gro.add(packet)) {
        if (!this.groQueued && !this.manualFlush) {
          this.groQueued = true;
          queueMicrotask(this.flushGro);
        }
        return true;
      }
      if (gro.pending) this.flushGro();
      if (gro.add(packet)) {
        if (!this.groQueued && !this.manualFlush) {
          this.groQueued = true;
          queueMicrotask(this.flushGro);
        }
        return true;
      }
      w.set(packet, VNET_HDR_LEN);
      n = this.lc.write(this.fd, w, VNET_HDR_LEN + packet.length) - VNET_HDR_LEN;
    } else n = this.lc.write(this.fd, packet, packet.length);
    if (n === packet.length) {
      this.counters.txPackets++;
      this.counters.txBytes += n;
      return true;
    }
    this.counters.txDrops++;
    return false;
  }

  /** Offload: the receive-side TCP coalescer and its counters. */
  private readonly gro: TcpCoalescer | undefined;
  private groQueued = false;
  readonly groStats = { writes: 0, segments: 0 };

  /** Writes the pending merged TCP packet (if any). */
  private readonly flushGro = (): void => {
    this.groQueued = false;
    const gro = this.gro;
    if (gro === undefined || !gro.pending) return;
    const segs = gro.segments;
    const out = gro.take();
    if (this.closed) {
      this.counters.txDrops += segs;
      return;
    }
    const n = this.lc.write(this.fd, out, out.length);
    if (n === out.length) {
      this.counters.txPackets += segs;
      this.counters.txBytes += n - VNET_HDR_LEN;
      if (segs > 1) {
        this.groStats.writes++;
        this.groStats.segments += segs;
      }
    } else this.counters.txDrops += segs;
  };

  writeBatch(packets: readonly Uint8Array[]): number {
    let ok = 0;
    for (let i = 0; i < packets.length; i++) if (this.write(packets[i])) ok++;
    return ok;
  }

  async setMtu(mtu: number): Promise<void> {
    checkMtu(mtu, 'LinuxTun.setMtu(mtu)');
    await this.run('ip', ipArgs(this.netns, ['link', 'set', 'dev', this.name, 'mtu', String(mtu)]));
    this.mtuBytes = mtu;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushGro();
    this.closed = true;
    if (this.pollHandle) {
      this.pollHandle.close();
      this.pollHandle = undefined;
    }
    if (this.pollIdle) {
      const one = new Uint8Array(8);
      new DataView(one.buffer).setBigUint64(0, 1n, true);
      this.lc.write(this.wakeFd, one, 8);
      await this.pollIdle;
    }
    if (this.wakeFd >= 0) this.lc.close(this.wakeFd);
    this.wakeFd = -1;
    this.lc.close(this.fd);
  }

  stats(): TunStats {
    return { ...this.counters };
  }

  /** Reads until EAGAIN or maxBatch and delivers the batch. Returns the packet count. */
  private drain(): number {
    const lc = this.lc;
    const batch: Uint8Array[] = [];
    let failed = 0;
    while (batch.length < this.maxBatch) {
      if (this.slab.length - this.slabOff < this.readRoom) {
        this.slab = uninitialized(SLAB_BYTES);
        this.slabOff = 0;
      }
      if (this.offload) {
        const r = this.readOffload(batch);
        if (r > 0) continue;
        if (r === 0) break;
        const e = lc.errno();
        if (e === EINTR) continue;
        if (e !== EAGAIN) failed = e;
        break;
      }
      const start = this.slabOff + this.headroom;
      const n = lc.read(this.fd, this.slab.subarray(start), MAX_READ);
      if (n > 0) {
        batch.push(this.slab.subarray(start, start + n));
        this.slabOff = align8(start + n + this.tailroom);
        continue;
      }
      if (n === 0) break;
      const e = lc.errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN) failed = e;
      break;
    }
    if (batch.length > 0) this.deliver(batch);
    if (failed !== 0) this.fail(new Error(`TUN ${this.name}: read failed, errno ${failed}`));
    return batch.length;
  }

  /**
   * One read with a virtio_net_hdr in front (offload): an ordinary packet (its partial checksum completed
   * if the kernel left one) or a TCP super-packet cut into segments, appended to `batch`. Returns how
   * many bytes were read (> 0), 0 at end of file, -1 on a read error (errno is the caller's to read).
   */
  private readOffload(batch: Uint8Array[]): number {
    const readAt = this.slabOff + this.headroom;
    const pkt = readAt + VNET_HDR_LEN;
    const slab = this.slab;
    const n = this.lc.read(this.fd, slab.subarray(readAt), VNET_HDR_LEN + MAX_READ);
    if (n <= 0) return n === 0 ? 0 : -1;
    const len = n - VNET_HDR_LEN;
    if (len <= 0) {
      this.offloadStats.malformed++;
      return n;
    }
    const flags = slab[readAt]!;
    const gsoType = slab[readAt + 1]! & ~VNET_GSO_ECN;
    const gsoSize = slab[readAt + 4]! | (slab[readAt + 5]! << 8);
    if (gsoType === VNET_GSO_NONE) {
      if ((flags & VNET_F_NEEDS_CSUM) !== 0
        && !completeChecksum(slab, pkt, pkt + len, slab[readAt + 6]! | (slab[readAt + 7]! << 8), slab[readAt + 8]! | (slab[readAt + 9]! << 8))) {
        this.offloadStats.malformed++;
        this.slabOff = align8(pkt + len);
        return n;
      }
      batch.push(slab.subarray(pkt, pkt + len));
      this.slabOff = align8(pkt + len + this.tailroom);
      return n;
    }
    this.slabOff = align8(pkt + len);
    if ((gsoType !== VNET_GSO_TCPV4 && gsoType !== VNET_GSO_TCPV6) || gsoSize === 0) {
      this.offloadStats.malformed++;
      return n;
    }
    // Segments go after the super-packet, each with head/tailroom; a fresh slab if they do not fit.
    const segRoom = align8(this.headroom + 128 + gsoSize + this.tailroom);
    const need = Math.ceil(len / gsoSize) * segRoom + 8;
    if (this.slab.length - this.slabOff < need) {
      this.slab = uninitialized(Math.max(SLAB_BYTES, need));
      this.slabOff = 0;
    }
    const dst = this.slab;
    const count = tcpSegment(slab, pkt, pkt + len, gsoSize, dst, (l) => {
      const o = this.slabOff + this.headroom;
      this.slabOff = align8(o + l + this.tailroom);
      return o;
    }, (o, l) => { batch.push(dst.subarray(o, o + l)); });
    if (count < 0) this.offloadStats.malformed++;
    else {
      this.offloadStats.superPackets++;
      this.offloadStats.segments += count;
    }
    return n;
  }

  private deliver(batch: Uint8Array[]): void {
    const h = this.handler;
    if (this.closed || h === undefined) {
      this.counters.rxDrops += batch.length;
      return;
    }
    this.counters.rxBatches++;
    this.counters.rxPackets += batch.length;
    for (let i = 0; i < batch.length; i++) this.counters.rxBytes += batch[i].length;
    try {
      h(batch);
    } catch (err) {
      this.report(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private readonly onReadable = (): void => {
    if (!this.closed) this.drain();
  };

  /** A persistent read error: stop reading (the device is unusable) and report it. */
  private fail(err: Error): void {
    if (this.pollHandle) {
      this.pollHandle.stop();
    }
    this.report(err);
  }

  private report(err: Error): void {
    if (this.onError) this.onError(err);
    else
      queueMicrotask(() => {
        throw err;
      });
  }

  private startAsyncPoll(): void {
    const EFD_NONBLOCK = 0o4000;
    this.wakeFd = this.lc.eventfd(0, EFD_NONBLOCK | O_CLOEXEC);
    if (this.wakeFd < 0) throw new Error(`TUN ${this.name}: eventfd failed, errno ${this.lc.errno()}`);
    const fds = new Uint8Array(16);
    const dv = new DataView(fds.buffer);
    dv.setInt32(0, this.fd, true);
    dv.setInt16(4, POLLIN, true);
    dv.setInt32(8, this.wakeFd, true);
    dv.setInt16(12, POLLIN, true);
    this.pollFds = fds;
    this.pollIdle = new Promise<void>((resolve) => {
      this.resolvePollIdle = resolve;
    });
    this.armAsyncPoll();
  }

  private readonly armAsyncPoll = (): void => {
    if (this.closed) {
      this.resolvePollIdle?.();
      return;
    }
    this.lc.pollAsync(this.pollFds as Uint8Array, 2, -1, this.onAsyncPoll);
  };

  private readonly onAsyncPoll = (err: unknown, result: number): void => {
    if (this.closed) {
      this.resolvePollIdle?.();
      return;
    }
    if (result < 0 && !err) {
      // poll(2) fails only with EINTR (a signal on the pool thread), EFAULT/EINVAL/ENOMEM: re-arm.
      this.armAsyncPoll();
      return;
    }
    if (err) {
      this.resolvePollIdle?.();
      this.pollIdle = undefined;
      this.report(new Error(`TUN ${this.name}: poll failed: ${String(err)}`));
      return;
    }
    const revents = new DataView((this.pollFds as Uint8Array).buffer).getInt16(6, true);
    if (revents & ~POLLIN) {
      this.resolvePollIdle?.();
      this.pollIdle = undefined;
      this.report(new Error(`TUN ${this.name}: poll revents 0x${revents.toString(16)} (error or hang-up)`));
      return;
    }
    this.drain();
    // Re-arm after the handler's microtasks (the UDP transport flushes its sendmmsg queue in one): the
    // koffi async call wakes a pool thread (futex round trip), which must not delay the packets just read.
    queueMicrotask(this.armAsyncPoll);
  };
}
