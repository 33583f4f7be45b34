/**
 * UdpTransport on Linux UDP sockets through koffi, batching both directions (udp(7), sendmmsg(2),
 * recvmmsg(2)): the same contract as `udp.ts` (node:dgram), but
 *
 *   send     queues the datagram (one copy into a native slot) and a microtask flushes the queue with one
 *            sendmmsg(2) per socket: a TUN burst sealed in one handler call leaves in one syscall. A full
 *            queue (64) flushes at once. dgram makes one uv_udp_send (and a libuv request) per datagram.
 *            UDP GSO (udp(7) UDP_SEGMENT, Linux 4.18+): consecutive datagrams of one size to one peer share
 *            a slot (up to 64 segments, the last may be shorter) sent with a UDP_SEGMENT cmsg, so the
 *            kernel's IP output path runs once per slot instead of once per datagram (the ESP packets of
 *            one TCP super-packet from the TUN are all the same size). Off with `gso: false` or
 *            TSIPSEC_UDP_GSO=0; switched off by itself if the kernel refuses it (EINVAL/EIO).
 *            The same switch sets UDP_GRO on receive: a GSO datagram from the peer (kept whole across
 *            a veth) or one the kernel coalesced arrives as one buffer with its segment size in a cmsg,
 *            and is cut here into the datagrams it carries.
 *   receive  a libuv poll handle on each socket (koffi.node.poll, on the main loop: no pool thread, no
 *            extra wake-up on the way) drains with recvmmsg(2), 64 datagrams per call, until the queue is
 *            empty or 1024 were read, and calls the handler for each.
 *
 * Ownership (the one difference from dgram): an ESP datagram on port 4500 (RFC 3948 §2.2: the first
 * 32-bit word is a non-zero SPI) is handed over as a view into the receive slot, valid only until the
 * handler returns (the ESP path decrypts in place and writes to the TUN synchronously). Everything else
 * (IKE with its non-ESP marker, IKE on 500, keepalives) is copied, so the IKE endpoint may keep it.
 *
 * Slots are 64 KiB (the largest UDP payload) in memory from koffi.alloc, so iovecs are fixed at open
 * and only lengths and addresses change per datagram. Sockets: socket(AF_INET[6], SOCK_DGRAM |
 * SOCK_NONBLOCK | SOCK_CLOEXEC), IPv6 ones IPV6_V6ONLY, no SO_REUSEADDR (a second daemon fails to
 * bind), SO_RCVBUF/SO_SNDBUF raised like udp.ts. A send the kernel refuses (EAGAIN with a full send
 * buffer, EHOSTUNREACH, …) is counted in txErrors and reported to onError, never thrown.
 */
import koffi from 'koffi';
import { formatIp, parseIp } from '../wire/addr.js';
import {
  addressFamily, emptyUdpStats, type BoundSocket, type Datagram, type DatagramHandler, type UdpBindOptions,
  type SharedUdpSocket, type UdpOffloadCounters, type UdpStats, type UdpTransport,
} from './types.js';

/** sys/socket.h, netinet/in.h, errno.h (Linux x86-64 / arm64). */
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const EINTR = 4;
const EAGAIN = 11;
const NAT_T_PORT = 4500;

/** struct mmsghdr (x86-64 / arm64 LP64): msghdr (56) + msg_len (4) + pad. Offsets inside it. */
const MMSG_SIZE = 64;
const MH_NAME = 0;
const MH_NAMELEN = 8;
const MH_IOV = 16;
const MH_IOVLEN = 24;
const MH_CONTROL = 32;
const MH_CONTROLLEN = 40;
const MH_FLAGS = 48;
/** struct cmsghdr + uint16_t: CMSG_SPACE(2) bytes; cmsg_len = CMSG_LEN(2). */
const CMSG_SPACE_U16 = 24;
const CMSG_LEN_U16 = 18;
const SOL_UDP = 17;
const UDP_SEGMENT = 103;
const UDP_GRO = 104;
/** UDP_MAX_SEGMENTS (64 before Linux 6.x raised it to 128) and a total that fits one IP packet. */
const GSO_MAX_SEGMENTS = 64;
const GSO_MAX_BYTES = 65000;
const EINVAL = 22;
const EIO = 5;
const MMSG_LEN = 56;
const IOV_SIZE = 16;
const SOCKADDR_SIZE = 32; // sockaddr_in6 is 28
const SLOT_BYTES = 65536;
const BATCH = 64;
const MAX_READ_PER_WAKE = 1024;

