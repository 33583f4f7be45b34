/**
 * The IKEv2 engine's public face (DESIGN.md rule 2: handle inputs, poll outputs): demultiplexes
 * datagrams to IKE SAs by SPI (RFC 7296 §2.6), owns the half-open and per-peer limits and the
 * COOKIE jar, and exposes commands, timers, events and status. No I/O, no clock, no randomness of
 * its own: `now` (monotonic ms) and a RandomSource come in.
 *
 * The runtime adds/strips the RFC 3948 non-ESP marker on port 4500; this engine sees bare IKE
 * messages and the local/remote address+port they used. `Datagram.local` must be the concrete
 * local address (NAT detection hashes it, RFC 7296 §2.23).
 */
import type { CryptoProvider, RandomSource } from '../crypto/types.js';
import { resolveConfig, type IkeChildConfig, type IkeConfig, type IkeConfigInput, type IkeConnection } from './config.js';
import { CookieJar } from './cookies.js';
import { AddressPools } from './pools.js';
import { localCredentials } from './auth/local-credentials.js';
import { ExchangeType, HeaderFlag } from './constants.js';
import { FRAGMENT_COUNTER, emptyCounters, type Datagram, type IkeCounters, type IkeEvent, type IkeSaStatus } from './events.js';
import { decodeMessage, encodeMessage } from './message.js';
import { decodeHeader } from './header.js';
import { checkRules } from './rules.js';
import { makeSkProtection } from './protection.js';
import { IkeSa, NotifyType, bytesEqual, hex, notify, type EngineContext } from './ike-sa.js';
import { acceptInitVariant, handleInitResponse, respondInit, startInitiator, type InitResponderDeps } from './exchanges/ike-sa-init.js';
import { dispatchProtected } from './exchanges/dispatch.js';
import { handleSaTimeout, kick, saNextTimeout } from './exchanges/tasks.js';

/** What `exportIkeKeys` returns (RFC 7296 §2.14 SK_ei, SK_er, SK_ai, SK_ar with the negotiated ENCR/INTEG ids). */
export interface IkeKeyExport {
  readonly spiI: Uint8Array;
  readonly spiR: Uint8Array;
  readonly skEi: Uint8Array;
  readonly skEr: Uint8Array;
  readonly skAi: Uint8Array;
  readonly skAr: Uint8Array;
  readonly encr: { readonly id: number; readonly keyLength?: number };
  readonly integ: number;
}

export interface IkeEndpointOptions {
  readonly provider: CryptoProvider;
  readonly rng: RandomSource;
  /** A resolved config, or an input with defaults to fill (`resolveConfig`). */
  readonly config: IkeConfig | IkeConfigInput;
  /** Monotonic time at construction (cookie secret schedule). Default 0. */
  readonly now?: number;
  /** Maps monotonic `now` to Unix ms for certificate validity. Default: identity. */
  readonly wallClockMs?: (now: number) => number;
}

function isResolved(c: IkeConfig | IkeConfigInput): c is IkeConfig {
  return c.limits !== undefined && 'retransmit' in c.limits && c.limits.retransmit !== undefined && 'maxIntervalMs' in c.limits.retransmit && c.connections.every((x) => 'fragmentSize' in x && x.fragmentSize !== undefined && 'vips' in x && x.vips !== undefined) && Array.isArray(c.pools);
}

export class IkeEndpoint {
  readonly config: IkeConfig;
  readonly counters: IkeCounters = emptyCounters();
  /** Message of the last internal error swallowed by handleDatagram (a bug, never expected). */
  lastInternalError: string | undefined;
  internalErrors = 0;
  private readonly provider: CryptoProvider;
  private readonly rng: RandomSource;
  private readonly sas = new Map<string, IkeSa>();
  /** Every registered IKE SA once (the SPI index may hold an SA under more than one key). */
  private readonly live = new Set<IkeSa>();
  /** Registered IKE SAs per peer address (the per-peer limit); each SA keeps the address it was counted under (`IkeSa.countedPeer`). */
  private readonly perPeer = new Map<string, number>();
  /** Registered IKE SAs by connection name (initiate() looks up an established SA without a scan). */
  private readonly byConn = new Map<string, Set<IkeSa>>();
  private connByName: Map<string, IkeConnection> | undefined;
  /** Responder SAs by SPIi + peer address, to recognise IKE_SA_INIT retransmits. */
  private readonly byInit = new Map<string, IkeSa>();
  private readonly espSpis = new Set<number>();
  private readonly tx: Datagram[] = [];
  private readonly events: IkeEvent[] = [];
  private readonly cookies: CookieJar;
  /** Virtual IP pools and their leases (CP, RFC 7296 §2.19). */
  readonly pools: AddressPools;
  private readonly ctx: EngineContext;
  /** What respondInit needs from the endpoint, made once (not an object and two closures per IKE_SA_INIT request). */
  private initDeps: InitResponderDeps | undefined;

