/**
 * The typed configuration tsipsec runs from: what `loadSwanctlConfig` builds out of a swanctl.conf
 * (swanctl.conf(5), strongSwan 5.9) and what the library takes as input. Everything is already
 * validated and decoded: no strings to parse later except the proposal strings, which the IKE engine
 * turns into transforms (their keywords are checked here, see proposals.ts).
 *
 * Defaults are strongSwan's (vici_config.c): IKE rekey 4 h, CHILD rekey 1 h, life = rekey + 10 %,
 * rand = life - rekey, over_time = 10 % of rekey/reauth, replay window 32.
 * Durations are whole seconds (`…Sec`), volumes are bytes/packets; 0 means "disabled".
 */
import type { SourceLocation } from './errors.js';

export interface TsipsecConfig {
  readonly connections: ConnectionConfig[];
  readonly secrets: SecretsConfig;
  /** Trust anchors: the `x509ca/` directory (swanctl --load-all) plus every `cacerts` entry. */
  readonly trustAnchors: LoadedFile[];
  /** End-entity certificates from the `x509/` directory (swanctl --load-all). */
  readonly certificates: LoadedFile[];
  /** Virtual IP address pools (top-level `pools { <name> { addrs = … } }`); absent = none. */
  readonly pools?: PoolConfig[];
}

/** One `pools.<name>` section: the addresses a responder hands out in CFG_REPLY (RFC 7296 §2.19). */
export interface PoolConfig {
  readonly name: string;
  readonly source: SourceLocation;
  /** CIDR prefix ('198.18.200.0/24') or range ('198.18.200.10-198.18.200.20'), as written. */
  readonly addrs: string;
  /** DNS servers (INTERNAL_IP4_DNS / INTERNAL_IP6_DNS). */
  readonly dns: string[];
}

/** A file read at load time so the runtime needs no file system. */
export interface LoadedFile {
  /** Absolute path it was read from. */
  readonly path: string;
  /** Raw file contents: PEM text or DER bytes, as found. */
  readonly data: Uint8Array;
}

export const Fragmentation = { YES: 'yes', ACCEPT: 'accept', FORCE: 'force', NO: 'no' } as const;
export type Fragmentation = (typeof Fragmentation)[keyof typeof Fragmentation];

export const SendCert = { ALWAYS: 'always', NEVER: 'never', IFASKED: 'ifasked' } as const;
export type SendCert = (typeof SendCert)[keyof typeof SendCert];

export const UniquePolicy = { NO: 'no', NEVER: 'never', KEEP: 'keep', REPLACE: 'replace' } as const;
export type UniquePolicy = (typeof UniquePolicy)[keyof typeof UniquePolicy];

