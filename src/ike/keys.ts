/**
 * IKEv2 key schedule (RFC 7296 §2.13-§2.18).
 *
 *   SKEYSEED = prf(Ni | Nr, g^ir)                                           §2.14
 *   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *            = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)                       §2.14
 *   KEYMAT   = prf+(SK_d, Ni | Nr)               (Child SA, no PFS)         §2.17
 *   KEYMAT   = prf+(SK_d, g^ir (new) | Ni | Nr)  (Child SA with PFS)        §2.17
 *   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)  (IKE SA rekey)        §2.18
 *
 * Lengths: SK_d, SK_pi, SK_pr take the PRF's preferred key length; SK_a* the integrity key length
 * (0 for AEAD); SK_e* the cipher key plus the AEAD salt (RFC 5282 §7.1 / RFC 7634 §4: key ‖ salt).
 *
 * §2.14 "nonce halves" rule: for PRFs that take a fixed-size key (AES-XCBC/CMAC), the key Ni | Nr
 * is built from the first half of each nonce. tsipsec only negotiates HMAC PRFs, which take keys of
 * any length, so the full nonces are used.
 *
 * Nonces are the Nonce payload data without headers; SPIs are the 8-byte IKE SPIs (for a rekey:
 * the new SA's SPIs); g^ir is the KE shared secret as the provider returns it (MODP: padded to the
 * prime length; ECP: x only, RFC 5903 §7; X25519: 32 bytes, RFC 8031 §2.2).
 */
import { encrIsAead, integName as integNameOf, aeadName as aeadNameOf, prfName as prfNameOf } from '../crypto/algorithms.js';
import { prfPlus } from '../crypto/prf-plus.js';
import type { AeadName, CryptoProvider, IntegName } from '../crypto/types.js';
import { keymatLengths, prfKeyBytes, type NegotiatedAlgorithms } from './proposals.js';

export interface IkeKeys {
  readonly skD: Uint8Array;
  /** Empty with an AEAD cipher. */
  readonly skAi: Uint8Array;
  readonly skAr: Uint8Array;
  /** Cipher key ‖ salt (AEAD), or the cipher key (CBC). */
  readonly skEi: Uint8Array;
  readonly skEr: Uint8Array;
  readonly skPi: Uint8Array;
  readonly skPr: Uint8Array;
}

/** Child SA keys; "i" = initiator→responder direction, "r" = responder→initiator. */
export interface ChildKeys {
  /** Cipher key ‖ salt (AEAD, RFC 4106 §8.1 / RFC 7634 §2) or the cipher key (CBC). */
  readonly encrI: Uint8Array;
  /** Empty with an AEAD cipher. */
  readonly integI: Uint8Array;
  readonly encrR: Uint8Array;
  readonly integR: Uint8Array;
}

/**
 * Keys for one direction of the SK payload codec (same structural type as `SkKeys` in
 * `src/ike/sk.ts`).
 */
export type SkKeys =
  | { readonly kind: 'aead'; readonly aead: AeadName; readonly key: Uint8Array; readonly salt: Uint8Array }
  | { readonly kind: 'cbc'; readonly key: Uint8Array; readonly integ: IntegName; readonly integKey: Uint8Array };

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Zeroes all seven SK_* keys in place (the IKE SA is gone; SECURITY.md: best effort).
 * `IkeEndpoint.exportIkeKeys` hands out copies, so what a key log holds is not affected.
 */
export function wipeIkeKeys(keys: IkeKeys): void {
  for (const b of [keys.skD, keys.skAi, keys.skAr, keys.skEi, keys.skEr, keys.skPi, keys.skPr]) b.fill(0);
}

/** Total prf+ output for the seven SK_* keys of an IKE SA with `algs`. */
export function ikeKeymatLength(algs: NegotiatedAlgorithms): number {
  const l = keymatLengths(algs);
  const p = prfKeyBytes(algs);
  return p + 2 * l.integKey + 2 * l.encrKeymat + 2 * p;
}

