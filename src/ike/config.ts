/**
 * The IKE engine's typed configuration (self-contained; the runtime maps swanctl.conf onto it).
 *
 * Shapes follow strongSwan's swanctl.conf `connections { <name> { … children { … } } }` so the
 * mapping is one-to-one: proposals are strongSwan proposal strings ("aes128-sha256-x25519",
 * "aes256gcm16-x25519"), traffic selectors are strings ('198.19.1.0/24', 'dynamic',
 * '10.0.0.1[tcp/80]', '2001:db8::/64'), durations are in ms (DESIGN.md §6).
 *
 * `resolveConfig` fills defaults and throws (a config error, DESIGN.md rule 8) naming the field on
 * anything invalid, so the engine can trust the resolved shape.
 */

import { parseIp } from './traffic-selectors.js';
import { poolRange } from './pools.js';

export type AuthMethodName = 'psk' | 'pubkey';
export type ChildMode = 'tunnel' | 'transport';
/**
 * What to do when the connection is loaded: 'none' (wait for the peer), 'start' (initiate), 'trap'
 * (install a trap policy: the runtime initiates when matching traffic arrives), 'trap|start' (both).
 */
export type StartAction = 'none' | 'start' | 'trap' | 'trap|start';
/** What to do when the peer closes a child SA or its IKE SA (strongSwan close_action). Runtime-only. */
export type CloseAction = 'none' | 'trap' | 'start';
/** What to do with a child whose IKE SA died of DPD/timeout (strongSwan dpd_action / close_action). */
export type DpdAction = 'clear' | 'trap' | 'restart';

export interface IkeLocalAuth {
  readonly auth: AuthMethodName;
  /** IKE identity: 'a.example' (FQDN), '198.18.0.1' (IP), 'user@x' (RFC822), 'C=ZZ, O=x, CN=y' (DN), '%any' (remote only). Empty: the local IP. */
  readonly id: string;
  readonly psk?: Uint8Array;
  /**
   * Our certificates (DER or PEM bytes): one or more end-entity certificates and the intermediate
   * CAs above them. With several, the one whose chain reaches a CA named in the peer's CERTREQ is
   * sent (RFC 7296 §3.7), with its intermediates.
   */
  readonly certs?: readonly Uint8Array[];
  /** Our private key (PEM or DER). */
  readonly privateKey?: Uint8Array;
  /** More candidate private keys: the one whose public key is the chosen certificate's is used. */
  readonly privateKeys?: readonly Uint8Array[];
  /**
   * RSA signature padding for AUTH method 14 (RFC 7427): 'pkcs1' (PKCS#1 v1.5 SHA-256, the default,
   * as strongSwan 5.9 and libreswan 4 send) or 'pss' (RSASSA-PSS SHA-256, swanctl `auth = rsa/pss`).
   * EC and Ed25519 keys always use ECDSA / Ed25519.
   */
  readonly rsaPadding?: 'pkcs1' | 'pss';
}

export interface IkeRemoteAuth {
  readonly auth: AuthMethodName;
  /** Expected peer identity ('%any' accepts any authenticated identity). */
  readonly id: string;
  readonly psk?: Uint8Array;
  /** Trust anchors (and intermediates) for the peer's certificate chain. */
  readonly cacerts?: readonly Uint8Array[];
  /**
   * Accept RFC 7296 §3.8 AUTH method 1 (RSA PKCS#1 v1.5 with SHA-1) from the peer, and use it
   * ourselves towards a peer that did not announce SIGNATURE_HASH_ALGORITHMS (RFC 7427). Default
   * false: SHA-1 signatures are refused (RFC 8247 §3.2).
   */
  readonly allowRsaSha1?: boolean;
}

export interface IkeChildConfig {
  readonly name: string;
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  /** ESP proposals, strongSwan syntax; a KE group in the string means PFS on CREATE_CHILD_SA. */
  readonly espProposals: readonly string[];
  readonly mode: ChildMode;
  readonly startAction: StartAction;
  readonly dpdAction: DpdAction;
  /** After the peer closed the child (or its IKE SA): nothing, re-install the trap, or initiate again. Default 'none'. */
  readonly closeAction?: CloseAction;
  /** Rekey this long after establishment (minus jitter); 0 disables. Default 1 h. */
  readonly rekeyTimeMs: number;
  /** Hard expiry; default rekeyTimeMs × 1.1. */
  readonly lifeTimeMs: number;
  /** Jitter subtracted from rekeyTimeMs (random in [0, randTimeMs]); default lifeTime − rekeyTime. */
  readonly randTimeMs: number;
  readonly replayWindow: number;
}

