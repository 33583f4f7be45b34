/**
 * The octets an IKE_AUTH AUTH payload covers (RFC 7296 §2.15).
 *
 *   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
 *   MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
 *   ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR
 *   MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
 *
 * RealMessage is the whole IKE_SA_INIT message the signer sent (from the IKE header on, without a
 * non-ESP marker); the nonce is the PEER's Nonce Data; RestOfIDPayload is the ID payload body
 * without the generic payload header: ID Type ‖ RESERVED(3) ‖ Identification Data.
 *
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   ID Type     |                 RESERVED                      |   <- RestOfIDPayload starts here
 * +---------------+-----------------------------------------------+
 * ~                   Identification Data                         ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { prfName } from '../../crypto/algorithms.js';
import type { CryptoProvider } from '../../crypto/types.js';

/** ID Type ‖ RESERVED(3) ‖ data: the "RestOfIDPayload" of §2.15. */
export function idPayloadBody(idType: number, data: Uint8Array): Uint8Array {
  if (!Number.isInteger(idType) || idType < 0 || idType > 255) throw new Error(`idPayloadBody: idType ${idType} out of range`);
  const out = new Uint8Array(4 + data.length);
  out[0] = idType;
  out.set(data, 4);
  return out;
}

export function signedOctets(
  provider: CryptoProvider,
  prfId: number,
  realMessage: Uint8Array,
  peerNonce: Uint8Array,
  skP: Uint8Array,
  idPayloadBodyBytes: Uint8Array,
): Uint8Array {
  const maced = provider.prf(prfName(prfId)).compute(skP, idPayloadBodyBytes);
  const out = new Uint8Array(realMessage.length + peerNonce.length + maced.length);
  out.set(realMessage, 0);
  out.set(peerNonce, realMessage.length);
  out.set(maced, realMessage.length + peerNonce.length);
  return out;
}
