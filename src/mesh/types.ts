/**
 * A cluster mesh description (`tsipsec mesh`): every node encrypts its traffic to every other node, as
 * libreswan host-to-host meshes, OVN-Kubernetes IPsec and Docker's SecureOverlay do. One file, the same
 * on every node; each node picks its own view by name. The file syntax is strongSwan's settings syntax
 * (swanctl.conf), documented in docs/mesh.md; `parseMesh` (parse.ts) turns it into `MeshDescription`.
 */
import type { SourceLocation } from '../config/errors.js';

/**
 * libreswan's policy groups (ipsec.conf(5) "POLICY GROUP FILES", /etc/ipsec.d/policies/):
 * - `private`: traffic to these peers is always encrypted; packets before the SA is up are held by a
 *   trap and never sent in clear. Both sides initiate on demand (start_action = trap).
 * - `clear-or-private`: never initiate; answer a peer that initiates (responder only), so traffic is
 *   encrypted when the peer wants it and clear otherwise.
 * - `clear`: never encrypted: no connection at all.
 * libreswan's `private-or-clear` (initiate, fall back to clear when negotiation fails) and `block` are
 * not offered: tsipsec's trap has no "pass after failure" shunt, so it could not be done honestly.
 */
export const PolicyGroup = { PRIVATE: 'private', CLEAR_OR_PRIVATE: 'clear-or-private', CLEAR: 'clear' } as const;
export type PolicyGroup = (typeof PolicyGroup)[keyof typeof PolicyGroup];

export interface MeshNode {
  /** Node name: [a-z0-9] then [a-z0-9-], at most 31 characters. Connection `mesh-<name>`, IKE identity by default. */
  readonly name: string;
  readonly source: SourceLocation;
  /** The node's IKE/ESP address (IPv4 or IPv6 literal); the first is used. */
  readonly addrs: readonly string[];
  /** Subnets behind the node (e.g. its pod/container subnet), CIDR; [] for none. */
  readonly subnets: readonly string[];
  /** IKE identity (default: the node name as an FQDN). With certificates it must be a subjectAltName DNS entry. */
  readonly id: string;
}

/** One entry of a policy group: a node name or a CIDR prefix, with where it was written. */
export interface PolicyEntry {
  readonly group: PolicyGroup;
  readonly text: string;
  readonly source: SourceLocation;
  /** The node the entry names, when it is a node name. */
  readonly node?: string;
  /** The prefix, when it is an address/CIDR. */
  readonly prefix?: { readonly start: Uint8Array; readonly end: Uint8Array; readonly bits: number };
}

export type MeshAuth =
  | { readonly kind: 'psk'; readonly psk: Uint8Array }
  | {
      readonly kind: 'pubkey';
      /** The cluster CA certificate file (absolute path). */
      readonly caFile: string;
      /** Directory of node certificates: `<certsDir>/<node>.pem` (absolute). */
      readonly certsDir: string;
      /** Directory of node private keys: `<keysDir>/<node>.pem` (absolute). */
      readonly keysDir: string;
    };

export interface MeshDescription {
  /** The mesh file (absolute path as given). */
  readonly file: string;
  readonly auth: MeshAuth;
  /** IKE proposals (strongSwan syntax), default ['aes256gcm16-prfsha256-x25519']. */
  readonly proposals: readonly string[];
  /** ESP proposals, default ['aes256gcm16']. */
  readonly espProposals: readonly string[];
  /** Liveness check after this much silence (default 30 s). */
  readonly dpdDelaySec: number;
  /** IKE SA rekey (default 4 h). */
  readonly rekeyTimeSec: number;
  /** Child SA rekey (default 1 h). */
  readonly childRekeyTimeSec: number;
  /** MTU of the links between nodes (default 1500): the TUN MTU is this minus the ESP headroom. */
  readonly outerMtu: number;
  /** The group of a peer no policy entry matches (default `private`). */
  readonly defaultPolicy: PolicyGroup;
  readonly nodes: readonly MeshNode[];
  readonly policies: readonly PolicyEntry[];
}

/** The file access the mesh loader needs (node-fs.ts gives node:fs; tests give a map). */
export interface MeshFileSystem {
  /** The file's bytes; throws an Error saying why it cannot be read. */
  readFile(path: string): Uint8Array;
  /** True when a regular file exists at `path`. */
  exists(path: string): boolean;
}
