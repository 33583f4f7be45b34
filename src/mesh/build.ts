/**
 * One node's view of a mesh: (mesh description, node name) → the swanctl.conf this node runs, and from
 * it the IKE engine's typed configuration. Rendering first and running the rendered text through the
 * swanctl validator and mapper (src/config, src/runtime/from-swanctl.ts) means `tsipsec mesh render`
 * prints exactly what `tsipsec mesh up` runs, and a strongSwan node given the same text joins the mesh.
 *
 * Per peer node, by the pair's policy group (`pairPolicy` below):
 * - private: connection `mesh-<peer>`; child `<peer>-host` in transport mode between the two node
 *   addresses, and when both nodes list subnets a child `<peer>-net` in tunnel mode between them. Every
 *   child has start_action = trap on both sides (the first packet raises an acquire, is held, and
 *   nothing is sent in clear), dpd_action = trap and close_action = trap (a dead or closed SA becomes a
 *   trap again, never a clear path). Whoever sends first initiates; a simultaneous start is resolved by
 *   the engine's collision handling, leaving one IKE SA per pair.
 * - clear-or-private: the same connection with start_action = none: answered, never initiated.
 * - clear: no connection.
 * ESP is always in UDP 4500 (encap = yes) and IKE SAs rekey (never reauthenticate), so SAs outlive
 * the 2^32-packet limit flannel#1436 ran into.
 */
import { dirname } from 'node:path';
import { ConfigError } from '../config/errors.js';
import { parseSwanctl } from '../config/swanctl-parser.js';
import { validateSwanctl } from '../config/validate.js';
import type { ConfigFileSystem } from '../config/types.js';
import { ikeConfigFromSwanctl } from '../runtime/from-swanctl.js';
import type { IkeConfigInput } from '../ike/config.js';
import { meshError, policyOf } from './parse.js';
import { meshInnerMtu, type MeshMtuLine } from './mtu.js';
import { PolicyGroup, type MeshDescription, type MeshFileSystem, type MeshNode } from './types.js';

/** Where the rendered swanctl.conf expects credentials (strongSwan's default swanctl directory). */
export const SWANCTL_DIR = '/etc/swanctl';

export interface MeshPeerPlan {
  readonly node: MeshNode;
  readonly policy: PolicyGroup;
  /** Connection name, absent for clear peers. */
  readonly connection?: string;
  readonly children: readonly { readonly name: string; readonly mode: 'transport' | 'tunnel'; readonly localTs: readonly string[]; readonly remoteTs: readonly string[] }[];
}

export interface MeshPlan {
  readonly mesh: MeshDescription;
  readonly node: MeshNode;
  readonly peers: readonly MeshPeerPlan[];
  /** Policy entries that are not nodes and are sent in clear (e.g. a monitoring host). */
  readonly clearPrefixes: readonly string[];
  /** The swanctl.conf text of this node. */
  readonly swanctl: string;
  /** Credential files the swanctl.conf needs: path under SWANCTL_DIR → file named by the mesh. */
  readonly files: ReadonlyMap<string, string>;
  /** MTU per child, and the TUN MTU (the smallest inner MTU, so every peer's packets fit). */
  readonly mtu: readonly MeshMtuLine[];
  readonly tunMtu: number;
}

/**
 * The group of the pair (me, peer): clear when either node is clear (both sides then agree there is no
 * connection), otherwise the peer's group as this node sees it.
 */
export function pairPolicy(mesh: MeshDescription, me: MeshNode, peer: MeshNode): PolicyGroup {
  if (policyOf(mesh, me) === PolicyGroup.CLEAR) return PolicyGroup.CLEAR;
  return policyOf(mesh, peer);
}

function hostPrefix(addr: string): string {
  return addr.includes(':') ? `${addr}/128` : `${addr}/32`;
}

