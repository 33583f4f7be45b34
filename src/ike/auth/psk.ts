/**
 * Shared-key authentication, Auth Method 2 "Shared Key Message Integrity Code" (RFC 7296 §2.15).
 *
 *   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <InitiatorSignedOctets>)
 *   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <ResponderSignedOctets>)
 *
 * "Key Pad for IKEv2" is the 17 ASCII octets without a terminating NUL.
 */
import { prfName } from '../../crypto/algorithms.js';
import type { CryptoProvider } from '../../crypto/types.js';

/** The 17-octet ASCII pad string of RFC 7296 §2.15. */
export const KEY_PAD_FOR_IKEV2: Uint8Array = new TextEncoder().encode('Key Pad for IKEv2');

/**
 * prf(Shared Secret, "Key Pad for IKEv2") per configured PSK (the same Uint8Array object) and PRF:
 * it depends on neither the SA nor the message, so it is computed once, not twice per IKE_AUTH.
 */
const padded = new WeakMap<Uint8Array, Map<string, Uint8Array>>();

function keyPadded(provider: CryptoProvider, prfId: number, psk: Uint8Array): Uint8Array {
  let m = padded.get(psk);
  if (!m) {
    m = new Map();
    padded.set(psk, m);
  }
  const k = `${provider.name}|${prfId}`;
  let v = m.get(k);
  if (!v) {
    const prf = provider.prf(prfName(prfId));
    v = prf.compute(psk, KEY_PAD_FOR_IKEV2);
    m.set(k, v);
  }
  return v;
}

export function pskAuth(provider: CryptoProvider, prfId: number, psk: Uint8Array, octets: Uint8Array): Uint8Array {
  if (psk.length === 0) throw new Error('pskAuth: psk is empty');
  return provider.prf(prfName(prfId)).compute(keyPadded(provider, prfId, psk), octets);
}

/** Compares without an early exit on the first differing byte. Length differences return false. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Verifies a received method-2 AUTH value. Never throws for any `authData`. */
export function verifyPskAuth(provider: CryptoProvider, prfId: number, psk: Uint8Array, octets: Uint8Array, authData: Uint8Array): boolean {
  if (psk.length === 0) return false;
  return constantTimeEqual(pskAuth(provider, prfId, psk, octets), authData);
}