export interface IkeConnection {
  readonly name: string;
  /** Our addresses ('%any' accepts any). The first is used as the source when initiating. */
  readonly localAddrs: readonly string[];
  /** Peer addresses ('%any' accepts any; initiating needs a concrete first entry). */
  readonly remoteAddrs: readonly string[];
  /** IKE port we initiate to (default 500). */
  readonly remotePort: number;
  readonly localPort: number;
  /** IKE proposals, strongSwan syntax ("aes128-sha256-x25519"). */
  readonly proposals: readonly string[];
  /** Force UDP encapsulation by faking NAT_DETECTION_SOURCE_IP (strongSwan `encap = yes`). */
  readonly encap: boolean;
  /** RFC 7383: announce and use IKE fragmentation. */
  readonly fragmentation: boolean;
  /** Largest IP datagram (IP + UDP + IKE) we send before fragmenting, as strongSwan's fragment_size (RFC 7383 §2.5.1; default 1280). */
  readonly fragmentSize: number;
  /** Liveness check after this much inbound silence; 0 disables (default 0, like strongSwan). */
  readonly dpdDelayMs: number;
  /** IKE SA rekey time (default 4 h); 0 disables. */
  readonly rekeyTimeMs: number;
  /** IKE SA hard lifetime (default rekeyTimeMs × 1.1). */
  readonly ikeLifetimeMs: number;
  /** Jitter for IKE rekeying (default ikeLifetimeMs − rekeyTimeMs). */
  readonly randTimeMs: number;
  readonly local: IkeLocalAuth;
  readonly remote: IkeRemoteAuth;
  readonly children: readonly IkeChildConfig[];
  /**
   * Virtual IPs to request from the responder in IKE_AUTH (RFC 7296 §2.19, CFG_REQUEST; swanctl
   * `vips`): '0.0.0.0' / '::' ask for any IPv4 / IPv6 address, a concrete address asks for that one.
   * With vips, a 'dynamic' local selector means the assigned address. Default [].
   */
  readonly vips: readonly string[];
  /** Names of `IkeConfig.pools` to assign peers' virtual IPs from (swanctl `pools`). Default []. */
  readonly pools: readonly string[];
}

/**
 * An address pool for CFG_REPLY (RFC 7296 §2.19; swanctl top-level `pools { <name> { addrs, dns } }`).
 * `addrs` is a CIDR prefix ('198.18.200.0/24': network and broadcast address excluded for IPv4
 * prefixes shorter than /31) or a range ('198.18.200.10-198.18.200.20').
 */
export interface IkePoolConfig {
  readonly name: string;
  readonly addrs: string;
  /** DNS servers sent as INTERNAL_IP4_DNS / INTERNAL_IP6_DNS (swanctl pool attribute `dns`). */
  readonly dns: readonly string[];
}

/** Retransmission schedule (strongSwan charon.retransmit_*): timeout × base^n, `tries` retransmits. */
export interface RetransmitConfig {
  readonly timeoutMs: number;
  readonly base: number;
  readonly tries: number;
  /** Upper bound for one interval. */
  readonly maxIntervalMs: number;
}

export interface IkeLimits {
  /** Half-open IKE SAs (responder side) beyond which new IKE_SA_INIT requests are dropped. */
  readonly halfOpenMax: number;
  /** Half-open count at which the responder starts asking for COOKIEs (strongSwan cookie_threshold). */
  readonly cookieThreshold: number;
  /** How long a cookie secret is used before it is rotated; the previous one stays valid. */
  readonly cookieSecretLifetimeMs: number;
  /** Established + half-open IKE SAs per peer address. */
  readonly ikeSasPerPeerMax: number;
  /** Half-open responder SAs are dropped after this long without IKE_AUTH. */
  readonly halfOpenTimeoutMs: number;
  readonly retransmit: RetransmitConfig;
}

export interface IkeConfig {
  readonly connections: readonly IkeConnection[];
  readonly limits: IkeLimits;
  readonly pools: readonly IkePoolConfig[];
}

// ---- input shapes with defaults --------------------------------------------------------------