export interface ConnectionConfig {
  readonly name: string;
  /** Where `connections.<name>` was written (for runtime messages). */
  readonly source: SourceLocation;
  /** IKE version; tsipsec speaks IKEv2 only (swanctl `version = 0` also means "initiate with IKEv2"). */
  readonly version: 2;
  /** IPv4/IPv6 addresses, CIDR subnets, ranges `a-b`, DNS names or `%any`/`%any4`/`%any6`. */
  readonly localAddrs: string[];
  readonly remoteAddrs: string[];
  /** Default 500. */
  readonly localPort: number;
  /** Default 500. */
  readonly remotePort: number;
  /** strongSwan proposal strings, lower-cased, e.g. 'aes256gcm16-prfsha256-x25519', or 'default'. */
  readonly proposals: string[];
  /** Force UDP encapsulation by faking NAT detection (swanctl `encap`). Default false. */
  readonly encap: boolean;
  /** `encap` was written in the file (tsipsec's own default differs from strongSwan's: see runtime/from-swanctl.ts). */
  readonly encapConfigured?: boolean;
  /** Default true. */
  readonly mobike: boolean;
  /** Default 'yes'. */
  readonly fragmentation: Fragmentation;
  /** 0 = no active DPD. */
  readonly dpdDelaySec: number;
  /** IKEv1 only in strongSwan; kept for completeness. */
  readonly dpdTimeoutSec: number;
  /** Default 14400 (0 when only reauth_time is set). */
  readonly rekeyTimeSec: number;
  /** Default 0 (disabled). */
  readonly reauthTimeSec: number;
  /** Hard IKE_SA lifetime beyond rekey/reauth. Default 10 % of max(rekey, reauth). */
  readonly overTimeSec: number;
  /** Jitter subtracted from rekey/reauth. Default min(over_time, rekey_or_reauth / 2). */
  readonly randTimeSec: number;
  /** Retransmission sequences on initiation; 0 = forever. Default 1. */
  readonly keyingtries: number;
  /** Default 'no'. */
  readonly unique: UniquePolicy;
  /** Default true. */
  readonly sendCertreq: boolean;
  /** Default 'ifasked'. */
  readonly sendCert: SendCert;
  /** Local authentication rounds, sorted by `round` (usually one). */
  readonly local: AuthConfig[];
  /** Remote authentication rounds, sorted by `round` (usually one). */
  readonly remote: AuthConfig[];
  readonly children: ChildConfig[];
  /** Virtual IPs to request (swanctl `vips`: '0.0.0.0', '::' or a concrete address); absent = none. */
  readonly vips?: string[];
  /** Pool names to assign peers' virtual IPs from (swanctl `pools`); absent = none. */
  readonly pools?: string[];
}

/**
 * Authentication classes. `any` appears only for a remote round without an `auth` key (strongSwan
 * then accepts any method); a local round defaults to `pubkey`.
 */
export const AuthMethod = {
  PSK: 'psk',
  PUBKEY: 'pubkey',
  RSA: 'rsa',
  RSA_PSS: 'rsa/pss',
  ECDSA: 'ecdsa',
  ED25519: 'ed25519',
  ANY: 'any',
} as const;
export type AuthMethod = (typeof AuthMethod)[keyof typeof AuthMethod];

export interface AuthConfig {
  /** Section name, e.g. 'local' or 'remote-1'. */
  readonly name: string;
  readonly source: SourceLocation;
  readonly round: number;
  readonly auth: AuthMethod;
  /**
   * Signature constraints after the method (`pubkey-sha256-sha384` → ['sha256', 'sha384'],
   * `rsa-2048` → ['2048']); `ike:` constraints apply to the IKE AUTH signature itself
   * (`ikeConstraint` true), others to the trust chain (swanctl.conf(5) `auth`).
   */
  readonly authConstraints: string[];
  readonly ikeConstraint: boolean;
  /** IKE identity as written (swanctl `id`); remote defaults to '%any', local to none (use cert/address). */
  readonly id?: string;
  /** Resolved absolute certificate paths (`certs` relative to x509/, and `cert<suffix>.file`). */
  readonly certs: string[];
  readonly certData: Uint8Array[];
  /** Resolved absolute CA certificate paths (`cacerts` relative to x509ca/, `cacert<suffix>.file`). */
  readonly cacerts: string[];
  readonly cacertData: Uint8Array[];
  /** Raw public keys (`pubkeys` relative to pubkey/). */
  readonly pubkeys: string[];
  readonly pubkeyData: Uint8Array[];
  /** Default 'relaxed'; tsipsec implements no CRL/OCSP, so only 'relaxed' is accepted. */
  readonly revocation: 'relaxed';
}

export const ChildMode = { TUNNEL: 'tunnel', TRANSPORT: 'transport', PASS: 'pass', DROP: 'drop' } as const;
export type ChildMode = (typeof ChildMode)[keyof typeof ChildMode];

export const StartAction = { NONE: 'none', TRAP: 'trap', START: 'start', TRAP_START: 'trap|start' } as const;
export type StartAction = (typeof StartAction)[keyof typeof StartAction];

export const DpdAction = { CLEAR: 'clear', TRAP: 'trap', RESTART: 'restart' } as const;
export type DpdAction = (typeof DpdAction)[keyof typeof DpdAction];