const EMPTY = new Uint8Array(0);

/**
 * The seven SK_* keys as views made on access into the one DKM buffer (§2.14 order). Five views
 * kept per IKE SA cost ~480 bytes of heap (a Uint8Array object each) for keys that are read a few
 * times in the SA's life (SK_p* once each in IKE_AUTH, SK_e* once for the SK ciphers, SK_d per child):
 * each access makes a fresh view instead, of the same bytes (wipeIkeKeys zeroes them in place).
 */
class DkmKeys implements IkeKeys {
  constructor(
    private readonly dkm: Uint8Array,
    private readonly prfBytes: number,
    private readonly integBytes: number,
    private readonly encrBytes: number,
  ) {}

  private view(offset: number, n: number): Uint8Array {
    return n === 0 ? EMPTY : this.dkm.subarray(offset, offset + n);
  }

  get skD(): Uint8Array { return this.view(0, this.prfBytes); }
  get skAi(): Uint8Array { return this.view(this.prfBytes, this.integBytes); }
  get skAr(): Uint8Array { return this.view(this.prfBytes + this.integBytes, this.integBytes); }
  get skEi(): Uint8Array { return this.view(this.prfBytes + 2 * this.integBytes, this.encrBytes); }
  get skEr(): Uint8Array { return this.view(this.prfBytes + 2 * this.integBytes + this.encrBytes, this.encrBytes); }
  get skPi(): Uint8Array { return this.view(this.prfBytes + 2 * this.integBytes + 2 * this.encrBytes, this.prfBytes); }
  get skPr(): Uint8Array { return this.view(2 * this.prfBytes + 2 * this.integBytes + 2 * this.encrBytes, this.prfBytes); }
}

/** Splits the IKE DKM stream into SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr (§2.14). */
export function splitIkeKeymat(algs: NegotiatedAlgorithms, dkm: Uint8Array): IkeKeys {
  const l = keymatLengths(algs);
  const p = prfKeyBytes(algs);
  const need = 3 * p + 2 * l.integKey + 2 * l.encrKeymat;
  if (dkm.length < need) throw new Error(`splitIkeKeymat: DKM is ${dkm.length} bytes, needs ${need}`);
  // The AEAD's absent SK_a* is one shared empty array (EMPTY), as before.
  return new DkmKeys(dkm, p, l.integKey, l.encrKeymat);
}

function ikeKeysFromSkeyseed(
  provider: CryptoProvider,
  algs: NegotiatedAlgorithms,
  skeyseed: Uint8Array,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
): IkeKeys {
  const prf = provider.prf(prfNameOf(requirePrf(algs)));
  const dkm = prfPlus(prf, skeyseed, concat(nonceI, nonceR, spiI, spiR), ikeKeymatLength(algs));
  return splitIkeKeymat(algs, dkm);
}

function requirePrf(algs: NegotiatedAlgorithms): number {
  if (algs.prf === undefined) throw new Error('IKE key derivation: algs.prf is missing');
  return algs.prf;
}

function checkSpis(spiI: Uint8Array, spiR: Uint8Array): void {
  if (spiI.length !== 8) throw new Error(`IKE key derivation: spiI must be 8 bytes, got ${spiI.length}`);
  if (spiR.length !== 8) throw new Error(`IKE key derivation: spiR must be 8 bytes, got ${spiR.length}`);
}

/** Initial IKE SA keys after IKE_SA_INIT (RFC 7296 §2.14). */
export function deriveIkeKeys(
  provider: CryptoProvider,
  algs: NegotiatedAlgorithms,
  gir: Uint8Array,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
): { skeyseed: Uint8Array; keys: IkeKeys } {
  checkSpis(spiI, spiR);
  const prf = provider.prf(prfNameOf(requirePrf(algs)));
  const skeyseed = prf.compute(concat(nonceI, nonceR), gir);
  return { skeyseed, keys: ikeKeysFromSkeyseed(provider, algs, skeyseed, nonceI, nonceR, spiI, spiR) };
}

