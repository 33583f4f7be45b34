/**
 * One IKE SA (RFC 7296 §1, §2): its state, its exchange queue, its Child SAs, its timers, and the
 * plumbing every exchange shares (protect/unprotect, request/response sending, dispatch).
 *
 * The state is a discriminated union (DESIGN.md §4): keys exist only once IKE_SA_INIT is done, the
 * IKE_SA_INIT bytes (needed for AUTH, §2.15) only until IKE_AUTH is done.
 *
 *   initiator:  init-sent ──IKE_SA_INIT resp──▶ auth-sent ──IKE_AUTH resp──▶ established
 *   responder:  (IKE_SA_INIT req) half-open ──IKE_AUTH req──▶ established
 *   both:       established ──Delete/give-up/expiry──▶ dead
 *
 * Exchange logic lives in `exchanges/*.ts`; this file never decides protocol content.
 */
import type { CryptoProvider, DhKeyPair, RandomSource } from '../crypto/types.js';
import type { IkeConfig, IkeChildConfig, IkeConnection } from './config.js';
import { ExchangeType, HeaderFlag, NotifyType } from './constants.js';
import { ExchangeQueue } from './exchange-queue.js';
import type { Addr, ChildDownReason, Datagram, IkeCounters, IkeDownReason, IkeEvent, IkeSaStatus } from './events.js';
import type { HeaderFields } from './header.js';
import { wipeIkeKeys, type IkeKeys } from './keys.js';
import type { IkeMessage } from './message.js';
import { PayloadType, type NotifyPayload, type Payload, type Proposal, type TrafficSelector, type UnknownPayload } from './payloads/types.js';
import type { NegotiatedAlgorithms } from './proposals.js';
import { describeAlgs } from './proposals.js';
import { ChildSa } from './child-sa.js';
import { formatIp, formatTs } from './traffic-selectors.js';
import type { MessageProtection } from './protection.js';
import type { AddressPools } from './pools.js';

/** What the endpoint lends every IKE SA. */
export interface EngineContext {
  readonly provider: CryptoProvider;
  readonly rng: RandomSource;
  readonly config: IkeConfig;
  readonly counters: IkeCounters;
  emit(e: IkeEvent): void;
  transmit(d: Datagram): void;
  /** A fresh non-zero inbound ESP SPI not in use. */
  allocEspSpi(): number;
  /** A fresh 8-byte IKE SPI not in use. */
  allocIkeSpi(): Uint8Array;
  /** (Re)indexes `sa` under its local SPI. */
  registerSa(sa: IkeSa): void;
  unregisterSa(sa: IkeSa): void;
  /** Unix ms for certificate validity checks (the runtime maps monotonic `now`). */
  wallClockMs(now: number): number;
  /** Re-initiate a connection (dpd_action = restart). */
  reinitiate(now: number, connection: IkeConnection, children: readonly IkeChildConfig[]): void;
  makeProtection(algs: NegotiatedAlgorithms, keys: IkeKeys, initiator: boolean): MessageProtection;
  /** Virtual IP pools (CP, RFC 7296 §2.19); leases are owned by `ikeId`. */
  readonly pools: AddressPools;
}

export interface IkeCrypto {
  readonly algs: NegotiatedAlgorithms;
  readonly keys: IkeKeys;
  readonly protection: MessageProtection;
}