export const CloseAction = { NONE: 'none', TRAP: 'trap', START: 'start' } as const;
export type CloseAction = (typeof CloseAction)[keyof typeof CloseAction];

/**
 * One traffic selector: `dynamic` (the tunnel's outer address, filled in at runtime) or an address
 * range, plus protocol and port range. A CIDR `10.0.0.0/24` becomes 10.0.0.0 … 10.0.0.255.
 * `opaque` ports are fromPort 65535, toPort 0 (RFC 4301 OPAQUE, as strongSwan encodes them).
 */
export type TrafficSelectorConfig =
  | { readonly kind: 'dynamic'; readonly text: string; readonly protocol: number; readonly fromPort: number; readonly toPort: number }
  | {
      readonly kind: 'range';
      readonly text: string;
      readonly family: 4 | 6;
      readonly start: Uint8Array;
      readonly end: Uint8Array;
      readonly protocol: number;
      readonly fromPort: number;
      readonly toPort: number;
    };

export interface ChildConfig {
  readonly name: string;
  readonly source: SourceLocation;
  /** As written, e.g. '198.19.1.0/24', 'dynamic', '10.0.0.1[tcp/80]'. Default ['dynamic']. */
  readonly localTs: string[];
  readonly remoteTs: string[];
  /** The same selectors, parsed. */
  readonly localTsSelectors: TrafficSelectorConfig[];
  readonly remoteTsSelectors: TrafficSelectorConfig[];
  /** Lower-cased strongSwan proposal strings, default ['default']. */
  readonly espProposals: string[];
  readonly mode: ChildMode;
  readonly startAction: StartAction;
  readonly dpdAction: DpdAction;
  readonly closeAction: CloseAction;
  /** Default 3600. */
  readonly rekeyTimeSec: number;
  /** Default rekey + 10 %. */
  readonly lifeTimeSec: number;
  /** Default life - rekey. */
  readonly randTimeSec: number;
  readonly rekeyBytes: number;
  readonly lifeBytes: number;
  readonly randBytes: number;
  readonly rekeyPackets: number;
  readonly lifePackets: number;
  readonly randPackets: number;
  /** Default 32 (swanctl); 0 disables replay protection. */
  readonly replayWindow: number;
  /** 'no' (default) or 'auto' (offload if possible: tsipsec never can). */
  readonly hwOffload: 'no' | 'auto';
  /** Accepted for compatibility, not run (a warning says so). */
  readonly updown?: string;
}

export interface IkeSecret {
  /** Section name, e.g. 'ike-1'. */
  readonly name: string;
  readonly source: SourceLocation;
  /** Identities the secret belongs to; empty = any identity. */
  readonly ids: string[];
  /** Decoded: plain text (UTF-8), `0x` hex or `0s` base64, as strongSwan does. */
  readonly secret: Uint8Array;
}

export const PrivateKeyKind = { ANY: 'private', RSA: 'rsa', ECDSA: 'ecdsa', PKCS8: 'pkcs8' } as const;
export type PrivateKeyKind = (typeof PrivateKeyKind)[keyof typeof PrivateKeyKind];

export interface PrivateKeyConfig {
  /** The swanctl directory it came from: private/, rsa/, ecdsa/ or pkcs8/. */
  readonly kind: PrivateKeyKind;
  readonly path: string;
  /** Raw file contents (PEM or DER). */
  readonly data: Uint8Array;
  /** Decryption passphrase from `secrets.<kind><suffix>`, if one names this file. */
  readonly passphrase?: Uint8Array;
}

export interface SecretsConfig {
  readonly ike: IkeSecret[];
  readonly privateKeys: PrivateKeyConfig[];
}

/** File access the validator uses for certificates and keys (node-fs.ts has the real one). */
export interface ConfigFileSystem {
  /** Throws an Error whose message says why the file cannot be read. */
  readFile(path: string): Uint8Array;
  /** Absolute paths of the regular files in `dir`, sorted; [] when it does not exist. */
  listFiles(dir: string): string[];
}
