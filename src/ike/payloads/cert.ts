/**
 * Certificate payload (RFC 7296 §3.6).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Cert Encoding |                                               |
 * +-+-+-+-+-+-+-+-+                                               |
 * ~                       Certificate Data                        ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Cert Encoding 4 = X.509 Certificate - Signature (DER).
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import type { CertPayload } from './types.js';

export const CertEncoding = { X509_SIGNATURE: 4, HASH_AND_URL_X509: 12 } as const;

export function decodeCertBody(body: Uint8Array, critical: boolean): DecodeResult<CertPayload> {
  if (body.length < 1) return syntax('truncated', 'CERT payload has no encoding byte', 37);
  const r = new Reader(body);
  const encoding = r.u8();
  return ok({ type: 37, critical, encoding, data: r.rest() });
}

export function encodeCertBody(p: CertPayload, w: Writer): void {
  w.u8(p.encoding).bytes(p.data);
}