export type IkePhase =
  | {
      readonly name: 'init-sent';
      group: number;
      dh: DhKeyPair;
      readonly nonceI: Uint8Array;
      cookie: Uint8Array | undefined;
      readonly proposals: readonly Proposal[];
      /** Bytes of our latest IKE_SA_INIT request (AUTH signs it, §2.15). */
      request: Uint8Array;
      retries: number;
    }
  | {
      readonly name: 'auth-sent';
      readonly crypto: IkeCrypto;
      readonly nonceI: Uint8Array;
      readonly nonceR: Uint8Array;
      readonly initRequest: Uint8Array;
      readonly initResponse: Uint8Array;
    }
  | {
      readonly name: 'half-open';
      readonly crypto: IkeCrypto;
      readonly nonceI: Uint8Array;
      readonly nonceR: Uint8Array;
      readonly initRequest: Uint8Array;
      /**
       * The initiator's retries of initRequest with a COOKIE in front and every other payload
       * unchanged (§2.6), received while half-open: its AUTH may sign one of these (cookie race).
       */
      readonly initRequestVariants: Uint8Array[];
      readonly initResponse: readonly Uint8Array[];
      readonly deadlineMs: number;
      /** Connections that matched addresses and the IKE proposal (IKE_AUTH picks by identity). */
      readonly candidates: readonly IkeConnection[];
      readonly peerSigHash: boolean;
    }
  | { readonly name: 'established'; readonly crypto: IkeCrypto; readonly establishedAtMs: number }
  | { readonly name: 'deleting'; readonly crypto: IkeCrypto }
  | { readonly name: 'dead' };

/** Work an IKE SA wants to start as initiator, done one at a time (window size 1). */
export type IkeTask =
  | { readonly kind: 'create-child'; readonly child: IkeChildConfig }
  | { readonly kind: 'rekey-child'; readonly spiIn: number }
  | { readonly kind: 'delete-child'; readonly spiIn: number; readonly reason: ChildDownReason }
  | { readonly kind: 'rekey-ike' }
  | { readonly kind: 'delete-ike'; readonly reason: IkeDownReason }
  | { readonly kind: 'dpd' };

/** Context of our outstanding request (ExchangeQueue<Pending>). */
export type Pending =
  | { readonly kind: 'ike-init' }
  | {
      readonly kind: 'ike-auth';
      readonly child: IkeChildConfig | undefined;
      readonly spiIn: number;
      readonly proposals: readonly Proposal[];
      readonly tsI: readonly TrafficSelector[];
      readonly tsR: readonly TrafficSelector[];
      readonly transport: boolean;
      readonly localIdBody: Uint8Array;
      readonly sentSigHash: boolean;
    }
  | {
      readonly kind: 'create-child';
      readonly child: IkeChildConfig;
      readonly spiIn: number;
      readonly nonceI: Uint8Array;
      readonly dh: DhKeyPair | undefined;
      readonly group: number | undefined;
      readonly proposals: readonly Proposal[];
      readonly tsI: readonly TrafficSelector[];
      readonly tsR: readonly TrafficSelector[];
      readonly transport: boolean;
      /** The child being rekeyed (REKEY_SA), if this is a rekey. */
      readonly rekey: ChildSa | undefined;
      readonly keRetries: number;
    }
  | {
      readonly kind: 'rekey-ike';
      readonly newSpiI: Uint8Array;
      readonly nonceI: Uint8Array;
      readonly dh: DhKeyPair;
      readonly group: number;
      readonly proposals: readonly Proposal[];
      readonly keRetries: number;
    }
  | { readonly kind: 'delete-child'; readonly children: readonly ChildSa[]; readonly reason: ChildDownReason }
  | { readonly kind: 'delete-ike'; readonly reason: IkeDownReason }
  | { readonly kind: 'dpd' };

let nextIkeId = 1;
const NO_VIPS: readonly Uint8Array[] = Object.freeze([]);

