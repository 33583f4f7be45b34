/**
 * Configuration reload (`tsipsec reload`, SIGHUP), with the semantics of strongSwan's
 * `swanctl --load-all`:
 *
 * - a connection only in the new configuration is loaded, and its `start_action = start` children are
 *   initiated (`trap` children get their trap policy, `trap|start` both);
 * - a connection only in the old one is unloaded: its IKE SAs (and with them their child SAs, routes and
 *   ESP state) are deleted with the peer;
 * - a connection whose own settings changed is treated as removed + added;
 * - a connection whose settings are equal but whose children differ keeps its IKE SA: removed and
 *   changed children are deleted, added and changed children with `start_action = start` are created
 *   with CREATE_CHILD_SA, unchanged children are not touched;
 * - an unchanged connection keeps its SAs untouched.
 *
 * `planReload` is the pure diff; `applyReload` carries it out on a running Tunnel. The IKE engine keeps
 * its configuration object: the connection list is replaced in place, and an unchanged connection keeps
 * its very object (IKE SAs refer to their connection by identity), so only what changed is new.
 */
import type { IkeChildConfig, IkeConfig, IkeConnection } from '../ike/config.js';
import type { IkeEndpoint } from '../ike/endpoint.js';

export interface ReloadPlan {
  /** Connection names, in the order of the new configuration (removed: of the old one). */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
  /** Child changes inside connections whose own settings are unchanged, as `connection.child`. */
  readonly childrenAdded: readonly string[];
  readonly childrenRemoved: readonly string[];
  readonly childrenChanged: readonly string[];
}

export interface ReloadResult extends ReloadPlan {
  /** IKE SAs and child SAs whose deletion was started. */
  readonly ikeSasDeleted: number;
  readonly childSasDeleted: number;
  /** Children whose initiation was started (`connection.child`). */
  readonly initiated: readonly string[];
  readonly warnings: readonly string[];
}

