/**
 * MemoryTun: the in-memory TunDevice double (DESIGN.md rule 7) for tests and the in-memory end-to-end
 * runs. `inject` plays the OS sending a packet into the tunnel; everything the stack writes lands in
 * `written` and is passed to `onWrite`.
 */
import { emptyTunStats, type TunDevice, type TunPacketHandler, type TunStats } from './types.js';

export interface MemoryTunOptions {
  name?: string;
  mtu?: number;
  headroom?: number;
  tailroom?: number;
  /** Deliver injected packets synchronously (default) or only on `flush()`, as one batch. */
  batch?: boolean;
  /** Refuse written packets longer than the MTU, as the kernel would for an oversized write. Default false. */
  enforceMtu?: boolean;
}

export class MemoryTun implements TunDevice {
  readonly name: string;
  readonly headroom: number;
  readonly tailroom: number;
  /** Every packet the stack wrote, in order (copies). */
  readonly written: Uint8Array[] = [];
  /** Called for each packet written, after it is recorded. */
  onWrite: ((packet: Uint8Array) => void) | undefined;
  private mtuBytes: number;
  private handler: TunPacketHandler | undefined;
  private readonly queue: Uint8Array[] = [];
  private readonly batchMode: boolean;
  private readonly enforceMtu: boolean;
  private closed = false;
  private readonly counters: TunStats = emptyTunStats();

  constructor(opts: MemoryTunOptions = {}) {
    this.name = opts.name ?? 'memtun0';
    this.mtuBytes = opts.mtu ?? 1400;
    this.headroom = opts.headroom ?? 0;
    this.tailroom = opts.tailroom ?? 0;
    this.batchMode = opts.batch ?? false;
    this.enforceMtu = opts.enforceMtu ?? false;
  }

  get mtu(): number {
    return this.mtuBytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onPackets(handler: TunPacketHandler): void {
    this.handler = handler;
  }

  /** As if the OS routed `packet` into the tunnel. The device copies it (with head/tailroom). */
  inject(packet: Uint8Array): void {
    const copy = this.copyWithRoom(packet);
    if (this.batchMode) {
      this.queue.push(copy);
      return;
    }
    this.deliver([copy]);
  }

  /** Injects several packets delivered as one batch. */
  injectBatch(packets: readonly Uint8Array[]): void {
    this.deliver(packets.map((p) => this.copyWithRoom(p)));
  }

  /** In batch mode: delivers everything injected so far as one batch. Returns how many. */
  flush(): number {
    const batch = this.queue.splice(0, this.queue.length);
    if (batch.length > 0) this.deliver(batch);
    return batch.length;
  }

  write(packet: Uint8Array): boolean {
    if (this.closed || packet.length === 0 || (this.enforceMtu && packet.length > this.mtuBytes)) {
      this.counters.txDrops++;
      return false;
    }
    const copy = packet.slice();
    this.written.push(copy);
    this.counters.txPackets++;
    this.counters.txBytes += copy.length;
    this.onWrite?.(copy);
    return true;
  }

  writeBatch(packets: readonly Uint8Array[]): number {
    let ok = 0;
    for (const p of packets) if (this.write(p)) ok++;
    return ok;
  }

  async setMtu(mtu: number): Promise<void> {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new Error(`MemoryTun.setMtu: mtu must be an integer in 68..65535, got ${mtu}`);
    this.mtuBytes = mtu;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
  }

  stats(): TunStats {
    return { ...this.counters };
  }

  private deliver(batch: Uint8Array[]): void {
    if (this.closed || this.handler === undefined) {
      this.counters.rxDrops += batch.length;
      return;
    }
    this.counters.rxBatches++;
    this.counters.rxPackets += batch.length;
    for (const p of batch) this.counters.rxBytes += p.length;
    this.handler(batch);
  }

  private copyWithRoom(packet: Uint8Array): Uint8Array {
    const buf = new Uint8Array(this.headroom + packet.length + this.tailroom);
    buf.set(packet, this.headroom);
    return buf.subarray(this.headroom, this.headroom + packet.length);
  }
}