export class IkeSa {
  readonly ikeId: number;
  phase: IkePhase;
  readonly queue: ExchangeQueue<Pending>;
  children: ChildSa[] = [];
  tasks: IkeTask[] = [];
  localId = '';
  remoteId = '';
  /** NAT_DETECTION_*: a NAT in front of us / in front of the peer (RFC 7296 §2.23). */
  natLocal = false;
  natRemote = false;
  /** The peer announced IKEV2_FRAGMENTATION_SUPPORTED and we allow it (RFC 7383 §2.3). */
  fragmentation = false;
  /** The peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4), if it sent the notify. */
  peerHashIds: readonly number[] | undefined;
  /** CA key hashes (SHA-1 of SPKI) from the peer's CERTREQ payloads (RFC 7296 §3.7), if any. */
  peerCertReq: readonly Uint8Array[] | undefined;
  lastInboundMs: number;
  rekeyAtMs: number | undefined;
  expireAtMs: number | undefined;
  /** Child configs to create right after IKE_AUTH (the first one goes into IKE_AUTH). */
  initialChildren: IkeChildConfig[] = [];
  /** Set when an IKE rekey moved everything to a new SA; this one only waits to be deleted. */
  replacedBy: IkeSa | undefined;
  /** Our own rekey-ike exchange result while a collision is pending (§2.8.2). */
  ikeRekeyCollision: { peerNonceI: Uint8Array; ourNonceR: Uint8Array; newSa: IkeSa } | undefined;
  ikeUpEmitted = false;
  /** A replaced (rekeyed) SA waits this long for the peer's Delete before it goes away. */
  lingerUntilMs: number | undefined;
  /** Raw bytes of the last request we answered, to recognise its retransmits (§2.1). */
  lastRequestRaw: Uint8Array | undefined;
  /** Virtual IPs the peer assigned us (CFG_REPLY, §2.19); a shared empty array until then (memory per SA). */
  localVips: readonly Uint8Array[] = NO_VIPS;
  /** Virtual IPs we assigned the peer from our pools. */
  remoteVips: readonly Uint8Array[] = NO_VIPS;
  /**
   * The endpoint's bookkeeping (endpoint.ts), kept on the SA instead of Maps keyed by SA: the peer
   * address it was counted under (per-peer limit), the connection name it is indexed under, and its
   * keys in the IKE_SA_INIT retransmit index (responder).
   */
  countedPeer: string | undefined = undefined;
  indexedConn: string | undefined = undefined;
  initKeys: string[] | undefined = undefined;

  constructor(
    readonly ctx: EngineContext,
    public conn: IkeConnection,
    /** Original initiator of THIS IKE SA (sets the I flag, picks SK_ei vs SK_er). */
    readonly initiator: boolean,
    public spiI: Uint8Array,
    public spiR: Uint8Array,
    public local: Addr,
    public remote: Addr,
    phase: IkePhase,
    now: number,
    ikeId?: number,
  ) {
    this.ikeId = ikeId ?? nextIkeId++;
    this.phase = phase;
    this.queue = new ExchangeQueue<Pending>(ctx.config.limits.retransmit);
    this.lastInboundMs = now;
  }

  get name(): string {
    return this.conn.name;
  }

  /** UDP encapsulation of ESP (RFC 3948): a NAT was detected, or forced with `encap`. */
  get encap(): boolean {
    return this.natLocal || this.natRemote || this.conn.encap;
  }

  /** The local SPI the endpoint indexes us by. */
  get localSpi(): Uint8Array {
    return this.initiator ? this.spiI : this.spiR;
  }

  get crypto(): IkeCrypto | undefined {
    const p = this.phase;
    return p.name === 'init-sent' || p.name === 'dead' ? undefined : p.crypto;
  }

  get isEstablished(): boolean {
    return this.phase.name === 'established';
  }

  /** After NAT detection (or forced encap) IKE moves to port 4500 (RFC 7296 §2.23, RFC 3948). */
  floatTo4500(): void {
    if (this.local.port !== 4500) this.local = { address: this.local.address, port: 4500 };
    if (this.remote.port === 500) this.remote = { address: this.remote.address, port: 4500 };
  }

  // ---- sending --------------------------------------------------------------------------------

  private header(exchangeType: number, messageId: number, response: boolean): HeaderFields {
    let flags = 0;
    if (this.initiator) flags |= HeaderFlag.INITIATOR;
    if (response) flags |= HeaderFlag.RESPONSE;
    return { spiI: this.spiI, spiR: this.spiR, majorVersion: 2, minorVersion: 0, exchangeType, flags, messageId };
  }

