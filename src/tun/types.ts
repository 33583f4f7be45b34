/**
 * The TUN device behind one interface (DESIGN.md rule 7): the Linux adapter (`linux.ts`, koffi) and
 * the in-memory double (`memory.ts`) both implement it, so nothing else depends on how packets are read.
 *
 * Packets are whole IPv4/IPv6 packets without a packet-information header (IFF_NO_PI). Reads arrive in
 * batches (one handler call per drained burst), so the runtime can seal a burst and flush once.
 */

export interface TunStats {
  /** Packets delivered to the handler. */
  rxPackets: number;
  rxBytes: number;
  /** Handler calls (rxPackets / rxBatches = mean batch size). */
  rxBatches: number;
  /** Packets read from the OS (or injected) but not delivered: no handler yet, or the device is closing. */
  rxDrops: number;
  /** Packets the OS accepted from `write`. */
  txPackets: number;
  txBytes: number;
  /** Writes refused: queue full (EAGAIN), device down, malformed packet, or closed. */
  txDrops: number;
}

/** Receives a burst of packets. The arrays and the packets are the receiver's to keep. */
export type TunPacketHandler = (packets: readonly Uint8Array[]) => void;

export interface TunDevice {
  /** Interface name as the OS knows it (e.g. `tsipsec0`). */
  readonly name: string;
  /** Current MTU in bytes. */
  readonly mtu: number;
  /**
   * Bytes guaranteed free in each delivered packet's ArrayBuffer before `byteOffset` and after its end,
   * so ESP can seal in place (ESP header + IV in front, pad + ICV behind: DESIGN.md rule 5) through
   * `new Uint8Array(p.buffer, p.byteOffset - headroom, headroom + p.length + tailroom)`.
   */
  readonly headroom: number;
  readonly tailroom: number;
  /** Sets the one packet handler (replacing any earlier one); reading starts on the first call. */
  onPackets(handler: TunPacketHandler): void;
  /** Hands one packet to the OS. Never throws on a refused packet: returns false and counts a drop. */
  write(packet: Uint8Array): boolean;
  /** Writes several packets; returns how many were accepted. */
  writeBatch(packets: readonly Uint8Array[]): number;
  /** Changes the interface MTU (e.g. from the negotiated ESP overhead). */
  setMtu(mtu: number): Promise<void>;
  /** Stops reading and releases the device; a non-persistent Linux TUN disappears. Idempotent. */
  close(): Promise<void>;
  stats(): TunStats;
  /** Offload counters, for devices with offloads (the Linux TUN with IFF_VNET_HDR). */
  offloadCounters?(): TunOffloadCounters;
}

/** Offload counters of a TUN device (status `offload`, metrics `tsipsec_offload`). */
export interface TunOffloadCounters {
  /** TCP super-packets read (IFF_VNET_HDR GSO) and the segments they were cut into. */
  tunSuperPackets: number;
  tunSegments: number;
  /** Offload reads that could not be cut or checksummed (dropped). */
  tunMalformed: number;
  /** Merged TCP writes (GRO on the TUN write side) and the segments they carried. */
  tunGroWrites: number;
  tunGroSegments: number;
}


export function emptyTunStats(): TunStats {
  return { rxPackets: 0, rxBytes: 0, rxBatches: 0, rxDrops: 0, txPackets: 0, txBytes: 0, txDrops: 0 };
}
