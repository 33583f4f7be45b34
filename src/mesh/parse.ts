/**
 * The mesh description file: strongSwan settings syntax (the swanctl.conf lexer and parser of
 * src/config/swanctl-parser.ts, so every value keeps its file and line), three sections:
 *
 *   mesh {                                   # the cluster's settings, the same on every node
 *     auth = psk | pubkey
 *     psk = "…"                               # auth = psk: ≥ 16 bytes; 0x… hex and 0s… base64 as swanctl
 *     ca = ca.pem                             # auth = pubkey: the cluster CA (relative to this file)
 *     certs = certs                           # auth = pubkey: <certs>/<node>.pem (default "certs")
 *     keys = private                          # auth = pubkey: <keys>/<node>.pem (default "private")
 *     proposals = aes256gcm16-prfsha256-x25519
 *     esp_proposals = aes256gcm16
 *     dpd_delay = 30s   rekey_time = 4h   child_rekey_time = 1h
 *     outer_mtu = 1500                        # MTU of the links between nodes
 *     default_policy = private                # group of a peer no policy entry names
 *   }
 *   nodes {
 *     <name> { addrs = 198.18.0.1   subnets = 198.19.1.0/24   id = <name> }
 *   }
 *   policies {                                # libreswan policy groups: node names or CIDR prefixes
 *     private = …   clear-or-private = …   clear = …
 *   }
 *
 * `parseMesh` is total over text: it returns the description or throws one ConfigError listing every
 * problem as `file:line: key: message` (DESIGN.md rule 8). It reads no files; the credentials are
 * looked up per node by build.ts.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { ConfigError, IssueCollector } from '../config/errors.js';
import type { SourceLocation } from '../config/errors.js';
import { parseSwanctl, type SettingsSection, type SettingsValue } from '../config/swanctl-parser.js';
import { checkProposalList } from '../config/proposals.js';
import { decodeSecret, parseDurationSec, parseUint, splitList } from '../config/values.js';
import { parseCidr } from '../config/address.js';
import { parseIp } from '../wire/addr.js';
import { PolicyGroup, type MeshAuth, type MeshDescription, type MeshNode, type PolicyEntry } from './types.js';

export const MESH_DEFAULTS = {
  proposals: ['aes256gcm16-prfsha256-x25519'],
  espProposals: ['aes256gcm16'],
  dpdDelaySec: 30,
  rekeyTimeSec: 4 * 3600,
  childRekeyTimeSec: 3600,
  outerMtu: 1500,
  certs: 'certs',
  keys: 'private',
} as const;

/** Shortest PSK accepted: 16 bytes (128 bits), so a cluster key cannot be a short password. */
export const MIN_PSK_BYTES = 16;
const NODE_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;
const MESH_KEYS = ['auth', 'psk', 'ca', 'certs', 'keys', 'proposals', 'esp_proposals', 'dpd_delay', 'rekey_time', 'child_rekey_time', 'outer_mtu', 'default_policy'];
const NODE_KEYS = ['addrs', 'subnets', 'id'];
const GROUPS: readonly string[] = Object.values(PolicyGroup);

function prefixOf(text: string): PolicyEntry['prefix'] | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  const r = parseCidr(text);
  if (!addr || !r) return undefined;
  return { start: r.start, end: r.end, bits: slash < 0 ? addr.length * 8 : Number(text.slice(slash + 1)) };
}

/** True when the two byte ranges (same family) share an address. */
export function rangesOverlap(a: { start: Uint8Array; end: Uint8Array }, b: { start: Uint8Array; end: Uint8Array }): boolean {
  if (a.start.length !== b.start.length) return false;
  return compare(a.start, b.end) <= 0 && compare(b.start, a.end) <= 0;
}

export function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

class SectionReader {
  constructor(readonly section: SettingsSection, private readonly issues: IssueCollector, allowed: readonly string[]) {
    for (const v of section.values) {
      if (!allowed.includes(v.key)) this.issues.error(v, `${section.path}.${v.key}`, `unknown key (expected one of ${allowed.join(', ')})`);
    }
  }

  raw(key: string): SettingsValue | undefined {
    return this.section.values.find((v) => v.key === key && v.value.trim() !== '');
  }