  private seal(exchangeType: number, messageId: number, response: boolean, inner: readonly Payload[]): Uint8Array[] {
    const c = this.crypto;
    if (!c) throw new Error('IkeSa.seal: no keys yet');
    return c.protection.seal(this.header(exchangeType, messageId, response), inner, this.fragmentation ? this.ikeFragmentSize() : undefined);
  }

  /**
   * The largest IKE message (header included) we send unfragmented: `conn.fragmentSize` is the
   * whole IP datagram, as strongSwan's `fragment_size` (RFC 7383 §2.5.1), so subtract the IP
   * header (20 / 40), UDP (8) and the RFC 3948 non-ESP marker on port 4500 (4).
   */
  ikeFragmentSize(): number {
    const ip = this.remote.address.includes(':') ? 40 : 20;
    const marker = this.remote.port === 4500 || this.local.port === 4500 ? 4 : 0;
    return this.conn.fragmentSize - ip - 8 - marker;
  }

  transmitAll(datagrams: readonly Uint8Array[]): void {
    for (const data of datagrams) this.ctx.transmit({ data, local: this.local, remote: this.remote });
  }

  /** HDR, SK {inner} --> as a new request (window size 1: the caller checked `queue.busy`). */
  sendRequest(now: number, exchangeType: number, inner: readonly Payload[], pending: Pending): void {
    const datagrams = this.seal(exchangeType, this.queue.nextRequestId, false, inner);
    this.queue.sendRequest(now, exchangeType, datagrams, pending);
    this.transmitAll(datagrams);
  }

  /** <-- HDR, SK {inner} answering request `messageId`; cached for retransmits. */
  sendResponse(messageId: number, exchangeType: number, inner: readonly Payload[]): void {
    const datagrams = this.seal(exchangeType, messageId, true, inner);
    this.queue.recordResponse(messageId, datagrams);
    this.transmitAll(datagrams);
  }

  /** A request we send without waiting for (or retransmitting) an answer, e.g. the last Delete. */
  sendOneShot(exchangeType: number, inner: readonly Payload[]): void {
    if (!this.crypto) return;
    const datagrams = this.seal(exchangeType, this.queue.nextRequestId, false, inner);
    this.transmitAll(datagrams);
  }

  // ---- tasks ----------------------------------------------------------------------------------

  queueTask(task: IkeTask): void {
    if (task.kind === 'rekey-ike' && this.tasks.some((t) => t.kind === 'rekey-ike')) return;
    if (task.kind === 'dpd' && this.tasks.some((t) => t.kind === 'dpd')) return;
    if (task.kind === 'delete-ike' && this.tasks.some((t) => t.kind === 'delete-ike')) return;
    if (task.kind === 'rekey-child' && this.tasks.some((t) => t.kind === 'rekey-child' && t.spiIn === task.spiIn)) return;
    this.tasks.push(task);
  }

  findChildByIn(spiIn: number): ChildSa | undefined {
    return this.children.find((c) => c.spiIn === spiIn);
  }

  findChildByOut(spiOut: number): ChildSa | undefined {
    return this.children.find((c) => c.spiOut === spiOut);
  }

  // ---- events ---------------------------------------------------------------------------------

  emitIkeUp(): void {
    const c = this.crypto;
    this.ikeUpEmitted = true;
    this.ctx.emit({
      type: 'ike-up',
      ikeName: this.name,
      ikeId: this.ikeId,
      spiI: hex(this.spiI),
      spiR: hex(this.spiR),
      initiator: this.initiator,
      localAddr: this.local,
      remoteAddr: this.remote,
      localId: this.localId,
      remoteId: this.remoteId,
      encap: this.encap,
      algorithms: c ? describeAlgs(c.algs) : '',
      ...this.vipFields(),
    });
  }

  /** `localVips` / `remoteVips` event fields, present only when there are any. */
  private vipFields(): { localVips?: string[]; remoteVips?: string[] } {
    const out: { localVips?: string[]; remoteVips?: string[] } = {};
    if (this.localVips.length > 0) out.localVips = this.localVips.map(formatIp);
    if (this.remoteVips.length > 0) out.remoteVips = this.remoteVips.map(formatIp);
    return out;
  }

