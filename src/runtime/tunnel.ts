/**
 * The Node runtime: the one place that reads the clock, owns the one timer, the UDP sockets and the TUN
 * device (DESIGN.md §2). It drives the sans-I/O IKE endpoint and the ESP data path:
 *
 *   UDP 500  ── IKE ──────────────────────────────► IkeEndpoint ──► pollTransmit ──► UDP (marker on 4500)
 *   UDP 4500 ── RFC 3948: marker → IKE, SPI → ESP ─► DataPath.inbound ──► TUN
 *   TUN ─────────────────────────────────────────► DataPath.outbound ──► UDP 4500 (ESP-in-UDP)
 *   IkeEndpoint.pollEvent: child-up / child-rekeyed / child-down ──► DataPath.install/remove, routes, keylog
 *
 * After every input the runtime drains every poll* (DESIGN.md rule 2) and re-arms its single timer to
 * the endpoint's `nextTimeout()`.
 */
import type { CryptoProvider, RandomSource } from '../crypto/types.js';
import { nodeCrypto, nodeRandom } from '../crypto/node.js';
import { DROP_NAMES } from '../esp/drop.js';
import { classifyNattDatagram, NattKind, NON_ESP_MARKER_LENGTH } from '../esp/natt.js';
import { IkeEndpoint } from '../ike/endpoint.js';
import type { IkeConfigInput } from '../ike/config.js';
import type { ChildSaInfo, IkeEvent, IkeSaStatus } from '../ike/events.js';
import type { TunDevice } from '../tun/types.js';
import type { Datagram as UdpDatagram, RawEspPacket, RawEspStats, RawEspTransport, UdpTransport } from '../net/types.js';
import type { IkeChildConfig, IkeConnection } from '../ike/config.js';
import type { IpPeek } from '../wire/ip.js';
import { sumOffload, type DataPlaneThreadStats, type OffloadCounters } from './dataplane-protocol.js';
import { DataPath, REKEY_LINGER_MS, TUN_DROP_NAMES, type InstalledChild } from './datapath.js';
import { TrapTable, type TrapOptions, type TrapPolicy, type TrapReason, type TrapStatus } from './traps.js';
import { systemClock, type Clock } from './clock.js';
import type { Logs } from './log.js';

export const NAT_T_PORT = 4500;
export const IKE_PORT = 500;
const NON_ESP_MARKER = new Uint8Array(4);
const KEEPALIVE = Uint8Array.of(0xff);

/** Something that installs and removes the routes (and TUN MTU) a child SA needs. */
export interface RouteInstaller {
  childUp(child: InstalledChild, tun: TunDevice): Promise<void>;
  childDown(child: InstalledChild, tun: TunDevice): Promise<void>;
  /** Routes for a trap policy (no SA yet): what `childUp` would route for that child. */
  trapUp?(trap: TrapPolicy, tun: TunDevice): Promise<void>;
  trapDown?(trap: TrapPolicy, tun: TunDevice): Promise<void>;
  close(): Promise<void>;
}

/** Receives SA keys as they come and go (Wireshark key files). */
export interface KeySink {
  ikeUp?(e: Extract<IkeEvent, { type: 'ike-up' }>, endpoint: IkeEndpoint): void;
  /** The IKE SA `e.ikeId` now runs on new SPIs and keys (RFC 7296 §2.18). */
  ikeRekeyed?(e: Extract<IkeEvent, { type: 'ike-rekeyed' }>, endpoint: IkeEndpoint): void;
  childUp(child: ChildSaInfo): void;
}