  constructor(opts: IkeEndpointOptions) {
    this.provider = opts.provider;
    this.rng = opts.rng;
    this.config = isResolved(opts.config) ? opts.config : resolveConfig(opts.config);
    this.pools = new AddressPools(this.config.pools);
    // Config errors surface here, not at the first IKE_AUTH: each pubkey connection needs a private
    // key matching one of its certificates (throws naming the field).
    for (const c of this.config.connections) if (c.local.auth === 'pubkey') localCredentials(this.provider, c);
    this.cookies = new CookieJar(this.provider, this.rng, this.config.limits.cookieSecretLifetimeMs, opts.now ?? 0);
    const wall = opts.wallClockMs ?? ((n: number) => n);
    const self = this;
    const countFragment = (k: keyof typeof FRAGMENT_COUNTER): void => void self.counters[FRAGMENT_COUNTER[k]]++;
    this.ctx = {
      provider: this.provider,
      rng: this.rng,
      config: this.config,
      counters: this.counters,
      emit: (e) => {
        if (e.type === 'child-down') self.espSpis.delete(e.spiIn);
        self.events.push(e);
      },
      transmit: (d) => {
        self.counters.datagramsOut++;
        self.tx.push(d);
      },
      allocEspSpi: () => self.allocEspSpi(),
      allocIkeSpi: () => self.allocIkeSpi(),
      registerSa: (sa) => {
        self.sas.set(hex(sa.localSpi), sa);
        self.indexConn(sa, sa.conn.name);
        if (!self.live.has(sa)) {
          self.live.add(sa);
          const a = sa.remote.address;
          sa.countedPeer = a;
          self.perPeer.set(a, (self.perPeer.get(a) ?? 0) + 1);
        }
        if (!sa.initiator && sa.phase.name === 'half-open') {
          const key = initKey(sa.spiI, sa.remote.address, sa.remote.port);
          self.byInit.set(key, sa);
          if (sa.initKeys === undefined) sa.initKeys = [key];
          else if (!sa.initKeys.includes(key)) sa.initKeys.push(key);
        }
      },
      unregisterSa: (sa) => {
        const k = hex(sa.localSpi);
        if (self.sas.get(k) === sa) self.sas.delete(k);
        self.indexConn(sa, undefined);
        if (self.live.delete(sa)) {
          const a = sa.countedPeer!;
          sa.countedPeer = undefined;
          const n = (self.perPeer.get(a) ?? 1) - 1;
          if (n > 0) self.perPeer.set(a, n);
          else self.perPeer.delete(a);
        }
        // The keys this SA was filed under (a scan of every entry per SA removal before).
        if (sa.initKeys !== undefined) for (const key of sa.initKeys) if (self.byInit.get(key) === sa) self.byInit.delete(key);
        sa.initKeys = undefined;
      },
      wallClockMs: wall,
      reinitiate: (now, conn, children) => {
        self.startConnection(now, conn, children);
      },
      makeProtection: (algs, keys, initiator) => makeSkProtection(self.provider, self.rng, algs, keys, initiator, undefined, countFragment),
      pools: this.pools,
    };
  }

  /** (Re)files `sa` under connection `name` (undefined: removes it). A responder's connection is
   * settled in IKE_AUTH, which registers the SA again. */
  private indexConn(sa: IkeSa, name: string | undefined): void {
    const old = sa.indexedConn;
    if (old === name) return;
    if (old !== undefined) {
      const set = this.byConn.get(old);
      set?.delete(sa);
      if (set && set.size === 0) this.byConn.delete(old);
      sa.indexedConn = undefined;
    }
    if (name === undefined) return;
    let set = this.byConn.get(name);
    if (!set) this.byConn.set(name, (set = new Set()));
    set.add(sa);
    sa.indexedConn = name;
  }