type Opt<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
export type IkeChildConfigInput = Opt<IkeChildConfig, 'mode' | 'startAction' | 'dpdAction' | 'rekeyTimeMs' | 'lifeTimeMs' | 'randTimeMs' | 'replayWindow'>;
export type IkeConnectionInput = Opt<
  Omit<IkeConnection, 'children'>,
  'remotePort' | 'localPort' | 'encap' | 'fragmentation' | 'fragmentSize' | 'dpdDelayMs' | 'rekeyTimeMs' | 'ikeLifetimeMs' | 'randTimeMs' | 'localAddrs' | 'remoteAddrs' | 'vips' | 'pools'
> & { readonly children?: readonly IkeChildConfigInput[] };
export type IkePoolConfigInput = Opt<IkePoolConfig, 'dns'>;
export interface IkeConfigInput {
  readonly connections: readonly IkeConnectionInput[];
  readonly pools?: readonly IkePoolConfigInput[];
  readonly limits?: Partial<Omit<IkeLimits, 'retransmit'>> & { readonly retransmit?: Partial<RetransmitConfig> };
}

export const DEFAULT_RETRANSMIT: RetransmitConfig = { timeoutMs: 4000, base: 1.8, tries: 5, maxIntervalMs: 600_000 };
export const DEFAULT_LIMITS: IkeLimits = {
  halfOpenMax: 1000,
  cookieThreshold: 30,
  cookieSecretLifetimeMs: 300_000,
  ikeSasPerPeerMax: 20,
  halfOpenTimeoutMs: 30_000,
  retransmit: DEFAULT_RETRANSMIT,
};
const HOUR = 3_600_000;

function need(cond: boolean, field: string, why: string): void {
  if (!cond) throw new Error(`ike config: ${field} ${why}`);
}

function duration(v: number, field: string): number {
  need(Number.isFinite(v) && v >= 0, field, `must be a non-negative number of ms, got ${v}`);
  return v;
}

export function resolveChild(c: IkeChildConfigInput, where: string): IkeChildConfig {
  need(typeof c.name === 'string' && c.name.length > 0, `${where}.name`, 'is required');
  need(c.localTs.length > 0, `${where}.localTs`, 'needs at least one selector');
  need(c.remoteTs.length > 0, `${where}.remoteTs`, 'needs at least one selector');
  need(c.espProposals.length > 0, `${where}.espProposals`, 'needs at least one proposal');
  const rekeyTimeMs = duration(c.rekeyTimeMs ?? HOUR, `${where}.rekeyTimeMs`);
  const lifeTimeMs = duration(c.lifeTimeMs ?? Math.round(rekeyTimeMs * 1.1), `${where}.lifeTimeMs`);
  need(lifeTimeMs === 0 || rekeyTimeMs === 0 || lifeTimeMs >= rekeyTimeMs, `${where}.lifeTimeMs`, 'must not be below rekeyTimeMs');
  const randTimeMs = duration(c.randTimeMs ?? Math.max(0, lifeTimeMs - rekeyTimeMs), `${where}.randTimeMs`);
  const mode = c.mode ?? 'tunnel';
  need(mode === 'tunnel' || mode === 'transport', `${where}.mode`, `must be tunnel or transport, got ${String(mode)}`);
  return {
    name: c.name,
    localTs: c.localTs,
    remoteTs: c.remoteTs,
    espProposals: c.espProposals,
    mode,
    startAction: c.startAction ?? 'none',
    dpdAction: c.dpdAction ?? 'clear',
    closeAction: c.closeAction ?? 'none',
    rekeyTimeMs,
    lifeTimeMs,
    randTimeMs: Math.min(randTimeMs, rekeyTimeMs),
    replayWindow: c.replayWindow ?? 128,
  };
}