function familyOf(addr: string): 4 | 6 {
  return addr.includes(':') ? 6 : 4;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function durationText(sec: number): string {
  return `${sec}s`;
}

/** This node's plan. Throws ConfigError naming the file when `nodeName` is not a node of the mesh. */
export function planMesh(mesh: MeshDescription, nodeName: string): MeshPlan {
  const me = mesh.nodes.find((n) => n.name === nodeName);
  if (!me) throw meshError({ file: mesh.file, line: 0 }, 'nodes', `no node named "${nodeName}" (nodes: ${mesh.nodes.map((n) => n.name).join(', ')})`);
  const myAddr = me.addrs[0]!;
  // With IPv4 and IPv6 addresses the pair uses the first family, in the address list of the node whose
  // name sorts first, that both nodes have: both ends compute the same pair of addresses.
  const pick = (peer: MeshNode): [string, string] => {
    const first = me.name < peer.name ? me : peer;
    const other = first === me ? peer : me;
    const family = first.addrs.map(familyOf).find((f) => other.addrs.some((a) => familyOf(a) === f)) ?? familyOf(myAddr);
    const of = (n: MeshNode) => n.addrs.find((a) => familyOf(a) === family) ?? n.addrs[0]!;
    return [of(me), of(peer)];
  };
  const peers: MeshPeerPlan[] = [];
  const files = new Map<string, string>();
  const lines: string[] = [];
  const mtu: MeshMtuLine[] = [];
  const out = (indent: number, text: string) => lines.push(`${'  '.repeat(indent)}${text}`);
  const pubkey = mesh.auth.kind === 'pubkey';
  if (mesh.auth.kind === 'pubkey') {
    files.set(`${SWANCTL_DIR}/x509ca/mesh-ca.pem`, mesh.auth.caFile);
    files.set(`${SWANCTL_DIR}/x509/${me.name}.pem`, `${mesh.auth.certsDir}/${me.name}.pem`);
    files.set(`${SWANCTL_DIR}/private/${me.name}.pem`, `${mesh.auth.keysDir}/${me.name}.pem`);
  }
  out(0, `# tsipsec mesh: node ${me.name} of ${mesh.file}`);
  for (const [to, from] of files) out(0, `# needs ${to} (from ${from})`);
  out(0, 'connections {');
  for (const peer of mesh.nodes) {
    if (peer === me) continue;
    const policy = pairPolicy(mesh, me, peer);
    if (policy === PolicyGroup.CLEAR) {
      peers.push({ node: peer, policy, children: [] });
      continue;
    }
    const [localAddr, peerAddr] = pick(peer);
    const connection = `mesh-${peer.name}`;
    const children: { name: string; mode: 'transport' | 'tunnel'; localTs: string[]; remoteTs: string[] }[] = [
      { name: `${peer.name}-host`, mode: 'transport', localTs: [hostPrefix(localAddr)], remoteTs: [hostPrefix(peerAddr)] },
    ];
    if (me.subnets.length > 0 && peer.subnets.length > 0) {
      children.push({ name: `${peer.name}-net`, mode: 'tunnel', localTs: [...me.subnets], remoteTs: [...peer.subnets] });
    }
    peers.push({ node: peer, policy, connection, children });
    const start = policy === PolicyGroup.PRIVATE ? 'trap' : 'none';
    out(1, `${connection} {  # ${policy}`);
    out(2, `local_addrs = ${localAddr}`);
    out(2, `remote_addrs = ${peerAddr}`);
    out(2, `proposals = ${mesh.proposals.join(', ')}`);
    out(2, 'encap = yes');
    out(2, `dpd_delay = ${durationText(mesh.dpdDelaySec)}`);
    out(2, `rekey_time = ${durationText(mesh.rekeyTimeSec)}`);
    out(2, 'local {');
    out(3, `auth = ${pubkey ? 'pubkey' : 'psk'}`);
    out(3, `id = ${me.id}`);
    if (pubkey) out(3, `certs = ${me.name}.pem`);
    out(2, '}');
    out(2, 'remote {');
    out(3, `auth = ${pubkey ? 'pubkey' : 'psk'}`);
    out(3, `id = ${peer.id}`);
    if (pubkey) out(3, 'cacerts = mesh-ca.pem');
    out(2, '}');
    out(2, 'children {');
    for (const ch of children) {
      out(3, `${ch.name} {`);
      out(4, `local_ts = ${ch.localTs.join(', ')}`);
      out(4, `remote_ts = ${ch.remoteTs.join(', ')}`);
      out(4, `mode = ${ch.mode}`);
      out(4, `esp_proposals = ${mesh.espProposals.join(', ')}`);
      out(4, `rekey_time = ${durationText(mesh.childRekeyTimeSec)}`);
      out(4, `start_action = ${start}`);
      out(4, 'dpd_action = trap');
      out(4, `close_action = ${policy === PolicyGroup.PRIVATE ? 'trap' : 'none'}`);
      out(3, '}');
      const family = familyOf(peerAddr);
      const innerMtu = meshInnerMtu(mesh.espProposals, ch.mode, family, mesh.outerMtu);
      mtu.push({ connection, child: ch.name, mode: ch.mode, family, outerMtu: mesh.outerMtu, innerMtu, headroom: mesh.outerMtu - innerMtu });
    }
    out(2, '}');
    out(1, '}');
  }
  out(0, '}');
  if (mesh.auth.kind === 'psk') {
    out(0, 'secrets {');
    out(1, 'ike-mesh {');
    out(2, `secret = 0x${hex(mesh.auth.psk)}`);
    out(1, '}');
    out(0, '}');
  }
  const clearPrefixes = mesh.policies.filter((e) => e.group === PolicyGroup.CLEAR && e.prefix).map((e) => e.text);
  const tunMtu = mtu.length ? Math.min(...mtu.map((l) => l.innerMtu)) : meshInnerMtu(mesh.espProposals, 'transport', familyOf(myAddr), mesh.outerMtu);
  return { mesh, node: me, peers, clearPrefixes, swanctl: lines.join('\n') + '\n', files, mtu, tunMtu };
}

/**
 * The IKE engine configuration of a plan: the rendered swanctl.conf through the swanctl validator and
 * mapper, with credentials read through `fs`. Throws ConfigError naming the mesh file and node when
 * this node's certificate, key or the CA is missing.
 */
export function meshIkeConfig(plan: MeshPlan, fs: MeshFileSystem): { ike: IkeConfigInput; warnings: string[] } {
  const missing: string[] = [];
  for (const [, real] of plan.files) if (!fs.exists(real)) missing.push(real);
  if (missing.length > 0) {
    throw new ConfigError(missing.map((p) => ({
      file: plan.mesh.file, line: plan.node.source.line, key: `nodes.${plan.node.name}`,
      message: `node ${plan.node.name}: ${p} not found (auth = pubkey: the CA in mesh.ca, the certificate as <certs>/${plan.node.name}.pem, the key as <keys>/${plan.node.name}.pem)`,
    })));
  }
  const virtual: ConfigFileSystem = {
    readFile(path) {
      const real = plan.files.get(path);
      if (real === undefined) throw new Error(`${path}: not part of the mesh`);
      return fs.readFile(real);
    },
    listFiles(dir) {
      return [...plan.files.keys()].filter((p) => dirname(p) === dir).sort();
    },
  };
  const rendered = `${plan.mesh.file} [rendered for node ${plan.node.name}]`;
  const parsed = parseSwanctl(plan.swanctl, rendered);
  const validated = validateSwanctl(parsed.root, { swanctlDir: SWANCTL_DIR, fs: virtual, loadCredentialDirs: true });
  if (plan.peers.every((p) => p.connection === undefined)) {
    throw meshError(plan.node.source, `nodes.${plan.node.name}`, `node ${plan.node.name} has no peer to encrypt to (every other node is in policy group clear)`);
  }
  const mapped = ikeConfigFromSwanctl(validated.config);
  return { ike: mapped.ike, warnings: [...validated.warnings, ...mapped.warnings] };
}
