/**
 * Certificate Request payload (RFC 7296 §3.7).
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Next Payload  |C|  RESERVED   |         Payload Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Cert Encoding |                                               |
 * +-+-+-+-+-+-+-+-+                                               |
 * ~                    Certification Authority                    ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * For encoding 4 the Certification Authority field is a concatenation of 20-byte SHA-1 hashes of
 * trusted CAs' SubjectPublicKeyInfo; it may be empty. Its length is not a codec error (the
 * engine ignores hashes it cannot use).
 */
import { Reader } from '../../wire/reader.js';
import type { Writer } from '../../wire/writer.js';
import { ok, syntax, type DecodeResult } from '../decode-result.js';
import type { CertReqPayload } from './types.js';

export function decodeCertReqBody(body: Uint8Array, critical: boolean): DecodeResult<CertReqPayload> {
  if (body.length < 1) return syntax('truncated', 'CERTREQ payload has no encoding byte', 38);
  const r = new Reader(body);
  const encoding = r.u8();
  return ok({ type: 38, critical, encoding, data: r.rest() });
}

export function encodeCertReqBody(p: CertReqPayload, w: Writer): void {
  w.u8(p.encoding).bytes(p.data);
}

/** The 20-byte CA key hashes of an X.509 CERTREQ (a trailing partial hash is ignored). */
export function certReqHashes(p: CertReqPayload): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 20 <= p.data.length; i += 20) out.push(p.data.slice(i, i + 20));
  return out;
}
