/**
 * Result type shared by every IKE decoder (DESIGN.md rule 3 and rule 8): decoders are total and
 * report malformed input as a value, never by throwing. `message.ts` re-exports these.
 *
 * `notify` is the RFC 7296 error notify a responder answers a *request* with (§2.21.1 / §3.10.1):
 * INVALID_SYNTAX, UNSUPPORTED_CRITICAL_PAYLOAD (data = the one-octet payload type, `payloadType`),
 * INVALID_MAJOR_VERSION. It is absent for errors that must be dropped silently (failed integrity
 * check, oversize datagram, fragment bookkeeping): unauthenticated junk is never answered.
 */
export const DECODE_ERROR_CODES = [
  /** Fewer bytes than a fixed header or a declared length needs. */
  'truncated',
  /** A length field disagrees with the bytes (IKE header length ≠ datagram, payload length < 4 …). */
  'bad-length',
  /** IKE header major version is not 2 (RFC 7296 §2.5). */
  'bad-version',
  /** An unrecognized payload with the critical bit set (RFC 7296 §2.5, §3.2). */
  'unsupported-critical',
  /** A payload body is malformed (bad field value, inconsistent substructure). */
  'bad-payload',
  /** More payloads in one chain than MAX_PAYLOADS. */
  'too-many-payloads',
  /** More proposals/transforms/attributes/selectors/SPIs in one payload than the protocol limits. */
  'too-many-items',
  /** Datagram larger than MAX_MESSAGE_SIZE. */
  'too-large',
  /** SK/SKF not the last payload of the outer chain, or SK/SKF inside an encrypted chain. */
  'misplaced-sk',
  /** `openProtected` on a message without an SK payload (or an SKF one). */
  'missing-sk',
  /** A payload that the exchange rules (rules.ts) do not allow, or a count out of bounds. */
  'rules',
  /** SK/SKF integrity check (ICV) failed or the padding was malformed: drop silently. */
  'icv',
  /** RFC 7383: fragment number 0 or beyond total, or a smaller total than already seen. */
  'bad-fragment',
  /** RFC 7383 reassembly limits (fragments, bytes, concurrent messages) exceeded. */
  'fragment-limit',
] as const;
export type DecodeErrorCode = (typeof DECODE_ERROR_CODES)[number];

export interface DecodeError {
  readonly code: DecodeErrorCode;
  readonly message: string;
  /** NotifyType to answer a request with, when the RFC says to answer. */
  readonly notify?: number;
  /** The offending payload type (for UNSUPPORTED_CRITICAL_PAYLOAD this is the notify data). */
  readonly payloadType?: number;
}

export type DecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DecodeError };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** INVALID_SYNTAX is the RFC 7296 §3.10.1 answer to any malformed request. */
export const INVALID_SYNTAX = 7;

export function fail(code: DecodeErrorCode, message: string, extra?: { notify?: number; payloadType?: number }): { readonly ok: false; readonly error: DecodeError } {
  const error: DecodeError = { code, message, ...extra };
  return { ok: false, error };
}

/** Syntax error answered with INVALID_SYNTAX. */
export function syntax(code: DecodeErrorCode, message: string, payloadType?: number): { readonly ok: false; readonly error: DecodeError } {
  return fail(code, message, payloadType === undefined ? { notify: INVALID_SYNTAX } : { notify: INVALID_SYNTAX, payloadType });
}
