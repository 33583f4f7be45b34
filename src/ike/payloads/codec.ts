/**
 * Per-type dispatch for payload bodies (everything after the 4-byte generic payload header,
 * RFC 7296 §3.2). `message.ts` walks the chain and calls these.
 */
import type { Writer } from '../../wire/writer.js';
import { ok, type DecodeResult } from '../decode-result.js';
import { decodeAuthBody, encodeAuthBody } from './auth.js';
import { decodeCertBody, encodeCertBody } from './cert.js';
import { decodeCertReqBody, encodeCertReqBody } from './certreq.js';
import { decodeCpBody, encodeCpBody } from './cp.js';
import { decodeDeleteBody, encodeDeleteBody } from './delete.js';
import { decodeIdBody, encodeIdBody } from './id.js';
import { decodeKeBody, encodeKeBody } from './ke.js';
import { decodeNonceBody, encodeNonceBody } from './nonce.js';
import { decodeNotifyBody, encodeNotifyBody } from './notify.js';
import { decodeSaBody, encodeSaBody } from './sa.js';
import { decodeSkBody, encodeSkBody } from './sk.js';
import { decodeSkfBody, encodeSkfBody } from './skf.js';
import { decodeTsBody, encodeTsBody } from './ts.js';
import { PayloadType, type Payload } from './types.js';
import { decodeVendorBody, encodeVendorBody } from './vendor.js';

const known = new Set<number>(Object.values(PayloadType).filter((t) => t !== PayloadType.NONE));

/** True for payload types RFC 7296/7383 define (the critical bit is ignored for these, §3.2). */
export function isKnownPayloadType(type: number): boolean {
  return known.has(type);
}

/**
 * Decodes one payload body. `next` is the generic header's Next Payload field (for SK/SKF it is
 * the inner first payload type). Types without a model (EAP, and anything unrecognized and not
 * critical) come back as UnknownPayload.
 */
export function decodePayloadBody(type: number, next: number, critical: boolean, body: Uint8Array): DecodeResult<Payload> {
  switch (type) {
    case PayloadType.SA: return decodeSaBody(body, critical);
    case PayloadType.KE: return decodeKeBody(body, critical);
    case PayloadType.IDi: return decodeIdBody(35, body, critical);
    case PayloadType.IDr: return decodeIdBody(36, body, critical);
    case PayloadType.CERT: return decodeCertBody(body, critical);
    case PayloadType.CERTREQ: return decodeCertReqBody(body, critical);
    case PayloadType.AUTH: return decodeAuthBody(body, critical);
    case PayloadType.NONCE: return decodeNonceBody(body, critical);
    case PayloadType.NOTIFY: return decodeNotifyBody(body, critical);
    case PayloadType.DELETE: return decodeDeleteBody(body, critical);
    case PayloadType.VENDOR: return decodeVendorBody(body, critical);
    case PayloadType.TSi: return decodeTsBody(44, body, critical);
    case PayloadType.TSr: return decodeTsBody(45, body, critical);
    case PayloadType.SK: return decodeSkBody(next, body, critical);
    case PayloadType.CP: return decodeCpBody(body, critical);
    case PayloadType.SKF: return decodeSkfBody(next, body, critical);
    default: return ok({ type, critical, raw: new Uint8Array(body), unknown: true });
  }
}

/** Writes one payload body (no generic header). Throws on a payload the model cannot encode. */
export function encodePayloadBody(p: Payload, w: Writer): void {
  if ('unknown' in p) {
    w.bytes(p.raw);
    return;
  }
  switch (p.type) {
    case PayloadType.SA: return encodeSaBody(p, w);
    case PayloadType.KE: return encodeKeBody(p, w);
    case PayloadType.IDi:
    case PayloadType.IDr: return encodeIdBody(p, w);
    case PayloadType.CERT: return encodeCertBody(p, w);
    case PayloadType.CERTREQ: return encodeCertReqBody(p, w);
    case PayloadType.AUTH: return encodeAuthBody(p, w);
    case PayloadType.NONCE: return encodeNonceBody(p, w);
    case PayloadType.NOTIFY: return encodeNotifyBody(p, w);
    case PayloadType.DELETE: return encodeDeleteBody(p, w);
    case PayloadType.VENDOR: return encodeVendorBody(p, w);
    case PayloadType.TSi:
    case PayloadType.TSr: return encodeTsBody(p, w);
    case PayloadType.SK: return encodeSkBody(p, w);
    case PayloadType.CP: return encodeCpBody(p, w);
    case PayloadType.SKF: return encodeSkfBody(p, w);
  }
}