  error(at: SourceLocation, key: string, message: string): void {
    this.issues.error(at, key === '' ? this.section.path : `${this.section.path}.${key}`, message);
  }

  duration(key: string, dflt: number): number {
    const v = this.raw(key);
    if (!v) return dflt;
    const r = parseDurationSec(v.value);
    if (!r.ok) { this.error(v, key, r.error); return dflt; }
    return r.value;
  }
}

/** Parse and validate a mesh description. Throws ConfigError listing every problem. */
export function parseMesh(text: string, file: string): MeshDescription {
  const issues = new IssueCollector();
  const root = parseSwanctl(text, file).root; // throws ConfigError on malformed syntax
  const top: SourceLocation = { file, line: 1 };
  for (const v of root.values) issues.error(v, v.key, 'unknown key at the top level (expected sections mesh, nodes, policies)');
  for (const s of root.sections) if (!['mesh', 'nodes', 'policies'].includes(s.name)) issues.error(s, s.path, 'unknown section (expected mesh, nodes, policies)');
  const meshSection = root.sections.find((s) => s.name === 'mesh');
  const nodesSection = root.sections.find((s) => s.name === 'nodes');
  const policiesSection = root.sections.find((s) => s.name === 'policies');
  if (!meshSection) issues.error(top, 'mesh', 'missing section: the cluster settings (auth, psk or ca, proposals)');
  if (!nodesSection) issues.error(top, 'nodes', 'missing section: the list of nodes');

  // ---- mesh { … } ----
  const m = new SectionReader(meshSection ?? { name: 'mesh', path: 'mesh', file, line: 1, refs: [], values: [], sections: [] }, issues, MESH_KEYS);
  for (const s of meshSection?.sections ?? []) issues.error(s, s.path, 'unexpected section inside mesh');
  const dir = dirname(file);
  const resolve = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  let auth: MeshAuth = { kind: 'psk', psk: new Uint8Array(0) };
  const authV = m.raw('auth');
  if (meshSection && !authV) m.error(meshSection, 'auth', 'missing: psk (one cluster pre-shared key) or pubkey (a cluster CA and a certificate per node)');
  else if (authV && authV.value.trim() !== 'psk' && authV.value.trim() !== 'pubkey') m.error(authV, 'auth', `must be psk or pubkey, got "${authV.value}"`);
  const pskV = m.raw('psk');
  const caV = m.raw('ca');
  if (authV?.value.trim() === 'psk') {
    for (const k of ['ca', 'certs', 'keys']) { const v = m.raw(k); if (v) m.error(v, k, 'only for auth = pubkey'); }
    if (!pskV) m.error(authV, 'psk', 'missing: auth = psk needs the cluster pre-shared key');
    else {
      const r = decodeSecret(pskV.value);
      if (!r.ok) m.error(pskV, 'psk', r.error);
      else if (r.value.length < MIN_PSK_BYTES) m.error(pskV, 'psk', `too short: ${r.value.length} bytes, at least ${MIN_PSK_BYTES}`);
      else auth = { kind: 'psk', psk: r.value };
    }
  } else if (authV?.value.trim() === 'pubkey') {
    if (pskV) m.error(pskV, 'psk', 'only for auth = psk');
    if (!caV) m.error(authV, 'ca', 'missing: auth = pubkey needs the cluster CA certificate file');
    auth = {
      kind: 'pubkey',
      caFile: resolve(caV?.value.trim() ?? 'ca.pem'),
      certsDir: resolve(m.raw('certs')?.value.trim() ?? MESH_DEFAULTS.certs),
      keysDir: resolve(m.raw('keys')?.value.trim() ?? MESH_DEFAULTS.keys),
    };
  }
  const proposalsOf = (key: string, protocol: 'ike' | 'esp', dflt: readonly string[]): string[] => {
    const v = m.raw(key);
    if (!v) return [...dflt];
    const r = checkProposalList(v.value, protocol);
    for (const e of r.errors) m.error(v, key, e);
    return r.proposals;
  };
  const proposals = proposalsOf('proposals', 'ike', MESH_DEFAULTS.proposals);
  const espProposals = proposalsOf('esp_proposals', 'esp', MESH_DEFAULTS.espProposals);
  const dpdDelaySec = m.duration('dpd_delay', MESH_DEFAULTS.dpdDelaySec);
  const rekeyTimeSec = m.duration('rekey_time', MESH_DEFAULTS.rekeyTimeSec);
  const childRekeyTimeSec = m.duration('child_rekey_time', MESH_DEFAULTS.childRekeyTimeSec);
  let outerMtu: number = MESH_DEFAULTS.outerMtu;
  const mtuV = m.raw('outer_mtu');
  if (mtuV) {
    const r = parseUint(mtuV.value, 65535);
    if (!r.ok) m.error(mtuV, 'outer_mtu', r.error);
    else if (r.value < 576) m.error(mtuV, 'outer_mtu', `${r.value} is below 576 (RFC 791's minimum reassembly size)`);
    else outerMtu = r.value;
  }
  let defaultPolicy: PolicyGroup = PolicyGroup.PRIVATE;
  const dpV = m.raw('default_policy');
  if (dpV) {
    const g = dpV.value.trim();
    if (GROUPS.includes(g)) defaultPolicy = g as PolicyGroup;
    else m.error(dpV, 'default_policy', `must be one of ${GROUPS.join(', ')}, got "${dpV.value}"`);
  }

  // ---- nodes { <name> { … } } ----
  const nodes: MeshNode[] = [];
  for (const v of nodesSection?.values ?? []) issues.error(v, `nodes.${v.key}`, 'expected a section per node: <name> { addrs = … }');
  const seenAddr = new Map<string, string>();
  const seenId = new Map<string, string>();
  for (const s of nodesSection?.sections ?? []) {
    const r = new SectionReader(s, issues, NODE_KEYS);
    for (const sub of s.sections) issues.error(sub, sub.path, 'unexpected section inside a node');
    if (!NODE_NAME.test(s.name)) r.error(s, '', `node name "${s.name}" must be 1..31 of a-z, 0-9 and '-', starting with a letter or digit`);
    const addrsV = r.raw('addrs');
    const addrs: string[] = [];
    if (!addrsV) r.error(s, 'addrs', `missing: node ${s.name} needs its IP address`);
    else {
      for (const a of splitList(addrsV.value)) {
        const b = parseIp(a);
        if (!b) { r.error(addrsV, 'addrs', `"${a}" is not an IPv4 or IPv6 address`); continue; }
        const other = seenAddr.get(a);
        if (other !== undefined) r.error(addrsV, 'addrs', `address ${a} is also node ${other}'s`);
        seenAddr.set(a, s.name);
        addrs.push(a);
      }
    }
    const subnets: string[] = [];
    const subV = r.raw('subnets');
    for (const p of subV ? splitList(subV.value) : []) {
      if (!p.includes('/') || !prefixOf(p)) r.error(subV!, 'subnets', `"${p}" is not a CIDR prefix (e.g. 198.19.1.0/24)`);
      else subnets.push(p);
    }
    const id = r.raw('id')?.value.trim() ?? s.name;
    const otherId = seenId.get(id.toLowerCase());
    if (otherId !== undefined) r.error(r.raw('id') ?? s, 'id', `identity "${id}" is also node ${otherId}'s`);
    seenId.set(id.toLowerCase(), s.name);
    nodes.push({ name: s.name, source: { file: s.file, line: s.line }, addrs, subnets, id });
  }
  if (nodesSection && nodes.length < 2) issues.error(nodesSection, 'nodes', `a mesh needs at least 2 nodes, found ${nodes.length}`);
  // Every pair needs an address family in common (a node may list an IPv4 and an IPv6 address).
  const families = (n: MeshNode) => new Set(n.addrs.map((a) => (a.includes(':') ? 6 : 4)));
  for (let i = 0; i < nodes.length; i++) {
    for (let j = 0; j < i; j++) {
      const x = nodes[i]!;
      const y = nodes[j]!;
      if (x.addrs.length === 0 || y.addrs.length === 0) continue;
      const fy = families(y);
      if (![...families(x)].some((f) => fy.has(f))) issues.error(x.source, `nodes.${x.name}.addrs`, `node ${x.name} shares no address family with node ${y.name}`);
    }
  }
  // Subnets of different nodes must not overlap: a packet's destination must name one peer.
  const ranges = nodes.flatMap((n) => n.subnets.map((p) => ({ node: n, p, r: prefixOf(p)! })));
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const x = ranges[i]!;
      const y = ranges[j]!;
      if (x.node !== y.node && rangesOverlap(x.r, y.r)) issues.error(y.node.source, `nodes.${y.node.name}.subnets`, `${y.p} overlaps ${x.p} of node ${x.node.name}`);
    }
  }

  // ---- policies { <group> = node, cidr, … } ----
  const policies: PolicyEntry[] = [];
  for (const s of policiesSection?.sections ?? []) issues.error(s, s.path, 'unexpected section inside policies (expected private = …, clear-or-private = …, clear = …)');
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const seenEntry = new Map<string, PolicyGroup>();
  for (const v of policiesSection?.values ?? []) {
    const key = `policies.${v.key}`;
    if (v.key === 'private-or-clear' || v.key === 'block') {
      issues.error(v, key, `not supported by tsipsec: ${v.key === 'block' ? 'block (drop) policies' : 'private-or-clear (falling back to clear when negotiation fails)'}; use private, clear-or-private or clear`);
      continue;
    }
    if (!GROUPS.includes(v.key)) { issues.error(v, key, `unknown policy group (expected ${GROUPS.join(', ')})`); continue; }
    const group = v.key as PolicyGroup;
    for (const text of splitList(v.value)) {
      const node = byName.get(text);
      const prefix = node ? undefined : prefixOf(text);
      if (!node && !prefix) { issues.error(v, key, `"${text}" is neither a node name nor an IP address or CIDR prefix`); continue; }
      const prev = seenEntry.get(text);
      if (prev !== undefined) issues.error(v, key, `"${text}" is already in policy group ${prev}`);
      seenEntry.set(text, group);
      policies.push({ group, text, source: { file: v.file, line: v.line }, ...(node ? { node: node.name } : { prefix }) });
    }
  }
  const desc: MeshDescription = {
    file, auth, proposals, espProposals, dpdDelaySec, rekeyTimeSec, childRekeyTimeSec, outerMtu, defaultPolicy, nodes, policies,
  };
  // A clear prefix inside an encrypted node's subnet cannot be honoured: tsipsec cannot carve a bypass
  // out of a tunnel's selectors (no `pass` children), so the packet would be encrypted after all.
  for (const e of policies) {
    if (e.group !== PolicyGroup.CLEAR || !e.prefix) continue;
    for (const n of nodes) {
      if (policyOf(desc, n) === PolicyGroup.CLEAR) continue;
      for (const p of n.subnets) {
        if (rangesOverlap(e.prefix, prefixOf(p)!)) issues.error(e.source, 'policies.clear', `${e.text} overlaps subnet ${p} of node ${n.name}, which is ${policyOf(desc, n)}: tsipsec cannot exempt part of a tunnel's selectors`);
      }
    }
  }
  issues.throwIfErrors();
  return desc;
}

/**
 * The policy group of a peer node, as libreswan picks it: an entry naming the node wins, then the
 * longest prefix containing the node's address, then `default_policy`.
 */
export function policyOf(mesh: MeshDescription, node: MeshNode): PolicyGroup {
  const named = mesh.policies.find((e) => e.node === node.name);
  if (named) return named.group;
  const addr = node.addrs[0] !== undefined ? parseIp(node.addrs[0]) : undefined;
  let best: PolicyEntry | undefined;
  if (addr) {
    for (const e of mesh.policies) {
      if (!e.prefix || e.prefix.start.length !== addr.length) continue;
      if (compare(e.prefix.start, addr) <= 0 && compare(addr, e.prefix.end) <= 0 && (!best || e.prefix.bits > best.prefix!.bits)) best = e;
    }
  }
  return best?.group ?? mesh.defaultPolicy;
}

/** ConfigError for one problem, e.g. `--node` naming no node. */
export function meshError(at: SourceLocation, key: string, message: string): ConfigError {
  return new ConfigError([{ file: at.file, line: at.line, key, message }]);
}
