/**
 * MemoryNetwork: the in-memory double of UDP (DESIGN.md rule 7 and rule 10: "two-endpoint exchange tests
 * with a simulated clock and a lossy in-memory network"). Endpoints own IP addresses; datagrams travel by
 * address:port through a queue ordered by delivery time, with injectable loss, duplication, reordering,
 * delay and jitter, and optional NAT (endpoint-independent NAPT, RFC 4787 §4.1) for NAT-T tests.
 *
 * Nothing happens by itself: the test's simulated clock decides, and `deliverUntil(now)` delivers what is
 * due (handlers may send more; those are delivered in the same call when already due). Every random
 * choice comes from the injected `random` (use `seededRandom(seed)`), four draws per datagram whatever
 * the conditions, so a seed replays the same run. `captured` logs everything sent, with its fate.
 */
import {
  addressFamily, emptyUdpStats, type BoundSocket, type Datagram, type DatagramHandler, type UdpBindOptions,
  type UdpStats, type UdpTransport,
} from './types.js';

/** Returns a number in [0, 1). */
export type RandomFn = () => number;

/** mulberry32: a tiny deterministic PRNG for reproducible network schedules (not for keys). */
export function seededRandom(seed: number): RandomFn {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LinkConditions {
  /** Probability a datagram is lost. */
  loss: number;
  /** Probability a datagram is delivered twice. */
  duplicate: number;
  /** Probability a datagram is held back by `reorderDelayMs` so later ones overtake it. */
  reorder: number;
  /** One-way delay. */
  delayMs: number;
  /** Extra uniform random delay in [0, jitterMs). */
  jitterMs: number;
  reorderDelayMs: number;
}

export interface MemoryNetworkOptions extends Partial<LinkConditions> {
  /** The simulated clock: its `now()` stamps each send. */
  clock: { now(): number };
  /** Default: seededRandom(1). */
  random?: RandomFn;
}

export type DatagramFate = 'queued' | 'duplicate' | 'lost' | 'filtered' | 'no-route';

export interface CapturedDatagram {
  /** Send order, from 0. */
  seq: number;
  sentAtMs: number;
  /** When it is (or was) due; undefined if it never will be. */
  deliverAtMs: number | undefined;
  /** Addresses as sent (before NAT). */
  fromAddress: string;
  fromPort: number;
  toAddress: string;
  toPort: number;
  data: Uint8Array;
  fate: DatagramFate;
  /** Set when handed to a receiving handler. */
  delivered: boolean;
}

/** Return false to drop a datagram (counted as fate 'filtered'). */
export type DatagramFilter = (d: CapturedDatagram) => boolean;

interface InFlight {
  at: number;
  order: number;
  entry: CapturedDatagram;
  srcAddress: string;
  srcPort: number;
}

interface Nat {
  inside: string;
  publicAddress: string;
  nextPort: number;
  /** "inside:port" → public port, and back. */
  out: Map<string, number>;
  back: Map<number, { address: string; port: number }>;
}

const DEFAULTS: LinkConditions = { loss: 0, duplicate: 0, reorder: 0, delayMs: 0, jitterMs: 0, reorderDelayMs: 10 };

function checkConditions(c: Partial<LinkConditions>): void {
  for (const k of ['loss', 'duplicate', 'reorder'] as const) {
    const v = c[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new Error(`LinkConditions.${k}: must be in [0, 1], got ${v}`);
  }
  for (const k of ['delayMs', 'jitterMs', 'reorderDelayMs'] as const) {
    const v = c[k];
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) throw new Error(`LinkConditions.${k}: must be a finite number >= 0, got ${v}`);
  }
}

export class MemoryNetwork {
  readonly captured: CapturedDatagram[] = [];
  private readonly clock: { now(): number };
  private readonly random: RandomFn;
  private conditions: LinkConditions;
  private readonly perLink = new Map<string, LinkConditions>();
  private filter: DatagramFilter | undefined;
  private readonly queue: InFlight[] = [];
  private order = 0;
  /** "address|port" → receiving endpoint. */
  private readonly bindings = new Map<string, MemoryUdpEndpoint>();
  private readonly owners = new Map<string, MemoryUdpEndpoint>();
  private readonly nats = new Map<string, Nat>();
  private readonly natByPublic = new Map<string, Nat>();

  constructor(opts: MemoryNetworkOptions) {
    checkConditions(opts);
    this.clock = opts.clock;
    this.random = opts.random ?? seededRandom(1);
    this.conditions = { ...DEFAULTS, ...stripUndefined(opts) };
  }

  /** A UdpTransport that owns `addresses` (IPv4 and/or IPv6 literals). */
  endpoint(addresses: string | readonly string[]): MemoryUdpEndpoint {
    const list = typeof addresses === 'string' ? [addresses] : [...addresses];
    if (list.length === 0) throw new Error('MemoryNetwork.endpoint: at least one address is required');
    for (const a of list) if (this.owners.has(a)) throw new Error(`MemoryNetwork.endpoint: address ${a} is already owned`);
    const ep = new MemoryUdpEndpoint(this, list);
    for (const a of list) this.owners.set(a, ep);
    return ep;
  }

  /** Changes the default conditions, or those from `fromAddress` to `toAddress` only (one direction). */
  setConditions(c: Partial<LinkConditions>, fromAddress?: string, toAddress?: string): void {
    checkConditions(c);
    if (fromAddress === undefined || toAddress === undefined) {
      this.conditions = { ...this.conditions, ...stripUndefined(c) };
      return;
    }
    const key = `${fromAddress}>${toAddress}`;
    this.perLink.set(key, { ...(this.perLink.get(key) ?? this.conditions), ...stripUndefined(c) });
  }

  setFilter(filter: DatagramFilter | undefined): void {
    this.filter = filter;
  }

  /**
   * Puts `inside` behind a NAT with public address `publicAddress`: datagrams from inside to anywhere
   * leave from publicAddress:<mapped port> (mapped per inside address:port, from 40000 up); datagrams to
   * a mapped public port are translated back. Unsolicited datagrams to the public address are dropped.
   */
  addNat(inside: string, publicAddress: string): void {
    if (this.nats.has(inside)) throw new Error(`MemoryNetwork.addNat: ${inside} is already behind a NAT`);
    if (this.owners.has(publicAddress)) throw new Error(`MemoryNetwork.addNat: ${publicAddress} is owned by an endpoint`);
    const nat: Nat = { inside, publicAddress, nextPort: 40000, out: new Map(), back: new Map() };
    this.nats.set(inside, nat);
    this.natByPublic.set(publicAddress, nat);
  }

  /** Datagrams queued and not yet delivered. */
  pending(): number {
    return this.queue.length;
  }

  /** When the next queued datagram is due. */
  nextDeliveryAt(): number | undefined {
    return this.queue.length > 0 ? this.queue[0].at : undefined;
  }

  /** Delivers every datagram due at or before `now`, in due order. Returns how many were handed to a handler. */
  deliverUntil(now: number): number {
    let delivered = 0;
    for (let guard = 0; this.queue.length > 0 && this.queue[0].at <= now; guard++) {
      if (guard > 10_000_000) throw new Error('MemoryNetwork.deliverUntil: endpoints keep answering at the same instant');
      const f = this.queue.shift() as InFlight;
      if (this.deliver(f)) delivered++;
    }
    return delivered;
  }

  /** @internal called by MemoryUdpEndpoint. */
  isBound(address: string, port: number): boolean {
    return this.bindings.has(`${address}|${port}`);
  }

  /** @internal */
  register(address: string, port: number, ep: MemoryUdpEndpoint): void {
    this.bindings.set(`${address}|${port}`, ep);
  }

  /** @internal */
  unregister(address: string, port: number): void {
    this.bindings.delete(`${address}|${port}`);
  }

  /** @internal */
  transmit(fromAddress: string, fromPort: number, d: Datagram): void {
    const now = this.clock.now();
    // Four draws per datagram, always, so one seed gives one schedule whatever the conditions.
    const rLoss = this.random();
    const rDup = this.random();
    const rReorder = this.random();
    const rJitter = this.random();
    const c = this.perLink.get(`${fromAddress}>${d.remoteAddress}`) ?? this.conditions;
    const entry: CapturedDatagram = {
      seq: this.captured.length,
      sentAtMs: now,
      deliverAtMs: undefined,
      fromAddress,
      fromPort,
      toAddress: d.remoteAddress,
      toPort: d.remotePort,
      data: d.data.slice(),
      fate: 'queued',
      delivered: false,
    };
    this.captured.push(entry);
    if (this.filter !== undefined && !this.filter(entry)) {
      entry.fate = 'filtered';
      return;
    }
    if (!this.owners.has(d.remoteAddress) && !this.natByPublic.has(d.remoteAddress)) {
      entry.fate = 'no-route';
      return;
    }
    if (rLoss < c.loss) {
      entry.fate = 'lost';
      return;
    }
    // Source NAT on the way out (the receiver sees the public address:port).
    let srcAddress = fromAddress;
    let srcPort = fromPort;
    const nat = this.nats.get(fromAddress);
    if (nat !== undefined) {
      const key = `${fromAddress}|${fromPort}`;
      let pub = nat.out.get(key);
      if (pub === undefined) {
        pub = nat.nextPort++;
        nat.out.set(key, pub);
        nat.back.set(pub, { address: fromAddress, port: fromPort });
      }
      srcAddress = nat.publicAddress;
      srcPort = pub;
    }
    const at = now + c.delayMs + rJitter * c.jitterMs + (rReorder < c.reorder ? c.reorderDelayMs : 0);
    entry.deliverAtMs = at;
    this.enqueue({ at, order: this.order++, entry, srcAddress, srcPort });
    if (rDup < c.duplicate) {
      const dup: CapturedDatagram = { ...entry, seq: this.captured.length, data: entry.data.slice(), fate: 'duplicate' };
      this.captured.push(dup);
      this.enqueue({ at, order: this.order++, entry: dup, srcAddress, srcPort });
    }
  }

  private enqueue(f: InFlight): void {
    // Binary search for the first element later than f (stable for equal times: send order).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid];
      if (q.at < f.at || (q.at === f.at && q.order < f.order)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, f);
  }

  private deliver(f: InFlight): boolean {
    let toAddress = f.entry.toAddress;
    let toPort = f.entry.toPort;
    const nat = this.natByPublic.get(toAddress);
    if (nat !== undefined) {
      const inside = nat.back.get(toPort);
      if (inside === undefined) return false;
      toAddress = inside.address;
      toPort = inside.port;
    }
    const ep = this.bindings.get(`${toAddress}|${toPort}`);
    if (ep === undefined) return false;
    const ok = ep.receive({
      data: f.entry.data.slice(),
      remoteAddress: f.srcAddress,
      remotePort: f.srcPort,
      localAddress: toAddress,
      localPort: toPort,
    });
    if (ok) f.entry.delivered = true;
    return ok;
  }
}

function stripUndefined(c: Partial<LinkConditions>): Partial<LinkConditions> {
  const out: Partial<LinkConditions> = {};
  for (const k of Object.keys(DEFAULTS) as (keyof LinkConditions)[]) if (c[k] !== undefined) out[k] = c[k];
  return out;
}

/** One host on a MemoryNetwork, as a UdpTransport. */
export class MemoryUdpEndpoint implements UdpTransport {
  readonly addresses: readonly string[];
  private readonly net: MemoryNetwork;
  private bound: BoundSocket[] = [];
  private handler: DatagramHandler | undefined;
  private readonly counters: UdpStats = emptyUdpStats();
  private nextEphemeral = 49152;

  constructor(net: MemoryNetwork, addresses: readonly string[]) {
    this.net = net;
    this.addresses = addresses;
  }

  /** Binds the given ports on the given addresses (default: all of this endpoint's addresses). */
  async bind(opts: UdpBindOptions = {}): Promise<void> {
    if (this.bound.length > 0) throw new Error('MemoryUdpEndpoint.bind: already bound');
    const addrs = opts.addresses ?? this.addresses;
    const ports = opts.ports ?? [500, 4500];
    const out: BoundSocket[] = [];
    for (const address of addrs) {
      if (!this.addresses.includes(address)) throw new Error(`MemoryUdpEndpoint.bind: ${address} is not an address of this endpoint`);
      for (const requestedPort of ports) {
        let port = requestedPort;
        if (port === 0) while (this.net.isBound(address, (port = this.nextEphemeral++)));
        if (this.net.isBound(address, port)) {
          for (const b of out) this.net.unregister(b.address, b.port);
          throw new Error(`MemoryUdpEndpoint.bind: ${address}:${port} is in use`);
        }
        this.net.register(address, port, this);
        out.push({ address, port, family: addressFamily(address), requestedPort });
      }
    }
    this.bound = out;
  }

  send(d: Datagram): void {
    const family = addressFamily(d.remoteAddress);
    const src = this.bound.find(
      (b) => b.port === d.localPort && b.family === family && (d.localAddress === undefined || b.address === d.localAddress),
    );
    if (src === undefined) {
      this.counters.txErrors++;
      return;
    }
    this.counters.txDatagrams++;
    this.counters.txBytes += d.data.length;
    this.net.transmit(src.address, src.port, d);
  }

  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  boundSockets(): readonly BoundSocket[] {
    return this.bound.map((b) => ({ ...b }));
  }

  async close(): Promise<void> {
    for (const b of this.bound) this.net.unregister(b.address, b.port);
    this.bound = [];
  }

  stats(): UdpStats {
    return { ...this.counters };
  }

  /** @internal called by MemoryNetwork. */
  receive(d: Datagram): boolean {
    this.counters.rxDatagrams++;
    this.counters.rxBytes += d.data.length;
    if (this.handler === undefined) return false;
    this.handler(d);
    return true;
  }
}
