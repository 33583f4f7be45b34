/**
 * Virtual IP address pools for the responder's CFG_REPLY (RFC 7296 §2.19, §3.15.1
 * INTERNAL_IP4_ADDRESS / INTERNAL_IP6_ADDRESS), as strongSwan's `pools { <name> { addrs = … } }`.
 *
 * A lease belongs to an owner (the IKE SA's `ikeId`, stable across IKE SA rekeys) and is released
 * when that IKE SA goes away. Pure bookkeeping: no I/O, no clock, no randomness (the first free
 * address after the last one handed out, next-fit).
 */
import type { IkePoolConfig } from './config.js';
import { formatIp, parseIp } from './traffic-selectors.js';

export interface PoolRange {
  readonly family: 4 | 6;
  /** First and last assignable address as integers. */
  readonly first: bigint;
  readonly last: bigint;
}

function toBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function fromBig(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * Parses a pool's `addrs`: 'a.b.c.d/n' (IPv4 prefixes shorter than /31 lose their network and
 * broadcast address, as strongSwan's pools do), 'x::/n', or 'first-last'. Throws naming the problem.
 */
export function poolRange(addrs: string): PoolRange {
  const s = addrs.trim();
  if (s.includes('/')) {
    const [a, p] = s.split('/');
    const addr = parseIp(a ?? '');
    if (!addr || !/^\d+$/.test(p ?? '')) throw new Error(`'${addrs}' is not an address prefix or range`);
    const bits = addr.length * 8;
    const prefix = Number(p);
    if (prefix > bits) throw new Error(`prefix length ${prefix} out of range in '${addrs}'`);
    const host = BigInt(bits - prefix);
    const base = (toBig(addr) >> host) << host;
    let first = base;
    let last = base + (1n << host) - 1n;
    if (addr.length === 4 && prefix < 31) {
      first += 1n;
      last -= 1n;
    }
    return { family: addr.length === 4 ? 4 : 6, first, last };
  }
  if (s.includes('-')) {
    const [a, b] = s.split('-');
    const x = parseIp((a ?? '').trim());
    const y = parseIp((b ?? '').trim());
    if (!x || !y || x.length !== y.length) throw new Error(`'${addrs}' is not an address range`);
    if (toBig(x) > toBig(y)) throw new Error(`range start after end in '${addrs}'`);
    return { family: x.length === 4 ? 4 : 6, first: toBig(x), last: toBig(y) };
  }
  const one = parseIp(s);
  if (!one) throw new Error(`'${addrs}' is not an address prefix or range`);
  return { family: one.length === 4 ? 4 : 6, first: toBig(one), last: toBig(one) };
}

interface Pool {
  readonly config: IkePoolConfig;
  readonly range: PoolRange;
  /** Leased address → owner. */
  readonly leased: Map<bigint, number>;
  next: bigint;
}

export interface PoolLease {
  readonly pool: string;
  readonly address: Uint8Array;
}

export interface PoolStatus {
  readonly name: string;
  readonly size: bigint;
  readonly leased: number;
}

export class AddressPools {
  private readonly pools = new Map<string, Pool>();
  private readonly byOwner = new Map<number, PoolLease[]>();

  constructor(configs: readonly IkePoolConfig[]) {
    for (const c of configs) {
      const range = poolRange(c.addrs);
      this.pools.set(c.name, { config: c, range, leased: new Map(), next: range.first });
    }
  }

  pool(name: string): IkePoolConfig | undefined {
    return this.pools.get(name)?.config;
  }

  /**
   * An address of `family` for `owner` from the first of `poolNames` with one free. The owner's
   * existing lease of that family is returned again; a `requested` address (a non-zero
   * INTERNAL_IP*_ADDRESS in the CFG_REQUEST) is honoured when it is free in one of the pools.
   */
  acquire(poolNames: readonly string[], family: 4 | 6, owner: number, requested?: Uint8Array): PoolLease | undefined {
    const len = family === 4 ? 4 : 16;
    for (const l of this.byOwner.get(owner) ?? []) if (l.address.length === len && poolNames.includes(l.pool)) return l;
    const pools = poolNames.map((n) => this.pools.get(n)).filter((p): p is Pool => p !== undefined && p.range.family === family);
    if (requested && requested.length === len && requested.some((x) => x !== 0)) {
      const want = toBig(requested);
      for (const p of pools) {
        if (want >= p.range.first && want <= p.range.last && !p.leased.has(want)) return this.take(p, want, owner);
      }
    }
    for (const p of pools) {
      const size = p.range.last - p.range.first + 1n;
      if (BigInt(p.leased.size) >= size) continue;
      let a = p.next;
      for (let i = 0n; i < size; i++) {
        if (!p.leased.has(a)) return this.take(p, a, owner);
        a = a >= p.range.last ? p.range.first : a + 1n;
      }
    }
    return undefined;
  }

  private take(p: Pool, a: bigint, owner: number): PoolLease {
    p.leased.set(a, owner);
    p.next = a >= p.range.last ? p.range.first : a + 1n;
    const lease: PoolLease = { pool: p.config.name, address: fromBig(a, p.range.family === 4 ? 4 : 16) };
    const list = this.byOwner.get(owner);
    if (list) list.push(lease);
    else this.byOwner.set(owner, [lease]);
    return lease;
  }

  /** Releases every lease of `owner` (its IKE SA is gone). Returns how many. */
  release(owner: number): number {
    const list = this.byOwner.get(owner);
    if (!list) return 0;
    this.byOwner.delete(owner);
    for (const l of list) this.pools.get(l.pool)?.leased.delete(toBig(l.address));
    return list.length;
  }

  /** The owner's leased addresses as text. */
  leasesOf(owner: number): string[] {
    return (this.byOwner.get(owner) ?? []).map((l) => formatIp(l.address));
  }

  status(): PoolStatus[] {
    return [...this.pools.values()].map((p) => ({ name: p.config.name, size: p.range.last - p.range.first + 1n, leased: p.leased.size }));
  }
}
