/**
 * Which payloads each exchange may carry (RFC 7296 §1.2–§1.5, §2.6, RFC 7383, RFC 9242), as a table
 * checked before any protocol logic sees a message (DESIGN.md rule 3; strongSwan
 * `libcharon/encoding/message.c` `message_rules`).
 *
 * Each entry: exchange type, request/response, whether the body is encrypted, and one or more
 * *variants* — a message is accepted if it satisfies one variant: every payload type it carries
 * is listed, and each listed type appears min..max times. Unrecognized payload types (which
 * reached us only because their critical bit was clear) are ignored, as §2.5 requires.
 *
 *   IKE_SA_INIT       plaintext   HDR, SAi1, KEi, Ni  [N+, V+, CERTREQ+]
 *                                 HDR, SAr1, KEr, Nr, [CERTREQ]      or   HDR, N(error/COOKIE…)
 *   IKE_AUTH          HDR, SK {…} IDi, [CERT+], [CERTREQ+], [IDr], AUTH, SAi2, TSi, TSr, [CP]
 *                                 (minima are 0 like strongSwan: EAP rounds and error responses
 *                                 carry only some of them; the exchange code checks semantics)
 *   CREATE_CHILD_SA   HDR, SK {…} SA, Ni, [KEi], [TSi, TSr]           response: same or N only
 *   INFORMATIONAL     HDR, SK {…} [N+], [D+], [CP]   (may be empty: liveness check)
 *   IKE_INTERMEDIATE  HDR, SK {…} [N+], [KE] (RFC 9370), [V+]
 *
 * Encrypted exchanges carry exactly one SK payload, or one SKF fragment (RFC 7383), outside.
 * Any violation → DecodeError 'rules' with notify INVALID_SYNTAX.
 */
import { fail, INVALID_SYNTAX, ok, type DecodeResult } from './decode-result.js';
import { describePayloads, ExchangeType, exchangeName, payloadName } from './constants.js';
import { isKnownPayloadType } from './payloads/codec.js';
import { PayloadType as P, type Payload } from './payloads/types.js';

export interface PayloadRule {
  readonly type: number;
  readonly min: number;
  readonly max: number;
}

export interface MessageRule {
  readonly exchangeType: number;
  readonly isResponse: boolean;
  /** True: the outer chain is exactly one SK or SKF and `variants` apply to the inner chain. */
  readonly encrypted: boolean;
  readonly variants: readonly (readonly PayloadRule[])[];
}

export const MAX_NOTIFY_PAYLOADS = 32;
export const MAX_VENDOR_PAYLOADS = 16;
export const MAX_CERT_PAYLOADS = 8;
export const MAX_CERTREQ_PAYLOADS = 8;
export const MAX_DELETE_PAYLOADS = 32;

const r = (type: number, min: number, max: number): PayloadRule => ({ type, min, max });
const N = r(P.NOTIFY, 0, MAX_NOTIFY_PAYLOADS);
const V = r(P.VENDOR, 0, MAX_VENDOR_PAYLOADS);
/** An error (or COOKIE / INVALID_KE_PAYLOAD) response: notifies only. */
const NOTIFY_ONLY = [r(P.NOTIFY, 1, MAX_NOTIFY_PAYLOADS), V];

export const MESSAGE_RULES: readonly MessageRule[] = [
  {
    exchangeType: ExchangeType.IKE_SA_INIT, isResponse: false, encrypted: false,
    variants: [[r(P.SA, 1, 1), r(P.KE, 1, 1), r(P.NONCE, 1, 1), N, V, r(P.CERTREQ, 0, MAX_CERTREQ_PAYLOADS)]],
  },
  {
    exchangeType: ExchangeType.IKE_SA_INIT, isResponse: true, encrypted: false,
    variants: [[r(P.SA, 1, 1), r(P.KE, 1, 1), r(P.NONCE, 1, 1), N, V, r(P.CERTREQ, 0, MAX_CERTREQ_PAYLOADS)], NOTIFY_ONLY],
  },
  {
    exchangeType: ExchangeType.IKE_AUTH, isResponse: false, encrypted: true,
    variants: [[
      N, V, r(P.EAP, 0, 1), r(P.AUTH, 0, 1), r(P.IDi, 0, 1), r(P.CERT, 0, MAX_CERT_PAYLOADS), r(P.CERTREQ, 0, MAX_CERTREQ_PAYLOADS),
      r(P.IDr, 0, 1), r(P.SA, 0, 1), r(P.TSi, 0, 1), r(P.TSr, 0, 1), r(P.CP, 0, 1),
    ]],
  },
  {
    exchangeType: ExchangeType.IKE_AUTH, isResponse: true, encrypted: true,
    variants: [[
      N, V, r(P.EAP, 0, 1), r(P.AUTH, 0, 1), r(P.IDr, 0, 1), r(P.CERT, 0, MAX_CERT_PAYLOADS),
      r(P.SA, 0, 1), r(P.TSi, 0, 1), r(P.TSr, 0, 1), r(P.CP, 0, 1),
    ]],
  },
  {
    exchangeType: ExchangeType.CREATE_CHILD_SA, isResponse: false, encrypted: true,
    variants: [[r(P.SA, 1, 1), r(P.NONCE, 1, 1), r(P.KE, 0, 1), r(P.TSi, 0, 1), r(P.TSr, 0, 1), N, V]],
  },
  {
    exchangeType: ExchangeType.CREATE_CHILD_SA, isResponse: true, encrypted: true,
    variants: [[r(P.SA, 1, 1), r(P.NONCE, 1, 1), r(P.KE, 0, 1), r(P.TSi, 0, 1), r(P.TSr, 0, 1), N, V], NOTIFY_ONLY],
  },
  {
    exchangeType: ExchangeType.INFORMATIONAL, isResponse: false, encrypted: true,
    variants: [[N, r(P.DELETE, 0, MAX_DELETE_PAYLOADS), r(P.CP, 0, 1), V]],
  },
  {
    exchangeType: ExchangeType.INFORMATIONAL, isResponse: true, encrypted: true,
    variants: [[N, r(P.DELETE, 0, MAX_DELETE_PAYLOADS), r(P.CP, 0, 1), V]],
  },
  { exchangeType: ExchangeType.IKE_INTERMEDIATE, isResponse: false, encrypted: true, variants: [[N, r(P.KE, 0, 1), V]] },
  { exchangeType: ExchangeType.IKE_INTERMEDIATE, isResponse: true, encrypted: true, variants: [[N, r(P.KE, 0, 1), V]] },
];