export interface TunnelOptions {
  config: IkeConfigInput;
  udp: UdpTransport;
  /**
   * Raw ESP (IP protocol 50) for children that are not UDP-encapsulated (connection `encap: false` and no
   * NAT seen). Without it such a child's outbound packets are dropped (counted as `noRawEsp`).
   */
  rawEsp?: RawEspTransport;
  tun?: TunDevice;
  /** Default crypto provider of both the IKE endpoint and the ESP data path (`nodeCrypto` when unset). */
  provider?: CryptoProvider;
  /** Crypto provider of the IKE endpoint only; overrides `provider` there. */
  ikeProvider?: CryptoProvider;
  /**
   * Crypto provider of the ESP data path only; overrides `provider` there. The daemon passes
   * `withEvpAead(nodeCrypto)` here (per-SA EVP contexts, fast per packet) and `nodeCrypto` to IKE, whose
   * SAs seal a few messages each and would carry the EVP contexts' memory for nothing.
   */
  espProvider?: CryptoProvider;
  /** The data path to drive (default: a DataPath on this thread; the daemon may pass a WorkerDataPath, runtime/dataplane-worker.ts). */
  datapath?: DataPath;
  rng?: RandomSource;
  clock?: Clock;
  routes?: RouteInstaller;
  keys?: KeySink;
  logs?: Logs;
  /** Seconds between NAT keepalives when UDP encapsulation is in use (RFC 3948 §2.3); 0 = off. Default 20. */
  keepaliveSec?: number;
  /** Acquire rate limit and hold queue of trap policies (runtime/traps.ts). */
  traps?: TrapOptions;
}

export type TunnelEvent = IkeEvent;
export type TunnelListener = (e: TunnelEvent) => void;

export interface ChildCounters {
  spiIn: string;
  spiOut: string;
  bytesIn: number;
  packetsIn: number;
  bytesOut: number;
  packetsOut: number;
  drops: Record<string, number>;
}

export interface TunnelStatus {
  ikeSas: Array<IkeSaStatus & { childCounters: ChildCounters[] }>;
  connections: Array<{ name: string; established: number; children: string[] }>;
  tun: { name: string; mtu: number; rxPackets: number; txPackets: number; rxDrops: number; txDrops: number } | null;
  drops: { tun: Record<string, number>; esp: Record<string, number>; ike: Record<string, number> };
  /** Trap policies (start_action / dpd_action / close_action = trap), like `swanctl --list-pols`. */
  traps: TrapStatus[];
  /** The raw ESP (IP protocol 50) transport's counters, or null when none is open. */
  rawEsp: RawEspStats | null;
  /** TUN offload (TCP super-packets cut, merged writes) and UDP GSO/GRO counters, or null without offloads. */
  offload?: OffloadCounters | null;
  /** The data-plane worker thread's wake-ups, busy time and heap, or null when packets run on the main thread. */
  dataplane?: DataPlaneThreadStats | null;
}

export class Tunnel {
  readonly endpoint: IkeEndpoint;
  readonly datapath: DataPath;
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<TunnelListener>();
  private closed = false;
  private readonly pendingRoutes = new Set<Promise<void>>();
  /** Outbound packets of non-encapsulated children dropped because no raw ESP transport is open. */
  private noRawEsp = 0;
  /** UDP/4500 datagrams that are neither a keepalive, IKE nor ESP (too short): counted, dropped. */
  private nattInvalid = 0;
  /** Trap policies: TUN packets that match one but no child SA raise an acquire (initiate). */
  readonly traps: TrapTable;
  /** Children taken down with their IKE SA, by ikeId, until its ike-down says why (dpd_action / close_action). */
  private readonly downWithIke = new Map<number, string[]>();

  constructor(private readonly opts: TunnelOptions) {
    this.clock = opts.clock ?? systemClock;
    const provider = opts.provider ?? nodeCrypto;
    const rng = opts.rng ?? nodeRandom;
    this.endpoint = new IkeEndpoint({ provider: opts.ikeProvider ?? provider, rng, config: opts.config, wallClockMs: () => this.clock.wallMs() });
    this.datapath = opts.datapath ?? new DataPath(opts.espProvider ?? provider, rng);
    this.datapath.rawOut = (data, remote, local) => this.sendRawEsp(data, remote, local);
    this.traps = new TrapTable(opts.traps);
    this.datapath.noPolicy = (pkt, p) => this.onTrapped(pkt, p);
    opts.udp.onDatagram((d) => this.onDatagram(d));
    opts.tun?.onPackets((packets) => this.onTunPackets(packets));
    opts.rawEsp?.onPackets((batch) => this.onRawEsp(batch));
    const ka = opts.keepaliveSec ?? 20;
    if (ka > 0) {
      this.keepaliveTimer = setInterval(() => this.sendKeepalives(), ka * 1000);
      this.keepaliveTimer.unref();
    }
  }

