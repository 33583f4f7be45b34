/**
 * Two IkeEndpoints on a simulated clock and an in-memory network with injectable loss,
 * duplication, reordering and delay (DESIGN.md rule 10: two-endpoint exchange tests).
 *
 * A is 198.18.0.1, B is 198.18.0.2 (RFC 2544 benchmark range). A datagram emitted with
 * remote = X is delivered to the endpoint owning X.address, with local/remote swapped. An optional
 * NAT in front of A rewrites A's source address/port (and back), like a NAPT would.
 */
import { nodeCrypto } from '../../src/crypto/node.js';
import { seededRandom } from '../../src/crypto/seeded-random.js';
import type { CryptoProvider } from '../../src/crypto/types.js';
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import type { IkeConfigInput, IkeConnectionInput, IkeChildConfigInput } from '../../src/ike/config.js';
import type { Datagram, IkeEvent } from '../../src/ike/events.js';

export const ADDR_A = '198.18.0.1';
export const ADDR_B = '198.18.0.2';
export const NAT_PUBLIC = '198.18.99.1';
export const PSK = new TextEncoder().encode('sixteen byte psk, longer is better');

export interface NetOptions {
  /** Probability in [0,1) a datagram is dropped. */
  loss?: number;
  /** Probability a datagram is delivered twice. */
  dup?: number;
  /** Base one-way delay (ms). */
  delayMs?: number;
  /** Extra random delay in [0, jitterMs) — reorders datagrams. */
  jitterMs?: number;
  /** Seed of the network's own randomness (not the endpoints'). */
  seed?: number;
  /** Put A behind a NAT (source rewritten to NAT_PUBLIC:port+10000). */
  natA?: boolean;
}

interface InFlight {
  at: number;
  seq: number;
  to: 'a' | 'b';
  d: Datagram;
}

/** Deterministic LCG for the network model (test-side randomness, reproducible). */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

export class Pair {
  readonly a: IkeEndpoint;
  readonly b: IkeEndpoint;
  now = 0;
  readonly eventsA: IkeEvent[] = [];
  readonly eventsB: IkeEvent[] = [];
  readonly delivered: Datagram[] = [];
  private inflight: InFlight[] = [];
  private seq = 0;
  private readonly rand: () => number;
  /** Drop everything to/from a side (peer gone). */
  down: { a: boolean; b: boolean } = { a: false, b: false };
  /** A filter that may drop (return false) a datagram about to be sent. */
  filter: ((from: 'a' | 'b', d: Datagram) => boolean) | undefined;

  constructor(
    cfgA: IkeConfigInput,
    cfgB: IkeConfigInput,
    public net: NetOptions = {},
    seedA = 1,
    seedB = 2,
    provider: CryptoProvider = nodeCrypto,
    wallClock?: (now: number) => number,
  ) {
    const w = wallClock ?? ((n: number) => Date.UTC(2026, 5, 1) + n);
    this.a = new IkeEndpoint({ provider, rng: seededRandom(seedA), config: cfgA, wallClockMs: w });
    this.b = new IkeEndpoint({ provider, rng: seededRandom(seedB), config: cfgB, wallClockMs: w });
    this.rand = lcg(net.seed ?? 7);
  }

  private natOut(d: Datagram): Datagram {
    // A → B through the NAT: rewrite the source.
    return { data: d.data, local: { address: NAT_PUBLIC, port: d.local.port + 10000 }, remote: d.remote };
  }

  /** Moves every pending output of both endpoints onto the wire and collects events. */
  flush(): void {
    for (const [side, ep, evs] of [['a', this.a, this.eventsA], ['b', this.b, this.eventsB]] as const) {
      for (let e = ep.pollEvent(); e; e = ep.pollEvent()) evs.push(e);
      for (let d = ep.pollTransmit(); d; d = ep.pollTransmit()) {
        if (this.down[side]) continue;
        if (this.filter && !this.filter(side, d)) continue;
        if (this.net.loss && this.rand() < this.net.loss) continue;
        let wire = d;
        if (side === 'a' && this.net.natA) wire = this.natOut(d);
        const to: 'a' | 'b' = wire.remote.address === ADDR_B ? 'b' : 'a';
        if (this.down[to]) continue;
        const copies = this.net.dup && this.rand() < this.net.dup ? 2 : 1;
        for (let i = 0; i < copies; i++) {
          const at = this.now + (this.net.delayMs ?? 1) + (this.net.jitterMs ? this.rand() * this.net.jitterMs : 0);
          this.inflight.push({ at, seq: this.seq++, to, d: wire });
        }
      }
    }
  }

