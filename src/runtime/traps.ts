/**
 * Trap policies (strongSwan `start_action = trap`, `dpd_action = trap`, `close_action = trap`): a
 * child's selectors are routed into the TUN device before any SA exists; the first packet that matches
 * them but no installed child SA raises an *acquire* (RFC 4301 §5.1 step 3c: "the packet … triggers
 * the creation of an SA", the kernel's XFRM_MSG_ACQUIRE), and the runtime initiates that child.
 * strongSwan's kernel-libipsec and wireguard-go's "handshake on first packet" work the same way.
 *
 * Acquire handling follows the Linux larval SA and strongSwan's trap manager:
 * - one acquire per trap, then further matching packets raise none while it is pending: until the
 *   child comes up, or `acquireTimeoutMs` (default 30 s, the kernel's xfrm_acq_expires) passes. A
 *   failed IKE SA does not end the pending state early, so a peer that refuses us is asked at most
 *   once per `acquireTimeoutMs`, whatever the traffic;
 * - the first `queueMax` packets (default 8) of a pending trap are held (copied) and sent when the
 *   child comes up, as the kernel's larval state does with xfrm_larval_drop = 0; the rest are dropped
 *   and counted. Held packets are dropped (counted) when the IKE SA or child fails or the acquire
 *   expires.
 *
 * No I/O here: the Tunnel feeds packets and events, and installs routes and initiates.
 */
import type { EspTrafficSelector } from '../esp/selector.js';
import { anySelectorMatches } from '../esp/selector.js';
import type { IkeChildConfig, IkeConnection } from '../ike/config.js';
import type { TrafficSelector } from '../ike/payloads/types.js';
import { formatTs, resolveTsDynamic } from '../ike/traffic-selectors.js';
import type { IpPeek } from '../wire/ip.js';

/** Why a trap is installed: the child's start_action, or its dpd_action / close_action after it went down. */
export type TrapReason = 'start_action' | 'dpd_action' | 'close_action';

export interface TrapCounters {
  /** Acquires raised (each one initiated the child). */
  acquires: number;
  /** Matching packets that raised no acquire because one was pending. */
  acquiresSuppressed: number;
  /** Packets held while the acquire was pending. */
  held: number;
  /** Held packets sent once the child came up. */
  released: number;
  /** Packets dropped: the hold queue was full, or the acquire failed or expired. */
  dropped: number;
}

export interface TrapPolicy {
  readonly connection: string;
  readonly child: string;
  /** The configuration objects the trap was made from (a reload replaces changed ones: see `TrapTable.sync`). */
  readonly connConfig: IkeConnection;
  readonly childConfig: IkeChildConfig;
  readonly mode: 'tunnel' | 'transport';
  readonly tsLocal: readonly EspTrafficSelector[];
  readonly tsRemote: readonly EspTrafficSelector[];
  /** The IKE addresses the child would use (the connection's first local and remote address). */
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly reason: TrapReason;
  readonly counters: TrapCounters;
  /** When the pending acquire was raised (undefined: none pending). */
  pendingSinceMs: number | undefined;
  readonly queue: Uint8Array[];
}

/** One trap as `status` shows it (like `swanctl --list-pols`). */
export interface TrapStatus extends TrapCounters {
  readonly connection: string;
  readonly child: string;
  readonly mode: 'tunnel' | 'transport';
  readonly reason: TrapReason;
  readonly tsLocal: readonly string[];
  readonly tsRemote: readonly string[];
  /** An acquire is pending (the child is being set up). */
  readonly acquiring: boolean;
}

export interface TrapOptions {
  /** How long an acquire stays pending (no new acquire for the trap meanwhile). Default 30 000. */
  readonly acquireTimeoutMs?: number;
  /** Packets held per trap while its acquire is pending. Default 8; 0 drops them all. */
  readonly queueMax?: number;
}

const ANY = ['0.0.0.0/0', '::/0'];

/**
 * The selectors of a trap for `child` of `conn`: 'dynamic' is the connection's first address of that
 * side (any address for the local side of a connection that asks for a virtual IP). Throws (a config
 * error naming the field) when an address the trap needs is `%any`: such a child cannot be initiated.
 */
export function trapSelectors(conn: IkeConnection, child: IkeChildConfig): { tsLocal: TrafficSelector[]; tsRemote: TrafficSelector[]; localAddress: string; remoteAddress: string } {
  const localAddress = conn.localAddrs[0];
  const remoteAddress = conn.remoteAddrs[0];
  if (localAddress === undefined || localAddress === '%any') throw new Error(`connections.${conn.name}.local_addrs: a trap (children.${child.name}) needs a concrete local address to initiate from`);
  if (remoteAddress === undefined || remoteAddress === '%any') throw new Error(`connections.${conn.name}.remote_addrs: a trap (children.${child.name}) needs a concrete remote address to initiate to`);
  const tsLocal = resolveTsDynamic(child.localTs, conn.vips.length > 0 ? ANY : [localAddress]);
  const tsRemote = resolveTsDynamic(child.remoteTs, [remoteAddress]);
  return { tsLocal, tsRemote, localAddress, remoteAddress };
}

