/**
 * Decoded IKEv2 payloads (RFC 7296 §3). The codec (`src/ike/payloads/*.ts`, `src/ike/message.ts`)
 * turns bytes into these and back; the engine only ever sees these shapes.
 *
 * Every payload starts with the generic payload header (RFC 7296 §3.2):
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +---------------+---------------+-------------------------------+
 *
 * `type` is the IANA "IKEv2 Payload Types" number; `critical` is the C bit as received (the encoder
 * sets it only for unknown payloads that were built with critical=true; RFC 7296 says senders MUST
 * clear it for payloads they define).
 */

/** IANA IKEv2 Payload Types. */
export const PayloadType = {
  NONE: 0,
  SA: 33,
  KE: 34,
  IDi: 35,
  IDr: 36,
  CERT: 37,
  CERTREQ: 38,
  AUTH: 39,
  NONCE: 40,
  NOTIFY: 41,
  DELETE: 42,
  VENDOR: 43,
  TSi: 44,
  TSr: 45,
  SK: 46,
  CP: 47,
  EAP: 48,
  SKF: 53,
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

/** RFC 7296 §3.3.1 Protocol ID. */
export const ProtocolId = { IKE: 1, AH: 2, ESP: 3 } as const;
export type ProtocolId = (typeof ProtocolId)[keyof typeof ProtocolId];

/** RFC 7296 §3.3.2 Transform Type. */
export const TransformType = { ENCR: 1, PRF: 2, INTEG: 3, KE: 4, ESN: 5 } as const;
export type TransformType = (typeof TransformType)[keyof typeof TransformType];

export interface Transform {
  readonly type: number; // TransformType
  readonly id: number;
  /** Key Length attribute (type 14) in bits, when present (AES). */
  readonly keyLength?: number;
  /**
   * Attributes other than one TV Key Length, as received (RFC 7296 §3.3.5/§3.3.6: a transform
   * with an attribute we do not understand must not be selected). Absent when there are none.
   */
  readonly otherAttributes?: readonly TransformAttribute[];
}

/** A transform attribute other than Key Length (RFC 7296 §3.3.5). `tv`: AF bit; TV values are 2 bytes. */
export interface TransformAttribute { readonly attrType: number; readonly tv: boolean; readonly value: Uint8Array }

export interface Proposal {
  readonly number: number; // 1-based
  readonly protocolId: number; // ProtocolId
  /** Empty for IKE_SA_INIT; 8 bytes for IKE rekey; 4 bytes for ESP/AH. */
  readonly spi: Uint8Array;
  readonly transforms: readonly Transform[];
}

export interface SaPayload { readonly type: 33; readonly critical: boolean; readonly proposals: readonly Proposal[] }
export interface KePayload { readonly type: 34; readonly critical: boolean; readonly group: number; readonly data: Uint8Array }

/** RFC 7296 §3.5 ID Type. */
export const IdType = { IPV4_ADDR: 1, FQDN: 2, RFC822_ADDR: 3, IPV6_ADDR: 5, DER_ASN1_DN: 9, DER_ASN1_GN: 10, KEY_ID: 11 } as const;
export type IdType = (typeof IdType)[keyof typeof IdType];

export interface IdPayload {
  readonly type: 35 | 36;
  readonly critical: boolean;
  readonly idType: number;
  /** The identification data (after the 4 bytes ID type + reserved). */
  readonly data: Uint8Array;
}

export interface CertPayload { readonly type: 37; readonly critical: boolean; readonly encoding: number; readonly data: Uint8Array }
/** CERTREQ: encoding 4 (X.509 signature) + concatenated 20-byte SHA-1 hashes of CA public keys. */
export interface CertReqPayload { readonly type: 38; readonly critical: boolean; readonly encoding: number; readonly data: Uint8Array }

/** RFC 7296 §3.8 Auth Method (+ RFC 7427 method 14). */
export const AuthMethod = { RSA_SIG: 1, SHARED_KEY_MIC: 2, DSS_SIG: 3, DIGITAL_SIGNATURE: 14 } as const;
export interface AuthPayload { readonly type: 39; readonly critical: boolean; readonly method: number; readonly data: Uint8Array }
export interface NoncePayload { readonly type: 40; readonly critical: boolean; readonly nonce: Uint8Array }

export interface NotifyPayload {
  readonly type: 41;
  readonly critical: boolean;
  readonly protocolId: number; // 0 for IKE-SA notifications
  readonly spi: Uint8Array;
  readonly notifyType: number; // IANA "IKEv2 Notify Message Types"
  readonly data: Uint8Array;
}

export interface DeletePayload {
  readonly type: 42;
  readonly critical: boolean;
  readonly protocolId: number;
  /** IKE: no SPIs (SPI size 0). ESP/AH: 4-byte SPIs. */
  readonly spis: readonly Uint8Array[];
}

export interface VendorPayload { readonly type: 43; readonly critical: boolean; readonly data: Uint8Array }

/** RFC 7296 §3.13.1 Traffic Selector Type (+ RFC 8229 none). */
export const TsType = { IPV4_ADDR_RANGE: 7, IPV6_ADDR_RANGE: 8 } as const;
export interface TrafficSelector {
  readonly tsType: number; // 7 or 8
  readonly ipProtocol: number; // 0 = any
  readonly startPort: number;
  readonly endPort: number;
  readonly startAddress: Uint8Array; // 4 or 16 bytes
  readonly endAddress: Uint8Array;
}
export interface TsPayload { readonly type: 44 | 45; readonly critical: boolean; readonly selectors: readonly TrafficSelector[] }

/** SK (RFC 7296 §3.14): the raw body (IV ‖ ciphertext ‖ ICV) and the type of the first inner payload. */
export interface SkPayload { readonly type: 46; readonly critical: boolean; readonly innerType: number; readonly body: Uint8Array }

/** SKF (RFC 7383 §2.5). `innerType` is non-zero only in fragment 1. */
export interface SkfPayload {
  readonly type: 53;
  readonly critical: boolean;
  readonly innerType: number;
  readonly fragmentNumber: number;
  readonly totalFragments: number;
  readonly body: Uint8Array;
}

/** RFC 7296 §3.15 Configuration payload. */
export const CfgType = { CFG_REQUEST: 1, CFG_REPLY: 2, CFG_SET: 3, CFG_ACK: 4 } as const;
export interface CfgAttribute { readonly attrType: number; readonly value: Uint8Array }
export interface CpPayload { readonly type: 47; readonly critical: boolean; readonly cfgType: number; readonly attributes: readonly CfgAttribute[] }

/** Any payload type the codec does not model (incl. EAP); kept as raw bytes. */
export interface UnknownPayload { readonly type: number; readonly critical: boolean; readonly raw: Uint8Array; readonly unknown: true }

export type Payload =
  | SaPayload | KePayload | IdPayload | CertPayload | CertReqPayload | AuthPayload | NoncePayload
  | NotifyPayload | DeletePayload | VendorPayload | TsPayload | SkPayload | SkfPayload | CpPayload | UnknownPayload;
