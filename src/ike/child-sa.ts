/**
 * A Child SA pair (RFC 7296 §1.3, §2.17) as the engine tracks it: SPIs, selectors, algorithms,
 * KEYMAT, lifetimes and its place in the rekey/delete life cycle.
 *
 *   installed ──rekey started──▶ rekeying ──new SA up──▶ rekeyed ──Delete done──▶ (gone)
 *       └───────────────delete started──────────────────▶ deleting ──▶ (gone)
 */
import type { IkeChildConfig } from './config.js';
import type { Addr, ChildAlgorithms, ChildKeys, ChildSaInfo } from './events.js';
import type { TrafficSelector } from './payloads/types.js';

export type ChildState = 'installed' | 'rekeying' | 'rekeyed' | 'deleting';

export class ChildSa {
  state: ChildState = 'installed';
  /** Last inbound activity reported by the runtime (noteChildActivity) or establishment. */
  lastActivityMs: number;
  rekeyAtMs: number | undefined;
  expireAtMs: number | undefined;
  /** Set while a collision with the peer's rekey of this child is being resolved (§2.8.1). */
  collision: { readonly peerNonceI: Uint8Array; readonly ourNonceR: Uint8Array; readonly newChild: ChildSa } | undefined;
  /** The peer deleted this child while our rekey of it was in flight. */
  deletedByPeer = false;
  /** False for a redundant collision SA the runtime never heard of (no child-down for it). */
  announced = true;

  constructor(
    readonly config: IkeChildConfig,
    readonly spiIn: number,
    readonly spiOut: number,
    readonly mode: 'tunnel' | 'transport',
    readonly tsLocal: readonly TrafficSelector[],
    readonly tsRemote: readonly TrafficSelector[],
    readonly algorithms: ChildAlgorithms,
    readonly keys: ChildKeys,
    readonly initiator: boolean,
    readonly establishedAtMs: number,
    /** Nonces of the creating exchange (Ni, Nr): the lowest-nonce rule compares them. */
    readonly nonceI: Uint8Array,
    readonly nonceR: Uint8Array,
    jitterMs: number,
  ) {
    this.lastActivityMs = establishedAtMs;
    this.rekeyAtMs = config.rekeyTimeMs > 0 ? establishedAtMs + Math.max(0, config.rekeyTimeMs - jitterMs) : undefined;
    this.expireAtMs = config.lifeTimeMs > 0 ? establishedAtMs + config.lifeTimeMs : undefined;
  }

  get name(): string {
    return this.config.name;
  }

  /**
   * Zeroes this child's KEYMAT (the same arrays the runtime got in child-up, so its copy goes too)
   * and nonces once the child is gone. Best effort: see SECURITY.md for what JS cannot zero.
   */
  wipe(): void {
    const k = this.keys;
    for (const b of [k.encrIn, k.integIn, k.encrOut, k.integOut, this.nonceI, this.nonceR]) b.fill(0);
  }

  /**
   * The child-up event: `{ type: 'child-up', ...info() }` built as one literal (an object spread per
   * event showed in the establishment profile, bench/ike.ts). Same fields, same order as info().
   */
  upEvent(ikeName: string, ikeId: number, encap: boolean, localAddr: Addr, remoteAddr: Addr): { type: 'child-up'; localVips?: readonly string[]; remoteVips?: readonly string[] } & ChildSaInfo {
    return {
      type: 'child-up',
      ikeName,
      ikeId,
      childName: this.config.name,
      spiIn: this.spiIn,
      spiOut: this.spiOut,
      mode: this.mode,
      encap,
      tsLocal: this.tsLocal,
      tsRemote: this.tsRemote,
      algorithms: this.algorithms,
      keys: this.keys,
      localAddr,
      remoteAddr,
      lifetimes: { rekeyAtMs: this.rekeyAtMs, expireAtMs: this.expireAtMs },
      replayWindow: this.config.replayWindow,
      initiator: this.initiator,
    };
  }

  info(ikeName: string, ikeId: number, encap: boolean, localAddr: Addr, remoteAddr: Addr): ChildSaInfo {
    return {
      ikeName,
      ikeId,
      childName: this.config.name,
      spiIn: this.spiIn,
      spiOut: this.spiOut,
      mode: this.mode,
      encap,
      tsLocal: this.tsLocal,
      tsRemote: this.tsRemote,
      algorithms: this.algorithms,
      keys: this.keys,
      localAddr,
      remoteAddr,
      lifetimes: { rekeyAtMs: this.rekeyAtMs, expireAtMs: this.expireAtMs },
      replayWindow: this.config.replayWindow,
      initiator: this.initiator,
    };
  }
}

/** ESP SPIs travel as 4 bytes in proposals, Delete and REKEY_SA payloads (RFC 7296 §3.3.1). */
export function spiToBytes(spi: number): Uint8Array {
  const b = new Uint8Array(4); // not from an array literal: that builds the array first (profile)
  b[0] = spi >>> 24;
  b[1] = (spi >>> 16) & 0xff;
  b[2] = (spi >>> 8) & 0xff;
  b[3] = spi & 0xff;
  return b;
}

export function spiFromBytes(b: Uint8Array): number | undefined {
  if (b.length !== 4) return undefined;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}