export function resolveConnection(c: IkeConnectionInput, where = `connections[${c.name}]`): IkeConnection {
  need(typeof c.name === 'string' && c.name.length > 0, `${where}.name`, 'is required');
  need(c.proposals.length > 0, `${where}.proposals`, 'needs at least one proposal');
  for (const [side, a] of [['local', c.local], ['remote', c.remote]] as const) {
    need(a.auth === 'psk' || a.auth === 'pubkey', `${where}.${side}.auth`, `must be psk or pubkey, got ${String(a.auth)}`);
    if (a.auth === 'psk') need(a.psk !== undefined && a.psk.length > 0, `${where}.${side}.psk`, 'is required for auth = psk');
  }
  if (c.local.auth === 'pubkey') {
    need((c.local.certs?.length ?? 0) > 0, `${where}.local.certs`, 'is required for auth = pubkey');
    need(c.local.privateKey !== undefined || (c.local.privateKeys?.length ?? 0) > 0, `${where}.local.privateKey`, 'is required for auth = pubkey');
  }
  if (c.remote.auth === 'pubkey') need((c.remote.cacerts?.length ?? 0) > 0, `${where}.remote.cacerts`, 'is required for auth = pubkey');
  const rekeyTimeMs = duration(c.rekeyTimeMs ?? 4 * HOUR, `${where}.rekeyTimeMs`);
  const ikeLifetimeMs = duration(c.ikeLifetimeMs ?? Math.round(rekeyTimeMs * 1.1), `${where}.ikeLifetimeMs`);
  const randTimeMs = duration(c.randTimeMs ?? Math.max(0, ikeLifetimeMs - rekeyTimeMs), `${where}.randTimeMs`);
  const fragmentSize = c.fragmentSize ?? 1280;
  need(Number.isInteger(fragmentSize) && fragmentSize >= 576 && fragmentSize <= 65000, `${where}.fragmentSize`, `must be an integer in 576..65000, got ${fragmentSize}`);
  const children = (c.children ?? []).map((ch, i) => resolveChild(ch, `${where}.children[${i}]`));
  const names = new Set<string>();
  for (const ch of children) {
    need(!names.has(ch.name), `${where}.children.${ch.name}`, 'is defined twice');
    names.add(ch.name);
  }
  return {
    name: c.name,
    localAddrs: c.localAddrs ?? ['%any'],
    remoteAddrs: c.remoteAddrs ?? ['%any'],
    remotePort: c.remotePort ?? 500,
    localPort: c.localPort ?? 500,
    proposals: c.proposals,
    encap: c.encap ?? false,
    fragmentation: c.fragmentation ?? true,
    fragmentSize,
    dpdDelayMs: duration(c.dpdDelayMs ?? 0, `${where}.dpdDelayMs`),
    rekeyTimeMs,
    ikeLifetimeMs,
    randTimeMs: Math.min(randTimeMs, rekeyTimeMs),
    local: c.local,
    remote: c.remote,
    children,
    vips: resolveVips(c.vips ?? [], `${where}.vips`),
    pools: c.pools ?? [],
  };
}

function resolveVips(vips: readonly string[], field: string): string[] {
  for (const v of vips) need(parseIp(v) !== undefined, field, `entries must be IP addresses ('0.0.0.0' or '::' for any), got '${v}'`);
  return [...vips];
}

export function resolvePool(p: IkePoolConfigInput, where: string): IkePoolConfig {
  need(typeof p.name === 'string' && p.name.length > 0, `${where}.name`, 'is required');
  try {
    poolRange(p.addrs);
  } catch (e) {
    need(false, `${where}.addrs`, (e as Error).message);
  }
  for (const d of p.dns ?? []) need(parseIp(d) !== undefined, `${where}.dns`, `entries must be IP addresses, got '${d}'`);
  return { name: p.name, addrs: p.addrs, dns: p.dns ?? [] };
}

/** Fills defaults and validates; throws an Error naming the offending field. */
export function resolveConfig(input: IkeConfigInput): IkeConfig {
  const names = new Set<string>();
  const connections = input.connections.map((c) => {
    need(!names.has(c.name), `connections.${c.name}`, 'is defined twice');
    names.add(c.name);
    return resolveConnection(c);
  });
  const l = input.limits ?? {};
  const retransmit: RetransmitConfig = { ...DEFAULT_RETRANSMIT, ...(l.retransmit ?? {}) };
  need(retransmit.tries >= 0 && Number.isInteger(retransmit.tries), 'limits.retransmit.tries', 'must be a non-negative integer');
  need(retransmit.base >= 1, 'limits.retransmit.base', 'must be >= 1');
  need(retransmit.timeoutMs > 0, 'limits.retransmit.timeoutMs', 'must be > 0');
  const limits: IkeLimits = { ...DEFAULT_LIMITS, ...l, retransmit };
  const poolNames = new Set<string>();
  const pools = (input.pools ?? []).map((p, i) => {
    const r = resolvePool(p, `pools[${i}]`);
    need(!poolNames.has(r.name), `pools.${r.name}`, 'is defined twice');
    poolNames.add(r.name);
    return r;
  });
  for (const c of connections) for (const n of c.pools) need(poolNames.has(n), `connections[${c.name}].pools`, `names pool '${n}', which is not defined`);
  return { connections, limits, pools };
}
