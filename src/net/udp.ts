/**
 * UdpTransport over node:dgram: one socket per (local address, port), by default 0.0.0.0 and :: on 500
 * (IKE, RFC 7296 §2) and 4500 (NAT-T / ESP-in-UDP, RFC 3948). IPv6 sockets are ipv6Only so both
 * families can own the same port; reuseAddr is off so a second daemon fails loudly instead of sharing
 * the port. Receive/send buffers are raised (the kernel caps them at net.core.rmem_max / wmem_max) so a
 * burst of ESP is not dropped while the event loop is busy sealing.
 */
import dgram from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import {
  addressFamily, emptyUdpStats, type BoundSocket, type Datagram, type DatagramHandler, type UdpBindOptions,
  type UdpStats, type UdpTransport,
} from './types.js';

export interface NodeUdpOptions {
  /** Requested SO_RCVBUF / SO_SNDBUF in bytes. Default 4 MiB. */
  bufferBytes?: number;
  /** Socket errors and refused sends. Default: ignored after counting (sends) / rethrown asynchronously (socket errors). */
  onError?: (err: Error) => void;
}

interface Entry {
  socket: dgram.Socket;
  info: BoundSocket;
}

export class NodeUdpTransport implements UdpTransport {
  private entries: Entry[] = [];
  private handler: DatagramHandler | undefined;
  private readonly counters: UdpStats = emptyUdpStats();
  private readonly bufferBytes: number;
  private readonly onError: ((err: Error) => void) | undefined;

  constructor(opts: NodeUdpOptions = {}) {
    this.bufferBytes = opts.bufferBytes ?? 4 * 1024 * 1024;
    this.onError = opts.onError;
  }

  async bind(opts: UdpBindOptions = {}): Promise<void> {
    if (this.entries.length > 0) throw new Error('NodeUdpTransport.bind: already bound');
    const addresses = opts.addresses ?? ['0.0.0.0', '::'];
    const ports = opts.ports ?? [500, 4500];
    for (const p of ports) {
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`UdpBindOptions.ports: ${p} is not a port number`);
    }
    const opened: Entry[] = [];
    try {
      for (const address of addresses) {
        for (const port of ports) opened.push(await this.open(address, port));
      }
    } catch (err) {
      await Promise.all(opened.map((e) => closeSocket(e.socket)));
      throw err;
    }
    this.entries = opened;
  }

  send(d: Datagram): void {
    const family = addressFamily(d.remoteAddress);
    let entry: Entry | undefined;
    for (const e of this.entries) {
      if (e.info.port !== d.localPort || e.info.family !== family) continue;
      if (d.localAddress !== undefined && e.info.address !== d.localAddress) continue;
      entry = e;
      break;
    }
    if (entry === undefined) {
      this.counters.txErrors++;
      this.onError?.(new Error(`NodeUdpTransport.send: no IPv${family} socket bound on ${d.localAddress ?? '*'}:${d.localPort}`));
      return;
    }
    // Counted when handed to the socket; refusals come back through one shared callback (no per-packet closure).
    this.counters.txDatagrams++;
    this.counters.txBytes += d.data.length;
    entry.socket.send(d.data, d.remotePort, d.remoteAddress, this.onSent);
  }

  private readonly onSent = (err: Error | null): void => {
    if (!err) return;
    this.counters.txErrors++;
    this.onError?.(err);
  };

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  boundSockets(): readonly BoundSocket[] {
    return this.entries.map((e) => ({ ...e.info }));
  }

  async close(): Promise<void> {
    const entries = this.entries;
    this.entries = [];
    await Promise.all(entries.map((e) => closeSocket(e.socket)));
  }

  stats(): UdpStats {
    return { ...this.counters };
  }

  private open(address: string, requestedPort: number): Promise<Entry> {
    const family = addressFamily(address);
    // Every send names an IP literal: resolve it synchronously instead of dns.lookup's process.nextTick
    // round per datagram (dgram looks up the address of every send on an unconnected socket).
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: false, ipv6Only: family === 6, lookup: literalLookup });
    return new Promise<Entry>((resolve, reject) => {
      const onBindError = (err: Error): void => {
        socket.close();
        reject(new Error(`NodeUdpTransport.bind: cannot bind ${family === 6 ? `[${address}]` : address}:${requestedPort}: ${err.message}`));
      };
      socket.once('error', onBindError);
      socket.bind({ address, port: requestedPort, exclusive: true }, () => {
        socket.off('error', onBindError);
        try {
          socket.setRecvBufferSize(this.bufferBytes);
          socket.setSendBufferSize(this.bufferBytes);
        } catch {
          // Capped or refused by the kernel: the defaults still work, only bursts suffer.
        }
        const port = socket.address().port;
        const info: BoundSocket = { address, port, family, requestedPort };
        socket.on('error', (err) => this.socketError(err));
        socket.on('message', (msg, rinfo) => {
          this.counters.rxDatagrams++;
          this.counters.rxBytes += msg.length;
          const h = this.handler;
          if (h === undefined) return;
          h({ data: msg, remoteAddress: rinfo.address, remotePort: rinfo.port, localAddress: address, localPort: port });
        });
        resolve({ socket, info });
      });
    });
  }

  private socketError(err: Error): void {
    if (this.onError) this.onError(err);
    else
      queueMicrotask(() => {
        throw err;
      });
  }
}

/** dgram's `lookup` (Node 20 passes the family number as `options`, which dns.lookup also accepts) for IP literals: answers synchronously; anything else goes to dns.lookup. */
function literalLookup(hostname: string, options: LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const f = isIP(hostname);
  if (f !== 0) {
    callback(null, hostname, f);
    return;
  }
  dnsLookup(hostname, options, callback);
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