  private allocEspSpi(): number {
    const b = new Uint8Array(4);
    for (;;) {
      this.rng.fill(b);
      const spi = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
      if (spi >= 256 && !this.espSpis.has(spi)) {
        this.espSpis.add(spi);
        return spi;
      }
    }
  }

  private allocIkeSpi(): Uint8Array {
    for (;;) {
      const spi = this.rng.fill(new Uint8Array(8));
      if (spi.some((x) => x !== 0) && !this.sas.has(hex(spi))) return spi;
    }
  }

  // ---- inputs ------------------------------------------------------------------------------------

  /** One received IKE datagram (non-ESP marker already stripped). Never throws. */
  handleDatagram(now: number, d: Datagram): void {
    this.counters.datagramsIn++;
    try {
      this.route(now, d);
    } catch (e) {
      this.internalErrors++;
      this.lastInternalError = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    }
  }

  private route(now: number, d: Datagram): void {
    const m = decodeMessage(d.data);
    if (!m.ok) {
      this.counters.dropDecode++;
      if (m.error.code === 'unsupported-critical' && m.error.payloadType !== undefined) this.rejectCriticalInit(d, m.error.payloadType);
      return;
    }
    const msg = m.value;
    const h = msg.header;
    const isResponse = (h.flags & HeaderFlag.RESPONSE) !== 0;
    const fromInitiator = (h.flags & HeaderFlag.INITIATOR) !== 0;
    if (h.exchangeType === ExchangeType.IKE_SA_INIT) {
      // DESIGN rule 3: the payload table before any protocol logic (rules.ts).
      if (!checkRules(h.exchangeType, isResponse, msg.payloads, undefined).ok) return void this.counters.dropRules++;
      if (!isResponse) {
        if (!fromInitiator || h.spiR.some((x) => x !== 0)) return void this.counters.dropRules++;
        const existing = this.byInit.get(initKey(h.spiI, d.remote.address, d.remote.port));
        if (existing) {
          const ph = existing.phase;
          const stored = ph.name === 'half-open' && existing.lastRequestRaw && !bytesEqual(existing.lastRequestRaw, d.data) ? decodeMessage(ph.initRequest) : undefined;
          if (ph.name === 'half-open' && existing.lastRequestRaw && (bytesEqual(existing.lastRequestRaw, d.data) || acceptInitVariant(existing, msg, d.data, stored?.ok ? stored.value : undefined))) {
            this.counters.retransmitsAnswered++;
            for (const data of ph.initResponse) this.ctx.transmit({ data, local: d.local, remote: d.remote });
          } else {
            this.counters.dropRetransmitOld++;
          }
          return;
        }
        this.initDeps ??= { cookies: this.cookies, candidates: (x) => this.candidates(x), ikeSasWithPeer: (a) => this.ikeSasWithPeer(a) };
        respondInit(this.ctx, this.initDeps, now, msg, d.data, d);
        return;
      }
      const sa = this.sas.get(hex(h.spiI));
      if (!sa || !sa.initiator || fromInitiator) return void this.counters.dropUnknownSpi++;
      return handleInitResponse(sa, now, msg, d.data, d);
    }
    const localSpi = fromInitiator ? h.spiR : h.spiI;
    const sa = this.sas.get(hex(localSpi));
    if (!sa || sa.initiator === fromInitiator || !bytesEqual(fromInitiator ? h.spiI : h.spiR, fromInitiator ? sa.spiI : sa.spiR)) {
      return void this.counters.dropUnknownSpi++;
    }
    dispatchProtected(sa, now, msg, d.data, d);
  }

  /**
   * RFC 7296 §2.5: an IKE_SA_INIT request with an unrecognised critical payload is answered
   *   <-- HDR(SPIi, 0), N(UNSUPPORTED_CRITICAL_PAYLOAD, payload type)
   * without state (protected requests get the same notify inside SK, exchanges/dispatch.ts).
   */
  private rejectCriticalInit(d: Datagram, payloadType: number): void {
    const h = decodeHeader(d.data);
    if (!h.ok) return;
    const x = h.value;
    const request = (x.flags & HeaderFlag.RESPONSE) === 0 && (x.flags & HeaderFlag.INITIATOR) !== 0;
    if (x.exchangeType !== ExchangeType.IKE_SA_INIT || !request || x.spiR.some((b) => b !== 0)) return;
    const data = encodeMessage(
      { spiI: x.spiI, spiR: new Uint8Array(8), majorVersion: 2, minorVersion: 0, exchangeType: ExchangeType.IKE_SA_INIT, flags: HeaderFlag.RESPONSE, messageId: x.messageId },
      [notify(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, new Uint8Array([payloadType]))],
    );
    this.ctx.transmit({ data, local: d.local, remote: d.remote });
  }