/**
 * Keys of the new IKE SA after a CREATE_CHILD_SA IKE rekey (RFC 7296 §2.18): SKEYSEED uses the OLD
 * SA's PRF and SK_d; the DKM uses the NEW SA's PRF and the new SPIs. Nonces and g^ir are from the
 * rekey exchange (Ni from its initiator).
 */
export function deriveRekeyedIkeKeys(
  provider: CryptoProvider,
  oldPrf: number,
  oldSkD: Uint8Array,
  newAlgs: NegotiatedAlgorithms,
  gir: Uint8Array,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
  spiI: Uint8Array,
  spiR: Uint8Array,
): { skeyseed: Uint8Array; keys: IkeKeys } {
  checkSpis(spiI, spiR);
  const prf = provider.prf(prfNameOf(oldPrf));
  const skeyseed = prf.compute(oldSkD, concat(gir, nonceI, nonceR));
  return { skeyseed, keys: ikeKeysFromSkeyseed(provider, newAlgs, skeyseed, nonceI, nonceR, spiI, spiR) };
}

/**
 * Child SA KEYMAT (RFC 7296 §2.17): prf+(SK_d, [g^ir (new) |] Ni | Nr), split as
 * encr_i | integ_i | encr_r | integ_r ("All keys for SAs carrying data from the initiator to the
 * responder are taken before SAs going from the responder to the initiator"; encryption before
 * integrity). Ni/Nr are the nonces of the exchange that created the Child SA (for the first Child
 * SA, those of IKE_SA_INIT).
 */
export function deriveChildKeys(
  provider: CryptoProvider,
  prfId: number,
  skD: Uint8Array,
  gir: Uint8Array | undefined,
  nonceI: Uint8Array,
  nonceR: Uint8Array,
  childAlgs: NegotiatedAlgorithms,
): ChildKeys {
  const prf = provider.prf(prfNameOf(prfId));
  const l = keymatLengths(childAlgs);
  const seed = gir === undefined ? concat(nonceI, nonceR) : concat(gir, nonceI, nonceR);
  const keymat = prfPlus(prf, skD, seed, 2 * (l.encrKeymat + l.integKey));
  let o = 0;
  // Separate buffers (the runtime owns them after child-up), except one shared empty array for an
  // AEAD's absent integrity keys.
  const take = (n: number): Uint8Array => {
    const out = n === 0 ? EMPTY : keymat.slice(o, o + n);
    o += n;
    return out;
  };
  const encrI = take(l.encrKeymat);
  const integI = take(l.integKey);
  const encrR = take(l.encrKeymat);
  const integR = take(l.integKey);
  return { encrI, integI, encrR, integR };
}

/**
 * SK payload keys for messages SENT BY `direction` ('i' = initiator of the IKE SA: SK_ei/SK_ai;
 * 'r' = responder: SK_er/SK_ar). AEAD: SK_e = key ‖ 4-byte salt (RFC 5282 §7.1, RFC 7634 §4).
 */
export function skKeysFor(algs: NegotiatedAlgorithms, keys: IkeKeys, direction: 'i' | 'r'): SkKeys {
  const skE = direction === 'i' ? keys.skEi : keys.skEr;
  const skA = direction === 'i' ? keys.skAi : keys.skAr;
  const l = keymatLengths(algs);
  if (skE.length !== l.encrKeymat) throw new Error(`skKeysFor: SK_e${direction} is ${skE.length} bytes, expected ${l.encrKeymat}`);
  if (encrIsAead(algs.encr.id)) {
    return { kind: 'aead', aead: aeadNameOf(algs.encr.id), key: skE.subarray(0, l.encrKey), salt: skE.subarray(l.encrKey) };
  }
  if (algs.integ === undefined) throw new Error('skKeysFor: algs.integ is missing for a non-AEAD cipher');
  return { kind: 'cbc', key: skE, integ: integNameOf(algs.integ), integKey: skA };
}
