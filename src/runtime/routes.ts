/**
 * Routes for child SAs through the TUN device (what strongSwan's kernel-libipsec does with its
 * `ipsec0` routes, install_routes = yes):
 *
 * - Tunnel mode: every remote traffic selector becomes a route via the TUN device, with a preferred
 *   source address taken from the host addresses inside the local selectors (so locally generated
 *   traffic matches the policy). If the peer's own address falls inside a remote selector, it is pinned
 *   to its current path with a host route first: IKE and ESP to the peer must never enter the tunnel.
 * - Transport mode: the peer's address is routed through the TUN device in a table of its own, looked
 *   up for everything except our IKE/ESP sockets (UDP source ports 500 and 4500 keep the main table),
 *   with our IKE address as the preferred source (the SA's selectors are the two IKE addresses).
 * - The TUN MTU is set from the negotiated ESP overhead (src/esp/mtu.ts) and the path MTU to the peer.
 * - A trap policy (start_action = trap, runtime/traps.ts) gets the same routes before any SA exists.
 *
 * Routes are reference-counted per prefix (a rekeyed child shares them with its predecessor) and all of
 * it is recorded by RouteManager in a state file, removed on exit and, after a crash, on the next start.
 */
import { espInnerMtu, type EspOverheadParams } from '../esp/mtu.js';
import { formatIp, parseIp } from '../wire/addr.js';
import type { TunDevice } from '../tun/types.js';
import type { EspTrafficSelector } from '../esp/selector.js';
import type { InstalledChild } from './datapath.js';
import { espAlgorithmFromChild } from './datapath.js';
import type { RouteManager } from './netns.js';
import type { RouteInstaller } from './tunnel.js';
import type { TrapPolicy } from './traps.js';
import type { RunCommand } from './system.js';
import { run as defaultRun } from './system.js';

export const TRANSPORT_TABLE = 220;
const RULE_PRIORITY_IKE = 219;
const RULE_PRIORITY_TABLE = 220;

/** Splits an address range into CIDR prefixes (IPv4 or IPv6), as `a.b.c.d/n` strings. */
export function rangeToPrefixes(start: Uint8Array, end: Uint8Array): string[] {
  const bits = start.length * 8;
  let s = bytesToBig(start);
  const e = bytesToBig(end);
  const out: string[] = [];
  for (let guard = 0; s <= e && guard < 256; guard++) {
    let size = 0;
    while (size < bits && (s & ((1n << BigInt(size + 1)) - 1n)) === 0n && s + (1n << BigInt(size + 1)) - 1n <= e) size++;
    out.push(`${formatAddr(bigToBytes(s, start.length))}/${bits - size}`);
    s += 1n << BigInt(size);
  }
  return out;
}

