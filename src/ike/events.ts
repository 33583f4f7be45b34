/**
 * What the IKE engine tells the runtime (DESIGN.md rule 2: handle inputs, poll outputs).
 *
 * Child events carry everything needed to install ESP SAs (RFC 4301 SAD entries): SPIs, mode,
 * selectors, algorithms and KEYMAT per direction (RFC 7296 §2.17: for AEADs key ‖ salt), the
 * addresses and ports to use, and whether ESP is UDP-encapsulated (RFC 3948).
 *
 * Rekey ordering (make-before-break, RFC 7296 §2.8): `child-rekeyed` means "install the new SA
 * in both directions and send on it from now on; keep the old inbound SA"; the old SA is removed by
 * a later `child-down` with reason 'rekeyed' once the Delete exchange is over.
 */
import type { TrafficSelector } from './payloads/types.js';
import type { FragmentStats } from './fragments.js';

/** A transport address: IP literal and UDP port. */
export interface Addr {
  readonly address: string;
  readonly port: number;
}

export interface Datagram {
  readonly data: Uint8Array;
  readonly local: Addr;
  readonly remote: Addr;
}

export interface ChildAlgorithms {
  /** IANA ENCR id (12 AES-CBC, 20 AES-GCM-16, 28 ChaCha20-Poly1305). */
  readonly encr: number;
  /** Key length in bits (AES); for ChaCha20 256. */
  readonly encrKeyBits: number;
  /** IANA INTEG id; absent for AEADs. */
  readonly integ?: number;
  readonly esn: boolean;
  /** The KE group used for PFS in this SA's exchange, if any. */
  readonly dhGroup?: number;
}

/** KEYMAT per direction (In = peer → us, Out = us → peer). */
export interface ChildKeys {
  readonly encrIn: Uint8Array;
  readonly integIn: Uint8Array;
  readonly encrOut: Uint8Array;
  readonly integOut: Uint8Array;
}

export interface ChildLifetimes {
  readonly rekeyAtMs: number | undefined;
  readonly expireAtMs: number | undefined;
}

export interface ChildSaInfo {
  readonly ikeName: string;
  /** Engine-local handle of the IKE SA (stable across IKE rekeys). */
  readonly ikeId: number;
  readonly childName: string;
  /** Our inbound SPI (what the peer puts in ESP packets to us). */
  readonly spiIn: number;
  readonly spiOut: number;
  readonly mode: 'tunnel' | 'transport';
  /** UDP-encapsulated ESP (RFC 3948) on the IKE ports in use. */
  readonly encap: boolean;
  readonly tsLocal: readonly TrafficSelector[];
  readonly tsRemote: readonly TrafficSelector[];
  readonly algorithms: ChildAlgorithms;
  readonly keys: ChildKeys;
  /** IKE addresses including ports (4500 after NAT-T floating). */
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  readonly lifetimes: ChildLifetimes;
  readonly replayWindow: number;
  /** True when we initiated the exchange that created this SA. */
  readonly initiator: boolean;
  /** Virtual IPs the peer assigned us (RFC 7296 §2.19 CFG_REPLY): add them to the TUN device. */
  readonly localVips?: readonly string[];
  /** Virtual IPs we assigned the peer from a pool. */
  readonly remoteVips?: readonly string[];
}

export type IkeDownReason =
  /** We deleted it (terminate, or a failure we detected). */
  | 'local'
  /** The peer sent Delete. */
  | 'peer'
  /** Retransmissions gave up on a request. */
  | 'timeout'
  /** A liveness check got no answer. */
  | 'dpd'
  /** AUTHENTICATION_FAILED (we or the peer rejected the authentication). */
  | 'auth-failed'
  /** NO_PROPOSAL_CHOSEN / INVALID_KE_PAYLOAD loop / unacceptable response during IKE_SA_INIT. */
  | 'no-proposal'
  /** The peer answered with another fatal error notify. */
  | 'error'
  /** Replaced by a rekeyed IKE SA. */
  | 'rekeyed'
  /** Hard lifetime reached. */
  | 'expired'
  /** Half-open responder SA never got its IKE_AUTH. */
  | 'half-open-timeout';

export type ChildDownReason = 'local' | 'peer' | 'rekeyed' | 'expired' | 'ike-down' | 'rekey-collision';