interface Sys {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  getsockname(fd: number, addr: Uint8Array, len: Uint8Array): number;
  sendmmsg(fd: number, vec: Uint8Array, n: number, flags: number): number;
  recvmmsg(fd: number, vec: Uint8Array, n: number, flags: number): number;
  close(fd: number): number;
  errno(): number;
}

let sys: Sys | undefined;

function bindSys(): Sys {
  if (sys) return sys;
  if (process.platform !== 'linux') throw new Error(`LinuxUdpTransport is Linux-only (platform is ${process.platform})`);
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const bind = lib.func('int bind(int fd, const void *addr, unsigned int len)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *value, unsigned int len)');
  const getsockname = lib.func('int getsockname(int fd, void *addr, void *len)');
  const sendmmsg = lib.func('int sendmmsg(int fd, void *vec, unsigned int n, int flags)');
  const recvmmsg = lib.func('int recvmmsg(int fd, void *vec, unsigned int n, int flags, void *timeout)');
  const close = lib.func('int close(int fd)');
  sys = {
    socket: (d, t, p) => socket(d, t, p) as number,
    bind: (fd, a, l) => bind(fd, a, l) as number,
    setsockopt: (fd, lv, n, v, l) => setsockopt(fd, lv, n, v, l) as number,
    getsockname: (fd, a, l) => getsockname(fd, a, l) as number,
    sendmmsg: (fd, v, n, f) => sendmmsg(fd, v, n, f) as number,
    recvmmsg: (fd, v, n, f) => recvmmsg(fd, v, n, f, null) as number,
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
  };
  return sys;
}

/** True when the batching transport can be used here (Linux, koffi loads libc). */
export function linuxUdpAvailable(): boolean {
  try {
    bindSys();
    return true;
  } catch {
    return false;
  }
}

/**
 * `count` message slots in native memory: [mmsghdr × count][iovec × count][sockaddr × count][data ×
 * count], every msg_name / msg_iov / iov_base pointing at its own slot.
 */
class Ring {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  readonly iovOff: number;
  readonly nameOff: number;
  /** One cmsg (UDP_SEGMENT) per slot; msg_controllen stays 0 unless the slot carries several segments. */
  readonly ctrlOff: number;
  readonly dataOff: number;
  private ptr: unknown;

  constructor(readonly count: number) {
    this.iovOff = count * MMSG_SIZE;
    this.nameOff = this.iovOff + count * IOV_SIZE;
    this.ctrlOff = this.nameOff + count * SOCKADDR_SIZE;
    this.dataOff = this.ctrlOff + count * CMSG_SPACE_U16;
    const total = this.dataOff + count * SLOT_BYTES;
    this.ptr = koffi.alloc('uint8_t', total);
    this.bytes = new Uint8Array(koffi.view(this.ptr, total));
    this.dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const base = koffi.address(this.ptr);
    for (let i = 0; i < count; i++) {
      const m = i * MMSG_SIZE;
      this.dv.setBigUint64(m + MH_NAME, base + BigInt(this.nameOff + i * SOCKADDR_SIZE), true);
      this.dv.setUint32(m + MH_NAMELEN, SOCKADDR_SIZE, true);
      this.dv.setBigUint64(m + MH_IOV, base + BigInt(this.iovOff + i * IOV_SIZE), true);
      this.dv.setBigUint64(m + MH_IOVLEN, 1n, true);
      this.dv.setBigUint64(m + MH_CONTROL, base + BigInt(this.ctrlOff + i * CMSG_SPACE_U16), true);
      const c = this.ctrlOff + i * CMSG_SPACE_U16;
      this.dv.setBigUint64(c, BigInt(CMSG_LEN_U16), true);
      this.dv.setInt32(c + 8, SOL_UDP, true);
      this.dv.setInt32(c + 12, UDP_SEGMENT, true);
      this.dv.setBigUint64(this.iovOff + i * IOV_SIZE, base + BigInt(this.dataOff + i * SLOT_BYTES), true);
      this.dv.setBigUint64(this.iovOff + i * IOV_SIZE + 8, BigInt(SLOT_BYTES), true);
    }
  }