  emitChildUp(child: ChildSa): void {
    const e = child.upEvent(this.name, this.ikeId, this.encap, this.local, this.remote);
    if (this.localVips.length > 0) e.localVips = this.localVips.map(formatIp);
    if (this.remoteVips.length > 0) e.remoteVips = this.remoteVips.map(formatIp);
    this.ctx.emit(e);
  }

  emitChildRekeyed(old: ChildSa, child: ChildSa): void {
    this.ctx.emit({
      type: 'child-rekeyed',
      ikeName: this.name,
      ikeId: this.ikeId,
      childName: child.name,
      oldSpiIn: old.spiIn,
      oldSpiOut: old.spiOut,
      child: { ...child.info(this.name, this.ikeId, this.encap, this.local, this.remote), ...this.vipFields() },
    });
  }

  /** Removes a child and tells the runtime (only children the runtime knows about). */
  removeChild(child: ChildSa, reason: ChildDownReason, announce = true): void {
    const i = this.children.indexOf(child);
    if (i < 0) return;
    this.children.splice(i, 1);
    if (announce && child.announced) this.ctx.emit({ type: 'child-down', ikeName: this.name, ikeId: this.ikeId, childName: child.name, spiIn: child.spiIn, spiOut: child.spiOut, reason });
    child.wipe();
  }

  /**
   * Tears the SA down locally: every child down, ike-down (if anyone heard of this SA), index
   * removed. Idempotent.
   */
  die(now: number, reason: IkeDownReason, detail?: string, announce = true): void {
    if (this.phase.name === 'dead') return;
    const wasUp = this.ikeUpEmitted || this.phase.name === 'auth-sent' || this.phase.name === 'half-open' || this.phase.name === 'established' || this.phase.name === 'deleting';
    const children = [...this.children];
    for (const c of children) this.removeChild(c, 'ike-down');
    wipePending(this.queue.abandon()?.context);
    this.tasks = [];
    if (this.phase.name === 'half-open') this.ctx.counters.halfOpen--;
    wipePhase(this.phase);
    this.phase = { name: 'dead' };
    this.ctx.unregisterSa(this);
    // The IKE SA is gone for good (not replaced by a rekey, which keeps ikeId): its leases go back.
    if (this.replacedBy === undefined) this.ctx.pools.release(this.ikeId);
    // A replaced (rekeyed) SA goes silently: its ikeId and children live on in the new SA, so an
    // ike-down (e.g. its Delete got no answer on a lossy path) would tell the runtime the wrong thing.
    if (announce && (wasUp || this.initiator) && this.replacedBy === undefined) {
      const e: IkeEvent = detail === undefined ? { type: 'ike-down', ikeName: this.name, ikeId: this.ikeId, reason } : { type: 'ike-down', ikeName: this.name, ikeId: this.ikeId, reason, detail };
      this.ctx.emit(e);
    }
    // dpd_action / close_action for children whose IKE SA failed (strongSwan semantics).
    if ((reason === 'dpd' || reason === 'timeout') && this.replacedBy === undefined) {
      const restart = new Map<string, IkeChildConfig>();
      for (const c of children) if (c.config.dpdAction === 'restart') restart.set(c.name, c.config);
      if (restart.size > 0 || (children.length === 0 && this.initiator && this.conn.children.some((c) => c.dpdAction === 'restart'))) {
        const list = restart.size > 0 ? [...restart.values()] : this.conn.children.filter((c) => c.dpdAction === 'restart');
        this.ctx.reinitiate(now, this.conn, list);
      }
    }
  }