export function findRule(exchangeType: number, isResponse: boolean): MessageRule | undefined {
  return MESSAGE_RULES.find((m) => m.exchangeType === exchangeType && m.isResponse === isResponse);
}

/** Per-type counts for `violation` (payload types are one octet); zeroed again before it returns. */
const COUNTS = new Uint16Array(256);

function allows(variant: readonly PayloadRule[], type: number): boolean {
  for (const x of variant) if (x.type === type) return true;
  return false;
}

/** Why `payloads` does not satisfy `variant`, or undefined when it does. */
function violation(variant: readonly PayloadRule[], payloads: readonly Payload[]): string | undefined {
  // A scratch array instead of a Map per message: this runs for every message (bench/ike.ts).
  for (const p of payloads) if (isKnownPayloadType(p.type)) COUNTS[p.type & 0xff]!++; // unrecognized, non-critical: ignored (§2.5)
  let why: string | undefined;
  for (const p of payloads) {
    if (isKnownPayloadType(p.type) && !allows(variant, p.type)) {
      why = `${payloadName(p.type)} not allowed`;
      break;
    }
  }
  if (why === undefined) {
    for (const x of variant) {
      const n = COUNTS[x.type & 0xff]!;
      if (n < x.min) {
        why = `${payloadName(x.type)} missing (${n} < ${x.min})`;
        break;
      }
      if (n > x.max) {
        why = `too many ${payloadName(x.type)} (${n} > ${x.max})`;
        break;
      }
    }
  }
  for (const p of payloads) COUNTS[p.type & 0xff] = 0;
  return why;
}

function reject(rule: MessageRule, where: string, why: string, payloads: readonly Payload[]) {
  const kind = `${exchangeName(rule.exchangeType)} ${rule.isResponse ? 'response' : 'request'}`;
  return fail('rules', `${kind}${where}: ${why} [${describePayloads(payloads)}]`, { notify: INVALID_SYNTAX });
}

/**
 * Checks a message's payloads against the table. Call it with `inner` undefined before
 * decryption (checks the plaintext part only), then again with the decrypted inner chain.
 */
export function checkRules(exchangeType: number, isResponse: boolean, outerPayloads: readonly Payload[], innerPayloads: readonly Payload[] | undefined): DecodeResult<void> {
  const rule = findRule(exchangeType, isResponse);
  if (!rule) return fail('rules', `no payload rules for exchange ${exchangeName(exchangeType)}`, { notify: INVALID_SYNTAX });
  if (!rule.encrypted) {
    if (innerPayloads !== undefined) return reject(rule, '', 'plaintext exchange has an encrypted part', outerPayloads);
    return match(rule, '', outerPayloads);
  }
  const only = outerPayloads.length === 1 ? outerPayloads[0]! : undefined;
  if (!only || (only.type !== P.SK && only.type !== P.SKF)) {
    return reject(rule, '', 'must carry exactly one SK or SKF payload outside', outerPayloads);
  }
  if (innerPayloads === undefined) return ok(undefined);
  return match(rule, ' (encrypted)', innerPayloads);
}

function match(rule: MessageRule, where: string, payloads: readonly Payload[]): DecodeResult<void> {
  let first: string | undefined;
  for (const variant of rule.variants) {
    const why = violation(variant, payloads);
    if (why === undefined) return ok(undefined);
    first ??= why;
  }
  return reject(rule, where, first!, payloads);
}