export type IkeEvent =
  | {
      readonly type: 'ike-up';
      readonly ikeName: string;
      readonly ikeId: number;
      readonly spiI: string;
      readonly spiR: string;
      readonly initiator: boolean;
      readonly localAddr: Addr;
      readonly remoteAddr: Addr;
      readonly localId: string;
      readonly remoteId: string;
      readonly encap: boolean;
      /** e.g. "AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519" */
      readonly algorithms: string;
      /** Virtual IPs the peer assigned us (RFC 7296 §2.19 CFG_REPLY): add them to the TUN device. */
      readonly localVips?: readonly string[];
      /** Virtual IPs we assigned the peer from a pool. */
      readonly remoteVips?: readonly string[];
    }
  | { readonly type: 'ike-down'; readonly ikeName: string; readonly ikeId: number; readonly reason: IkeDownReason; readonly detail?: string }
  | { readonly type: 'ike-rekeyed'; readonly ikeName: string; readonly ikeId: number; readonly spiI: string; readonly spiR: string; readonly oldSpiI: string; readonly oldSpiR: string }
  | ({ readonly type: 'child-up' } & ChildSaInfo)
  | {
      readonly type: 'child-rekeyed';
      readonly ikeName: string;
      readonly ikeId: number;
      readonly childName: string;
      readonly oldSpiIn: number;
      readonly oldSpiOut: number;
      readonly child: ChildSaInfo;
    }
  | {
      readonly type: 'child-down';
      readonly ikeName: string;
      readonly ikeId: number;
      readonly childName: string;
      readonly spiIn: number;
      readonly spiOut: number;
      readonly reason: ChildDownReason;
    }
  | {
      /** A child could not be created (TS_UNACCEPTABLE, NO_PROPOSAL_CHOSEN, …); the IKE SA stays. */
      readonly type: 'child-failed';
      readonly ikeName: string;
      readonly ikeId: number;
      readonly childName: string;
      /** Notify name ("TS_UNACCEPTABLE") or a short text. */
      readonly reason: string;
    };

export type IkeEventType = IkeEvent['type'];

export interface ChildSaStatus {
  readonly name: string;
  readonly state: 'installed' | 'rekeying' | 'rekeyed' | 'deleting';
  readonly spiIn: number;
  readonly spiOut: number;
  readonly mode: 'tunnel' | 'transport';
  readonly encap: boolean;
  readonly tsLocal: readonly string[];
  readonly tsRemote: readonly string[];
  readonly establishedAtMs: number;
  readonly rekeyAtMs: number | undefined;
  readonly expireAtMs: number | undefined;
}

export interface IkeSaStatus {
  readonly ikeId: number;
  readonly name: string;
  readonly state: string;
  readonly initiator: boolean;
  readonly spiI: string;
  readonly spiR: string;
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  readonly localId: string;
  readonly remoteId: string;
  readonly algorithms: string;
  readonly encap: boolean;
  readonly establishedAtMs: number | undefined;
  readonly rekeyAtMs: number | undefined;
  readonly children: readonly ChildSaStatus[];
  /** This IKE SA's fragment reassembly stats (RFC 7383), once it has keys. */
  readonly fragments?: Readonly<FragmentStats>;
}

/** Counted drops and activity (DESIGN.md rule 8); exposed through `IkeEndpoint.counters`. */
export interface IkeCounters {
  datagramsIn: number;
  datagramsOut: number;
  dropDecode: number;
  dropRules: number;
  dropUnknownSpi: number;
  dropIcv: number;
  dropRetransmitOld: number;
  dropOutOfWindow: number;
  dropUnexpectedResponse: number;
  dropHalfOpenLimit: number;
  dropPeerLimit: number;
  dropFragment: number;
  retransmitsSent: number;
  retransmitsAnswered: number;
  cookiesSent: number;
  cookiesRejected: number;
  invalidSyntaxSent: number;
  halfOpen: number;
  /** IKE fragment reassembly over all IKE SAs (RFC 7383 §2.6; FragmentReassembler stats). */
  fragmentsAccepted: number;
  fragmentsDuplicate: number;
  fragmentsIcvFailed: number;
  fragmentsBad: number;
  fragmentLimitHits: number;
  fragmentRestarts: number;
  fragmentEvictions: number;
  fragmentedMessagesCompleted: number;
}

/** Which IkeCounters field a FragmentReassembler stat adds to. */
export const FRAGMENT_COUNTER = {
  accepted: 'fragmentsAccepted',
  duplicates: 'fragmentsDuplicate',
  icvFailures: 'fragmentsIcvFailed',
  badFragments: 'fragmentsBad',
  limitHits: 'fragmentLimitHits',
  restarts: 'fragmentRestarts',
  evictions: 'fragmentEvictions',
  completed: 'fragmentedMessagesCompleted',
} as const satisfies Record<string, keyof IkeCounters>;

export function emptyCounters(): IkeCounters {
  return {
    datagramsIn: 0,
    datagramsOut: 0,
    dropDecode: 0,
    dropRules: 0,
    dropUnknownSpi: 0,
    dropIcv: 0,
    dropRetransmitOld: 0,
    dropOutOfWindow: 0,
    dropUnexpectedResponse: 0,
    dropHalfOpenLimit: 0,
    dropPeerLimit: 0,
    dropFragment: 0,
    retransmitsSent: 0,
    retransmitsAnswered: 0,
    cookiesSent: 0,
    cookiesRejected: 0,
    invalidSyntaxSent: 0,
    halfOpen: 0,
    fragmentsAccepted: 0,
    fragmentsDuplicate: 0,
    fragmentsIcvFailed: 0,
    fragmentsBad: 0,
    fragmentLimitHits: 0,
    fragmentRestarts: 0,
    fragmentEvictions: 0,
    fragmentedMessagesCompleted: 0,
  };
}