  data(i: number): number {
    return this.dataOff + i * SLOT_BYTES;
  }

  setLength(i: number, len: number): void {
    // iov_len is a size_t: the high half stays 0 (len ≤ 65536).
    this.dv.setUint32(this.iovOff + i * IOV_SIZE + 8, len, true);
  }

  free(): void {
    if (this.ptr !== undefined) koffi.free(this.ptr);
    this.ptr = undefined;
  }
}

interface Sock {
  fd: number;
  info: BoundSocket;
  poll: { close(): void } | undefined;
}

export interface LinuxUdpOptions {
  /** Requested SO_RCVBUF / SO_SNDBUF in bytes. Default 4 MiB (capped by net.core.rmem_max / wmem_max). */
  bufferBytes?: number;
  /** Refused sends and read failures. Default: sends counted only; read failures rethrown asynchronously. */
  onError?: (err: Error) => void;
  /** UDP GSO for runs of same-size datagrams (see the top of this file). Default: on unless TSIPSEC_UDP_GSO=0. */
  gso?: boolean;
  /**
   * Queued sends leave by a microtask after the current handler ('microtask', default) or only by
   * `flush()` and a full queue ('manual': a thread that never yields to its event loop).
   */
  flushMode?: 'microtask' | 'manual';
}



export class LinuxUdpTransport implements UdpTransport {
  private socks: Sock[] = [];
  private handler: DatagramHandler | undefined;
  private readonly counters: UdpStats = emptyUdpStats();
  private readonly bufferBytes: number;
  private readonly onError: ((err: Error) => void) | undefined;
  private readonly sys: Sys;
  private tx: Ring | undefined;
  private rx: Ring | undefined;
  private txCount = 0;
  private txSock: Sock | undefined;
  private gso: boolean;
  /** The last slot: bytes queued in it, its segment size, its segment count, and whether a shorter segment closed it. */
  private slotBytes = 0;
  private slotSeg = 0;
  private slotSegs = 0;
  private slotClosed = false;
  /** UDP GSO: slots sent with several segments, and the segments in them. */
  readonly gsoStats = { slots: 0, segments: 0 };
  private flushQueued = false;
  private closed = false;
  /** Last destination encoded into a sockaddr (the ESP path sends to one peer). */
  private lastAddr = '';
  private lastPort = -1;
  private readonly lastName = new Uint8Array(SOCKADDR_SIZE);
  private lastNameLen = 0;
  /** Last sender seen by the receive path, so a burst from one peer formats its address once. */
  private readonly rxName = new Uint8Array(SOCKADDR_SIZE);
  private rxNameText = '';
  private rxPortNum = 0;

  constructor(opts: LinuxUdpOptions = {}) {
    this.bufferBytes = opts.bufferBytes ?? 4 * 1024 * 1024;
    this.onError = opts.onError;
    this.gso = opts.gso ?? process.env.TSIPSEC_UDP_GSO !== '0';
    this.manualFlush = opts.flushMode === 'manual';
    this.sys = bindSys();
  }

  private readonly manualFlush: boolean;
  /** False for sockets taken over with `adopt` (their owner closes them). */
  private ownsFds = true;

  /** UDP GSO/GRO in use (the same setting must be given to a transport that adopts these sockets). */
  get gsoEnabled(): boolean {
    return this.gso;
  }

  /**
   * Stops receiving on the sockets bound to `port` here and returns them, for a reader in another thread
   * (runtime/dataplane-thread.ts) that polls them itself. Sending on them from here still works.
   */
  detachReceive(port: number): SharedUdpSocket[] {
    const out: SharedUdpSocket[] = [];
    for (const s of this.socks) {
      if (s.info.port !== port) continue;
      s.poll?.close();
      s.poll = undefined;
      out.push({ fd: s.fd, info: { ...s.info } });
    }
    return out;
  }