/** Structural equality over config values: primitives, arrays, Uint8Arrays and plain objects. */
export function sameConfigValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameConfigValue(x, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameConfigValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function withoutChildren(c: IkeConnection): Omit<IkeConnection, 'children'> {
  const { children: _children, ...rest } = c;
  return rest;
}

/** start_action = start or trap|start: initiated when loaded. */
function startsNow(ch: IkeChildConfig): boolean {
  return ch.startAction === 'start' || ch.startAction === 'trap|start';
}

/** The diff between the running connections and a newly loaded set. Pure. */
export function planReload(current: readonly IkeConnection[], next: readonly IkeConnection[]): ReloadPlan {
  const plan = { added: [] as string[], removed: [] as string[], changed: [] as string[], unchanged: [] as string[], childrenAdded: [] as string[], childrenRemoved: [] as string[], childrenChanged: [] as string[] };
  const old = new Map(current.map((c) => [c.name, c]));
  const names = new Set(next.map((c) => c.name));
  for (const c of current) if (!names.has(c.name)) plan.removed.push(c.name);
  for (const c of next) {
    const o = old.get(c.name);
    if (!o) { plan.added.push(c.name); continue; }
    if (!sameConfigValue(withoutChildren(o), withoutChildren(c))) { plan.changed.push(c.name); continue; }
    plan.unchanged.push(c.name);
    const oc = new Map(o.children.map((ch) => [ch.name, ch]));
    const nc = new Set(c.children.map((ch) => ch.name));
    for (const ch of o.children) if (!nc.has(ch.name)) plan.childrenRemoved.push(`${c.name}.${ch.name}`);
    for (const ch of c.children) {
      const prev = oc.get(ch.name);
      if (!prev) plan.childrenAdded.push(`${c.name}.${ch.name}`);
      else if (!sameConfigValue(prev, ch)) plan.childrenChanged.push(`${c.name}.${ch.name}`);
    }
  }
  return plan;
}

/** What applyReload needs from a running Tunnel (kept narrow so the diff can be tested in memory). */
export interface ReloadTarget {
  readonly endpoint: IkeEndpoint;
  /** Runs `fn` on the endpoint at the current time, then sends what it queued. */
  command<T>(fn: (endpoint: IkeEndpoint, now: number) => T): T;
  /** Re-installs trap policies (and their routes) from the new connection list (Tunnel.syncTraps). */
  syncTraps?(): void;
}

/**
 * Applies `next` to a running endpoint (see the file comment). `next.limits` are not applied: limits
 * (retransmission schedule, half-open caps) stay as started.
 */
export function applyReload(target: ReloadTarget, next: IkeConfig): ReloadResult {
  return target.command((endpoint, now) => {
    const config = endpoint.config;
    const plan = planReload(config.connections, next.connections);
    const warnings: string[] = [];
    const gone = new Set([...plan.removed, ...plan.changed]);
    const childGone = new Set([...plan.childrenRemoved, ...plan.childrenChanged]);
    let ikeSasDeleted = 0;
    let childSasDeleted = 0;
    for (const sa of endpoint.status()) {
      if (gone.has(sa.name)) { endpoint.terminateIke(now, sa.ikeId); ikeSasDeleted++; continue; }
      for (const ch of sa.children) {
        if (childGone.has(`${sa.name}.${ch.name}`) && ch.state !== 'deleting' && ch.state !== 'rekeyed') { endpoint.terminateChild(now, ch.spiIn); childSasDeleted++; }
      }
    }

    // The new connection list: unchanged connections keep their object (with their children list
    // updated in place), so established IKE SAs keep matching them.
    const oldByName = new Map(config.connections.map((c) => [c.name, c]));
    const unchanged = new Set(plan.unchanged);
    const list: IkeConnection[] = next.connections.map((c) => {
      const o = oldByName.get(c.name);
      if (!o || !unchanged.has(c.name)) return c;
      const oldChildren = new Map(o.children.map((ch) => [ch.name, ch]));
      const children: IkeChildConfig[] = c.children.map((ch) => {
        const prev = oldChildren.get(ch.name);
        return prev && sameConfigValue(prev, ch) ? prev : ch;
      });
      (o.children as IkeChildConfig[]).splice(0, o.children.length, ...children);
      return o;
    });
    (config.connections as IkeConnection[]).splice(0, config.connections.length, ...list);
    endpoint.connectionsChanged();
    // Traps of removed or changed children go (with their routes); new start_action = trap children get one.
    target.syncTraps?.();

    const initiated: string[] = [];
    const startAll = (c: IkeConnection): void => {
      const start = c.children.filter((ch) => startsNow(ch));
      if (start.length === 0) return;
      try {
        // One IKE SA carrying every start child (initiate without a child name brings up all of them).
        if (start.length === c.children.length) endpoint.initiate(now, c.name);
        else for (const ch of start) endpoint.initiate(now, c.name, ch.name);
        for (const ch of start) initiated.push(`${c.name}.${ch.name}`);
      } catch (err) {
        warnings.push(`connections.${c.name}: not initiated: ${(err as Error).message}`);
      }
    };
    for (const c of list) if (plan.added.includes(c.name) || plan.changed.includes(c.name)) startAll(c);
    const established = new Set(endpoint.status().filter((s) => s.state === 'established').map((s) => s.name));
    for (const qualified of [...plan.childrenAdded, ...plan.childrenChanged]) {
      const dot = qualified.indexOf('.');
      const conn = list.find((c) => c.name === qualified.slice(0, dot));
      const ch = conn?.children.find((x) => x.name === qualified.slice(dot + 1));
      if (!conn || !ch || !startsNow(ch)) continue;
      // Without an established IKE SA the child comes up with the next IKE SA of its connection.
      // An establishing (not yet established) IKE SA only carries the children it started with.
      if (!established.has(conn.name) && endpoint.status().some((s) => s.name === conn.name)) {
        warnings.push(`connections.${qualified}: its IKE SA is still being established; run 'tsipsec initiate ${ch.name}' when it is up`);
        continue;
      }
      try {
        endpoint.initiate(now, conn.name, ch.name);
        initiated.push(qualified);
      } catch (err) {
        warnings.push(`connections.${qualified}: not initiated: ${(err as Error).message}`);
      }
    }
    return { ...plan, ikeSasDeleted, childSasDeleted, initiated, warnings };
  });
}
