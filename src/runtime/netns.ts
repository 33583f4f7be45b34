/**
 * Network namespaces and routes, through `ip` (iproute2).
 *
 * `NetnsLab`: namespaces, veth pairs and processes for tests, the demo and interop runs. Every namespace
 * name is `prefix + name`, so parallel suites cannot collide and a crashed run's leftovers can be found
 * (`deleteNamespacesWithPrefix`). `cleanup()` never throws.
 *
 * `RouteManager`: the routes and policy rules the runtime installs for a tunnel (DESIGN.md §5
 * "Routing": the tunnel's routes must not capture IKE/ESP to the peer, so the runtime pins the peer with
 * a host route or rule). Everything installed is recorded in memory and in a JSON state file
 * (default `/run/tsipsec/<name>.json`), so `removeAll()` undoes it on exit and
 * `RouteManager.cleanupStale(file)` undoes a crashed previous run's leftovers on the next start.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run as defaultRun, type RunCommand, type RunOptions, type RunResult } from './system.js';

const NS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Runs through `run`, reporting failure as false: for cleanup paths that must never throw. */
async function quiet(run: RunCommand, cmd: string, args: readonly string[]): Promise<boolean> {
  try {
    await run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/** Deletes every namespace whose name starts with `prefix`. Returns the names deleted. Never throws. */
export async function deleteNamespacesWithPrefix(prefix: string, run: RunCommand = defaultRun): Promise<string[]> {
  if (prefix.length === 0) throw new Error('deleteNamespacesWithPrefix: prefix must not be empty');
  let names: string[] = [];
  try {
    const { stdout } = await run('ip', ['netns', 'list']);
    names = stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0])
      .filter((n) => n !== undefined && n.startsWith(prefix));
  } catch {
    return [];
  }
  const deleted: string[] = [];
  for (const n of names) if (await quiet(run, 'ip', ['netns', 'del', n])) deleted.push(n);
  return deleted;
}

export class NetnsLab {
  readonly prefix: string;
  private readonly run: RunCommand;
  private readonly namespaces = new Set<string>();
  private readonly children = new Set<ChildProcess>();