  status(): IkeSaStatus {
    const c = this.crypto;
    return {
      ikeId: this.ikeId,
      name: this.name,
      state: this.replacedBy ? 'rekeyed' : this.phase.name,
      initiator: this.initiator,
      spiI: hex(this.spiI),
      spiR: hex(this.spiR),
      localAddr: this.local,
      remoteAddr: this.remote,
      localId: this.localId,
      remoteId: this.remoteId,
      algorithms: c ? describeAlgs(c.algs) : '',
      encap: this.encap,
      establishedAtMs: this.phase.name === 'established' ? this.phase.establishedAtMs : undefined,
      rekeyAtMs: this.rekeyAtMs,
      fragments: c ? { ...c.protection.fragmentStats } : undefined,
      children: this.children.map((ch) => ({
        name: ch.name,
        state: ch.state,
        spiIn: ch.spiIn,
        spiOut: ch.spiOut,
        mode: ch.mode,
        encap: this.encap,
        tsLocal: ch.tsLocal.map(formatTs),
        tsRemote: ch.tsRemote.map(formatTs),
        establishedAtMs: ch.establishedAtMs,
        rekeyAtMs: ch.rekeyAtMs,
        expireAtMs: ch.expireAtMs,
      })),
    };
  }
}

/** Two hex digits per byte value: SPI map keys are built per message (endpoint routing). */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX_BYTE[b[i]!]!;
  return s;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Zeroes SK_* keys, nonces and a DH private value a dying SA's phase holds (SECURITY.md). */
function wipePhase(p: IkePhase): void {
  if (p.name === 'dead') return;
  if (p.name === 'init-sent') {
    p.dh.privateKey.fill(0);
    p.nonceI.fill(0);
    return;
  }
  wipeIkeKeys(p.crypto.keys);
  if (p.name === 'auth-sent' || p.name === 'half-open') {
    p.nonceI.fill(0);
    p.nonceR.fill(0);
  }
}

/** Zeroes the DH private value and nonce of an exchange abandoned with its SA. */
function wipePending(p: Pending | undefined): void {
  if (p === undefined) return;
  if (p.kind === 'create-child' || p.kind === 'rekey-ike') {
    p.dh?.privateKey.fill(0);
  }
}

/** Lexicographic comparison (RFC 7296 §2.8.1: "the lowest of the four nonces"). */
export function compareNonces(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

// Notify helpers shared by the exchanges.
export function notify(notifyType: number, data: Uint8Array = new Uint8Array(0), protocolId = 0, spi: Uint8Array = new Uint8Array(0)): Payload {
  return { type: PayloadType.NOTIFY, critical: false, protocolId, spi, notifyType, data };
}

type KnownPayload = Exclude<Payload, UnknownPayload>;
/** The payload interface whose `type` admits T (TsPayload for 44 and 45, IdPayload for 35/36). */
export type PayloadOf<T extends number, P = KnownPayload> = P extends { type: infer U } ? (T extends U ? P : never) : never;

function isKnown(p: Payload): p is KnownPayload {
  return !('unknown' in p);
}

export function findNotify(payloads: readonly Payload[], notifyType: number): NotifyPayload | undefined {
  for (const p of payloads) if (p.type === PayloadType.NOTIFY && isKnown(p) && p.notifyType === notifyType) return p; // the cheap type test first
  return undefined;
}

/** The first error notify (type < 16384) in a message, if any. */
export function firstError(payloads: readonly Payload[]): number | undefined {
  for (const p of payloads) if (p.type === PayloadType.NOTIFY && isKnown(p) && p.notifyType > 0 && p.notifyType < 16384) return p.notifyType;
  return undefined;
}

export function findPayload<T extends number>(payloads: readonly Payload[], type: T): PayloadOf<T> | undefined {
  for (const p of payloads) if (p.type === type && isKnown(p)) return p as PayloadOf<T>;
  return undefined;
}

export function findPayloads<T extends number>(payloads: readonly Payload[], type: T): PayloadOf<T>[] {
  return payloads.filter((p) => p.type === type && isKnown(p)) as PayloadOf<T>[];
}

export function drawBytes(rng: RandomSource, n: number): Uint8Array {
  return rng.fill(new Uint8Array(n));
}

export const NONCE_LENGTH = 32;

export { ExchangeType, NotifyType };
export type { IkeMessage };
