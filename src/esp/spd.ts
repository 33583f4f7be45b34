/**
 * Security Policy Database, outbound side (RFC 4301 §4.4.1): ordered entries whose selectors
 * (local = source, remote = destination: address ranges, IP protocol, ports — the TSi/TSr shape of
 * RFC 7296 §3.13.1) choose an action for a cleartext packet leaving the protected interface:
 *
 *   PROTECT → seal with the entry's outbound SA      BYPASS → send in the clear      DISCARD → drop
 *
 * Entries are searched in priority order (lower number first, like strongSwan/XFRM; ties keep insertion
 * order) and the first match wins (RFC 4301 §4.4.1: "the SPD is ordered"). No match = DISCARD, which
 * `lookup` reports as null. The lookup peeks the IP header into a reused scratch object: no allocation.
 */
import { IpPeek, peekIp } from '../wire/ip.js';
import type { EspSa } from './sa.js';
import { anySelectorMatches, type EspTrafficSelector, validateSelector } from './selector.js';

export const SpdAction = { protect: 1, bypass: 2, discard: 3 } as const;
export type SpdAction = (typeof SpdAction)[keyof typeof SpdAction];

export interface SpdEntryParams {
  /** Lower is searched first. */
  readonly priority: number;
  /** Source selectors (our side, TSi for an initiator). */
  readonly local: readonly EspTrafficSelector[];
  /** Destination selectors (the peer's side). */
  readonly remote: readonly EspTrafficSelector[];
  readonly action: SpdAction;
  /** Outbound SA for PROTECT (may be installed later with `entry.sa = …`, e.g. after rekey). */
  readonly sa?: EspSa | null;
  /** For logs. */
  readonly name?: string;
}

export class SpdEntry {
  readonly priority: number;
  readonly local: readonly EspTrafficSelector[];
  readonly remote: readonly EspTrafficSelector[];
  readonly action: SpdAction;
  readonly name: string;
  /** Current outbound SA for PROTECT; null while none is negotiated (the runtime then triggers IKE). */
  sa: EspSa | null;
  /** Insertion order, for stable ties. */
  readonly order: number;

  constructor(p: SpdEntryParams, order: number) {
    this.priority = p.priority;
    this.local = p.local;
    this.remote = p.remote;
    this.action = p.action;
    this.name = p.name ?? '';
    this.sa = p.sa ?? null;
    this.order = order;
  }
}

export class Spd {
  private entries: SpdEntry[] = [];
  private nextOrder = 0;
  private readonly peek = new IpPeek();

  /** Adds an entry; throws naming the field on a bad entry. */
  add(p: SpdEntryParams): SpdEntry {
    if (!Number.isFinite(p.priority)) throw new RangeError('priority: must be a finite number');
    if (p.action !== SpdAction.protect && p.action !== SpdAction.bypass && p.action !== SpdAction.discard) {
      throw new RangeError('action: must be SpdAction.protect, bypass or discard');
    }
    if (!Array.isArray(p.local) || p.local.length === 0) throw new RangeError('local: at least one selector');
    if (!Array.isArray(p.remote) || p.remote.length === 0) throw new RangeError('remote: at least one selector');
    p.local.forEach((ts, i) => validateSelector(ts, `local[${i}]`));
    p.remote.forEach((ts, i) => validateSelector(ts, `remote[${i}]`));
    if (p.sa != null && !p.sa.outbound) throw new RangeError('sa: must be an outbound SA');
    if (p.sa != null && p.action !== SpdAction.protect) throw new RangeError('sa: only PROTECT entries carry an SA');
    const e = new SpdEntry(p, this.nextOrder++);
    this.entries.push(e);
    this.entries.sort((a, b) => a.priority - b.priority || a.order - b.order);
    return e;
  }

  remove(entry: SpdEntry): boolean {
    const i = this.entries.indexOf(entry);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  get size(): number {
    return this.entries.length;
  }

  list(): readonly SpdEntry[] {
    return this.entries;
  }

  /**
   * The first entry (by priority) whose selectors match the IP packet `pkt[start, end)`, or null
   * (no match, or not a well-formed IP packet: discard). Never throws.
   */
  lookup(pkt: Uint8Array, start = 0, end = pkt.length): SpdEntry | null {
    const pk = this.peek;
    if (!peekIp(pkt, start, end, pk)) return null;
    const entries = this.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (
        anySelectorMatches(e.local, pkt, pk.srcOffset, pk.addressLength, pk.protocol, pk.srcPort) &&
        anySelectorMatches(e.remote, pkt, pk.dstOffset, pk.addressLength, pk.protocol, pk.dstPort)
      ) {
        return e;
      }
    }
    return null;
  }
}