  /** Drives retransmissions, lifetimes, liveness. Call at (or after) `nextTimeout()`. */
  handleTimeout(now: number): void {
    for (const sa of this.uniqueSas()) {
      try {
        handleSaTimeout(sa, now);
      } catch (e) {
        this.internalErrors++;
        this.lastInternalError = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
      }
    }
  }

  /** The runtime saw ESP traffic on inbound SPI `spiIn` (postpones liveness checks). */
  noteChildActivity(now: number, spiIn: number): void {
    for (const sa of this.uniqueSas()) {
      const c = sa.findChildByIn(spiIn);
      if (c) {
        c.lastActivityMs = now;
        if (now > sa.lastInboundMs) sa.lastInboundMs = now;
        return;
      }
    }
  }

  // ---- commands ----------------------------------------------------------------------------------

  /**
   * The connection list was changed in place (a reload, src/runtime/reload.ts): lookups derived from it
   * are rebuilt at next use.
   */
  connectionsChanged(): void {
    this.connByName = undefined;
  }

  private connection(name: string): IkeConnection {
    // A map built at first use and dropped by connectionsChanged(): a gateway with thousands of
    // connections no longer scans them all per initiate().
    if (this.connByName === undefined) {
      this.connByName = new Map();
      for (const x of this.config.connections) if (!this.connByName.has(x.name)) this.connByName.set(x.name, x); // the first wins, as find() did
    }
    const c = this.connByName.get(name);
    if (!c) throw new Error(`initiate: no connection named '${name}'`);
    return c;
  }

  /**
   * Brings up `connection` (and `child`, or all its children). If an IKE SA for it is already
   * established, only the child is created (CREATE_CHILD_SA).
   */
  initiate(now: number, connection: string, child?: string): void {
    const conn = this.connection(connection);
    let children: IkeChildConfig[];
    if (child !== undefined) {
      const c = conn.children.find((x) => x.name === child);
      if (!c) throw new Error(`initiate: connection '${connection}' has no child '${child}'`);
      children = [c];
    } else {
      children = [...conn.children];
    }
    let existing: IkeSa | undefined;
    for (const s of this.byConn.get(conn.name) ?? []) {
      if (s.conn === conn && s.phase.name === 'established' && !s.replacedBy) {
        existing = s;
        break;
      }
    }
    if (existing) {
      for (const c of children) existing.queueTask({ kind: 'create-child', child: c });
      kick(existing, now);
      return;
    }
    // One IKE SA per connection and peer (strongSwan): while ours is still in IKE_SA_INIT/IKE_AUTH, the
    // children join it (the first one rides in IKE_AUTH, the rest follow with CREATE_CHILD_SA).
    const establishing = this.establishingSa(conn);
    if (establishing) {
      const out = establishing.queue.outstanding?.context;
      const inAuth = out !== undefined && out.kind === 'ike-auth' ? out.child : undefined;
      for (const c of children) {
        if (c !== inAuth && !establishing.initialChildren.includes(c)) establishing.initialChildren.push(c);
      }
      return;
    }
    this.startConnection(now, conn, children);
  }

  /** Our not yet established initiator IKE SA of `conn` to its first remote address, if any. */
  private establishingSa(conn: IkeConnection): IkeSa | undefined {
    // byConn holds every registered SA of the connection (initiator SAs are filed at registration).
    for (const s of this.byConn.get(conn.name) ?? []) {
      if (s.conn !== conn || !s.initiator || s.replacedBy || s.remote.address !== conn.remoteAddrs[0]) continue;
      if (s.phase.name === 'init-sent' || s.phase.name === 'auth-sent') return s;
    }
    return undefined;
  }

