/**
 * IKEv2 protocol numbers (RFC 7296 §3, IANA "Internet Key Exchange Version 2 (IKEv2) Parameters")
 * and human-readable names for logs and the `decode` CLI.
 *
 * Payload types, protocol IDs, transform types, ID/auth/TS/CP types live with the payload model in
 * `payloads/types.ts`; this file holds header-level numbers and notify types.
 */
import { PayloadType, type Payload } from './payloads/types.js';

/** RFC 7296 §3.1 Exchange Type (+ RFC 9242 IKE_INTERMEDIATE). */
export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
  IKE_INTERMEDIATE: 43,
} as const;
export type ExchangeType = (typeof ExchangeType)[keyof typeof ExchangeType];

/** RFC 7296 §3.1 Flags: I(nitiator) bit 3, V(ersion) bit 4, R(esponse) bit 5. */
export const HeaderFlag = { INITIATOR: 0x08, VERSION: 0x10, RESPONSE: 0x20 } as const;
export type HeaderFlag = (typeof HeaderFlag)[keyof typeof HeaderFlag];

/**
 * IANA "IKEv2 Notify Message Types" (RFC 7296 §3.10.1 and later RFCs).
 * Error types are 1..16383, status types 16384..65535.
 */
export const NotifyType = {
  // --- errors (RFC 7296 §3.10.1 unless noted)
  UNSUPPORTED_CRITICAL_PAYLOAD: 1,
  INVALID_IKE_SPI: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11,
  NO_PROPOSAL_CHOSEN: 14,
  INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24,
  SINGLE_PAIR_REQUIRED: 34,
  NO_ADDITIONAL_SAS: 35,
  INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37,
  TS_UNACCEPTABLE: 38,
  INVALID_SELECTORS: 39,
  UNACCEPTABLE_ADDRESSES: 40, // RFC 4555
  UNEXPECTED_NAT_DETECTED: 41, // RFC 4555
  TEMPORARY_FAILURE: 43,
  CHILD_SA_NOT_FOUND: 44,
  STATE_NOT_FOUND: 47, // RFC 6311
  // --- status
  INITIAL_CONTACT: 16384,
  SET_WINDOW_SIZE: 16385,
  ADDITIONAL_TS_POSSIBLE: 16386,
  IPCOMP_SUPPORTED: 16387,
  NAT_DETECTION_SOURCE_IP: 16388,
  NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390,
  USE_TRANSPORT_MODE: 16391,
  HTTP_CERT_LOOKUP_SUPPORTED: 16392,
  REKEY_SA: 16393,
  ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
  NON_FIRST_FRAGMENTS_ALSO: 16395,
  MOBIKE_SUPPORTED: 16396, // RFC 4555
  ADDITIONAL_IP4_ADDRESS: 16397, // RFC 4555
  ADDITIONAL_IP6_ADDRESS: 16398, // RFC 4555
  NO_ADDITIONAL_ADDRESSES: 16399, // RFC 4555
  UPDATE_SA_ADDRESSES: 16400, // RFC 4555
  COOKIE2: 16401, // RFC 4555
  NO_NATS_ALLOWED: 16402, // RFC 4555
  AUTH_LIFETIME: 16403, // RFC 4478
  MULTIPLE_AUTH_SUPPORTED: 16404, // RFC 4739
  ANOTHER_AUTH_FOLLOWS: 16405, // RFC 4739
  REDIRECT_SUPPORTED: 16406, // RFC 5685
  REDIRECT: 16407, // RFC 5685
  REDIRECTED_FROM: 16408, // RFC 5685
  EAP_ONLY_AUTHENTICATION: 16417, // RFC 5998
  CHILDLESS_IKEV2_SUPPORTED: 16418, // RFC 6023
  IKEV2_FRAGMENTATION_SUPPORTED: 16430, // RFC 7383
  SIGNATURE_HASH_ALGORITHMS: 16431, // RFC 7427
  USE_PPK: 16435, // RFC 8784
  INTERMEDIATE_EXCHANGE_SUPPORTED: 16438, // RFC 9242
} as const;
export type NotifyType = (typeof NotifyType)[keyof typeof NotifyType];

/** Notify types below this are errors (RFC 7296 §3.10.1). */
export const NOTIFY_STATUS_MIN = 16384;

export function isErrorNotify(notifyType: number): boolean {
  return notifyType > 0 && notifyType < NOTIFY_STATUS_MIN;
}

function invert(o: Record<string, number>): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(o)) if (!m.has(v)) m.set(v, k);
  return m;
}

const exchangeNames = invert(ExchangeType);
const notifyNames = invert(NotifyType);
/** Short payload names as strongSwan logs them (RFC 7296 §3.2 notation). */
const payloadNames = new Map<number, string>([
  [PayloadType.NONE, 'NONE'],
  [PayloadType.SA, 'SA'],
  [PayloadType.KE, 'KE'],
  [PayloadType.IDi, 'IDi'],
  [PayloadType.IDr, 'IDr'],
  [PayloadType.CERT, 'CERT'],
  [PayloadType.CERTREQ, 'CERTREQ'],
  [PayloadType.AUTH, 'AUTH'],
  [PayloadType.NONCE, 'No'],
  [PayloadType.NOTIFY, 'N'],
  [PayloadType.DELETE, 'D'],
  [PayloadType.VENDOR, 'V'],
  [PayloadType.TSi, 'TSi'],
  [PayloadType.TSr, 'TSr'],
  [PayloadType.SK, 'SK'],
  [PayloadType.CP, 'CP'],
  [PayloadType.EAP, 'EAP'],
  [PayloadType.SKF, 'SKF'],
]);

/** "IKE_SA_INIT", or "EXCHANGE(99)" for unknown numbers. */
export function exchangeName(n: number): string {
  return exchangeNames.get(n) ?? `EXCHANGE(${n})`;
}

/** "COOKIE", or "NOTIFY(12345)" for unknown numbers. */
export function notifyName(n: number): string {
  return notifyNames.get(n) ?? `NOTIFY(${n})`;
}

/** "SA", "KE", "IDi", …, or "PAYLOAD(99)" for unknown numbers. */
export function payloadName(n: number): string {
  return payloadNames.get(n) ?? `PAYLOAD(${n})`;
}

/** A payload for logs: "N(COOKIE)", "D(ESP)", "SKF(2/3)", otherwise `payloadName(type)`. */
export function describePayload(p: Payload): string {
  if ('unknown' in p) return payloadName(p.type);
  switch (p.type) {
    case PayloadType.NOTIFY:
      return `N(${notifyName(p.notifyType)})`;
    case PayloadType.DELETE:
      return `D(${p.protocolId === 1 ? 'IKE' : p.protocolId === 3 ? 'ESP' : p.protocolId === 2 ? 'AH' : p.protocolId})`;
    case PayloadType.SKF:
      return `SKF(${p.fragmentNumber}/${p.totalFragments})`;
    default:
      return payloadName(p.type);
  }
}

/** "SA KE No N(NAT_DETECTION_SOURCE_IP)" — the strongSwan-style message summary. */
export function describePayloads(payloads: readonly Payload[]): string {
  return payloads.map(describePayload).join(' ');
}
