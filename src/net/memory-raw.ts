/**
 * MemoryRawEspNetwork: the in-memory double of the raw ESP transport (DESIGN.md rule 7). Hosts own IP
 * addresses; `send` queues a packet for the host owning the destination address, and `deliver()` hands
 * everything queued to the receivers, one batch per receiving host (as one poll wake-up would). No loss
 * or delay model: the UDP double (memory.ts) has that; raw ESP tests need the path, not the weather.
 * `captured` records every packet sent, with where it went.
 */
import {
  addressFamily, emptyRawEspStats, type RawEspHandler, type RawEspOpenOptions, type RawEspPacket, type RawEspStats,
  type RawEspTransport,
} from './types.js';

export interface CapturedRawEsp {
  fromAddress: string;
  toAddress: string;
  /** A copy of the ESP packet (SPI first). */
  data: Uint8Array;
  /** 'queued' until delivered; 'no-route' when no open host owns the destination. */
  fate: 'queued' | 'delivered' | 'no-route' | 'unheard';
}

interface Queued {
  to: MemoryRawEspHost;
  entry: CapturedRawEsp;
  localAddress: string;
}

export class MemoryRawEspNetwork {
  readonly captured: CapturedRawEsp[] = [];
  private readonly owners = new Map<string, MemoryRawEspHost>();
  private queue: Queued[] = [];

  /** A RawEspTransport owning `addresses`. */
  host(addresses: string | readonly string[]): MemoryRawEspHost {
    const list = typeof addresses === 'string' ? [addresses] : [...addresses];
    if (list.length === 0) throw new Error('MemoryRawEspNetwork.host: at least one address is required');
    for (const a of list) if (this.owners.has(a)) throw new Error(`MemoryRawEspNetwork.host: address ${a} is already owned`);
    const h = new MemoryRawEspHost(this, list);
    for (const a of list) this.owners.set(a, h);
    return h;
  }

  /** Packets sent and not yet delivered. */
  pending(): number {
    return this.queue.length;
  }

  /** Delivers everything queued (and what receivers send meanwhile, up to a bound). Returns the packets handed over. */
  deliver(): number {
    let n = 0;
    for (let round = 0; this.queue.length > 0; round++) {
      if (round > 10_000) throw new Error('MemoryRawEspNetwork.deliver: hosts keep answering');
      const q = this.queue;
      this.queue = [];
      const byHost = new Map<MemoryRawEspHost, RawEspPacket[]>();
      for (const f of q) {
        const pkt: RawEspPacket = { data: f.entry.data.slice(), remoteAddress: f.entry.fromAddress, localAddress: f.localAddress };
        const list = byHost.get(f.to);
        if (list) list.push(pkt);
        else byHost.set(f.to, [pkt]);
        f.entry.fate = f.to.isOpen() ? 'delivered' : 'unheard';
      }
      for (const [h, batch] of byHost) n += h.receive(batch);
    }
    return n;
  }

  /** @internal called by MemoryRawEspHost. */
  transmit(fromAddress: string, toAddress: string, data: Uint8Array): void {
    const entry: CapturedRawEsp = { fromAddress, toAddress, data: data.slice(), fate: 'queued' };
    this.captured.push(entry);
    const to = this.owners.get(toAddress);
    if (to === undefined || !to.isOpen()) {
      entry.fate = 'no-route';
      return;
    }
    this.queue.push({ to, entry, localAddress: to.localAddressFor(toAddress) });
  }
}

/** One host on a MemoryRawEspNetwork, as a RawEspTransport. */
export class MemoryRawEspHost implements RawEspTransport {
  readonly addresses: readonly string[];
  private opened: string[] | undefined;
  private handler: RawEspHandler | undefined;
  private readonly counters: RawEspStats = emptyRawEspStats();

  constructor(private readonly net: MemoryRawEspNetwork, addresses: readonly string[]) {
    this.addresses = addresses;
  }

  /** Opens "sockets" on the given addresses (default: the wildcards, i.e. all of this host's addresses). */
  async open(opts: RawEspOpenOptions = {}): Promise<void> {
    if (this.opened) throw new Error('MemoryRawEspHost.open: already open');
    const list = [...(opts.addresses ?? ['0.0.0.0', '::'])];
    for (const a of list) {
      if (a !== '0.0.0.0' && a !== '::' && !this.addresses.includes(a)) throw new Error(`RawEspOpenOptions.addresses: ${a} is not an address of this host`);
    }
    this.opened = list;
  }

  isOpen(): boolean {
    return this.opened !== undefined;
  }

  /** @internal The opened address a packet to `address` arrives on (specific before wildcard). */
  localAddressFor(address: string): string {
    const o = this.opened ?? [];
    if (o.includes(address)) return address;
    return addressFamily(address) === 6 ? '::' : '0.0.0.0';
  }

  send(data: Uint8Array, remoteAddress: string, localAddress?: string): void {
    const family = addressFamily(remoteAddress);
    const o = this.opened;
    let from: string | undefined;
    // As LinuxRawEspTransport picks: the socket on `localAddress`, else a wildcard one of the family, else
    // (no local address asked for) any socket of the family.
    if (o) {
      if (localAddress !== undefined && o.includes(localAddress) && addressFamily(localAddress) === family) from = localAddress;
      else if (o.includes(family === 6 ? '::' : '0.0.0.0')) from = localAddress !== undefined && this.addresses.includes(localAddress) ? localAddress : this.addresses.find((a) => addressFamily(a) === family);
      else if (localAddress === undefined) from = o.find((a) => addressFamily(a) === family);
    }
    if (from === undefined) {
      this.counters.txErrors++;
      return;
    }
    this.counters.txPackets++;
    this.counters.txBytes += data.length;
    this.net.transmit(from, remoteAddress, data);
  }

  onPackets(handler: RawEspHandler): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.opened = undefined;
  }

  stats(): RawEspStats {
    return { ...this.counters };
  }

  /** @internal called by MemoryRawEspNetwork. Returns how many packets a handler took. */
  receive(batch: RawEspPacket[]): number {
    if (!this.opened || this.handler === undefined) return 0;
    this.counters.rxPackets += batch.length;
    this.counters.rxBatches++;
    for (const p of batch) this.counters.rxBytes += p.data.length;
    this.handler(batch);
    return batch.length;
  }
}