  private deliver(f: InFlight): void {
    let local = f.d.remote;
    let remote = f.d.local;
    if (f.to === 'a' && this.net.natA) {
      // B → NAT → A: rewrite the destination back.
      local = { address: ADDR_A, port: f.d.remote.port - 10000 };
    }
    if (f.to === 'b' && this.net.natA) remote = f.d.local;
    const d: Datagram = { data: f.d.data, local, remote };
    this.delivered.push(d);
    (f.to === 'a' ? this.a : this.b).handleDatagram(this.now, d);
  }

  /** Advances to the next delivery or timer; returns false when nothing is left before `limit`. */
  step(limit: number): boolean {
    this.flush();
    let next: InFlight | undefined;
    for (const f of this.inflight) if (!next || f.at < next.at || (f.at === next.at && f.seq < next.seq)) next = f;
    const ta = this.a.nextTimeout();
    const tb = this.b.nextTimeout();
    const timers = [ta, tb].filter((x): x is number => x !== undefined);
    const tmin = timers.length ? Math.min(...timers) : undefined;
    const t = next && (tmin === undefined || next.at <= tmin) ? next.at : tmin;
    if (t === undefined || t > limit) {
      this.now = Math.max(this.now, Math.min(limit, t ?? limit));
      return false;
    }
    this.now = Math.max(this.now, t);
    if (next && next.at <= this.now) {
      this.inflight.splice(this.inflight.indexOf(next), 1);
      this.deliver(next);
    } else {
      if (ta !== undefined && ta <= this.now) this.a.handleTimeout(this.now);
      if (tb !== undefined && tb <= this.now) this.b.handleTimeout(this.now);
    }
    this.flush();
    return true;
  }

  /** Runs until `pred` holds (checked after each step) or `forMs` simulated ms pass. */
  runUntil(pred: () => boolean, forMs = 60_000): boolean {
    const limit = this.now + forMs;
    this.flush();
    while (!pred()) if (!this.step(limit)) return pred();
    return true;
  }

  /** Runs for `ms` simulated ms. */
  run(ms: number): void {
    const limit = this.now + ms;
    while (this.step(limit));
    this.now = limit;
  }

  count(side: 'a' | 'b', type: IkeEvent['type']): number {
    return (side === 'a' ? this.eventsA : this.eventsB).filter((e) => e.type === type).length;
  }

  of<T extends IkeEvent['type']>(side: 'a' | 'b', type: T): Extract<IkeEvent, { type: T }>[] {
    return (side === 'a' ? this.eventsA : this.eventsB).filter((e): e is Extract<IkeEvent, { type: T }> => e.type === type);
  }
}

export function child(over: Partial<IkeChildConfigInput> = {}, side: 'a' | 'b' = 'a'): IkeChildConfigInput {
  return {
    name: 'net',
    localTs: [side === 'a' ? '198.19.1.0/24' : '198.19.2.0/24'],
    remoteTs: [side === 'a' ? '198.19.2.0/24' : '198.19.1.0/24'],
    espProposals: ['aes128gcm16'],
    ...over,
  };
}

export function pskConn(side: 'a' | 'b', over: Partial<IkeConnectionInput> = {}, childOver: Partial<IkeChildConfigInput> = {}): IkeConnectionInput {
  return {
    name: 'gw',
    localAddrs: [side === 'a' ? ADDR_A : ADDR_B],
    remoteAddrs: [side === 'a' ? ADDR_B : '%any'],
    proposals: ['aes128-sha256-x25519'],
    local: { auth: 'psk', id: side === 'a' ? 'a.ipx.test' : 'b.ipx.test', psk: PSK },
    remote: { auth: 'psk', id: side === 'a' ? 'b.ipx.test' : 'a.ipx.test', psk: PSK },
    children: [child(childOver, side)],
    ...over,
  };
}

export function pskPair(overA: Partial<IkeConnectionInput> = {}, overB: Partial<IkeConnectionInput> = {}, net: NetOptions = {}, childA: Partial<IkeChildConfigInput> = {}, childB: Partial<IkeChildConfigInput> = {}): Pair {
  return new Pair({ connections: [pskConn('a', overA, childA)] }, { connections: [pskConn('b', overB, childB)] }, net);
}

export function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
