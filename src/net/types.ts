/**
 * UDP transport for IKE (port 500) and NAT-T / ESP-in-UDP (port 4500, RFC 3948), IPv4 and IPv6, behind
 * one interface (DESIGN.md rule 7): `udp.ts` (node:dgram) and `memory.ts` (MemoryNetwork) implement it.
 *
 * Each datagram carries the local port it arrived on / leaves from, because the port decides the
 * framing: on 4500 IKE follows a 4-byte zero non-ESP marker and a non-zero first word is an ESP SPI.
 */

export interface Datagram {
  data: Uint8Array;
  /** Peer address in canonical text form (IPv4 dotted quad, IPv6 RFC 5952). */
  remoteAddress: string;
  remotePort: number;
  /**
   * Local address: on receive, the address the socket is bound to (the wildcard `0.0.0.0`/`::` when bound
   * to all; node:dgram cannot report the packet's destination address); on send, selects the socket
   * bound to that address when several are bound (optional).
   */
  localAddress?: string;
  /** Local port the datagram arrived on, or must leave from. */
  localPort: number;
}

export interface UdpBindOptions {
  /** Local addresses to bind, one socket per address and port. Default `['0.0.0.0', '::']`. */
  addresses?: readonly string[];
  /** Local ports. Default `[500, 4500]`. 0 picks a free port (see `boundSockets()`). */
  ports?: readonly number[];
}

export interface BoundSocket {
  address: string;
  port: number;
  family: 4 | 6;
  /** The port asked for in UdpBindOptions.ports (differs from `port` when 0 was asked). */
  requestedPort: number;
}

export interface UdpStats {
  rxDatagrams: number;
  rxBytes: number;
  /** Datagrams handed to a socket (a later OS refusal also counts in txErrors). */
  txDatagrams: number;
  txBytes: number;
  /** Sends the OS refused (ENOBUFS, EHOSTUNREACH, …) or that had no socket to leave from. */
  txErrors: number;
}

export type DatagramHandler = (d: Datagram) => void;

export interface UdpTransport {
  /** Opens the sockets. Rejects (naming address and port) if any cannot be bound; none stay open then. */
  bind(opts?: UdpBindOptions): Promise<void>;
  /** Sends from the socket bound to `d.localPort` (and `d.localAddress` if given) of the peer's family. Never throws on an OS refusal: counts it. */
  send(d: Datagram): void;
  /** Sets the one receive handler (replacing any earlier one). */
  onDatagram(handler: DatagramHandler): void;
  /** What is bound, with actual ports. */
  boundSockets(): readonly BoundSocket[];
  close(): Promise<void>;
  stats(): UdpStats;
  /** GSO/GRO counters, for transports that batch (linux-udp.ts). */
  offloadCounters?(): UdpOffloadCounters;
}

/** UDP offload counters (status `offload`, metrics `tsipsec_offload`). */
export interface UdpOffloadCounters {
  /** sendmmsg slots sent with UDP_SEGMENT (several datagrams each) and the datagrams in them. */
  udpGsoSends: number;
  udpGsoSegments: number;
  /** Received buffers that held several datagrams (UDP_GRO) and those datagrams. */
  udpGroReceives: number;
  udpGroSegments: number;
}


/** A bound socket handed to another thread (the fd is process-wide): LinuxUdpTransport.detachReceive / adopt. */
export interface SharedUdpSocket {
  readonly fd: number;
  readonly info: BoundSocket;
}

export function emptyUdpStats(): UdpStats {
  return { rxDatagrams: 0, rxBytes: 0, txDatagrams: 0, txBytes: 0, txErrors: 0 };
}

/** 4 or 6 for an IP literal (an IPv6 literal contains ':'). */
export function addressFamily(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

// ---- raw ESP (IP protocol 50, RFC 4303 §2 without RFC 3948 encapsulation) ----------------------------
// `raw-esp.ts` (a raw IP socket through koffi) and `memory-raw.ts` (MemoryRawEspNetwork) implement it.

/** One received ESP packet, IP header removed: `data` starts at the SPI. */
export interface RawEspPacket {
  data: Uint8Array;
  /** Sender's address in canonical text form (IPv4 from the IP header, IPv6 from recvfrom). */
  remoteAddress: string;
  /** The address the receiving socket is bound to (the wildcard `0.0.0.0`/`::` when bound to all). */
  localAddress: string;
}

/** Called once per wake-up with every packet read in it. The packets may be kept (never rewritten). */
export type RawEspHandler = (batch: readonly RawEspPacket[]) => void;

export interface RawEspOpenOptions {
  /** Local addresses to bind, one raw socket per address. Default `['0.0.0.0', '::']`. */
  addresses?: readonly string[];
}

export interface RawEspStats {
  rxPackets: number;
  rxBytes: number;
  /** Wake-ups that delivered at least one packet. */
  rxBatches: number;
  /** Reads that were not an ESP packet: short, not IPv4/ESP, bad header length (counted, never thrown). */
  rxDrops: number;
  /** Packets handed to the kernel. */
  txPackets: number;
  txBytes: number;
  /** Sends the kernel refused (EMSGSIZE, ENOBUFS, EHOSTUNREACH, …) or that had no socket of the peer's family. */
  txErrors: number;
}

export interface RawEspTransport {
  /** Opens the sockets. Rejects (naming the address and errno) if any cannot be opened; none stay open then. */
  open(opts?: RawEspOpenOptions): Promise<void>;
  /**
   * Sends one ESP packet (`data` starts at the SPI; the kernel adds the IP header) to `remoteAddress`
   * from the socket bound to `localAddress` if there is one, else from a wildcard socket of the family.
   * Never throws on an OS refusal: counts it.
   */
  send(data: Uint8Array, remoteAddress: string, localAddress?: string): void;
  /** Sets the one receive handler (replacing any earlier one). */
  onPackets(handler: RawEspHandler): void;
  close(): Promise<void>;
  stats(): RawEspStats;
}

export function emptyRawEspStats(): RawEspStats {
  return { rxPackets: 0, rxBytes: 0, rxBatches: 0, rxDrops: 0, txPackets: 0, txBytes: 0, txErrors: 0 };
}