export class TrapTable {
  private readonly traps: TrapPolicy[] = [];
  /** Sums over every trap ever installed (status drops, metrics). */
  readonly totals: TrapCounters = { acquires: 0, acquiresSuppressed: 0, held: 0, released: 0, dropped: 0 };
  private readonly acquireTimeoutMs: number;
  private readonly queueMax: number;

  constructor(opts: TrapOptions = {}) {
    this.acquireTimeoutMs = opts.acquireTimeoutMs ?? 30_000;
    this.queueMax = opts.queueMax ?? 8;
  }

  get size(): number {
    return this.traps.length;
  }

  list(): readonly TrapPolicy[] {
    return this.traps;
  }

  get(connection: string, child: string): TrapPolicy | undefined {
    return this.traps.find((t) => t.connection === connection && t.child === child);
  }

  /** Installs a trap for `child` of `conn` (throws naming the field, see trapSelectors). Returns undefined if one is installed. */
  install(conn: IkeConnection, child: IkeChildConfig, reason: TrapReason): TrapPolicy | undefined {
    if (this.get(conn.name, child.name)) return undefined;
    const s = trapSelectors(conn, child);
    const trap: TrapPolicy = {
      connection: conn.name, child: child.name, connConfig: conn, childConfig: child, mode: child.mode,
      tsLocal: s.tsLocal, tsRemote: s.tsRemote, localAddress: s.localAddress, remoteAddress: s.remoteAddress, reason,
      counters: { acquires: 0, acquiresSuppressed: 0, held: 0, released: 0, dropped: 0 },
      pendingSinceMs: undefined, queue: [],
    };
    this.traps.push(trap);
    return trap;
  }

  /** Removes a trap (its held packets are dropped). */
  remove(trap: TrapPolicy): void {
    const i = this.traps.indexOf(trap);
    if (i < 0) return;
    this.traps.splice(i, 1);
    this.dropQueue(trap);
  }

  /**
   * A TUN packet that matched no installed child SA. Returns undefined if no trap matches it (the
   * caller counts its usual drop), else the trap, with `acquire` true when the caller must initiate
   * the child now. The packet is held (copied) or dropped here and counted on the trap.
   */
  take(now: number, pkt: Uint8Array, p: IpPeek): { trap: TrapPolicy; acquire: boolean } | undefined {
    let trap: TrapPolicy | undefined;
    for (let i = 0; i < this.traps.length; i++) {
      const t = this.traps[i]!;
      if (anySelectorMatches(t.tsLocal, pkt, p.srcOffset, p.addressLength, p.protocol, p.srcPort)
        && anySelectorMatches(t.tsRemote, pkt, p.dstOffset, p.addressLength, p.protocol, p.dstPort)) { trap = t; break; }
    }
    if (trap === undefined) return undefined;
    let acquire = false;
    if (trap.pendingSinceMs !== undefined && now - trap.pendingSinceMs >= this.acquireTimeoutMs) {
      // The larval state expired: what it held is stale.
      this.dropQueue(trap);
      trap.pendingSinceMs = undefined;
    }
    if (trap.pendingSinceMs === undefined) {
      trap.pendingSinceMs = now;
      this.inc(trap, 'acquires');
      acquire = true;
    } else {
      this.inc(trap, 'acquiresSuppressed');
    }
    if (trap.queue.length < this.queueMax) {
      trap.queue.push(pkt.slice(0, p.totalLength));
      this.inc(trap, 'held');
    } else {
      this.inc(trap, 'dropped');
    }
    return { trap, acquire };
  }

  /** The child was initiated without an acquire (start_action = trap|start): traffic meanwhile raises none. */
  markPending(trap: TrapPolicy, now: number): void {
    trap.pendingSinceMs ??= now;
  }

  /** The trapped child came up: the acquire is over; returns the held packets to send (in order). */
  childUp(connection: string, child: string): Uint8Array[] {
    const t = this.get(connection, child);
    if (!t) return [];
    t.pendingSinceMs = undefined;
    const held = t.queue.splice(0, t.queue.length);
    this.inc(t, 'released', held.length);
    return held;
  }

  /**
   * Setting up the child failed (child-failed, or its IKE SA went down before it came up): held
   * packets are dropped; the acquire stays pending until it expires (the rate limit, see above).
   */
  failed(connection: string, child?: string): void {
    for (const t of this.traps) if (t.connection === connection && (child === undefined || t.child === child) && t.pendingSinceMs !== undefined) this.dropQueue(t);
  }

  status(): TrapStatus[] {
    return this.traps.map((t) => ({
      connection: t.connection, child: t.child, mode: t.mode, reason: t.reason,
      tsLocal: t.tsLocal.map((x) => formatTs(x as TrafficSelector)), tsRemote: t.tsRemote.map((x) => formatTs(x as TrafficSelector)),
      acquiring: t.pendingSinceMs !== undefined, ...t.counters,
    }));
  }

  private inc(t: TrapPolicy, k: keyof TrapCounters, n = 1): void {
    t.counters[k] += n;
    this.totals[k] += n;
  }

  private dropQueue(t: TrapPolicy): void {
    this.inc(t, 'dropped', t.queue.length);
    t.queue.length = 0;
  }
}