  on(listener: TunnelListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Installs a trap for every child whose start_action is `trap` and initiates every `start` child (`trap|start`: both). */
  start(): void {
    const now = this.clock.now();
    for (const c of this.endpoint.config.connections) {
      for (const ch of c.children) {
        const trap = ch.startAction === 'trap' || ch.startAction === 'trap|start' ? this.installTrap(c, ch, 'start_action') : undefined;
        if (ch.startAction === 'start' || ch.startAction === 'trap|start') {
          this.endpoint.initiate(now, c.name, ch.name);
          if (trap) this.traps.markPending(trap, now);
        }
      }
    }
    this.drain();
  }

  /**
   * Brings the trap policies in line with the configuration (after a reload): traps of children that
   * are gone or changed are removed with their routes, and `start_action = trap` children without
   * one get one. Traps installed by dpd_action / close_action stay while their child is configured.
   */
  syncTraps(): void {
    const conns = this.endpoint.config.connections;
    for (const t of [...this.traps.list()]) {
      if (!conns.includes(t.connConfig) || !t.connConfig.children.includes(t.childConfig)) this.removeTrap(t);
    }
    for (const c of conns) for (const ch of c.children) if (ch.startAction === 'trap' || ch.startAction === 'trap|start') this.installTrap(c, ch, 'start_action');
  }

  /** Starts using a raw ESP transport opened after construction (a reload added the first `encap = no` connection). */
  attachRawEsp(raw: RawEspTransport): void {
    if (this.opts.rawEsp !== undefined) throw new Error('attachRawEsp: a raw ESP transport is already attached');
    this.opts.rawEsp = raw;
    raw.onPackets((batch) => this.onRawEsp(batch));
  }

  get hasRawEsp(): boolean {
    return this.opts.rawEsp !== undefined;
  }

  initiate(child: string): void {
    const conn = this.endpoint.config.connections.find((c) => c.children.some((ch) => ch.name === child) || c.name === child);
    if (!conn) throw new Error(`no connection has a child named "${child}"`);
    const childName = conn.children.some((ch) => ch.name === child) ? child : conn.children[0]?.name;
    this.endpoint.initiate(this.clock.now(), conn.name, childName);
    this.drain();
  }

  /** Runs `fn` on the IKE endpoint at the current time, then sends and handles what it queued (e.g. a reload). */
  command<T>(fn: (endpoint: IkeEndpoint, now: number) => T): T {
    try {
      return fn(this.endpoint, this.clock.now());
    } finally {
      this.drain();
    }
  }

  terminate(what: { ike?: string; child?: string }): number {
    const now = this.clock.now();
    let n = 0;
    for (const sa of this.endpoint.status()) {
      if (what.ike !== undefined && sa.name === what.ike) { this.endpoint.terminateIke(now, sa.ikeId); n++; }
      if (what.child !== undefined) for (const ch of sa.children) if (ch.name === what.child) { this.endpoint.terminateChild(now, ch.spiIn); n++; }
    }
    this.drain();
    return n;
  }

  /** Deletes every SA (best effort: the Delete requests are sent once), then closes sockets and the TUN. */
  async close(): Promise<void> {
    if (this.closed) return;
    const now = this.clock.now();
    for (const sa of this.endpoint.status()) this.endpoint.terminateIke(now, sa.ikeId);
    this.drain();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    await Promise.allSettled([...this.pendingRoutes]);
    if (this.opts.tun) for (const c of [...this.datapath.installed()]) await this.opts.routes?.childDown(c, this.opts.tun).catch(() => undefined);
    if (this.opts.tun) for (const t of [...this.traps.list()]) await this.opts.routes?.trapDown?.(t, this.opts.tun).catch(() => undefined);
    await this.opts.routes?.close().catch(() => undefined);
    await this.datapath.close(); // the data-plane worker reads the sockets and the TUN: stop it first
    await this.opts.udp.close();
    await this.opts.rawEsp?.close();
    await this.opts.tun?.close();
  }

  status(): TunnelStatus {
    this.datapath.syncStats();
    const ikeSas = this.endpoint.status().map((sa) => ({
      ...sa,
      childCounters: sa.children.map((ch) => {
        const c = this.datapath.child(ch.spiIn);
        const drops: Record<string, number> = {};
        if (c) c.inSa.drops.forEach((v, i) => { if (v > 0 && i > 0) drops[DROP_NAMES[i]!] = v; });
        return {
          spiIn: hex32(ch.spiIn), spiOut: hex32(ch.spiOut),
          bytesIn: c ? c.inSa.stats[1]! : 0, packetsIn: c ? c.inSa.stats[0]! : 0,
          bytesOut: c ? c.outSa.stats[1]! : 0, packetsOut: c ? c.outSa.stats[0]! : 0,
          drops,
        };
      }),
    }));
    const connections = this.endpoint.config.connections.map((c) => ({
      name: c.name,
      established: ikeSas.filter((s) => s.name === c.name && s.establishedAtMs !== undefined).length,
      children: c.children.map((ch) => ch.name),
    }));
    const tun = this.opts.tun ? { name: this.opts.tun.name, mtu: this.opts.tun.mtu, ...pick(this.opts.tun.stats()) } : null;
    const tunDrops: Record<string, number> = {};
    this.datapath.tunDrops.forEach((v, i) => { tunDrops[TUN_DROP_NAMES[i]!] = v; });
    if (this.noRawEsp > 0) tunDrops.noRawEsp = this.noRawEsp;
    if (this.traps.totals.dropped > 0) tunDrops.trapDropped = this.traps.totals.dropped;
    const espDrops: Record<string, number> = {};
    this.datapath.espDrops.forEach((v, i) => { if (i > 0) espDrops[DROP_NAMES[i]!] = v; });
    espDrops.nattInvalid = this.nattInvalid;
    const ike: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.endpoint.counters)) if (k.startsWith('drop')) ike[k] = v as number;
    return { ikeSas, connections, tun, drops: { tun: tunDrops, esp: espDrops, ike }, traps: this.traps.status(), rawEsp: this.opts.rawEsp?.stats() ?? null, offload: sumOffload(this.opts.tun?.offloadCounters?.(), this.opts.udp.offloadCounters?.()), dataplane: this.datapath.threadStats() };
  }

  // ---- inputs ----

  private onDatagram(d: UdpDatagram): void {
    if (this.closed) return;
    const now = this.clock.now();
    const data = d.data;
    if (d.localPort === NAT_T_PORT) {
      // RFC 3948 §2.2: 0xFF alone = NAT keepalive; a zero non-ESP marker = IKE; otherwise ESP (SPI ≠ 0).
      const kind = classifyNattDatagram(data);
      if (kind === NattKind.keepalive) return;
      if (kind === NattKind.invalid) {
        this.nattInvalid++; // shorter than an ESP header and not a keepalive (RFC 3948 §2.2)
        return;
      }
      if (kind !== NattKind.ike) {
        // ESP hot path: no per-packet objects beyond what dgram already made.
        const pkt = this.datapath.inbound(data, now);
        if (pkt !== null && this.opts.tun) this.opts.tun.write(pkt);
        return;
      }
    }
    const local = { address: d.localAddress ?? '0.0.0.0', port: d.localPort };
    const remote = { address: d.remoteAddress, port: d.remotePort };
    const ike = d.localPort === NAT_T_PORT ? data.subarray(NON_ESP_MARKER_LENGTH) : data;
    this.endpoint.handleDatagram(now, { data: ike, local, remote });
    this.drain();
  }

  private onTunPackets(packets: readonly Uint8Array[]): void {
    if (this.closed) return;
    for (let i = 0; i < packets.length; i++) {
      const out = this.datapath.outbound(packets[i]!);
      if (out === null) continue;
      if (!out.encap) {
        this.sendRawEsp(out.data, out.remote.address, out.local.address);
        continue;
      }
      this.opts.udp.send({ data: out.data, remoteAddress: out.remote.address, remotePort: out.remote.port, localAddress: out.local.address, localPort: out.local.port });
    }
  }

  /** ESP of a child that is not UDP-encapsulated goes out as IP protocol 50 (RFC 4303 §2). */
  private sendRawEsp(data: Uint8Array, remoteAddress: string, localAddress: string): void {
    if (this.opts.rawEsp === undefined) {
      this.noRawEsp++;
      return;
    }
    this.opts.rawEsp.send(data, remoteAddress, localAddress);
  }

  /** Raw ESP in (IP header already removed by the transport) → DataPath.inbound → TUN. */
  private onRawEsp(batch: readonly RawEspPacket[]): void {
    if (this.closed) return;
    const now = this.clock.now();
    for (let i = 0; i < batch.length; i++) {
      const pkt = this.datapath.inbound(batch[i]!.data, now);
      if (pkt !== null && this.opts.tun) this.opts.tun.write(pkt);
    }
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    this.endpoint.handleTimeout(this.clock.now());
    this.drain();
  }

  private sendKeepalives(): void {
    if (this.closed) return;
    const seen = new Set<string>();
    for (const c of this.datapath.installed()) {
      if (!c.info.encap) continue;
      const key = `${c.info.remoteAddr.address}:${c.info.remoteAddr.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.opts.udp.send({ data: KEEPALIVE, remoteAddress: c.info.remoteAddr.address, remotePort: c.info.remoteAddr.port, localAddress: c.info.localAddr.address, localPort: c.info.localAddr.port });
    }
  }

  // ---- outputs ----

  /** Drains every poll* of the endpoint, then re-arms the one timer (DESIGN.md rule 2). */
  private drain(): void {
    // Events first: a responder installs its child SA before the IKE_AUTH / CREATE_CHILD_SA response
    // leaves (as strongSwan installs in the kernel first), so the initiator's first ESP packets, sent
    // the moment the response arrives, never find the SA missing (the first child's warm-up takes
    // ~0.1 s). Commands the handlers issue queue more datagrams; the loop below sends them too.
    for (let i = 0; i < 10_000; i++) {
      const e = this.endpoint.pollEvent();
      if (e === undefined) break;
      this.handleEvent(e);
    }
    for (let i = 0; i < 10_000; i++) {
      const t = this.endpoint.pollTransmit();
      if (t === undefined) break;
      const data = t.local.port === NAT_T_PORT ? concat(NON_ESP_MARKER, t.data) : t.data;
      this.opts.udp.send({ data, remoteAddress: t.remote.address, remotePort: t.remote.port, localAddress: t.local.address, localPort: t.local.port });
    }
    this.datapath.sweep(this.clock.now());
    this.arm();
  }

  private handleEvent(e: IkeEvent): void {
    const now = this.clock.now();
    const log = this.opts.logs?.sub('ike');
    switch (e.type) {
      case 'ike-up':
        log?.info({ ike: e.ikeName, spiI: e.spiI, spiR: e.spiR, remote: e.remoteAddr, algorithms: e.algorithms }, 'IKE SA established');
        this.opts.keys?.ikeUp?.(e, this.endpoint);
        break;
      case 'ike-rekeyed':
        log?.info({ ike: e.ikeName, oldSpiI: e.oldSpiI, oldSpiR: e.oldSpiR, spiI: e.spiI, spiR: e.spiR }, 'IKE SA rekeyed');
        this.opts.keys?.ikeRekeyed?.(e, this.endpoint);
        break;
      case 'child-up':
        this.installChild(e, now);
        this.releaseTrapped(e.ikeName, e.childName);
        break;
      case 'child-rekeyed':
        this.installChild(e.child, now, e.oldSpiIn);
        log?.info({ child: e.childName, oldSpiIn: hex32(e.oldSpiIn), spiIn: hex32(e.child.spiIn) }, 'CHILD SA rekeyed');
        break;
      case 'child-down': {
        // A rekeyed-away SA keeps opening reordered stragglers for a moment (datapath.retire).
        const c = e.reason === 'rekeyed' ? this.datapath.retire(e.spiIn, now + REKEY_LINGER_MS) : this.datapath.remove(e.spiIn);
        log?.info({ child: e.childName, spiIn: hex32(e.spiIn), reason: e.reason }, 'CHILD SA deleted');
        // A rekeyed child whose successor has the same routes handed them over (installChild); otherwise they go.
        const carried = this.routesCarried.delete(e.spiIn);
        if (c && !carried && this.opts.tun && this.opts.routes) this.track(this.opts.routes.childDown(c, this.opts.tun));
        if (e.reason === 'ike-down') this.downWithIke.set(e.ikeId, [...(this.downWithIke.get(e.ikeId) ?? []), e.childName]);
        else if (e.reason === 'peer') this.afterDown(e.ikeName, [e.childName], 'close_action');
        break;
      }
      case 'ike-down': {
        log?.info({ ike: e.ikeName, reason: e.reason, detail: e.detail }, 'IKE SA deleted');
        const children = this.downWithIke.get(e.ikeId) ?? [];
        this.downWithIke.delete(e.ikeId);
        if (e.reason === 'rekeyed') break;
        this.traps.failed(e.ikeName);
        if (e.reason === 'dpd' || e.reason === 'timeout') this.afterDown(e.ikeName, children, 'dpd_action');
        else if (e.reason === 'peer') this.afterDown(e.ikeName, children, 'close_action');
        break;
      }
      case 'child-failed':
        log?.warn({ child: e.childName, reason: e.reason }, 'CHILD SA failed');
        this.traps.failed(e.ikeName, e.childName);
        break;
      default:
        break;
    }
    for (const l of this.listeners) l(e);
  }

  // ---- trap policies (runtime/traps.ts) ----

  /** DataPath.noPolicy: a TUN packet without a child SA. True when a trap took it (held or dropped there). */
  private onTrapped(pkt: Uint8Array, p: IpPeek): boolean {
    if (this.traps.size === 0 || this.closed) return false;
    const now = this.clock.now();
    const hit = this.traps.take(now, pkt, p);
    if (hit === undefined) return false;
    if (hit.acquire) {
      this.opts.logs?.sub('ike').info({ connection: hit.trap.connection, child: hit.trap.child }, 'acquire: traffic matches a trap policy, initiating');
      this.initiateLater(hit.trap.connection, hit.trap.child, 'acquire');
    }
    return true;
  }

  /**
   * Initiates `child` of `connection` once the current input is handled (never from inside drain or
   * the TUN loop); it joins an IKE SA of its connection that is up or being set up (IkeEndpoint.initiate).
   */
  private initiateLater(connection: string, child: string, why: string): void {
    queueMicrotask(() => {
      if (this.closed) return;
      try {
        this.command((ep, now) => ep.initiate(now, connection, child));
      } catch (err) {
        this.opts.logs?.sub('ike').error({ connection, child, err: (err as Error).message }, `${why}: cannot initiate`);
      }
    });
  }

  /** Sends the packets a trap held while its child was being set up. */
  private releaseTrapped(connection: string, child: string): void {
    const held = this.traps.childUp(connection, child);
    if (held.length > 0) this.onTunPackets(held);
  }

  private installTrap(conn: IkeConnection, child: IkeChildConfig, reason: TrapReason): TrapPolicy | undefined {
    let trap: TrapPolicy | undefined;
    try {
      trap = this.traps.install(conn, child, reason);
    } catch (err) {
      this.opts.logs?.sub('cfg').error({ connection: conn.name, child: child.name, err: (err as Error).message }, 'cannot install trap policy');
      return undefined;
    }
    if (trap === undefined) return this.traps.get(conn.name, child.name);
    this.opts.logs?.sub('ike').info({ connection: conn.name, child: child.name, reason }, 'trap policy installed');
    if (this.opts.tun && this.opts.routes?.trapUp) this.track(this.opts.routes.trapUp(trap, this.opts.tun));
    return trap;
  }

  private removeTrap(trap: TrapPolicy): void {
    this.traps.remove(trap);
    this.opts.logs?.sub('ike').info({ connection: trap.connection, child: trap.child }, 'trap policy removed');
    if (this.opts.tun && this.opts.routes?.trapDown) this.track(this.opts.routes.trapDown(trap, this.opts.tun));
  }

  /** dpd_action = trap (after DPD/timeout) or close_action = trap|start (after the peer closed them) for `children`. */
  private afterDown(connection: string, children: readonly string[], which: 'dpd_action' | 'close_action'): void {
    const conn = this.endpoint.config.connections.find((c) => c.name === connection);
    if (!conn) return;
    for (const name of new Set(children)) {
      const ch = conn.children.find((x) => x.name === name);
      if (!ch) continue;
      const action = which === 'dpd_action' ? ch.dpdAction : (ch.closeAction ?? 'none');
      if (action === 'trap') this.installTrap(conn, ch, which);
      else if (action === 'start' && which === 'close_action') this.initiateLater(conn.name, ch.name, 'close_action = start');
    }
  }

  /**
   * `oldSpiIn`: a rekey. The rekey responder keeps sending on the old SA until the peer uses the new one
   * (RFC 7296 §2.8; strongSwan does the same), and routes equal to the old SA's are handed over without
   * running `ip` again (a spawn blocks the event loop for 15–30 ms on a loaded host: at 30k packets/s that
   * overflows the TUN queue and was the TCP dip at every rekey in bench/e2e --rekey).
   */
  private installChild(info: ChildSaInfo, now: number, oldSpiIn?: number): void {
    try {
      const old = oldSpiIn === undefined ? undefined : this.datapath.child(oldSpiIn);
      if (!this.warmedUp) {
        // Once per process run: the per-packet path gets optimized before the first real packet.
        this.warmedUp = true;
        try {
          this.datapath.warmUp(info);
        } catch (err) {
          this.opts.logs?.sub('esp').error({ child: info.childName, err: (err as Error).message }, 'ESP warm-up failed');
        }
      }
      const c = this.datapath.install(info, now, old !== undefined && !info.initiator);
      const carry = old !== undefined && sameRoutes(old.info, info);
      if (carry) this.routesCarried.add(old.info.spiIn);
      this.opts.keys?.childUp(info);
      this.opts.logs?.sub('esp').info({ child: info.childName, spiIn: hex32(info.spiIn), spiOut: hex32(info.spiOut), mode: info.mode, encap: info.encap }, 'CHILD SA installed');
      if (!info.encap && this.opts.rawEsp === undefined) this.opts.logs?.sub('esp').error({ child: info.childName }, 'CHILD SA is not UDP-encapsulated but no raw ESP socket is open: its outbound packets are dropped');
      if (!carry && this.opts.tun && this.opts.routes) this.track(this.opts.routes.childUp(c, this.opts.tun));
    } catch (err) {
      this.opts.logs?.sub('esp').error({ child: info.childName, err: (err as Error).message }, 'cannot install CHILD SA');
    }
  }

  private warmedUp = false;
  /** Inbound SPIs of rekeyed-away SAs whose routes their successor took over. */
  private readonly routesCarried = new Set<number>();

  private track(p: Promise<void>): void {
    const q = p.catch((err: unknown) => this.opts.logs?.sub('tun').error({ err: (err as Error).message }, 'route change failed'));
    this.pendingRoutes.add(q);
    void q.finally(() => this.pendingRoutes.delete(q));
  }

  private arm(): void {
    if (this.closed) return;
    const at = this.endpoint.nextTimeout();
    if (at === undefined) return;
    if (at >= this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.min(at - this.clock.now(), 2 ** 31 - 1)));
  }
}

/** Same routes and TUN MTU: mode, selectors, addresses, encapsulation and algorithms are unchanged. */
function sameRoutes(a: ChildSaInfo, b: ChildSaInfo): boolean {
  return a.mode === b.mode && a.encap === b.encap && a.localAddr.address === b.localAddr.address && a.remoteAddr.address === b.remoteAddr.address
    && JSON.stringify([a.tsLocal, a.tsRemote, a.algorithms.encr, a.algorithms.encrKeyBits, a.algorithms.integ, a.localVips, a.remoteVips])
      === JSON.stringify([b.tsLocal, b.tsRemote, b.algorithms.encr, b.algorithms.encrKeyBits, b.algorithms.integ, b.localVips, b.remoteVips]);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function pick(s: { rxPackets: number; txPackets: number; rxDrops: number; txDrops: number }) {
  return { rxPackets: s.rxPackets, txPackets: s.txPackets, rxDrops: s.rxDrops, txDrops: s.txDrops };
}