  constructor(prefix: string, opts: { run?: RunCommand } = {}) {
    if (!/^[A-Za-z0-9_.-]{1,20}$/.test(prefix)) throw new Error(`NetnsLab prefix: 1..20 of [A-Za-z0-9_.-], got ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
    this.run = opts.run ?? defaultRun;
  }

  /** The full namespace name for `name`. */
  nsName(name: string): string {
    const full = this.prefix + name;
    if (!NS_NAME.test(full)) throw new Error(`namespace name: invalid ${JSON.stringify(full)}`);
    return full;
  }

  /** Creates `prefix+name` (replacing a stale one of that name) with loopback up. Returns the full name. */
  async createNamespace(name: string): Promise<string> {
    const full = this.nsName(name);
    await quiet(this.run, 'ip', ['netns', 'del', full]);
    await this.run('ip', ['netns', 'add', full]);
    this.namespaces.add(full);
    await this.run('ip', ['-n', full, 'link', 'set', 'dev', 'lo', 'up']);
    return full;
  }

  /** Deletes `prefix+name`. Never throws. */
  async deleteNamespace(name: string): Promise<void> {
    let full: string;
    try {
      full = this.nsName(name);
    } catch {
      return;
    }
    this.namespaces.delete(full);
    await quiet(this.run, 'ip', ['netns', 'del', full]);
  }

  /**
   * A veth pair: `ifA` in namespace `nsA` with address `addrA` (CIDR), `ifB` in `nsB` with `addrB`; both
   * up, with gso_max_segs 1 (see below). A namespace of null means the current one. Addresses may be null (no address).
   */
  async vethPair(nsA: string | null, ifA: string, addrA: string | null, nsB: string | null, ifB: string, addrB: string | null): Promise<void> {
    for (const n of [ifA, ifB]) if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n)) throw new Error(`vethPair: interface name ${JSON.stringify(n)} must be 1..15 of [A-Za-z0-9_.-]`);
    const fullA = nsA === null ? null : this.nsName(nsA);
    const fullB = nsB === null ? null : this.nsName(nsB);
    const args = ['link', 'add', ifA];
    if (fullA) args.push('netns', fullA);
    args.push('type', 'veth', 'peer', 'name', ifB);
    if (fullB) args.push('netns', fullB);
    await this.run('ip', args);
    for (const [ns, dev, addr] of [
      [fullA, ifA, addrA],
      [fullB, ifB, addrB],
    ] as const) {
      const pre = ns ? ['-n', ns] : [];
      if (addr) await this.run('ip', [...pre, 'addr', 'add', addr, 'dev', dev]);
      // gso_max_segs 1: GSO batches (tsipsec's UDP GSO) are cut before the veth, so a capture on the link
      // shows the datagrams a wire would (a NIC segments them; a veth would pass one super-datagram).
      await this.run('ip', [...pre, 'link', 'set', 'dev', dev, 'gso_max_segs', '1', 'up']);
    }
  }

  /** Runs a command inside `prefix+ns` and waits for it. */
  execIn(ns: string, cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return this.run('ip', ['netns', 'exec', this.nsName(ns), cmd, ...args], opts);
  }

  /** Starts a command inside `prefix+ns`; `cleanup()` kills it (by pid) if still running. */
  spawnIn(ns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.nsName(ns), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /** Kills processes started here, then deletes the namespaces created here. Never throws. */
  async cleanup(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      waits.push(
        new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            try {
              child.kill('SIGKILL');
            } catch {
              // already gone
            }
            resolve();
          }, 2000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          try {
            child.kill('SIGTERM');
          } catch {
            clearTimeout(t);
            resolve();
          }
        }),
      );
    }
    await Promise.all(waits);
    this.children.clear();
    for (const ns of [...this.namespaces]) await quiet(this.run, 'ip', ['netns', 'del', ns]);
    this.namespaces.clear();
  }
}

export interface RouteOptions {
  /** Gateway. */
  via?: string;
  /** Preferred source address. */
  src?: string;
  metric?: number;
  /** Routing table (number or name). Default main. */
  table?: number | string;
  /** Per-route MTU (`mtu lock`-less). */
  mtu?: number;
  /** Install inside this namespace. */
  netns?: string;
}

export interface RuleSpec {
  /** Rule priority (also what identifies the rule for removal). */
  priority: number;
  from?: string;
  to?: string;
  fwmark?: number;
  /** Table to look up. */
  table: number | string;
  netns?: string;
}

export type InstalledItem =
  | { kind: 'route'; dev: string; prefix: string; opts: RouteOptions }
  | { kind: 'rule'; rule: RuleSpec };

export interface RouteLookup {
  dev: string;
  via?: string;
  src?: string;
}

/** `[-6] route`: the family follows the prefix (or gateway, for `default`). */
function routeArgs(prefix: string, o: RouteOptions): string[] {
  return prefix.includes(':') || (o.via ?? '').includes(':') ? ['-6', 'route'] : ['route'];
}

function routeTail(dev: string, prefix: string, o: RouteOptions): string[] {
  const a = [prefix];
  if (o.via !== undefined) a.push('via', o.via);
  a.push('dev', dev);
  if (o.src !== undefined) a.push('src', o.src);
  if (o.metric !== undefined) a.push('metric', String(o.metric));
  if (o.table !== undefined) a.push('table', String(o.table));
  if (o.mtu !== undefined) a.push('mtu', String(o.mtu));
  return a;
}

function nsPre(netns: string | undefined): string[] {
  return netns === undefined ? [] : ['-n', netns];
}

function ruleArgs(r: RuleSpec, verb: 'add' | 'del'): string[] {
  const v6 = (r.from ?? r.to ?? '').includes(':');
  const a = [...nsPre(r.netns), ...(v6 ? ['-6'] : []), 'rule', verb, 'priority', String(r.priority)];
  if (r.from !== undefined) a.push('from', r.from);
  if (r.to !== undefined) a.push('to', r.to);
  if (r.fwmark !== undefined) a.push('fwmark', String(r.fwmark));
  a.push('lookup', String(r.table));
  return a;
}

async function removeItem(run: RunCommand, item: InstalledItem): Promise<boolean> {
  try {
    if (item.kind === 'route') {
      await run('ip', [...nsPre(item.opts.netns), ...routeArgs(item.prefix, item.opts), 'del', ...routeTail(item.dev, item.prefix, item.opts)]);
    } else {
      await run('ip', ruleArgs(item.rule, 'del'));
    }
    return true;
  } catch {
    return false;
  }
}

export interface RouteManagerOptions {
  /** Names the state file: `<stateDir>/<name>.json`. */
  name: string;
  /** Default `/run/tsipsec`. */
  stateDir?: string;
  /** Keep the state file (default true). */
  persist?: boolean;
  run?: RunCommand;
}

export class RouteManager {
  readonly stateFile: string;
  private readonly items: InstalledItem[] = [];
  private readonly run: RunCommand;
  private readonly persist: boolean;

  constructor(opts: RouteManagerOptions) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(opts.name) || opts.name.startsWith('.')) {
      throw new Error(`RouteManagerOptions.name: 1..64 of [A-Za-z0-9_.-] not starting with '.', got ${JSON.stringify(opts.name)}`);
    }
    this.stateFile = join(opts.stateDir ?? '/run/tsipsec', `${opts.name}.json`);
    this.run = opts.run ?? defaultRun;
    this.persist = opts.persist ?? true;
  }

  /** Removes what a previous run recorded in `stateFile` and deletes the file. Returns how many items were removed. Never throws. */
  static async cleanupStale(stateFile: string, run: RunCommand = defaultRun): Promise<number> {
    let items: InstalledItem[];
    try {
      const parsed: unknown = JSON.parse(readFileSync(stateFile, 'utf8'));
      items = Array.isArray((parsed as { items?: unknown }).items) ? ((parsed as { items: InstalledItem[] }).items) : [];
    } catch {
      return 0;
    }
    let n = 0;
    for (const item of [...items].reverse()) if (await removeItem(run, item)) n++;
    try {
      rmSync(stateFile, { force: true });
    } catch {
      // nothing more to do
    }
    return n;
  }

  /** What is installed now, oldest first. */
  installed(): readonly InstalledItem[] {
    return this.items.map((i) => structuredClone(i));
  }

  /** `ip route add prefix [via] dev … `; recorded for removal. */
  async addRoute(dev: string, prefix: string, opts: RouteOptions = {}): Promise<void> {
    await this.run('ip', [...nsPre(opts.netns), ...routeArgs(prefix, opts), 'add', ...routeTail(dev, prefix, opts)]);
    this.items.push({ kind: 'route', dev, prefix, opts: { ...opts } });
    this.save();
  }

  /** Removes a route added here (same dev, prefix, table, netns). Throws if the OS refuses. */
  async removeRoute(dev: string, prefix: string, opts: RouteOptions = {}): Promise<void> {
    const i = this.items.findIndex(
      (x) => x.kind === 'route' && x.dev === dev && x.prefix === prefix && x.opts.table === opts.table && x.opts.netns === opts.netns,
    );
    const item = i >= 0 ? (this.items[i] as Extract<InstalledItem, { kind: 'route' }>) : undefined;
    const o = item?.opts ?? opts;
    await this.run('ip', [...nsPre(o.netns), ...routeArgs(prefix, o), 'del', ...routeTail(dev, prefix, o)]);
    if (i >= 0) this.items.splice(i, 1);
    this.save();
  }

  /** `ip rule add priority … lookup …`; recorded for removal. */
  async addRule(rule: RuleSpec): Promise<void> {
    await this.run('ip', ruleArgs(rule, 'add'));
    this.items.push({ kind: 'rule', rule: { ...rule } });
    this.save();
  }

  async removeRule(rule: RuleSpec): Promise<void> {
    await this.run('ip', ruleArgs(rule, 'del'));
    const i = this.items.findIndex((x) => x.kind === 'rule' && x.rule.priority === rule.priority && x.rule.netns === rule.netns);
    if (i >= 0) this.items.splice(i, 1);
    this.save();
  }

  /** Removes everything installed, newest first, and the state file. Never throws; returns the items it could not remove. */
  async removeAll(): Promise<InstalledItem[]> {
    const failed: InstalledItem[] = [];
    while (this.items.length > 0) {
      const item = this.items.pop() as InstalledItem;
      if (!(await removeItem(this.run, item))) failed.push(item);
    }
    try {
      if (this.persist) rmSync(this.stateFile, { force: true });
    } catch {
      // best effort
    }
    return failed;
  }

  /** The route the kernel would use for `address` (`ip route get`): for pinning the peer off the tunnel. */
  async lookupRoute(address: string, netns?: string): Promise<RouteLookup> {
    const { stdout } = await this.run('ip', [...nsPre(netns), '-j', 'route', 'get', address]);
    const parsed = JSON.parse(stdout) as Array<{ dev?: string; gateway?: string; prefsrc?: string }>;
    const r = parsed[0];
    if (r?.dev === undefined) throw new Error(`lookupRoute(${address}): no route`);
    const out: RouteLookup = { dev: r.dev };
    if (r.gateway !== undefined) out.via = r.gateway;
    if (r.prefsrc !== undefined) out.src = r.prefsrc;
    return out;
  }

  private save(): void {
    if (!this.persist) return;
    try {
      mkdirSync(dirname(this.stateFile), { recursive: true });
      const tmp = `${this.stateFile}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: 1, pid: process.pid, items: this.items }, null, 2));
      renameSync(tmp, this.stateFile);
    } catch (err) {
      throw new Error(`RouteManager: cannot write state file ${this.stateFile}: ${(err as Error).message}`);
    }
  }
}
