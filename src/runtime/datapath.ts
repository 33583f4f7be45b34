/**
 * The ESP data plane glue: installs ESP SAs from IKE child events and moves packets between the TUN
 * device and ESP-in-UDP datagrams (RFC 3948). No sockets or timers here: the runtime calls
 * `outbound(packet)` for every TUN packet and `inbound(esp, from)` for every ESP datagram, and sends or
 * writes what comes back. Everything untrusted ends in a counted drop, never a throw.
 *
 * Tunnel mode (RFC 4303 §3.1.2): the whole inner IP packet is the ESP payload (Next Header 4 / 41).
 * Transport mode (RFC 4303 §3.1.1): the IP header is removed on seal (Next Header = its protocol) and
 * rebuilt on open from the SA's addresses. Upper-layer checksums are left as they are: they were
 * computed over the same end-point addresses (no NAT between the peers; RFC 3948 §3.1.2 fix-ups for
 * transport mode behind a NAT are not implemented).
 */
import type { CryptoProvider, IntegName, RandomSource } from '../crypto/types.js';
import { Drop, DROP_COUNT, newDropCounters } from '../esp/drop.js';
import { espOpen, OpenResult } from '../esp/open.js';
import { createEspSa, type EspAlgorithm, type EspSa } from '../esp/sa.js';
import { Sad } from '../esp/sad.js';
import { espSeal, espTailroom } from '../esp/seal.js';
import { anySelectorMatches, type EspTrafficSelector } from '../esp/selector.js';
import type { Addr, ChildSaInfo } from '../ike/events.js';
import { IpPeek, IpProto, peekIp, writeIpv4Header } from '../wire/ip.js';
import { parseIp } from '../wire/addr.js';
import type { DataPlaneThreadStats } from './dataplane-protocol.js';

/** Drops on the TUN side (before an SA is chosen), indexed like the ESP drops but in their own array. */
export const TunDrop = { malformed: 0, noPolicy: 1, sealFailed: 2, tooBig: 3 } as const;
export type TunDrop = (typeof TunDrop)[keyof typeof TunDrop];
export const TUN_DROP_NAMES = ['malformed', 'noPolicy', 'sealFailed', 'tooBig'] as const;

const HEADROOM = 64;
const MAX_PACKET = 65535;
const TAILROOM = 300;
/**
 * Outbound packets are sealed in place in a slab and handed out as views (no per-packet ArrayBuffer,
 * no second copy). A slab is never reused: a full one is dropped and a fresh one taken, so a view
 * queued in a socket stays valid however long the send takes.
 */
const SLAB_BYTES = 1 << 20;
const SLOT_MAX = HEADROOM + MAX_PACKET + TAILROOM;

/**
 * A slab without the zero fill (Buffer.allocUnsafeSlow, unpooled, seen as a plain Uint8Array so the hot
 * code stays monomorphic): a fresh slab every few hundred packets was a 0.5–1 MiB memset each time (5 %
 * of the sender's CPU in a perf profile). Only bytes written by a read or a seal are ever handed out.
 */