function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function bigToBytes(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

function hostPrefix(address: string): string {
  return `${address}/${address.includes(':') ? 128 : 32}`;
}

export function formatAddr(b: Uint8Array): string {
  return formatIp(b) ?? '';
}

function inRange(addr: Uint8Array, ts: EspTrafficSelector): boolean {
  if (addr.length !== ts.startAddress.length) return false;
  return bytesToBig(addr) >= bytesToBig(ts.startAddress) && bytesToBig(addr) <= bytesToBig(ts.endAddress);
}

export interface TunnelRoutesOptions {
  routes: RouteManager;
  run?: RunCommand;
  /** Largest outer packet; default: the MTU of the interface toward the peer (else 1500). */
  outerMtu?: number;
}

export class TunnelRoutes implements RouteInstaller {
  private readonly refs = new Map<string, number>();
  private readonly run: RunCommand;
  private transportRules = false;
  constructor(private readonly opts: TunnelRoutesOptions) {
    this.run = opts.run ?? defaultRun;
  }

  childUp(child: InstalledChild, tun: TunDevice): Promise<void> {
    return this.serial(async () => {
      const info = child.info;
      await this.setMtu(child, tun);
      // RFC 7296 §2.19: a virtual IP the peer assigned us goes on the TUN device first, so localSource()
      // finds it inside the local selectors and the routes use it as their source.
      for (const vip of info.localVips ?? []) await this.addVip(vip, tun.name);
      await this.addRoutes(info.mode, child.tsLocal, child.tsRemote, info.localAddr.address, info.remoteAddr.address, tun);
    });
  }

  childDown(child: InstalledChild, tun: TunDevice): Promise<void> {
    return this.serial(() => this.dropRoutes(child.info.mode, child.tsRemote, child.info.remoteAddr.address, tun));
  }

  /**
   * A trap policy (runtime/traps.ts): the routes its child would get, without an SA, so matching traffic
   * enters the TUN device and raises an acquire. Shared (reference-counted) with the child's own routes,
   * so they stay while the child comes and goes. The TUN MTU is set when the child comes up.
   */
  trapUp(trap: TrapPolicy, tun: TunDevice): Promise<void> {
    return this.serial(() => this.addRoutes(trap.mode, trap.tsLocal, trap.tsRemote, trap.localAddress, trap.remoteAddress, tun));
  }

  trapDown(trap: TrapPolicy, tun: TunDevice): Promise<void> {
    return this.serial(() => this.dropRoutes(trap.mode, trap.tsRemote, trap.remoteAddress, tun));
  }

  /** Route changes run one at a time, in call order: a removal and a re-add of one prefix must not race. */
  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private chain: Promise<void> = Promise.resolve();

  private async addRoutes(mode: 'tunnel' | 'transport', tsLocal: readonly EspTrafficSelector[], tsRemote: readonly EspTrafficSelector[], localAddress: string, remoteAddress: string, tun: TunDevice): Promise<void> {
    if (mode === 'transport') {
      await this.ensureTransportRules();
      // The TUN device has no address of its own: without `src` the kernel would pick any global address
      // of the host (a loopback alias, say) and the packet would match no transport-mode policy.
      await this.addRef(hostPrefix(remoteAddress), tun.name, { table: TRANSPORT_TABLE, src: localAddress });
      return;
    }
    const src = await this.localSource(tsLocal);
    const remoteIp = parseIp(remoteAddress);
    for (const ts of tsRemote) {
      if (remoteIp && inRange(remoteIp, ts)) {
        const via = await this.opts.routes.lookupRoute(remoteAddress);
        await this.addRef(hostPrefix(remoteAddress), via.dev, { via: via.via });
      }
      for (const prefix of rangeToPrefixes(ts.startAddress, ts.endAddress)) {
        await this.addRef(prefix, tun.name, src !== undefined && src.includes(':') === prefix.includes(':') ? { src } : {});
      }
    }
  }

  private async dropRoutes(mode: 'tunnel' | 'transport', tsRemote: readonly EspTrafficSelector[], remoteAddress: string, tun: TunDevice): Promise<void> {
    if (mode === 'transport') {
      await this.dropRef(hostPrefix(remoteAddress), tun.name, { table: TRANSPORT_TABLE });
      return;
    }
    const remoteIp = parseIp(remoteAddress);
    for (const ts of tsRemote) {
      for (const prefix of rangeToPrefixes(ts.startAddress, ts.endAddress)) await this.dropRef(prefix, tun.name, undefined);
      if (remoteIp && inRange(remoteIp, ts)) await this.dropRef(hostPrefix(remoteAddress), undefined, undefined);
    }
  }

  async close(): Promise<void> {
    await this.chain;
    this.refs.clear();
    await this.undoExtra();
    await this.opts.routes.removeAll();
  }

  private key(prefix: string, table: number | undefined): string {
    return `${prefix}|${table ?? 'main'}`;
  }

  private async addRef(prefix: string, dev: string, o: { src?: string; via?: string; table?: number }): Promise<void> {
    const k = this.key(prefix, o.table);
    const n = this.refs.get(k) ?? 0;
    this.refs.set(k, n + 1);
    if (n === 0) await this.opts.routes.addRoute(dev, prefix, o);
  }

  private async dropRef(prefix: string, dev: string | undefined, o: { table?: number } | undefined): Promise<void> {
    const k = this.key(prefix, o?.table);
    const n = this.refs.get(k) ?? 0;
    if (n <= 1) {
      this.refs.delete(k);
      const item = this.opts.routes.installed().find((x) => x.kind === 'route' && x.prefix === prefix && x.opts.table === o?.table && (dev === undefined || x.dev === dev));
      if (item && item.kind === 'route') await this.opts.routes.removeRoute(item.dev, prefix, item.opts);
    } else this.refs.set(k, n - 1);
  }

  /** Transport mode: our IKE/ESP sockets (source ports 500/4500) keep the main table; the rest sees table 220. */
  private async ensureTransportRules(): Promise<void> {
    if (this.transportRules) return;
    this.transportRules = true;
    for (const [i, port] of [[0, 500], [1, 4500]] as const) {
      await this.run('ip', ['rule', 'add', 'priority', String(RULE_PRIORITY_IKE - i), 'ipproto', 'udp', 'sport', String(port), 'lookup', 'main']);
      this.cleanup.push(['rule', 'del', 'priority', String(RULE_PRIORITY_IKE - i)]);
    }
    await this.opts.routes.addRule({ priority: RULE_PRIORITY_TABLE, table: TRANSPORT_TABLE });
  }

  private readonly vips = new Set<string>();

  /** Adds a virtual IP (host prefix) to the TUN device once; removed on close. */
  private async addVip(vip: string, dev: string): Promise<void> {
    if (this.vips.has(vip)) return;
    this.vips.add(vip);
    const addr = `${vip}/${vip.includes(':') ? 128 : 32}`;
    await this.run('ip', ['addr', 'add', addr, 'dev', dev]);
    this.cleanup.push(['addr', 'del', addr, 'dev', dev]);
  }

  /** Extra commands to undo on close (rules RouteManager cannot express). */
  readonly cleanup: string[][] = [];

  async undoExtra(): Promise<void> {
    for (const args of this.cleanup.reverse()) await this.run('ip', args).catch(() => undefined);
    this.cleanup.length = 0;
  }

  /** The first host address inside the local selectors (preferred source for tunnel routes). */
  private async localSource(tsLocal: readonly EspTrafficSelector[]): Promise<string | undefined> {
    try {
      const { stdout } = await this.run('ip', ['-j', 'addr', 'show']);
      const links = JSON.parse(stdout) as Array<{ addr_info?: Array<{ local?: string }> }>;
      for (const l of links) for (const a of l.addr_info ?? []) {
        if (a.local === undefined) continue;
        const bytes = parseIp(a.local);
        if (bytes && tsLocal.some((ts) => inRange(bytes, ts))) return a.local;
      }
    } catch {
      // no source hint: the kernel picks one
    }
    return undefined;
  }

  private async setMtu(child: InstalledChild, tun: TunDevice): Promise<void> {
    let outer = this.opts.outerMtu;
    if (outer === undefined) {
      outer = 1500;
      try {
        const via = await this.opts.routes.lookupRoute(child.info.remoteAddr.address);
        const { stdout } = await this.run('ip', ['-j', 'link', 'show', 'dev', via.dev]);
        const m = (JSON.parse(stdout) as Array<{ mtu?: number }>)[0]?.mtu;
        if (typeof m === 'number' && m >= 576) outer = m;
      } catch {
        // keep 1500
      }
    }
    const p: EspOverheadParams = {
      algorithm: espAlgorithmFromChild(child.info), mode: child.info.mode, udpEncap: child.info.encap,
      outerIp: child.info.remoteAddr.address.includes(':') ? 6 : 4,
    };
    const mtu = Math.max(576, espInnerMtu(p, outer));
    if (mtu !== tun.mtu) await tun.setMtu(mtu);
  }
}
