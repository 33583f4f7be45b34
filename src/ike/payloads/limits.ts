/**
 * Protocol limits applied while decoding (DESIGN.md review checklist item 3: every count field has
 * a remaining-bytes check and a protocol limit). Generous for real peers — strongSwan proposes at
 * most a few dozen transforms — yet bounded so a hostile datagram cannot make us allocate or loop
 * without limit.
 */
export const Limits = {
  /** Largest IKE datagram we decode (UDP payload, without the non-ESP marker). */
  MAX_MESSAGE_SIZE: 65536,
  /** Payloads in one chain (outer or decrypted inner). */
  MAX_PAYLOADS: 64,
  /** Proposals in one SA payload (RFC 7296 §3.3: the proposal number is one octet). */
  MAX_PROPOSALS: 64,
  /** Transforms in one proposal (§3.3.1: Num Transforms is one octet). */
  MAX_TRANSFORMS: 128,
  /** Attributes in one transform. */
  MAX_TRANSFORM_ATTRIBUTES: 8,
  /** Traffic selectors in one TS payload (§3.13: Number of TSs is one octet). */
  MAX_SELECTORS: 64,
  /** SPIs in one Delete payload. */
  MAX_DELETE_SPIS: 256,
  /** Attributes in one CP payload. */
  MAX_CP_ATTRIBUTES: 64,
  /** RFC 7296 §3.9: nonce length 16..256 octets. */
  MIN_NONCE: 16,
  MAX_NONCE: 256,
} as const;