function uninitialized(n: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/** One installed child SA pair. */
export interface InstalledChild {
  readonly info: ChildSaInfo;
  readonly inSa: EspSa;
  readonly outSa: EspSa;
  readonly tsLocal: readonly EspTrafficSelector[];
  readonly tsRemote: readonly EspTrafficSelector[];
  readonly localIp: Uint8Array;
  readonly remoteIp: Uint8Array;
  /** `info.localAddr` / `info.remoteAddr` / `info.encap` as fresh objects of one shape (see `sameShape`). */
  readonly local: Addr;
  readonly remote: Addr;
  readonly encap: boolean;
  /** The outbound SA carries traffic (false while a rekeyed successor is not yet switched to). */
  active: boolean;
  /**
   * Rekey responder (RFC 7296 §2.8): the new SA is installed in both directions but we keep sending on
   * the old one until the peer shows it has the new one (a packet arrives on it) or the old SA goes.
   */
  pendingSwitch: boolean;
  /** A rekeyed-away SA whose Delete is done: its inbound SA still opens stragglers until this time (ms). */
  retireAtMs: number;
  lastInboundAtMs: number;
}

/** How long the inbound half of a rekeyed-away SA keeps accepting packets after its Delete (reordered stragglers). */
export const REKEY_LINGER_MS = 1000;

export interface OutboundPacket {
  /** The ESP packet (SPI first): a view into a slab that is never rewritten, so the caller may keep it or queue it in a socket. */
  readonly data: Uint8Array;
  readonly local: Addr;
  readonly remote: Addr;
  /** ESP-in-UDP (RFC 3948) to `remote`'s port; false: raw ESP, IP protocol 50 (`remote`'s port unused). */
  readonly encap: boolean;
}

const INTEG_NAMES: Record<number, IntegName> = { 12: 'hmac-sha256-128', 13: 'hmac-sha384-192', 14: 'hmac-sha512-256' };

/** IANA ENCR/INTEG numbers from a child event → the ESP core's algorithm. Throws on an unsupported one. */
export function espAlgorithmFromChild(info: ChildSaInfo): EspAlgorithm {
  const a = info.algorithms;
  switch (a.encr) {
    case 20: return { encr: 'aes-gcm-16', keyBits: a.encrKeyBits };
    case 28: return { encr: 'chacha20-poly1305' };
    case 12: {
      const integ = a.integ === undefined ? undefined : INTEG_NAMES[a.integ];
      if (!integ) throw new Error(`child ${info.childName}: unsupported ESP integrity algorithm ${a.integ}`);
      return { encr: 'aes-cbc', keyBits: a.encrKeyBits, integ };
    }
    default: throw new Error(`child ${info.childName}: unsupported ESP encryption algorithm ${a.encr}`);
  }
}

/**
 * A selector as a fresh object literal with one field order. The per-packet code (selector matching,
 * inbound policy) then sees one hidden class whatever made the child's selectors: the IKE engine, a
 * structured clone (the data-plane worker) or the warm-up. Selectors of another shape deoptimized the
 * warmed-up code at the first real packet, and at ping rates it stayed in V8's baseline tier.
 */
function sameShape(ts: EspTrafficSelector): EspTrafficSelector {
  return { tsType: ts.tsType, ipProtocol: ts.ipProtocol, startPort: ts.startPort, endPort: ts.endPort, startAddress: ts.startAddress, endAddress: ts.endAddress };
}

export function ipToBytes(ip: string): Uint8Array {
  const b = parseIp(ip);
  if (b === undefined) throw new Error(`not an IP address: ${ip}`);
  return b;
}

export class DataPath {
  readonly sad = new Sad();
  /** Drops on the TUN → ESP path by `TunDrop`. */
  readonly tunDrops = new Uint32Array(TUN_DROP_NAMES.length);
  /** Drops on the ESP → TUN path by `Drop` code, summed over all SAs and the SAD. */
  readonly espDrops = newDropCounters();
  private readonly children: InstalledChild[] = [];
  private readonly bySpiIn = new Map<number, InstalledChild>();
  private readonly peek = new IpPeek();
  private readonly opened = new OpenResult();
  private slab = uninitialized(SLAB_BYTES);
  private slabOff = 0;
  /** Called for a TUN packet no installed child matches; true: taken (by a trap), not counted as `noPolicy`. */
  noPolicy: ((pkt: Uint8Array, peek: IpPeek) => boolean) | undefined = undefined;
  /**
   * Sends an ESP packet of a child that is not UDP-encapsulated (raw ESP) on the runtime's raw socket.
   * Only a data path that seals elsewhere (the data-plane worker, dataplane-worker.ts) calls it; this
   * class returns such packets from `outbound` instead.
   */
  rawOut: ((data: Uint8Array, remoteAddress: string, localAddress: string) => void) | undefined = undefined;

  /** Brings the counters (`tunDrops`, `espDrops`, each SA's stats and drops) up to date; here they always are. */
  syncStats(): void {}

  /** The data-plane thread's counters when packets run in a worker (dataplane-worker.ts); null here. */
  threadStats(): DataPlaneThreadStats | null {
    return null;
  }

  /** Releases what the data path holds beyond its SAs (the worker thread); the runtime calls it before closing sockets. */
  async close(): Promise<void> {}

  constructor(private readonly provider: CryptoProvider, private readonly rng: RandomSource) {}

  /**
   * Installs both directions of a child SA (new or rekeyed); the newest SA for a child name carries
   * traffic. `deferSwitch` (the rekey responder): keep sending on the current SA until a packet arrives
   * on the new one or the current one is removed.
   */
  install(info: ChildSaInfo, nowMs: number, deferSwitch = false): InstalledChild {
    const algorithm = espAlgorithmFromChild(info);
    const common = { algorithm, provider: this.provider, mode: info.mode, esn: info.algorithms.esn } as const;
    const tsLocal = info.tsLocal.map(sameShape);
    const tsRemote = info.tsRemote.map(sameShape);
    const inSa = createEspSa({
      ...common, direction: 'in', spi: info.spiIn, encKey: info.keys.encrIn,
      integKey: info.keys.integIn.length ? info.keys.integIn : undefined,
      replayWindow: Math.max(32, info.replayWindow || 128),
      // Inbound policy (RFC 4301 §5.2): inner destination ∈ our selectors, source ∈ the peer's.
      tsLocal: info.mode === 'tunnel' ? tsLocal : undefined, tsRemote: info.mode === 'tunnel' ? tsRemote : undefined,
    });
    const outSa = createEspSa({
      ...common, direction: 'out', spi: info.spiOut, encKey: info.keys.encrOut,
      integKey: info.keys.integOut.length ? info.keys.integOut : undefined, rng: this.rng,
    });
    const child: InstalledChild = {
      info, inSa, outSa, tsLocal, tsRemote,
      localIp: ipToBytes(info.localAddr.address), remoteIp: ipToBytes(info.remoteAddr.address),
      local: { address: info.localAddr.address, port: info.localAddr.port },
      remote: { address: info.remoteAddr.address, port: info.remoteAddr.port },
      encap: info.encap,
      active: true, pendingSwitch: false, retireAtMs: Infinity, lastInboundAtMs: nowMs,
    };
    this.sad.replace(inSa);
    // Make-before-break: the newest SA of the same child takes over outbound; older ones keep receiving.
    const current = this.children.find((c) => c.active && c.retireAtMs === Infinity && c.info.ikeId === info.ikeId && c.info.childName === info.childName);
    if (deferSwitch && current !== undefined) {
      child.active = false;
      child.pendingSwitch = true;
    } else {
      for (const c of this.children) if (c.info.ikeId === info.ikeId && c.info.childName === info.childName) c.active = false;
    }
    this.children.unshift(child);
    this.bySpiIn.set(info.spiIn, child);
    return child;
  }

  /** Sends on `c` from now on (a deferred rekey switch): the other SAs of its child stop sending. */
  private switchTo(c: InstalledChild): void {
    for (const x of this.children) if (x.info.ikeId === c.info.ikeId && x.info.childName === c.info.childName) x.active = false;
    c.active = true;
    c.pendingSwitch = false;
  }

  /** SAs retired by `retire`, still open for inbound stragglers. */
  private retiring = 0;
  private nextRetireAt = Infinity;

  /**
   * The SA pair whose inbound SPI is `spiIn` was rekeyed away and deleted: it stops sending at once (the
   * successor takes over), its inbound SA opens reordered stragglers until `untilMs`, then it is removed
   * (by `sweep`, called from `inbound` and by the runtime's timer). Returns the child, or undefined.
   */
  retire(spiIn: number, untilMs: number): InstalledChild | undefined {
    const c = this.bySpiIn.get(spiIn);
    if (!c) return undefined;
    if (c.retireAtMs !== Infinity) return c;
    c.retireAtMs = untilMs;
    c.outSa.aead?.dispose?.();
    if (c.active || c.pendingSwitch) {
      c.active = false;
      c.pendingSwitch = false;
      const next = this.children.find((x) => x !== c && x.retireAtMs === Infinity && x.info.ikeId === c.info.ikeId && x.info.childName === c.info.childName);
      if (next) this.switchTo(next);
    } else {
      // A successor waiting for the peer (deferred switch) takes over now that this SA is gone.
      const next = this.children.find((x) => x.pendingSwitch && x.info.ikeId === c.info.ikeId && x.info.childName === c.info.childName);
      if (next && !this.children.some((x) => x.active && x.info.ikeId === c.info.ikeId && x.info.childName === c.info.childName)) this.switchTo(next);
    }
    this.retiring++;
    if (untilMs < this.nextRetireAt) this.nextRetireAt = untilMs;
    return c;
  }

  /** Removes retired SAs whose linger time is over. */
  sweep(nowMs: number): void {
    if (this.retiring === 0 || nowMs < this.nextRetireAt) return;
    let next = Infinity;
    for (const c of [...this.children]) {
      if (c.retireAtMs === Infinity) continue;
      if (c.retireAtMs <= nowMs) this.remove(c.info.spiIn);
      else if (c.retireAtMs < next) next = c.retireAtMs;
    }
    this.nextRetireAt = next;
  }

  /** Removes the child SA pair whose inbound SPI is `spiIn`. */
  remove(spiIn: number): InstalledChild | undefined {
    const c = this.bySpiIn.get(spiIn);
    if (!c) return undefined;
    if (c.retireAtMs !== Infinity) this.retiring--;
    this.bySpiIn.delete(spiIn);
    this.sad.remove(spiIn);
    const i = this.children.indexOf(c);
    if (i >= 0) this.children.splice(i, 1);
    // Sad.remove wiped the inbound SA; the outbound one is ours to wipe (salt and scratch zeroed, native
    // AEAD context freed now rather than whenever the SA objects are collected; SECURITY.md).
    c.inSa.aead?.dispose?.();
    c.outSa.wipe();
    // If the removed SA was active, the newest remaining SA of that child carries traffic again.
    if (c.active || c.pendingSwitch || !this.children.some((x) => x.active && x.info.ikeId === c.info.ikeId && x.info.childName === c.info.childName)) {
      const next = this.children.find((x) => x.retireAtMs === Infinity && x.info.ikeId === c.info.ikeId && x.info.childName === c.info.childName);
      if (next) this.switchTo(next);
    }
    return c;
  }

  /**
   * Runs `rounds` synthetic packets (a 84-byte ping and a 1400-byte packet, alternating) through
   * `outbound` and `inbound` of a throwaway DataPath holding one SA pair with `info`'s algorithms and
   * mode and fresh random keys (its outbound SA is its own inbound one), so V8 has optimized the
   * per-packet code before the first real packet. Without it the first thousand packets run in the
   * interpreter: a ping through an idle tunnel took ~0.15 ms more per hop (bench/e2e RTT). The keys
   * and CBC IVs are a fixed pattern (they protect nothing) so the real RandomSource is not drawn from.
   */
  warmUp(info: ChildSaInfo, rounds = 2000): void {
    // Two mirrored SA pairs with the child's own selectors: X seals what Y opens and back, so both
    // directions see the real selector ranges (tunnel mode, IPv4 selectors; else nothing to warm).
    const l = info.tsLocal[0];
    const r = info.tsRemote[0];
    if (info.mode !== 'tunnel' || l === undefined || r === undefined || l.startAddress.length !== 4 || r.startAddress.length !== 4) return;
    const k1 = new Uint8Array(info.keys.encrOut.length).fill(0x5a);
    const k2 = new Uint8Array(info.keys.encrOut.length).fill(0x6b);
    const i1 = new Uint8Array(info.keys.integOut.length).fill(0xa5);
    const i2 = new Uint8Array(info.keys.integOut.length).fill(0xb6);
    const scratch = new DataPath(this.provider, { fill: (out: Uint8Array) => out.fill(0x3c) });
    const common = { localAddr: { address: '127.0.0.1', port: 4500 }, remoteAddr: { address: '127.0.0.1', port: 4500 }, replayWindow: Math.max(64, info.replayWindow) };
    scratch.install({ ...info, ...common, childName: 'warm-x', spiIn: 0x7fff0001, spiOut: 0x7fff0002, keys: { encrIn: k1, encrOut: k2, integIn: i1, integOut: i2 } }, 0.5);
    scratch.install({ ...info, ...common, childName: 'warm-y', spiIn: 0x7fff0002, spiOut: 0x7fff0001, tsLocal: info.tsRemote, tsRemote: info.tsLocal, keys: { encrIn: k2, encrOut: k1, integIn: i2, integOut: i1 } }, 0.5);
    // ICMP echo, UDP and TCP (the branches of the header peek and selector match), small and large, both
    // ways; times are fractional like the runtime's performance.now(), so no field changes representation later.
    const packets: Uint8Array[] = [];
    for (const [src, dst] of [[l, r], [r, l]] as const) {
      for (const [protocol, len] of [[1, 84], [17, 1400], [6, 1400], [6, 52]] as const) {
        const p = new Uint8Array(len);
        writeIpv4Header(p, 0, { totalLength: len, protocol, src: src.startAddress, dst: dst.startAddress });
        p[20] = protocol === 1 ? 8 : 0x30; p[21] = 0x39; p[22] = 0x30; p[23] = 0x39;
        if (protocol === 6) p[32] = 0x50;
        packets.push(p);
      }
    }
    for (let i = 0; i < rounds; i++) {
      const out = scratch.outbound(packets[i & 7]!);
      if (out === null || scratch.inbound(out.data.slice(), i + 0.5) === null) throw new Error(`warm-up: ${info.childName}: the ESP path fails on its own SA pair`);
    }
    scratch.remove(0x7fff0001);
    scratch.remove(0x7fff0002);
  }

  installed(): readonly InstalledChild[] {
    return this.children;
  }

  child(spiIn: number): InstalledChild | undefined {
    return this.bySpiIn.get(spiIn);
  }

  /** TUN → ESP. Returns the datagram to send, or null (counted in `tunDrops` / the SA's drops). */
  outbound(pkt: Uint8Array): OutboundPacket | null {
    const p = this.peek;
    if (pkt.length > MAX_PACKET || !peekIp(pkt, 0, pkt.length, p)) {
      this.tunDrops[pkt.length > MAX_PACKET ? TunDrop.tooBig : TunDrop.malformed]!++;
      return null;
    }
    let child: InstalledChild | undefined;
    for (let i = 0; i < this.children.length; i++) {
      const c = this.children[i]!;
      if (!c.active) continue;
      if (anySelectorMatches(c.tsLocal, pkt, p.srcOffset, p.addressLength, p.protocol, p.srcPort)
        && anySelectorMatches(c.tsRemote, pkt, p.dstOffset, p.addressLength, p.protocol, p.dstPort)) { child = c; break; }
    }
    if (child === undefined) {
      // A trap policy (runtime/traps.ts) may take it: held or dropped there, and an acquire raised.
      if (this.noPolicy !== undefined && this.noPolicy(pkt, p)) return null;
      this.tunDrops[TunDrop.noPolicy]!++;
      return null;
    }
    const sa = child.outSa;
    const need = HEADROOM + p.totalLength + TAILROOM;
    if (this.slabOff + need > this.slab.length) {
      this.slab = uninitialized(Math.max(SLAB_BYTES, SLOT_MAX));
      this.slabOff = 0;
    }
    const buf = this.slab;
    const start = this.slabOff + HEADROOM;
    let end: number;
    let nextHeader: number;
    if (sa.tunnel) {
      buf.set(p.totalLength === pkt.length ? pkt : pkt.subarray(0, p.totalLength), start);
      end = start + p.totalLength;
      nextHeader = p.version === 4 ? IpProto.IPV4 : IpProto.IPV6;
    } else {
      const payload = pkt.subarray(p.headerLength, p.totalLength);
      buf.set(payload, start);
      end = start + payload.length;
      nextHeader = p.protocol;
    }
    if (end + espTailroom(sa, end - start) > start - HEADROOM + need) {
      this.tunDrops[TunDrop.tooBig]!++;
      return null;
    }
    const n = espSeal(sa, buf, start, end, nextHeader);
    if (n < 0) {
      this.tunDrops[TunDrop.sealFailed]!++;
      return null;
    }
    const from = start - sa.headerLength;
    this.slabOff = (from + n + 7) & ~7;
    return { data: buf.subarray(from, from + n), local: child.local, remote: child.remote, encap: child.encap };
  }

  /**
   * ESP → TUN. `esp` starts at the SPI (the RFC 3948 marker check happened before). Returns the IP
   * packet to write to the TUN device, or null for a drop (counted) or a dummy packet.
   */
  inbound(esp: Uint8Array, nowMs: number): Uint8Array | null {
    const r = this.opened;
    const code = espOpen(this.sad, esp, r);
    if (code !== Drop.ok) {
      if (code < DROP_COUNT) this.espDrops[code]!++;
      return null;
    }
    const sa = r.sa!;
    const child = this.bySpiIn.get(sa.spi);
    if (child) {
      child.lastInboundAtMs = nowMs;
      // The peer sends on the SA we created as rekey responder: it has it, so we switch too (RFC 7296 §2.8).
      if (child.pendingSwitch) this.switchTo(child);
    }
    if (this.retiring !== 0 && nowMs >= this.nextRetireAt) this.sweep(nowMs);
    if (sa.tunnel) return esp.subarray(r.payloadStart, r.payloadEnd);
    // Transport mode: rebuild the IP header from the SA's addresses (IPv4 only here).
    if (child === undefined || child.localIp.length !== 4) {
      this.espDrops[Drop.innerHeader]!++;
      return null;
    }
    const len = r.payloadEnd - r.payloadStart;
    const out = new Uint8Array(20 + len);
    writeIpv4Header(out, 0, { totalLength: 20 + len, protocol: r.nextHeader, src: child.remoteIp, dst: child.localIp });
    out.set(esp.subarray(r.payloadStart, r.payloadEnd), 20);
    return out;
  }
}