  /** Receives again on sockets given away with `detachReceive` (the other thread did not take them). */
  resumeReceive(): void {
    if (this.closed) return;
    for (const s of this.socks) if (s.poll === undefined && this.ownsFds) s.poll = koffi.node.poll(s.fd, { readable: true }, () => this.onReadable(s));
  }

  /**
   * Uses sockets opened by another transport (in another thread) instead of binding: nothing polls them
   * (the owner calls `drainSocket`) and `close()` leaves them open.
   */
  adopt(sockets: readonly SharedUdpSocket[]): void {
    if (this.socks.length > 0) throw new Error('LinuxUdpTransport.adopt: already bound');
    if (this.closed) throw new Error('LinuxUdpTransport.adopt: closed');
    this.tx = new Ring(BATCH);
    this.rx = new Ring(BATCH);
    this.ownsFds = false;
    this.socks = sockets.map((x) => ({ fd: x.fd, info: { ...x.info }, poll: undefined }));
  }

  /** Reads what is queued on socket `index` (of `boundSockets()`) and calls the handler per datagram. */
  drainSocket(index: number): void {
    const s = this.socks[index];
    if (s !== undefined) this.onReadable(s);
  }

  /** Hands `d` to the receive handler as if it had arrived here (datagrams another thread read). */
  inject(d: Datagram): void {
    if (this.closed || this.handler === undefined) return;
    this.counters.rxDatagrams++;
    this.counters.rxBytes += d.data.length;
    this.handler(d);
  }

  offloadCounters(): UdpOffloadCounters {
    return { udpGsoSends: this.gsoStats.slots, udpGsoSegments: this.gsoStats.segments, udpGroReceives: this.groStats.buffers, udpGroSegments: this.groStats.segments };
  }