  private startConnection(now: number, conn: IkeConnection, children: readonly IkeChildConfig[]): void {
    const local = conn.localAddrs[0];
    const remote = conn.remoteAddrs[0];
    if (local === undefined || local === '%any') throw new Error(`initiate: connections.${conn.name}.localAddrs needs a concrete first address`);
    if (remote === undefined || remote === '%any') throw new Error(`initiate: connections.${conn.name}.remoteAddrs needs a concrete first address`);
    startInitiator(this.ctx, now, conn, children, { address: local, port: conn.localPort }, { address: remote, port: conn.remotePort });
  }

  private saOfChild(spiIn: number): IkeSa | undefined {
    return this.uniqueSas().find((s) => s.findChildByIn(spiIn) !== undefined);
  }

  /** Rekeys the child with inbound SPI `spiIn` (e.g. on an ESP soft lifetime event). */
  rekeyChild(now: number, spiIn: number): void {
    const sa = this.saOfChild(spiIn);
    if (!sa) return;
    sa.queueTask({ kind: 'rekey-child', spiIn });
    kick(sa, now);
  }

  rekeyIke(now: number, ikeId: number): void {
    const sa = this.uniqueSas().find((s) => s.ikeId === ikeId && !s.replacedBy && s.phase.name === 'established');
    if (!sa) return;
    sa.queueTask({ kind: 'rekey-ike' });
    kick(sa, now);
  }

  terminateChild(now: number, spiIn: number): void {
    const sa = this.saOfChild(spiIn);
    if (!sa) return;
    sa.queueTask({ kind: 'delete-child', spiIn, reason: 'local' });
    kick(sa, now);
  }

  /** Deletes the IKE SA (and its children) with the peer; a not-yet-established SA just goes. */
  terminateIke(now: number, ikeId: number): void {
    for (const sa of this.uniqueSas()) {
      if (sa.ikeId !== ikeId || sa.replacedBy) continue;
      if (sa.phase.name === 'established') {
        sa.tasks = [{ kind: 'delete-ike', reason: 'local' }];
        kick(sa, now);
      } else if (sa.phase.name !== 'deleting') {
        sa.die(now, 'local');
      }
    }
  }

  // ---- outputs -----------------------------------------------------------------------------------

  pollTransmit(): Datagram | undefined {
    return this.tx.shift();
  }

  pollEvent(): IkeEvent | undefined {
    return this.events.shift();
  }

  nextTimeout(): number | undefined {
    let t: number | undefined;
    for (const sa of this.uniqueSas()) {
      const x = saNextTimeout(sa);
      if (x !== undefined && (t === undefined || x < t)) t = x;
    }
    return t;
  }

  /**
   * Key material of an established IKE SA, for `--keylog` (Wireshark's ikev2_decryption_table). Only
   * the runtime's key log calls this, and only when the user asked for it. Copies: the SA's own
   * arrays are zeroed when it is deleted (SECURITY.md).
   */
  exportIkeKeys(ikeId: number): IkeKeyExport | undefined {
    const sa = this.uniqueSas().find((s) => s.ikeId === ikeId && !s.replacedBy);
    const c = sa?.crypto;
    if (!sa || !c) return undefined;
    return { spiI: sa.spiI.slice(), spiR: sa.spiR.slice(), skEi: c.keys.skEi.slice(), skEr: c.keys.skEr.slice(), skAi: c.keys.skAi.slice(), skAr: c.keys.skAr.slice(), encr: c.algs.encr, integ: c.algs.integ ?? 0 };
  }

  status(): IkeSaStatus[] {
    return this.uniqueSas().map((s) => s.status());
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private uniqueSas(): IkeSa[] {
    const out: IkeSa[] = [];
    for (const s of this.live) if (s.phase.name !== 'dead') out.push(s);
    return out;
  }

  private candidates(d: Datagram): IkeConnection[] {
    return this.config.connections.filter(
      (c) => (c.localAddrs.includes('%any') || c.localAddrs.includes(d.local.address)) && (c.remoteAddrs.includes('%any') || c.remoteAddrs.includes(d.remote.address)),
    );
  }

  private ikeSasWithPeer(address: string): number {
    return this.perPeer.get(address) ?? 0;
  }
}

function initKey(spiI: Uint8Array, address: string, port: number): string {
  return `${hex(spiI)}|${address}|${port}`;
}