  async bind(opts: UdpBindOptions = {}): Promise<void> {
    if (this.socks.length > 0) throw new Error('LinuxUdpTransport.bind: already bound');
    if (this.closed) throw new Error('LinuxUdpTransport.bind: closed');
    const addresses = opts.addresses ?? ['0.0.0.0', '::'];
    const ports = opts.ports ?? [500, 4500];
    for (const p of ports) {
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`UdpBindOptions.ports: ${p} is not a port number`);
    }
    const opened: Sock[] = [];
    try {
      for (const address of addresses) for (const port of ports) opened.push(this.open(address, port));
    } catch (err) {
      for (const s of opened) this.sys.close(s.fd);
      throw err;
    }
    this.tx = new Ring(BATCH);
    this.rx = new Ring(BATCH);
    this.socks = opened;
    for (const s of opened) s.poll = koffi.node.poll(s.fd, { readable: true }, () => this.onReadable(s));
  }

  send(d: Datagram): void {
    const sock = this.pick(d);
    if (sock === undefined) {
      this.counters.txErrors++;
      this.onError?.(new Error(`LinuxUdpTransport.send: no IPv${addressFamily(d.remoteAddress)} socket bound on ${d.localAddress ?? '*'}:${d.localPort}`));
      return;
    }
    const len = d.data.length;
    if (len > SLOT_BYTES) {
      this.counters.txErrors++;
      this.onError?.(new Error(`LinuxUdpTransport.send: ${len}-byte datagram is larger than UDP allows`));
      return;
    }
    let sameDest = true;
    if (d.remoteAddress !== this.lastAddr || d.remotePort !== this.lastPort) {
      sameDest = false;
      const n = encodeSockaddr(d.remoteAddress, d.remotePort, this.lastName);
      if (n === 0) {
        this.counters.txErrors++;
        this.onError?.(new Error(`LinuxUdpTransport.send: not an IP address: ${d.remoteAddress}`));
        return;
      }
      this.lastNameLen = n;
      this.lastAddr = d.remoteAddress;
      this.lastPort = d.remotePort;
    }
    if (this.txSock !== sock && this.txCount > 0) this.flush();
    const tx = this.tx!;
    this.counters.txDatagrams++;
    this.counters.txBytes += len;
    if (this.gso && sameDest && this.txCount > 0 && !this.slotClosed && len <= this.slotSeg && len > 0
      && this.slotSegs < GSO_MAX_SEGMENTS && this.slotBytes + len <= GSO_MAX_BYTES) {
      // Another segment of the last slot (the same peer, no longer than the segments before it).
      const i = this.txCount - 1;
      tx.bytes.set(d.data, tx.data(i) + this.slotBytes);
      this.slotBytes += len;
      this.slotSegs++;
      this.segs[i] = this.slotSegs;
      if (len < this.slotSeg) this.slotClosed = true;
      tx.setLength(i, this.slotBytes);
      return;
    }
    const i = this.txCount++;
    this.txSock = sock;
    tx.bytes.set(d.data, tx.data(i));
    tx.setLength(i, len);
    tx.bytes.set(this.lastName, tx.nameOff + i * SOCKADDR_SIZE);
    tx.dv.setUint32(i * MMSG_SIZE + MH_NAMELEN, this.lastNameLen, true);
    this.slotBytes = len;
    this.slotSeg = len;
    this.slotSegs = 1;
    this.slotClosed = false;
    if (this.gso) {
      this.segs[i] = 1;
      this.segLen[i] = len;
    }
    if (this.txCount === BATCH) this.flush();
    else if (!this.flushQueued && !this.manualFlush) {
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
  }

  /** Sends everything queued now (also done by a microtask after the current handler returns). */
  flush(): void {
    const n = this.txCount;
    const sock = this.txSock;
    if (n === 0 || sock === undefined || this.tx === undefined) return;
    const tx = this.tx;
    if (this.gso) {
      // A UDP_SEGMENT cmsg on every slot holding more than one datagram.
      for (let i = 0; i < n; i++) {
        const multi = this.segs[i]! > 1;
        const c = tx.ctrlOff + i * CMSG_SPACE_U16;
        if (multi) {
          tx.dv.setUint16(c + 16, this.segSize(i), true);
          this.gsoStats.slots++;
          this.gsoStats.segments += this.segs[i]!;
        }
        tx.dv.setBigUint64(i * MMSG_SIZE + MH_CONTROLLEN, multi ? BigInt(CMSG_SPACE_U16) : 0n, true);
      }
    }
    let done = 0;
    while (done < n) {
      const vec = done === 0 ? tx.bytes : tx.bytes.subarray(done * MMSG_SIZE);
      const r = this.sys.sendmmsg(sock.fd, vec, n - done, MSG_DONTWAIT);
      if (r > 0) {
        done += r;
        continue;
      }
      const e = this.sys.errno();
      if (r < 0 && e === EINTR) continue;
      if (this.gso && (e === EINVAL || e === EIO) && this.segs[done]! > 1) {
        // The kernel or device refuses UDP GSO: stop using it (this slot's segments are lost, counted).
        this.gso = false;
        this.counters.txErrors += this.segs[done]! - 1;
        this.onError?.(new Error(`LinuxUdpTransport: UDP GSO refused (errno ${e}); sending one datagram per slot from now on`));
      }
      // The datagram at `done` was refused (a full send buffer, an unreachable peer): count it, go on.
      this.counters.txErrors++;
      this.onError?.(new Error(`LinuxUdpTransport.send: sendmmsg to ${this.describe(done)} failed: errno ${e}${e === EAGAIN ? ' (send buffer full)' : ''}`));
      done++;
    }
    this.txCount = 0;
  }

  /** Segments per queued slot (GSO). */
  private readonly segs = new Uint8Array(BATCH);
  /** Segment size per queued slot (its first datagram's length). */
  private readonly segLen = new Uint16Array(BATCH);
  private segSize(i: number): number {
    return this.segLen[i]!;
  }

  private readonly flushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  boundSockets(): readonly BoundSocket[] {
    return this.socks.map((s) => ({ ...s.info }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    for (const s of this.socks) {
      s.poll?.close();
      if (this.ownsFds) this.sys.close(s.fd);
    }
    this.socks = [];
    this.tx?.free();
    this.rx?.free();
    this.tx = undefined;
    this.rx = undefined;
  }

  stats(): UdpStats {
    return { ...this.counters };
  }

  private pick(d: Datagram): Sock | undefined {
    const family = addressFamily(d.remoteAddress);
    const last = this.txSock;
    if (last !== undefined && last.info.port === d.localPort && last.info.family === family && (d.localAddress === undefined || last.info.address === d.localAddress)) return last;
    for (const s of this.socks) {
      if (s.info.port !== d.localPort || s.info.family !== family) continue;
      if (d.localAddress !== undefined && s.info.address !== d.localAddress) continue;
      return s;
    }
    return undefined;
  }

  private describe(i: number): string {
    const tx = this.tx!;
    const a = decodeSockaddr(tx.bytes.subarray(tx.nameOff + i * SOCKADDR_SIZE, tx.nameOff + (i + 1) * SOCKADDR_SIZE));
    return a ? `${a.address}:${a.port}` : '?';
  }

  private open(address: string, requestedPort: number): Sock {
    const family = addressFamily(address);
    const name = new Uint8Array(SOCKADDR_SIZE);
    const nameLen = encodeSockaddr(address, requestedPort, name);
    if (nameLen === 0) throw new Error(`LinuxUdpTransport.bind: not an IP address: ${JSON.stringify(address)}`);
    const where = `${family === 6 ? `[${address}]` : address}:${requestedPort}`;
    const fd = this.sys.socket(family === 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new Error(`LinuxUdpTransport.bind: cannot bind ${where}: socket() errno ${this.sys.errno()}`);
    const int = new Uint8Array(4);
    const dv = new DataView(int.buffer);
    if (family === 6) {
      dv.setInt32(0, 1, true);
      this.sys.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, int, 4);
    }
    if (this.sys.bind(fd, name, nameLen) !== 0) {
      const e = this.sys.errno();
      this.sys.close(fd);
      throw new Error(`LinuxUdpTransport.bind: cannot bind ${where}: errno ${e}${e === 98 ? ' (EADDRINUSE)' : e === 99 ? ' (EADDRNOTAVAIL)' : ''}`);
    }
    dv.setInt32(0, this.bufferBytes, true);
    this.sys.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, int, 4);
    this.sys.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, int, 4);
    if (this.gso) {
      dv.setInt32(0, 1, true);
      this.sys.setsockopt(fd, SOL_UDP, UDP_GRO, int, 4);
    }
    const got = new Uint8Array(SOCKADDR_SIZE);
    const gotLen = new Uint8Array(4);
    new DataView(gotLen.buffer).setUint32(0, SOCKADDR_SIZE, true);
    let port = requestedPort;
    if (this.sys.getsockname(fd, got, gotLen) === 0) port = (got[2]! << 8) | got[3]!;
    return { fd, info: { address, port, family, requestedPort }, poll: undefined };
  }

  private onReadable(s: Sock): void {
    const rx = this.rx;
    if (this.closed || rx === undefined) return;
    let total = 0;
    while (total < MAX_READ_PER_WAKE) {
      for (let i = 0; i < BATCH; i++) {
        rx.dv.setUint32(i * MMSG_SIZE + MH_NAMELEN, SOCKADDR_SIZE, true);
        rx.dv.setUint32(i * MMSG_SIZE + MH_FLAGS, 0, true);
        if (this.gso) rx.dv.setBigUint64(i * MMSG_SIZE + MH_CONTROLLEN, BigInt(CMSG_SPACE_U16), true);
      }
      const n = this.sys.recvmmsg(s.fd, rx.bytes, BATCH, MSG_DONTWAIT);
      if (n <= 0) {
        const e = this.sys.errno();
        if (n < 0 && e === EINTR) continue;
        if (n < 0 && e !== EAGAIN) this.readError(new Error(`LinuxUdpTransport: recvmmsg on ${s.info.address}:${s.info.port} failed: errno ${e}`));
        break;
      }
      total += n;
      for (let i = 0; i < n && !this.closed; i++) this.deliver(s, rx, i);
      if (n < BATCH) break;
    }
  }

  private deliver(s: Sock, rx: Ring, i: number): void {
    const m = i * MMSG_SIZE;
    const len = rx.dv.getUint32(m + MMSG_LEN, true);
    if (rx.dv.getInt32(m + MH_FLAGS, true) & MSG_TRUNC) {
      this.counters.rxDatagrams++;
      this.readError(new Error(`LinuxUdpTransport: truncated datagram on ${s.info.address}:${s.info.port}`));
      return;
    }
    const h = this.handler;
    // UDP_GRO: one buffer holding several datagrams of `seg` bytes (the last may be shorter).
    let seg = len;
    if (this.gso && rx.dv.getUint32(m + MH_CONTROLLEN, true) >= CMSG_LEN_U16) {
      const c = rx.ctrlOff + i * CMSG_SPACE_U16;
      if (rx.dv.getInt32(c + 8, true) === SOL_UDP && rx.dv.getInt32(c + 12, true) === UDP_GRO) {
        const g = rx.dv.getUint16(c + 16, true);
        if (g > 0 && g < len) seg = g;
      }
    }
    if (seg === len) {
      this.counters.rxDatagrams++;
      this.counters.rxBytes += len;
      if (h !== undefined) this.deliverOne(s, rx, i, h, rx.data(i), len);
      return;
    }
    this.groStats.buffers++;
    for (let at = 0; at < len && !this.closed; at += seg) {
      const n = Math.min(seg, len - at);
      this.counters.rxDatagrams++;
      this.counters.rxBytes += n;
      this.groStats.segments++;
      if (h !== undefined) this.deliverOne(s, rx, i, h, rx.data(i) + at, n);
    }
  }

  /** UDP_GRO: buffers that held several datagrams, and those datagrams. */
  readonly groStats = { buffers: 0, segments: 0 };

  private deliverOne(s: Sock, rx: Ring, i: number, h: DatagramHandler, off: number, len: number): void {
    const m = i * MMSG_SIZE;
    const b = rx.bytes;
    const isEsp = s.info.port === NAT_T_PORT && len > 8 && (b[off]! | b[off + 1]! | b[off + 2]! | b[off + 3]!) !== 0;
    const data = isEsp ? b.subarray(off, off + len) : b.slice(off, off + len);
    // Sender address: reuse the text of the previous sender when the sockaddr bytes are the same.
    const nameAt = rx.nameOff + i * SOCKADDR_SIZE;
    const nameLen = rx.dv.getUint32(m + MH_NAMELEN, true);
    if (!sameBytes(b, nameAt, this.rxName, nameLen) || this.rxNameText === '') {
      const a = decodeSockaddr(b.subarray(nameAt, nameAt + nameLen));
      if (a === undefined) return;
      this.rxName.fill(0);
      this.rxName.set(b.subarray(nameAt, nameAt + nameLen));
      this.rxNameText = a.address;
      this.rxPortNum = a.port;
    }
    try {
      h({ data, remoteAddress: this.rxNameText, remotePort: this.rxPortNum, localAddress: s.info.address, localPort: s.info.port });
    } catch (err) {
      this.readError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private readError(err: Error): void {
    if (this.onError) this.onError(err);
    else
      queueMicrotask(() => {
        throw err;
      });
  }
}

function sameBytes(b: Uint8Array, at: number, ref: Uint8Array, len: number): boolean {
  if (len > ref.length) return false;
  for (let k = 0; k < len; k++) if (b[at + k] !== ref[k]) return false;
  return true;
}

/** Writes struct sockaddr_in / sockaddr_in6 for an IP literal and port into `out`; returns its length, 0 if not an IP literal. */
export function encodeSockaddr(address: string, port: number, out: Uint8Array): number {
  const ip = parseIp(address);
  if (ip === undefined) return 0;
  out.fill(0);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint16(2, port, false);
  if (ip.length === 4) {
    dv.setUint16(0, AF_INET, true);
    out.set(ip, 4);
    return 16;
  }
  dv.setUint16(0, AF_INET6, true);
  out.set(ip, 8);
  return 28;
}

/** Address and port of a struct sockaddr_in / sockaddr_in6 (undefined for another family). */
export function decodeSockaddr(b: Uint8Array): { address: string; port: number } | undefined {
  if (b.length < 16) return undefined;
  const family = b[0]! | (b[1]! << 8);
  const port = (b[2]! << 8) | b[3]!;
  if (family === AF_INET) {
    const a = formatIp(b.subarray(4, 8));
    return a === undefined ? undefined : { address: a, port };
  }
  if (family === AF_INET6 && b.length >= 24) {
    const a = formatIp(b.subarray(8, 24));
    return a === undefined ? undefined : { address: a, port };
  }
  return undefined;
}
